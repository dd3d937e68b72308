"""Sensor-to-segment alignment: the mounting rotation ``q_SB`` of every sensor.

Standing still (feet forward) gives each segment's superior axis Y in its
sensor frame (gravity). Movement with knee flexion gives the knee flexion axis
— the anatomical Z axis (pointing right) of thigh and shank — by the hinge fit
(:mod:`hiprot.calibration.hinge`), or a thigh's own main rotation axis when the
shank does not move with it. Z is made orthogonal to Y and X = Y × Z. Signs are
chosen so that knee flexion (and, with a thigh alone, hip flexion) is mostly
positive, as it is in every human movement.
"""

from __future__ import annotations

import numpy as np

from hiprot import quat
from hiprot.errors import CalibrationError


def frame_from_axes(y_s: np.ndarray, z_s: np.ndarray) -> np.ndarray:
    """``q_SB`` whose Y is ``y_s`` and whose Z is ``z_s`` made orthogonal to Y."""
    y = y_s / np.linalg.norm(y_s)
    z = z_s - (z_s @ y) * y
    norm = np.linalg.norm(z)
    if norm < 0.3:
        raise CalibrationError(
            "the joint axis is nearly parallel to the segment's long axis; "
            "the movement did not define the knee axis"
        )
    z /= norm
    x = np.cross(y, z)
    return quat.from_matrix(np.column_stack([x, y, z]))


def sagittal_angle(q_es: np.ndarray, q_sb: np.ndarray) -> np.ndarray:
    """Forward tilt (rad) of the segment about its own Z, from inclination only.

    Positive when the segment's Y tilts back (its distal end forward), as hip
    flexion. Heading does not enter, so 6-axis orientations serve.
    """
    q_eb = quat.multiply(q_es, q_sb)
    x_up = quat.rotate(q_eb, [1.0, 0.0, 0.0])[:, 2]
    y_up = quat.rotate(q_eb, [0.0, 1.0, 0.0])[:, 2]
    return np.arctan2(x_up, y_up)


def tilt_from_vertical(y_s: np.ndarray, axis_s: np.ndarray) -> float:
    """Angle (deg) between an axis and the plane perpendicular to Y: 0 for a perfect mounting."""
    y = y_s / np.linalg.norm(y_s)
    a = axis_s / np.linalg.norm(axis_s)
    return float(np.degrees(np.arcsin(abs(a @ y))))
