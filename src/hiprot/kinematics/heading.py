"""Relative heading between sensors, which 6-axis fusion cannot observe.

Each 6-axis orientation has its own heading that drifts with the gyroscope
bias about the vertical. Two corrections keep the transverse-plane angles
drift-free:

- the **knee hinge**: the knee flexion axis (segment Z) seen by thigh and
  shank must coincide, so the angle between their horizontal projections is
  the shank's heading error relative to the thigh;
- the **walking direction**: see :mod:`hiprot.kinematics.walking`.

Offsets are smoothed over a few seconds: drift is slow, while the hinge is
only approximate (the knee also rotates a little about the tibia).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from hiprot import quat
from hiprot.geometry import Z_AXIS


def z_heading(q_eb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Heading (rad) of a segment's forward direction, found as up × Z, and its reliability."""
    z = quat.rotate(q_eb, Z_AXIS)
    forward = np.column_stack([-z[:, 1], z[:, 0]])  # up × z, horizontal part
    return np.arctan2(forward[:, 1], forward[:, 0]), np.hypot(forward[:, 0], forward[:, 1])


def horizontal_angle(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signed angle (rad) turning horizontal part of ``b`` onto that of ``a``, and a weight."""
    cross = b[:, 0] * a[:, 1] - b[:, 1] * a[:, 0]
    dot = a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1]
    return np.arctan2(cross, dot), np.hypot(cross, dot)


def smooth_angle(angle: np.ndarray, weight: np.ndarray, window: int) -> np.ndarray:
    """Weighted moving average of an angle (rad) over ``window`` samples, via unit vectors."""
    c = uniform_filter1d(weight * np.cos(angle), window, mode="nearest")
    s = uniform_filter1d(weight * np.sin(angle), window, mode="nearest")
    return np.arctan2(s, c)


def hinge_heading_offset(
    q_eb_thigh: np.ndarray, q_eb_shank: np.ndarray, rate_hz: float, window_s: float = 4.0
) -> np.ndarray:
    """Yaw (rad) to apply to the shank so its knee axis lines up with the thigh's."""
    z_thigh = quat.rotate(q_eb_thigh, Z_AXIS)
    z_shank = quat.rotate(q_eb_shank, Z_AXIS)
    angle, weight = horizontal_angle(z_thigh, z_shank)
    return smooth_angle(angle, weight, max(1, int(window_s * rate_hz)))
