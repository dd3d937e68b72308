"""Orientation per sensor: one stateful filter object per sensor, live and batch alike.

``make_filter(rig.fusion, rig.sample_rate_hz, magnetometer=...)`` builds the
filter named in the rig's ``[fusion]`` table; ``update(samples)`` returns
``q_ES`` (sensor → earth, z up, x east with a magnetometer) per sample, and
``rest_`` / ``bias_`` tell later stages when the sensor was still and what
gyroscope bias it carries.
"""

from __future__ import annotations

import numpy as np

from hiprot.config import FusionConfig
from hiprot.errors import ConfigError
from hiprot.fusion.ahrs_filters import AhrsFilter, EkfFilter, MadgwickFilter, MahonyFilter
from hiprot.fusion.base import OrientationFilter
from hiprot.fusion.rest_bias import BIAS_CLIP, RestBiasEstimator
from hiprot.fusion.timeline import MAX_GAP_S
from hiprot.fusion.vqf_filter import VqfFilter

BIAS_CLIP_DPS = float(np.degrees(BIAS_CLIP))

FILTER_CLASSES: dict[str, type[OrientationFilter]] = {
    cls.name: cls for cls in (VqfFilter, MadgwickFilter, MahonyFilter, EkfFilter)
}

__all__ = [
    "FILTER_CLASSES",
    "AhrsFilter",
    "EkfFilter",
    "MadgwickFilter",
    "MahonyFilter",
    "OrientationFilter",
    "RestBiasEstimator",
    "VqfFilter",
    "make_filter",
]


def make_filter(
    fusion: FusionConfig | str,
    rate_hz: float,
    magnetometer: bool = False,
    max_gap_s: float = MAX_GAP_S,
    max_bias_dps: float = BIAS_CLIP_DPS,
) -> OrientationFilter:
    """The filter of a rig's ``[fusion]`` table (or a filter name) for one sensor.

    9-axis fusion needs both ``use_magnetometer = true`` in the rig and a
    sensor that has a magnetometer (``magnetometer=True``); a bare filter name
    means 6-axis. ``max_bias_dps`` is the largest gyroscope bias per axis the
    sensor's chip may have (:func:`hiprot.chip_catalogue.gyro_bias_bound_dps`):
    rest detection and the bias estimate must reach that far.
    """
    if isinstance(fusion, str):
        fusion = FusionConfig(filter=fusion)
    if fusion.filter not in FILTER_CLASSES:
        raise ConfigError(
            f"unknown fusion filter {fusion.filter!r}; expected one of {', '.join(FILTER_CLASSES)}"
        )
    use_mag = fusion.use_magnetometer and magnetometer
    cls = FILTER_CLASSES[fusion.filter]
    if issubclass(cls, AhrsFilter):
        bias = {"rest_bias": RestBiasEstimator(1.0 / rate_hz, bias_clip=np.radians(max_bias_dps))}
    else:
        bias = VqfFilter.bias_params(max_bias_dps)
    return cls(rate_hz, magnetometer=use_mag, max_gap_s=max_gap_s, **bias)
