"""Joint angles from one moment's orientations and a held reference: the causal estimate.

The refined computation (:class:`~hiprot.kinematics.angles.SessionKinematics`) needs seconds
of the future (a stride of smoothing, a rotation test's swing), so live it runs over a sliding
window now and then and its angles come late. This estimate needs no future: each sample's
angles are the refined formulas with what the refined computation fitted — the hip's
reference, the shank's heading offset, a rotation test's zero — held as it last found them.
Live emits it for every chunk at once; batch runs it on its own refined fits, held the way
live holds them (:func:`held_series`), to report how far the causal figure was from the
refined one (:func:`causal_rms`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hiprot import quat
from hiprot.anatomy import HEADING_TO_WORLD, joint_angles, joint_angles_each, pelvis_angles
from hiprot.columns import (
    PELVIS_OBLIQUITY,
    PELVIS_TILT,
    hip_adduction,
    hip_flexion,
    hip_ir,
    knee_flexion,
)
from hiprot.config import Rig
from hiprot.geometry import wrap, yaw
from hiprot.kinematics.angles import LegResult, SessionAngles
from hiprot.kinematics.heading import z_heading
from hiprot.kinematics.pelvis_frame import about_y
from hiprot.kinematics.rotation_test import (
    femur_from_shank,
    gravity_hip,
    long_axis_knee,
    test_posture,
)

REFINE_STEP_S = 1.0  # live refines every this many seconds of samples: how long a fit is held


@dataclass
class Held:
    """Per leg, what the causal estimate takes from the refined computation: one value each
    (live: as the last refined window ended) or one per sample (batch, :func:`held_series`).

    ``heading``: the hip reference's turn about the vertical (rad): of the pelvis sensor's frame
    turned by ``pelvis_turn`` with a pelvis sensor, else of the upright heading frame;
    ``shank_yaw``: the shank's heading offset to the thigh (rad); ``test_zero``: a rotation
    test's IR offset to the clinical zero (degrees); ``in_test``: where the rotation-test reference may hold; ``front``: the
    femur's front turned from the thigh frame's (rad). Without a pelvis sensor, while walking
    the reference turns as the walking direction does: ``walk_offset`` is the reference's
    heading less the thigh's stride-mean heading (NaN: not walking, the heading holds), which
    :class:`StrideMean` follows; ``stride``: the stride's duration (s)."""

    heading: dict[str, np.ndarray]
    shank_yaw: dict[str, np.ndarray]
    test_zero: dict[str, np.ndarray]
    in_test: dict[str, np.ndarray]
    front: dict[str, float]
    walk_offset: dict[str, np.ndarray]
    stride: dict[str, float]
    pelvis: bool  # fitted with the pelvis sensor: its headings are the pelvis'
    pelvis_turn: float = 0.0

    def updated(self, newer: Held) -> Held:
        """``newer``'s fits, and these for legs ``newer`` does not have (a sensor left out)."""
        return Held(
            self.heading | newer.heading,
            self.shank_yaw | newer.shank_yaw,
            self.test_zero | newer.test_zero,
            self.in_test | newer.in_test,
            self.front | newer.front,
            self.walk_offset | newer.walk_offset,
            self.stride | newer.stride,
            newer.pelvis,
            newer.pelvis_turn,
        )


def held_at(angles: SessionAngles, index: int | np.ndarray) -> Held:
    """The refined fits of ``angles`` at ``index`` (a sample, or one per sample)."""
    legs = angles.legs.items()
    rate = 1.0 / (angles.time_s[1] - angles.time_s[0]) if len(angles.time_s) > 1 else 1.0
    return Held(
        {side: leg.hip_heading[index] for side, leg in legs},
        {side: leg.shank_yaw[index] for side, leg in legs if leg.shank_yaw is not None},
        {side: leg.test_zero[index] for side, leg in legs},
        {side: leg.test_spans[index] for side, leg in legs},
        {side: leg.front for side, leg in legs},
        {side: _walk_offset(leg, index, rate) for side, leg in legs if leg.walking is not None},
        {side: leg.stride_s for side, leg in legs},
        PELVIS_TILT in angles.columns,
        angles.anchors.pelvis_turn,
    )


def _walk_offset(leg: LegResult, index: int | np.ndarray, rate_hz: float) -> np.ndarray:
    """The reference's heading less the thigh's stride mean at the last sample at or before
    ``index`` where the reference followed the walking, if that lies within two strides
    (the refined strides end a stride or so before the data); NaN elsewhere."""
    samples = np.arange(len(leg.walking))
    last = np.maximum.accumulate(np.where(leg.walking, samples, -1))[index]
    recent = (last >= 0) & (samples[index] - last <= 2 * leg.stride_s * rate_hz)
    at = np.maximum(last, 0)
    return np.where(recent, leg.hip_heading[at] - leg.stride_mean_heading[at], np.nan)


def held_series(angles: SessionAngles, step_s: float) -> tuple[Held, np.ndarray]:
    """Batch: the refined fits of ``angles`` held as live holds them — each sample takes those
    of the last refinement, every ``step_s``, at or before it — and which samples have one."""
    n, rate = len(angles.time_s), 1.0 / np.median(np.diff(angles.time_s))
    step = max(1, int(round(step_s * rate)))
    index = np.arange(n) // step * step - 1  # the sample a refinement ending before this one saw
    has = index >= 0
    return held_at(angles, np.clip(index, 0, n - 1)), has


