"""The one earth frame every filter reports in, and the conversions into it.

Earth frame ``E``: z up; with a magnetometer x points to magnetic east and y to
magnetic north (ENU); without one (6-axis) the heading is arbitrary but fixed
at the start. Measured once on BROAD (``scripts/broad_eval.py``) and checked
by ``tests/fusion/test_frames.py``:

- ``vqf``: 6D and 9D already z up, 9D x east (ENU): no conversion;
- ``ahrs`` Madgwick 9D (MARG): x = magnetic north, y west, z up (NWU):
  ``q_ES = Q_ENU_NWU ⊗ q``, a +90° turn about z;
- ``ahrs`` Mahony 9D: already ENU;
- ``ahrs`` EKF 9D: whatever frame its magnetic reference vector is given in;
  we give it in ENU (from the first sample), so no conversion;
- all ``ahrs`` filters in 6D: z up, no conversion.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from hiprot import quat
from hiprot.geometry import UP

Q_ENU_NWU = np.array([np.sqrt(0.5), 0.0, 0.0, np.sqrt(0.5)])


def shortest_arc(v_from: np.ndarray, v_to: np.ndarray) -> np.ndarray:
    """The smallest rotation turning direction ``v_from`` onto direction ``v_to``."""
    a = np.asarray(v_from, float) / np.linalg.norm(v_from)
    b = np.asarray(v_to, float) / np.linalg.norm(v_to)
    q = np.concatenate([[1.0 + a @ b], np.cross(a, b)])
    if q[0] < 1e-9:
        # opposite directions: half a turn about any axis perpendicular to a
        axis = np.cross(a, [1.0, 0.0, 0.0] if abs(a[0]) < 0.9 else [0.0, 1.0, 0.0])
        q = np.concatenate([[0.0], axis])
    return q / np.linalg.norm(q)


def relevel(q_es: np.ndarray, acc_s: np.ndarray) -> np.ndarray:
    """``q_ES`` turned about a horizontal axis so that ``acc_s`` points straight up.

    Heading is kept; used to start a filter and to restart it after a long gap.
    """
    acc_e = quat.rotate(q_es, acc_s)
    return quat.multiply(shortest_arc(acc_e, UP), q_es)


def initial_orientation(acc_s: np.ndarray, mag_s: np.ndarray | None = None) -> np.ndarray:
    """``q_ES`` of a sensor at rest: level from ``acc_s``, x east from ``mag_s`` (µT) if given."""
    if mag_s is None:
        return relevel(quat.IDENTITY, acc_s)
    up = np.asarray(acc_s, float) / np.linalg.norm(acc_s)
    east = np.cross(mag_s, up)
    east /= np.linalg.norm(east)
    north = np.cross(up, east)
    r_se = np.column_stack([east, north, up])
    return quat.from_rotation(Rotation.from_matrix(r_se.T))
