"""Orientation per sensor: one stateful filter object per sensor, live and batch alike.

``make_filter(rig.fusion, rig.sample_rate_hz, magnetometer=...)`` builds the
filter named in the rig's ``[fusion]`` table; ``update(samples)`` returns
``q_ES`` (sensor → earth, z up, x east with a magnetometer) per sample, and
``rest_`` / ``bias_`` tell later stages when the sensor was still and what
gyroscope bias it carries.
"""

from __future__ import annotations

from hiprot.config import FusionConfig
from hiprot.errors import ConfigError
from hiprot.fusion.ahrs_filters import AhrsFilter, EkfFilter, MadgwickFilter, MahonyFilter
from hiprot.fusion.base import OrientationFilter
from hiprot.fusion.rest_bias import RestBiasEstimator
from hiprot.fusion.timeline import MAX_GAP_S
from hiprot.fusion.vqf_filter import VqfFilter

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
) -> OrientationFilter:
    """The filter of a rig's ``[fusion]`` table (or a filter name) for one sensor.

    9-axis fusion needs both ``use_magnetometer = true`` in the rig and a
    sensor that has a magnetometer (``magnetometer=True``); a bare filter name
    means 6-axis.
    """
    if isinstance(fusion, str):
        fusion = FusionConfig(filter=fusion)
    if fusion.filter not in FILTER_CLASSES:
        raise ConfigError(
            f"unknown fusion filter {fusion.filter!r}; expected one of {', '.join(FILTER_CLASSES)}"
        )
    use_mag = fusion.use_magnetometer and magnetometer
    return FILTER_CLASSES[fusion.filter](rate_hz, magnetometer=use_mag, max_gap_s=max_gap_s)
