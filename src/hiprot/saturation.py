"""Samples at a sensor's full scale: the true value was at least that large, so orientations
and angles computed from them are wrong by an unknown amount.

A sample is saturated when any axis of its accelerometer or gyroscope reads
within 0.5 % of the nominal range the chip was set to (hiprot's drivers set ±16 g
and ±2000 °/s, :meth:`~hiprot.sensors.base.ImuDriver.configure`; an int16 chip's
full scale falls a little short of the nominal: 32767 counts at 16.4 per °/s are
1998 °/s),
or sits on a flat maximum: the most extreme value of an axis, beyond the smallest
range such chips offer (±2 g, ±125 °/s), held for several consecutive samples —
how a range shows in data recorded elsewhere (HuGaDB's ±2 g accelerometers read
exactly −32768 counts while walking).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hiprot.samples import ImuSamples
from hiprot.units import STANDARD_GRAVITY

FULL_SCALE_FRACTION = 0.995  # 32767 counts of 16.4 per °/s is 1998 °/s, not 2000
PLATEAU_SAMPLES = 3  # an axis' extreme value held this long is a clipped range
SMALLEST_RANGE_ACC = 2.0 * STANDARD_GRAVITY  # no MEMS IMU clips below these
SMALLEST_RANGE_GYR = math.radians(125.0)


@dataclass(frozen=True)
class FullScale:
    """A sensor's ranges (m/s², rad/s); None where unknown (then only flat maxima count)."""

    acc_m_s2: float | None
    gyr_rad_s: float | None

    @classmethod
    def of(cls, accel_range_g: float | None, gyro_range_dps: float | None) -> FullScale:
        return cls(
            None if accel_range_g is None else accel_range_g * STANDARD_GRAVITY,
            None if gyro_range_dps is None else math.radians(gyro_range_dps),
        )


DRIVER_FULL_SCALE = FullScale.of(16.0, 2000.0)  # what hiprot's drivers configure


def at_full_scale(
    values: np.ndarray, limit: float | None, plateau_above: float | None = None
) -> np.ndarray:
    """(n,) True where any axis of ``values`` (n, 3) is at ``limit``, or, with
    ``plateau_above``, on a flat maximum beyond it."""
    values = np.asarray(values, float).reshape(-1, 3)
    out = np.zeros(len(values), bool)
    if limit is not None:
        out |= np.any(np.abs(values) >= FULL_SCALE_FRACTION * limit, axis=1)
    if plateau_above is None:
        return out
    for axis in values.T:
        finite = axis[np.isfinite(axis)]
        for extreme in (finite.max(), finite.min()) if len(finite) else ():
            held = axis == extreme
            if abs(extreme) >= FULL_SCALE_FRACTION * plateau_above and (
                _longest_run(held) >= PLATEAU_SAMPLES
            ):
                out |= held
    return out


def saturation_masks(
    samples: ImuSamples, full_scale: FullScale = DRIVER_FULL_SCALE
) -> dict[str, np.ndarray]:
    """Per sensor part, (n,) True where ``samples`` (a whole recording) are at full scale:
    ``{"acc": ..., "gyr": ...}``."""
    return {
        "acc": at_full_scale(samples.acc, full_scale.acc_m_s2, SMALLEST_RANGE_ACC),
        "gyr": at_full_scale(samples.gyr, full_scale.gyr_rad_s, SMALLEST_RANGE_GYR),
    }


def saturation_counts(
    samples: ImuSamples, full_scale: FullScale = DRIVER_FULL_SCALE
) -> dict[str, int]:
    """Samples at full scale, per sensor part: ``{"acc": n, "gyr": n}``."""
    return {part: int(mask.sum()) for part, mask in saturation_masks(samples, full_scale).items()}


def _longest_run(flags: np.ndarray) -> int:
    if not flags.any():
        return 0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flags.astype(int), [0]])))
    return int((edges[1::2] - edges[::2]).max())


def recorded_full_scale(health: dict | None) -> FullScale:
    """A recorded sensor's ranges from its ``health`` entry, else the drivers' ranges."""
    ranges = (health or {}).get("full_scale")
    if not ranges:
        return DRIVER_FULL_SCALE
    return FullScale.of(ranges.get("accel_g"), ranges.get("gyro_dps"))


def saturated_on(time_s: np.ndarray, samples: ImuSamples, full_scale: FullScale) -> np.ndarray:
    """(len(time_s),) True at the times ``time_s`` next to a saturated sample of ``samples``."""
    masks = saturation_masks(samples, full_scale)
    mask = (masks["acc"] | masks["gyr"]).astype(float)
    if not mask.any():
        return np.zeros(len(time_s), bool)
    return np.interp(time_s, samples.time_s, mask, left=0.0, right=0.0) > 0
