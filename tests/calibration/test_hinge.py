"""Functional knee axis: recovered from rates alone, robust to co-rotation and scale errors."""

import numpy as np
from scipy.spatial.transform import Rotation

from hiprot.calibration.hinge import fit_hinge, principal_axis

RATE = 200.0


def _leg_motion(seed: int, scale_error: float = 0.0):
    """Random thigh motion plus knee flexion about the common axis, seen by two tilted sensors."""
    rng = np.random.default_rng(seed)
    t = np.arange(0, 20, 1 / RATE)
    axis_b = np.array([0.0, 0.0, 1.0])  # knee axis in the segment frames
    thigh_rate_b = np.column_stack(
        [0.8 * np.sin(1.3 * t), 0.5 * np.sin(0.7 * t + 1), 3.0 * np.sin(2 * t)]
    )
    knee_rate = 4.0 * np.sin(3.1 * t + 0.3)
    # the shank turns with the thigh (expressed in the tibia frame: same as the thigh's at this
    # instant up to the flexion angle about Z) plus the knee flexion about Z
    flexion = np.cumsum(knee_rate) / RATE
    to_shank = Rotation.from_rotvec(-np.outer(flexion, axis_b))
    shank_rate_b = to_shank.apply(thigh_rate_b) + np.outer(knee_rate, axis_b)
    mounts = Rotation.from_euler("xyz", rng.uniform(-30, 30, (2, 3)), degrees=True)
    gyr = [m.inv().apply(r) for m, r in zip(mounts, (thigh_rate_b, shank_rate_b))]
    scales = 1 + rng.uniform(-scale_error, scale_error, (2, 3))
    gyr = [g * s for g, s in zip(gyr, scales)]
    axes = [m.inv().apply(axis_b) for m in mounts]
    ups = [m.inv().apply([0.0, 1.0, 0.0]) for m in mounts]
    return gyr, axes, ups


def _angle_deg(a, b):
    return np.degrees(np.arccos(min(1.0, abs(a @ b) / np.linalg.norm(a) / np.linalg.norm(b))))


def test_hinge_axes_are_recovered_in_both_sensor_frames():
    (g1, g2), (a1, a2), (u1, u2) = _leg_motion(1)
    fit = fit_hinge(g1, g2, u1, u2)
    assert _angle_deg(fit.axis_1, a1) < 0.2
    assert _angle_deg(fit.axis_2, a2) < 0.2
    assert fit.rms_residual < 0.01 * fit.rms_rate


def test_scale_errors_of_two_percent_cost_about_a_degree_at_most():
    for seed in (2, 3, 4):
        (g1, g2), (a1, a2), (u1, u2) = _leg_motion(seed, scale_error=0.02)
        fit = fit_hinge(g1, g2, u1, u2)
        assert _angle_deg(fit.axis_1, a1) < 1.5
        assert _angle_deg(fit.axis_2, a2) < 1.5


def test_principal_axis_of_a_single_rotation():
    axis = np.array([0.6, 0.0, 0.8])
    rates = np.outer(np.sin(np.linspace(0, 20, 500)), axis)
    assert _angle_deg(principal_axis(rates), axis) < 1e-6
