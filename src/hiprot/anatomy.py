"""Anatomical frames and ISB joint angles (Wu et al., 2002) — one definition for all.

Segment frames (pelvis, femur, tibia; both sides): X anterior, Y superior
(along the long axis, distal → proximal), Z to the right. In the neutral
standing posture every segment frame equals the *heading frame* of the body:
x forward, y up, z right, which maps to the world (x, y horizontal, z up) by a
rotation about the vertical.

Joint rotation ``q_PD`` maps distal-segment vectors to the proximal segment.
Hip (pelvis → femur) and knee (femur → tibia) use the Cardan sequence Z-X-Y:
flexion about the proximal Z, adduction about the floating X, internal
rotation about the distal Y. Left side mirrored: adduction and internal
rotation change sign so both are positive on both sides. Knee flexion is
positive when the shank swings back (a negative rotation about Z).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from hiprot import quat

# Heading frame (x forward, y up, z right) expressed in the world (x, y horizontal, z up)
# for a body facing world +x: q_E_H.
HEADING_TO_WORLD = quat.from_rotation(Rotation.from_matrix([[1, 0, 0], [0, 0, -1], [0, 1, 0]]))

SIDE_SIGN = {"right": 1.0, "left": -1.0}


def _signs(side: str, joint: str) -> np.ndarray:
    """Sign of (Z, X, Y) rotations for (flexion, adduction, internal rotation)."""
    mirror = SIDE_SIGN[side]
    flexion = -1.0 if joint == "knee" else 1.0
    return np.array([flexion, mirror, mirror])


def joint_rotation(
    flexion_deg, adduction_deg, rotation_deg, side: str, joint: str = "hip"
) -> np.ndarray:
    """``q_PD`` (n, 4) from ISB angles in degrees (arrays broadcast)."""
    angles = np.column_stack(
        np.broadcast_arrays(
            np.atleast_1d(flexion_deg), np.atleast_1d(adduction_deg), np.atleast_1d(rotation_deg)
        )
    ).astype(float)
    return quat.from_rotation(
        Rotation.from_euler("ZXY", angles * _signs(side, joint), degrees=True)
    )


def joint_angles(q_pd: np.ndarray, side: str, joint: str = "hip") -> np.ndarray:
    """ISB angles (n, 3) in degrees — flexion, adduction, internal rotation — from ``q_PD``;
    NaN where ``q_PD`` is (a reference not known there)."""
    q_pd = np.atleast_2d(q_pd)
    unknown = ~np.isfinite(q_pd).all(axis=1)
    if unknown.any():
        q_pd = np.where(unknown[:, None], quat.IDENTITY, q_pd)
    euler = quat.to_rotation(q_pd).as_euler("ZXY", degrees=True)
    euler[unknown] = np.nan
    return euler * _signs(side, joint)


def joint_angles_each(parts: list[tuple[np.ndarray, str, str]]) -> list[np.ndarray]:
    """:func:`joint_angles` of each ``(q_PD, side, joint)`` in ``parts``, through one conversion:
    on a live chunk's few samples scipy's per-call cost is most of the work. The same numbers:
    each row converts on its own, and the side's and joint's signs are exactly ±1."""
    q_pd = [np.atleast_2d(q) for q, _, _ in parts]
    euler = joint_angles(np.concatenate(q_pd), "right", "hip")  # signs +1: the Cardan angles
    ends = np.cumsum([len(q) for q in q_pd])
    return [
        part * _signs(side, joint)
        for part, (_, side, joint) in zip(np.split(euler, ends[:-1]), parts)
    ]


def heading_rotation(heading_deg) -> np.ndarray:
    """``q_E_H`` for a body facing ``heading_deg`` (counter-clockwise from world +x, seen from above)."""
    yaw = quat.from_rotation(
        Rotation.from_euler("z", np.atleast_1d(heading_deg)[:, None], degrees=True)
    )
    return quat.multiply(yaw, HEADING_TO_WORLD)


def pelvis_angles(q_e_p: np.ndarray) -> np.ndarray:
    """Pelvic tilt (anterior +) and obliquity (right side up +), degrees (n, 2), of the pelvis
    frame ``q_E_P``, and its heading (rad, as :func:`heading_rotation`'s).

    Baker's rotation-obliquity-tilt sequence (Baker, Gait Posture 13:1-6, 2001): rotation about
    the vertical comes first, so tilt and obliquity are the same whatever the pelvis faces and
    the heading is exactly the pelvis' rotation — relative to a walking direction, pelvic
    rotation. Zero when the pelvis frame is the heading frame (standing, after calibration).
    """
    q_h_p = quat.multiply(quat.conjugate(HEADING_TO_WORLD), np.atleast_2d(q_e_p))
    rotation, obliquity, tilt = quat.to_rotation(q_h_p).as_euler("YXZ").T
    return np.column_stack([-np.degrees(tilt), -np.degrees(obliquity)]), rotation
