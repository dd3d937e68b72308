"""Quaternion helpers in the project's convention: scalar-first ``[w, x, y, z]``.

``q_AB`` maps vectors from frame B to frame A. Heavy lifting is scipy's
:class:`~scipy.spatial.transform.Rotation`; these helpers only fix the order.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])


def to_rotation(q: np.ndarray) -> Rotation:
    """A scipy Rotation from scalar-first quaternion(s)."""
    return Rotation.from_quat(np.asarray(q, dtype=float), scalar_first=True)


def from_rotation(rotation: Rotation) -> np.ndarray:
    """Scalar-first quaternion(s) with non-negative w."""
    q = rotation.as_quat(canonical=True, scalar_first=True)
    return q


def from_matrix(matrix: np.ndarray) -> np.ndarray:
    """Scalar-first quaternion(s) of rotation matrix(es) whose columns are frame B's axes in A."""
    return from_rotation(Rotation.from_matrix(matrix))


def multiply(q_ab: np.ndarray, q_bc: np.ndarray) -> np.ndarray:
    """``q_AC = q_AB ⊗ q_BC`` (broadcasts over leading axes)."""
    a, b = np.asarray(q_ab, float), np.asarray(q_bc, float)
    w1, x1, y1, z1 = np.moveaxis(a, -1, 0)
    w2, x2, y2, z2 = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ],
        axis=-1,
    )


def conjugate(q: np.ndarray) -> np.ndarray:
    """Inverse of unit quaternion(s): ``q_BA`` from ``q_AB``."""
    return np.asarray(q, float) * np.array([1.0, -1.0, -1.0, -1.0])


def rotate(q_ab: np.ndarray, v_b: np.ndarray) -> np.ndarray:
    """Vector(s) ``v_B`` expressed in frame A."""
    q = np.asarray(q_ab, float)
    v = np.asarray(v_b, float)
    w, u = q[..., :1], q[..., 1:]
    t = 2.0 * np.cross(u, v)
    return v + w * t + np.cross(u, t)


def angle_deg(q: np.ndarray) -> np.ndarray:
    """Rotation angle of quaternion(s) in degrees, 0..180."""
    w = np.clip(np.abs(np.asarray(q, float)[..., 0]), 0.0, 1.0)
    return np.degrees(2.0 * np.arccos(w))