class StrideMean:
    """The thigh's heading (rad) averaged over the stride just past, sample by sample: the
    causal twin of the refined stride mean (centred on each sample), which it trails by half a
    stride. Fed in pieces (live) or whole (batch), it gives the same."""

    def __init__(self, rate_hz: float):
        self.rate_hz = rate_hz
        self._past = np.empty(0, complex)  # the weighted unit vectors of the last samples

    def update(self, heading: np.ndarray, weight: np.ndarray, stride_s: float) -> np.ndarray:
        window = max(1, int(round(stride_s * self.rate_hz)))
        vectors = np.concatenate([self._past, weight * np.exp(1j * heading)])
        total = np.concatenate([[0], np.cumsum(vectors)])
        end = np.arange(len(self._past), len(vectors)) + 1
        mean = total[end] - total[np.maximum(end - window, 0)]
        self._past = vectors[-window:]
        return np.angle(mean)


def causal_angles(
    rig: Rig, q_eb: dict[str, np.ndarray], held: Held, follow: dict[str, StrideMean]
) -> dict[str, np.ndarray]:
    """Joint angles (degrees, ``angles.csv`` names) from the body orientations ``q_eb`` (per
    sensor, on one time base) and ``held``: knee flexion, hip angles, the pelvis' tilt and
    obliquity (its rotation needs a stride of the future: none). ``follow``: per side, the
    thigh's stride mean so far (updated here; without a pelvis sensor the walking reference
    turns with it)."""
    pelvis = rig.find("pelvis")
    q_pelvis = None
    if pelvis is not None:
        q_pelvis = quat.multiply(q_eb[pelvis.name], about_y(held.pelvis_turn))
    legs, joints = [], []  # per leg its segments; the joint rotations, converted at once
    for side in rig.sides:
        if side not in held.heading:
            continue  # no refined computation had this leg yet
        thigh = q_eb[rig.find("thigh", side).name]
        n = len(thigh)
        front = held.front.get(side, 0.0)
        femur = quat.multiply(thigh, about_y(front)) if front else thigh
        heading = np.broadcast_to(held.heading[side], n)
        if q_pelvis is None and side in held.walk_offset:
            walking = np.broadcast_to(held.walk_offset[side], n)
            mean = follow[side].update(*z_heading(thigh), held.stride[side])
            heading = np.where(np.isfinite(walking), np.unwrap(mean) + walking, heading)
        turned = yaw(heading)
        reference = quat.multiply(turned, HEADING_TO_WORLD if q_pelvis is None else q_pelvis)
        joints.append((quat.multiply(quat.conjugate(reference), femur), side, "hip"))
        shank_sensor, shank = rig.find("shank", side), None
        if shank_sensor is not None:
            shank = quat.multiply(
                yaw(np.broadcast_to(held.shank_yaw[side], n)), q_eb[shank_sensor.name]
            )
            joints.append((quat.multiply(quat.conjugate(thigh), shank), side, "knee"))
        legs.append((side, thigh, reference, shank))
    angles = iter(joint_angles_each(joints) if joints else [])
    columns: dict[str, np.ndarray] = {}
    for side, thigh, reference, shank in legs:
        n = len(thigh)
        hip = next(angles)
        if shank is not None:
            columns[knee_flexion(side)] = next(angles)[:, 0]
        in_test = np.broadcast_to(held.in_test[side], n)
        test = np.zeros(n, bool)
        if in_test.any():
            knee_deg = None if shank is None else long_axis_knee(thigh, shank)
            test = in_test & test_posture(thigh, knee_deg)
        if test.any():
            lever = thigh[test] if shank is None else femur_from_shank(thigh[test], shank[test])
            if q_pelvis is None:
                figure = gravity_hip(lever, side)[:, 2]
            else:
                against = quat.multiply(quat.conjugate(reference[test]), lever)
                figure = joint_angles(against, side, "hip")[:, 2]
            zero = np.broadcast_to(held.test_zero[side], n)[test]
            hip[test, 2] = np.degrees(wrap(np.radians(figure - zero)))
        if shank is None and q_pelvis is None:
            hip[~test] = np.nan  # no strides, no walking direction: only rotation tests
        columns[hip_ir(side)] = hip[:, 2]
        if q_pelvis is not None:
            columns[hip_flexion(side)] = hip[:, 0]
            columns[hip_adduction(side)] = hip[:, 1]
    if q_pelvis is not None:
        inclination, _ = pelvis_angles(q_pelvis)
        columns[PELVIS_TILT], columns[PELVIS_OBLIQUITY] = inclination[:, 0], inclination[:, 1]
    return columns


def causal_rms(
    angles: SessionAngles, q_eb: dict[str, np.ndarray], rig: Rig, step_s: float
) -> dict[str, float]:
    """Batch: per angle column, the RMS (degrees) of the causal estimate — the refined fits
    held as live holds them (:func:`held_series`) — against the refined angles."""
    held, has = held_series(angles, step_s)
    follow = {side: StrideMean(rig.sample_rate_hz) for side in rig.sides}
    causal = causal_angles(rig, q_eb, held, follow)
    out = {}
    for name, values in causal.items():
        refined = angles.columns.get(name)
        if refined is None:
            continue
        difference = (values - refined)[has]
        difference = difference[np.isfinite(difference)]
        if len(difference):
            out[name] = round(float(np.sqrt(np.mean(difference**2))), 2)
    return out
