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
    """``q_AC = q_AB ⊗ q_BC`` (broadcasts over leading axes). Component by component into one
    array: on the live path's 10-sample arrays numpy's per-call overhead is the cost."""
    a, b = np.asarray(q_ab, float), np.asarray(q_bc, float)
    w1, x1, y1, z1 = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    w2, x2, y2, z2 = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[..., 0] = w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2
    out[..., 1] = w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2
    out[..., 2] = w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2
    out[..., 3] = w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2
    return out


def conjugate(q: np.ndarray) -> np.ndarray:
    """Inverse of unit quaternion(s): ``q_BA`` from ``q_AB``."""
    return np.asarray(q, float) * np.array([1.0, -1.0, -1.0, -1.0])


def rotate(q_ab: np.ndarray, v_b: np.ndarray) -> np.ndarray:
    """Vector(s) ``v_B`` expressed in frame A."""
    q = np.asarray(q_ab, float)
    v = np.asarray(v_b, float)
    w, u = q[..., :1], q[..., 1:]
    t = 2.0 * _cross(u, v)
    return v + w * t + _cross(u, t)


_NEXT, _AFTER = [1, 2, 0], [2, 0, 1]  # the cross product's index pairs


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.cross`` of 3-vectors over the last axis: the same products and differences, without
    its axis bookkeeping (most of its cost on small arrays)."""
    return a[..., _NEXT] * b[..., _AFTER] - a[..., _AFTER] * b[..., _NEXT]


def angle_deg(q: np.ndarray) -> np.ndarray:
    """Rotation angle of quaternion(s) in degrees, 0..180."""
    w = np.clip(np.abs(np.asarray(q, float)[..., 0]), 0.0, 1.0)
    return np.degrees(2.0 * np.arccos(w))
