"""Rest detection: windows where a sensor neither turns nor accelerates.

Used to find the standing calibration phase. A window is at rest when the
gyroscope stays within ``gyr_threshold`` of its window mean (so a constant
bias does not hide rest) with a mean rate no larger than the chip's bias may
be, and the accelerometer norm stays near g with little spread.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from hiprot.units import STANDARD_GRAVITY


def rest_mask(
    acc: np.ndarray,
    gyr: np.ndarray,
    rate_hz: float,
    max_bias_dps: float = 2.0,
    window_s: float = 0.5,
    gyr_threshold: float = np.radians(4.0),
    acc_threshold: float = 0.4,
) -> np.ndarray:
    """Boolean (n,) — True where the sensor is at rest over a centred window.

    ``max_bias_dps``: the largest gyroscope bias per axis the chip may have
    (:func:`hiprot.chip_catalogue.gyro_bias_bound_dps`).
    """
    max_mean_rate = max(5 * gyr_threshold, np.sqrt(3) * np.radians(max_bias_dps))
    size = max(3, int(round(window_s * rate_hz)))
    gyr_mean = uniform_filter1d(gyr, size, axis=0, mode="nearest")
    gyr_spread = np.sqrt(
        uniform_filter1d(np.sum((gyr - gyr_mean) ** 2, axis=1), size, mode="nearest")
    )
    acc_mean = uniform_filter1d(acc, size, axis=0, mode="nearest")
    acc_spread = np.sqrt(
        uniform_filter1d(np.sum((acc - acc_mean) ** 2, axis=1), size, mode="nearest")
    )
    acc_norm = np.linalg.norm(acc_mean, axis=1)
    return (
        (gyr_spread < gyr_threshold)
        & (np.linalg.norm(gyr_mean, axis=1) < max_mean_rate)
        & (acc_spread < acc_threshold)
        & (np.abs(acc_norm - STANDARD_GRAVITY) < 2 * acc_threshold)
    )


def rest_phases(mask: np.ndarray, rate_hz: float, min_s: float) -> list[tuple[int, int]]:
    """(start, stop) of every run of True at least ``min_s`` long, in time order."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(int)))
    return [
        (int(start), int(stop))
        for start, stop in zip(edges[::2], edges[1::2])
        if stop - start >= min_s * rate_hz
    ]


def first_rest_phase(mask: np.ndarray, rate_hz: float, min_s: float) -> tuple[int, int] | None:
    """(start, stop) of the first run of True at least ``min_s`` long, or None."""
    phases = rest_phases(mask, rate_hz, min_s)
    return phases[0] if phases else None
