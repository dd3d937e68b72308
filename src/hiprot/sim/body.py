"""The body model: adult segment lengths and forward kinematics of pelvis, thighs and shanks.

Segment lengths scale with body height by Winter's anthropometric proportions
(Winter 2009, *Biomechanics and Motor Control of Human Movement*, fig. 4.1):
thigh (hip to knee joint centre) 0.245 H, shank (knee to ankle) 0.246 H, ankle
height 0.039 H. The hip joint centres are 0.10 H apart (0.175 m at 1.75 m;
Harrington et al., J Biomech 40:595-602 (2007), report hip-centre widths of
0.15-0.19 m in adults).

Frames follow :mod:`hiprot.anatomy`: every segment frame equals the heading
frame in the standing posture; the pelvis origin is the midpoint of the hip
joint centres, the thigh's origin the hip centre, the shank's the knee centre.
A posture (see :mod:`hiprot.sim.motion`) gives the heading, the pelvis angles
relative to the heading frame, the pelvis position in the world and the ISB
hip and knee angles; a small whole-body sway rotates the body rigidly about
the ankles, so it moves the sensors but leaves every joint angle unchanged.

The knee need not be a pure hinge: with ``knee_screw_home_deg`` and
``knee_varus_deg`` the tibia rotates internally and into varus as the knee flexes
(:mod:`hiprot.sim.realism`), on top of the posture's knee angles — everywhere,
so planted feet, the stance leg and the true knee angles all include it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hiprot import quat
from hiprot.anatomy import SIDE_SIGN, heading_rotation, joint_rotation
from hiprot.sim.motion import CH, XYZ
from hiprot.sim.realism import KNEE_SCREW_HOME_SCALE_DEG, KNEE_VARUS_SCALE_DEG

SEGMENTS = ("pelvis", "right_thigh", "right_shank", "left_thigh", "left_shank")
DOWN_B = np.array([0.0, -1.0, 0.0])


@dataclass(frozen=True)
class Body:
    """Segment dimensions of an adult of ``height_m``, and how far the knee is from a hinge."""

    height_m: float = 1.75
    knee_screw_home_deg: float = 0.0
    knee_varus_deg: float = 0.0

    def knee_coupling(self, flexion_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Adduction (varus +) and internal rotation (degrees) the knee adds at ``flexion_deg``."""
        flexion = np.maximum(flexion_deg, 0.0)
        varus = self.knee_varus_deg * np.tanh(flexion / KNEE_VARUS_SCALE_DEG)
        rotation = self.knee_screw_home_deg * np.tanh(flexion / KNEE_SCREW_HOME_SCALE_DEG)
        return varus, rotation

    @property
    def thigh_m(self) -> float:
        return 0.245 * self.height_m

    @property
    def shank_m(self) -> float:
        return 0.246 * self.height_m

    @property
    def ankle_height_m(self) -> float:
        return 0.039 * self.height_m

    @property
    def hip_width_m(self) -> float:
        return 0.10 * self.height_m

    @property
    def standing_pelvis_height_m(self) -> float:
        """Height of the hip joint centres above the floor when standing."""
        return self.ankle_height_m + self.shank_m + self.thigh_m


@dataclass
class SegmentPose:
    """Orientation ``q_E_B`` (n, 4) and origin (n, 3, metres, world) of one segment."""

    q_EB: np.ndarray
    origin_E: np.ndarray


def _elementary(axis: int, angle_deg: np.ndarray) -> np.ndarray:
    """Quaternions (n, 4) of rotations by ``angle_deg`` about the frame's axis 0 (x), 1 (y) or 2 (z)."""
    half = np.radians(angle_deg) / 2
    q = np.zeros((len(half), 4))
    q[:, 0], q[:, 1 + axis] = np.cos(half), np.sin(half)
    return q


def pelvis_rotation(posture: np.ndarray) -> np.ndarray:
    """``q_H_P``: pelvis relative to the heading frame, Cardan Z-X-Y like the hip, from tilt
    (anterior +, a negative rotation about Z), obliquity (right side up +, negative about X)
    and rotation (right side forward +, positive about Y), all in degrees."""
    tilt = _elementary(2, -posture[:, CH["tilt"]])
    obliquity = _elementary(0, -posture[:, CH["obliquity"]])
    rotation = _elementary(1, posture[:, CH["rotation"]])
    return quat.multiply(quat.multiply(tilt, obliquity), rotation)


def _sway(posture: np.ndarray) -> np.ndarray:
    """``q_H_H'``: the whole-body sway (pitch about the right axis, then roll about the forward axis)."""
    return quat.multiply(
        _elementary(2, posture[:, CH["sway_pitch"]]), _elementary(0, posture[:, CH["sway_roll"]])
    )


def forward_kinematics(
    body: Body, posture: np.ndarray, sides: tuple[str, ...] = ("right", "left")
) -> dict[str, SegmentPose]:
    """Pose of every segment (keys of ``SEGMENTS``; legs of ``sides`` only) for postures ``(n, channels)``."""
    q_eh = heading_rotation(posture[:, CH["heading"]])
    q_sway = _sway(posture)
    q_ep = quat.multiply(quat.multiply(q_eh, q_sway), pelvis_rotation(posture))
    nominal = posture[:, XYZ]
    lever_h = np.zeros_like(nominal)
    lever_h[:, 1] = nominal[:, 2] - body.ankle_height_m
    sway_shift = quat.rotate(q_eh, quat.rotate(q_sway, lever_h) - lever_h)
    pelvis_e = nominal + sway_shift
    poses = {"pelvis": SegmentPose(q_ep, pelvis_e)}
    for side in sides:
        hip = posture[:, [CH[f"{side}_hip_{a}"] for a in ("flexion", "adduction", "rotation")]]
        knee = posture[:, [CH[f"{side}_knee_{a}"] for a in ("flexion", "adduction", "rotation")]]
        hip_e = pelvis_e + quat.rotate(q_ep, [0.0, 0.0, SIDE_SIGN[side] * body.hip_width_m / 2])
        q_et = quat.multiply(q_ep, joint_rotation(hip[:, 0], hip[:, 1], hip[:, 2], side, "hip"))
        knee_e = hip_e + quat.rotate(q_et, DOWN_B * body.thigh_m)
        varus, screw = body.knee_coupling(knee[:, 0])
        q_tk = joint_rotation(knee[:, 0], knee[:, 1] + varus, knee[:, 2] + screw, side, "knee")
        q_es = quat.multiply(q_et, q_tk)
        poses[f"{side}_thigh"] = SegmentPose(q_et, hip_e)
        poses[f"{side}_shank"] = SegmentPose(q_es, knee_e)
    return poses


def ankles_from_pelvis(body: Body, posture: np.ndarray) -> dict[str, np.ndarray]:
    """Each ankle joint centre (n, 3) relative to the pelvis origin, in world axes."""
    at_origin = posture.copy()
    at_origin[:, XYZ] = 0.0
    return ankle_positions(body, at_origin)


def ankle_positions(
    body: Body, posture: np.ndarray, sides: tuple[str, ...] = ("right", "left")
) -> dict[str, np.ndarray]:
    """World position of the ankle joint centre (n, 3) of each of ``sides``."""
    poses = forward_kinematics(body, posture, sides)
    return {
        side: poses[f"{side}_shank"].origin_E
        + quat.rotate(poses[f"{side}_shank"].q_EB, DOWN_B * body.shank_m)
        for side in sides
    }
