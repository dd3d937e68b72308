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
REWEIGHTINGS = 3


def _plane_basis(normal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two orthonormal vectors spanning the plane perpendicular to ``normal``."""
    n = normal / np.linalg.norm(normal)
    helper = np.eye(3)[np.argmin(np.abs(n))]
    a = np.cross(n, helper)
    a /= np.linalg.norm(a)
    return a, np.cross(n, a)


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


def off_axis_rate(gyr: np.ndarray, squared: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """``‖gyr × axis‖`` for a unit ``axis``: the rate about every axis but it, from the rates
    (n, 3) and their squared norms ``squared`` (n,) as √(|ω|² − (ω·j)²) — the fits' residual,
    evaluated thousands of times, a few times cheaper than through the cross product."""
    along = gyr @ axis
    return np.sqrt(np.maximum(squared - along**2, 0.0))


def squared_norms(gyr: np.ndarray) -> np.ndarray:
    """Each row's squared norm, for :func:`off_axis_rate`."""
    return np.einsum("ij,ij->i", gyr, gyr)


def fit_hinge(gyr_1: np.ndarray, gyr_2: np.ndarray, up_1: np.ndarray, up_2: np.ndarray) -> HingeFit:
    """Hinge axes from simultaneous angular rates (n, 3) of both sensors.

    The knee axis is horizontal when standing, so each axis is searched in the
    plane perpendicular to that sensor's standing "up" (``up_1``, ``up_2``):
    one angle per sensor. That keeps the fit well posed when the movement is
    poor in knee flexion (e.g. mostly turning the whole leg about the femur).

    Samples where both segments turn about some other axis (the whole leg turning
    about the femur in a rotation test) say little about the hinge, yet the
    gyroscopes' scale errors make them pull the axes off by degrees. So the fit
    is repeated with each sample weighted by how closely both rates align with
    the current axes (iteratively reweighted least squares).
    """
    if len(gyr_1) > MAX_SAMPLES:
        pick = np.linspace(0, len(gyr_1) - 1, MAX_SAMPLES).astype(int)
        gyr_1, gyr_2 = gyr_1[pick], gyr_2[pick]
    basis_1, basis_2 = _plane_basis(up_1), _plane_basis(up_2)

    def axes(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.cos(p[0]) * basis_1[0] + np.sin(p[0]) * basis_1[1],
            np.cos(p[1]) * basis_2[0] + np.sin(p[1]) * basis_2[1],
        )

    weight = np.ones(len(gyr_1))
    sq_1, sq_2 = squared_norms(gyr_1), squared_norms(gyr_2)

    def residual(p: np.ndarray) -> np.ndarray:
        j1, j2 = axes(p)
        return weight * (off_axis_rate(gyr_1, sq_1, j1) - off_axis_rate(gyr_2, sq_2, j2))

    grid = np.linspace(0, np.pi, 12, endpoint=False)
    start = min(
        ((a, b) for a in grid for b in grid), key=lambda p: np.sum(residual(np.array(p)) ** 2)
    )
    best = least_squares(residual, np.array(start), method="lm")
    norm_1 = np.linalg.norm(gyr_1, axis=1) + 1e-9
    norm_2 = np.linalg.norm(gyr_2, axis=1) + 1e-9
    for _ in range(REWEIGHTINGS):
        j1, j2 = axes(best.x)
        weight = np.sqrt(np.abs(gyr_1 @ j1) / norm_1 * np.abs(gyr_2 @ j2) / norm_2)
        best = least_squares(residual, best.x, method="lm")
    rms = float(np.sqrt(2 * best.cost / np.sum(weight**2)))
    scale = float(np.sqrt(np.mean(np.sum(gyr_1**2, axis=1) + np.sum(gyr_2**2, axis=1)) / 2))
    return HingeFit(*axes(best.x), rms, scale)
