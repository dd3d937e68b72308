"""Accelerometer offset and scale from the rest phases of a session (batch only).

A MEMS accelerometer's zero-g offset (tens of mg) tilts every inclination
it measures by about a degree — twice that in a pose upside down from the
calibration pose, as the shank in a prone test. At rest the sensor measures
gravity alone, so rests in several orientations fix the offset and per-axis
scale: |(a − b) / s| = g for every rest mean a (a "sphere fit"). A prior
keeps the estimate near the datasheet's tolerance when the rests do not
span enough directions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from hiprot.calibration.rest import rest_mask
from hiprot.samples import ImuSamples
from hiprot.units import STANDARD_GRAVITY

MIN_REST_S = 0.5
MIN_SPREAD_DEG = 30.0  # rests must differ in orientation by at least this much
OFFSET_PRIOR_M_S2 = 0.3  # ~30 mg
SCALE_PRIOR = 0.02


@dataclass
class AccelerometerCorrection:
    """Measured acceleration a becomes (a − offset) / scale."""

    offset_m_s2: np.ndarray
    scale: np.ndarray
    rests: int

    def apply(self, samples: ImuSamples) -> ImuSamples:
        acc = (samples.acc - self.offset_m_s2) / self.scale
        return ImuSamples(samples.time_s, acc, samples.gyr, samples.mag)


NO_CORRECTION = AccelerometerCorrection(np.zeros(3), np.ones(3), 0)


def rest_means(samples: ImuSamples, rate_hz: float, max_bias_dps: float) -> np.ndarray:
    """Mean acceleration (m, 3) of every rest at least ``MIN_REST_S`` long."""
    mask = rest_mask(samples.acc, samples.gyr, rate_hz, max_bias_dps)
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(int)))
    runs = [(a, b) for a, b in zip(edges[::2], edges[1::2]) if b - a >= MIN_REST_S * rate_hz]
    return np.array([samples.acc[a:b].mean(axis=0) for a, b in runs]).reshape(-1, 3)


def estimate(samples: ImuSamples, rate_hz: float, max_bias_dps: float) -> AccelerometerCorrection:
    """Offset and scale from the rests; no correction when they all face the same way.

    ``max_bias_dps``: the chip's largest gyroscope bias (see :func:`.rest.rest_mask`).
    """
    means = rest_means(samples, rate_hz, max_bias_dps)
    if len(means) < 3:
        return NO_CORRECTION
    directions = means / np.linalg.norm(means, axis=1, keepdims=True)
    spread = np.degrees(np.arccos(np.clip(directions @ directions.T, -1, 1))).max()
    if spread < MIN_SPREAD_DEG:
        return NO_CORRECTION

    def residual(p: np.ndarray) -> np.ndarray:
        offset, scale = p[:3], 1 + p[3:]
        fit = np.linalg.norm((means - offset) / scale, axis=1) - STANDARD_GRAVITY
        return np.concatenate([fit, p[:3] / OFFSET_PRIOR_M_S2 * 0.1, p[3:] / SCALE_PRIOR * 0.1])

    p = least_squares(residual, np.zeros(6)).x
    return AccelerometerCorrection(p[:3], 1 + p[3:], len(means))
