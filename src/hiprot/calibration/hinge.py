"""Functional joint-axis estimation for an approximate hinge (the knee).

Seel, Raisch & Schauer (2014), "IMU-based joint angle measurement for gait
analysis", Sensors 14(4): for a hinge, the angular rates of the two segments
differ only along the joint axis, so ‖ω1 × j1‖ = ‖ω2 × j2‖ at every instant,
where j1, j2 are the axis in each sensor's frame. We find j1, j2 by least
squares over samples with motion. The signs of j1 and j2 are not observable
from this constraint and are fixed later (see :mod:`hiprot.calibration.segments`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

MAX_SAMPLES = 4000


def _axis(angles: np.ndarray) -> np.ndarray:
    phi, theta = angles
    return np.array([np.cos(phi) * np.cos(theta), np.cos(phi) * np.sin(theta), np.sin(phi)])


def _angles(axis: np.ndarray) -> np.ndarray:
    axis = axis / np.linalg.norm(axis)
    return np.array([np.arcsin(np.clip(axis[2], -1, 1)), np.arctan2(axis[1], axis[0])])


def principal_axis(gyr: np.ndarray) -> np.ndarray:
    """The unit axis about which ``gyr`` (n, 3) mostly turns (sign arbitrary)."""
    return np.linalg.svd(gyr, full_matrices=False)[2][0]


@dataclass
class HingeFit:
    """Joint axis in each sensor frame and how well a hinge explains the rates."""

    axis_1: np.ndarray
    axis_2: np.ndarray
    rms_residual: float  # rad/s
    rms_rate: float  # rad/s, the scale of the motion used


def fit_hinge(gyr_1: np.ndarray, gyr_2: np.ndarray, seed: int = 0) -> HingeFit:
    """Least-squares hinge axes from simultaneous angular rates (n, 3) of both sensors."""
    if len(gyr_1) > MAX_SAMPLES:
        pick = np.linspace(0, len(gyr_1) - 1, MAX_SAMPLES).astype(int)
        gyr_1, gyr_2 = gyr_1[pick], gyr_2[pick]

    def residual(p: np.ndarray) -> np.ndarray:
        return (np.linalg.norm(np.cross(gyr_1, _axis(p[:2])), axis=1)
                - np.linalg.norm(np.cross(gyr_2, _axis(p[2:])), axis=1))

    rng = np.random.default_rng(seed)
    starts = [np.concatenate([_angles(principal_axis(gyr_1)), _angles(principal_axis(gyr_2))])]
    starts += [rng.uniform([-1.5, -np.pi, -1.5, -np.pi], [1.5, np.pi, 1.5, np.pi]) for _ in range(6)]
    best = min((least_squares(residual, p0, method="lm") for p0 in starts), key=lambda r: r.cost)
    rms = float(np.sqrt(2 * best.cost / len(gyr_1)))
    scale = float(np.sqrt(np.mean(np.sum(gyr_1**2, axis=1) + np.sum(gyr_2**2, axis=1)) / 2))
    return HingeFit(_axis(best.x[:2]), _axis(best.x[2:]), rms, scale)
