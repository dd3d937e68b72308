"""Geometry helpers shared by every layer: axes, angle wrapping, yaw rotations, circular means.

Frames follow :mod:`hiprot.quat`: the earth frame has Z up; a segment frame
has X anterior, Y along the long axis and Z to the right (ISB, Wu et al., 2002;
see :mod:`hiprot.anatomy`). Angles are in radians.
"""

from __future__ import annotations

import numpy as np

X_AXIS, Y_AXIS, Z_AXIS = np.eye(3)
X_AXIS.flags.writeable = Y_AXIS.flags.writeable = Z_AXIS.flags.writeable = False
UP = Z_AXIS  # the earth frame's vertical


def wrap(angle: np.ndarray) -> np.ndarray:
    """Angle(s) wrapped into (-π, π]."""
    return np.angle(np.exp(1j * np.asarray(angle, dtype=float)))


def yaw(angle_rad: np.ndarray) -> np.ndarray:
    """Rotations (n, 4), scalar-first, about the earth vertical by ``angle_rad``."""
    half = np.asarray(angle_rad, float) / 2
    return np.column_stack([np.cos(half), 0 * half, 0 * half, np.sin(half)])


def circular_mean(angle: np.ndarray, weight: np.ndarray | float = 1.0) -> float:
    """Weighted mean direction (rad) of ``angle``: the angle of the summed unit vectors
    (Mardia & Jupp, 2000, *Directional Statistics*, §2.2.1)."""
    return float(np.angle(np.sum(weight * np.exp(1j * np.asarray(angle, dtype=float)))))
