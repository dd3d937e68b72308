"""The pelvis sensor's anatomical frame: its forward axis, its heading against each thigh, its angles.

Standing gives the pelvis sensor's vertical only (:mod:`hiprot.calibration`). Which way the
pelvis faces about that vertical (its *turn*, :func:`pelvis_turn`) comes, in this order of
trust, from walking (the stride rhythm of pelvic obliquity), from the postures the pelvis
rests in (sitting tilts it back, lying face down tips it forward: both in the sagittal
plane), and only without either from the least hip flexion leaking into adduction. Its
heading against each thigh (which six-axis fusion cannot observe) is set while standing,
feet forward (:func:`standing_offset`); the kinematics keep it from there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.optimize import minimize_scalar

from hiprot import quat
from hiprot.anatomy import joint_angles, pelvis_angles
from hiprot.calibration import Calibration
from hiprot.columns import PELVIS_OBLIQUITY, PELVIS_ROTATION, PELVIS_TILT
from hiprot.geometry import UP, circular_mean, wrap, yaw
from hiprot.kinematics.gait_events import STANCE_PLAUSIBLE_PERCENT
from hiprot.kinematics.heading import z_heading
from hiprot.resample import Grid
from hiprot.units import STANDARD_GRAVITY

SHARED_MOTION_S = 0.5  # low-pass window for the acceleration pelvis and thighs share
# Design choice: live calibration (5 s of movement) sees about four strides; on the simulator
# (seed 1, realistic and technical) four gave the whole walk's turn within 0.2°.
MIN_RHYTHM_STRIDES = 3
# Design choices: sitting tilts the pelvis back by about 20° (Lazennec et al. 2004), standing
# sway by a few degrees, so 10° tells a posture from sway; lying tips it by 90°, sitting never
# by 60°; 2 s is the rotation tests' shortest posture span (rotation_test.DETECT_S).
POSTURE_TILT_DEG = 10.0  # a pelvis tilted this far from standing shows its sagittal plane...
LYING_TILT_DEG = 60.0  # ... and one tilted this far lies down: face down, its front is down
POSTURE_MIN_S = 2.0  # either posture counts once held this long in all


@dataclass
class ThighMotion:
    """What the pelvis frame needs of one thigh: its segment orientation, its acceleration in
    its own earth frame (:func:`acceleration_e`), its gait events (sample indices), where
    the femur's front points (n, 3, earth frame) and where that comes from a rotation test's
    bent shank, the lever (n, bool)."""

    side: str
    q: np.ndarray
    acc_e: np.ndarray
    heel_strike: np.ndarray
    toe_off: np.ndarray
    front_e: np.ndarray
    lever: np.ndarray


def about_y(angle: float) -> np.ndarray:
    """Rotation by ``angle`` (rad) about a frame's own Y axis."""
    return np.array([np.cos(angle / 2), 0.0, np.sin(angle / 2), 0.0])


def standing_offset(q_thigh: np.ndarray, q_pelvis: np.ndarray, standing: np.ndarray) -> float:
    """Yaw turning the pelvis frame into the thigh's heading frame, standing feet forward."""
    heading_t, weight_t = z_heading(q_thigh[standing])
    heading_p, weight_p = z_heading(q_pelvis[standing])
    return circular_mean(heading_t - heading_p, weight_t * weight_p)


def acceleration_e(grid: Grid, name: str) -> np.ndarray:
    """A sensor's acceleration (gravity removed) in its own earth frame, low-passed to the
    whole-body movement that neighbouring segments share."""
    track = grid.tracks[name]
    acc = quat.rotate(track.q_es, track.acc) - STANDARD_GRAVITY * UP
    return uniform_filter1d(
        acc, max(1, int(SHARED_MOTION_S * grid.rate_hz)), axis=0, mode="nearest"
    )


def rate_b(grid: Grid, calibration: Calibration, name: str) -> np.ndarray:
    """A sensor's angular velocity in its segment's frame (rad/s)."""
    track = grid.tracks[name]
    q_bs = np.broadcast_to(quat.conjugate(calibration.q_sb[name]), (len(track.gyr), 4))
    return quat.rotate(q_bs, track.gyr)


def pelvis_turn(
    q_pelvis: np.ndarray,
    pelvis_acc_e: np.ndarray,
    pelvis_rate_b: np.ndarray,
    thighs: list[ThighMotion],
    standing: np.ndarray,
    rate_hz: float,
    gaps: list[tuple[int, int]] = (),
    rests: list[tuple[int, int]] = (),
) -> tuple[float, bool]:
    """How far to turn the pelvis frame about its vertical so that its X faces forward (rad),
    and whether that is settled (from walking or posture, not the least leak).

    The axis, up to a half turn: walking's stride rhythm (:func:`stride_rhythm_turn`); without
    walking the postures the pelvis rests in (:func:`posture_axis`); without either, hip
    flexion — by far the hip's largest motion in sitting, lunging and bending — leaking least
    into adduction. Of its two directions the one a lying posture says
    (:func:`lying_front`); without lying, the one under which pelvis and thighs accelerate the
    same way — the hips carry them together (:func:`acceleration_agreement`).

    ``gaps``: index ranges where a sensor had a gap the fusion does not bridge. Strides across
    one are left out, and the accelerations are compared per stretch between gaps, under
    the offsets standing found in that stretch (the calibration's standing, else its first
    still standing rest of ``rests``): across a gap the pelvis' and the thighs' earth frames
    are no longer linked as standing linked them (each sensor turned by an unknown yaw while
    it delivered nothing); a stretch without standing says nothing.
    """
    best = stride_rhythm_turn(pelvis_rate_b, thighs, rate_hz, gaps)
    if best is None:
        best = posture_axis(q_pelvis, rate_hz)
    settled = best is not None
    if best is None:
        best = _least_leak(q_pelvis, thighs, standing)
    front = lying_front(q_pelvis, thighs, rate_hz)
    if front is not None:
        if np.cos(front - best) < 0:
            best += np.pi
    else:
        turned = quat.multiply(q_pelvis, about_y(best))
        agreement = 0.0
        for span, link in _linked_stretches(len(q_pelvis), gaps, standing, rests):
            offsets = [standing_offset(thigh.q, turned, link) for thigh in thighs]
            agreement += acceleration_agreement(pelvis_acc_e, thighs, offsets, span)
        if agreement < 0:
            best += np.pi
    return float(best), settled


def _linked_stretches(
    n: int, gaps: list[tuple[int, int]], standing: np.ndarray, rests: list[tuple[int, int]]
) -> list[tuple[slice, np.ndarray]]:
    """The stretches of ``n`` samples between ``gaps`` that hold standing, each with the
    samples of standing that link its frames: the calibration's ``standing`` (indices) there,
    else the stretch's first rest."""
    starts = [0] + [b for _, b in gaps]
    stops = [a for a, _ in gaps] + [n]
    out = []
    for begin, stop in zip(starts, stops):
        if stop <= begin:
            continue
        link = standing[(standing >= begin) & (standing < stop)]
        if not len(link):
            first = [(a, b) for a, b in rests if a >= begin and b <= stop]
            link = np.arange(*first[0]) if first else link
        if len(link):
            out.append((slice(int(begin), int(stop)), link))
    return out


def settled_turn(
    q_pelvis: np.ndarray,
    pelvis_acc_e: np.ndarray,
    thighs: list[ThighMotion],
    turn: float,
    offsets: list[float],
    rate_hz: float,
) -> float | None:
    """Live: the pelvis' turn once a window shows its posture; ``turn`` and ``offsets`` (per
    thigh, :func:`standing_offset`) are the calibration's (the least leak: a live calibration
    sees standing and a few knee bends, no posture).

    Only once a window shows a rotation test (``POSTURE_MIN_S`` of the bent shank's lever):
    before it the pelvis may be on its way down (kneeling on the bench, tilted between sitting
    and lying). The axis from :func:`posture_axis`. Its direction, lying, from the femurs'
    fronts where the lever shows them (:func:`lying_front`; the knee-axis front of a live
    calibration can be 100° off); otherwise the one under which
    pelvis and thighs accelerate the same way, the offsets following the turn as standing
    links them (:func:`acceleration_agreement`) — the window holds the sitting down that
    tilted the pelvis. None while the window shows no posture."""
    axis = posture_axis(q_pelvis, rate_hz)
    lever = np.any([t.lever for t in thighs], axis=0) if thighs else np.zeros(0, bool)
    if axis is None or lever.sum() < POSTURE_MIN_S * rate_hz:
        return None
    if _lying(q_pelvis[lever]).any():
        front = lying_front(q_pelvis, thighs, rate_hz, lever_only=True)
        if front is None:
            return None
        return float(axis + np.pi if np.cos(front - axis) < 0 else axis)
    linked = [offset - (axis - turn) for offset in offsets]
    agree = acceleration_agreement(pelvis_acc_e, thighs, linked)
    return float(axis + np.pi if agree < 0 else axis)


def stride_rhythm_turn(
    rate_b: np.ndarray, thighs: list[ThighMotion], rate_hz: float, gaps: list[tuple[int, int]] = ()
) -> float | None:
    """The pelvis frame's turn about its vertical (rad, up to a half turn) that makes its X
    the axis of pelvic obliquity, from walking; None with fewer than MIN_RHYTHM_STRIDES.

    In walking the pelvis goes through one cycle of obliquity (and of rotation) per stride but
    two of tilt, one per step (Kadaba et al., J Orthop Res 8:383-392, 1990; Perry & Burnfield,
    Gait Analysis, 2nd ed. 2010): of the horizontal axes, the forward one carries the most
    angular velocity at the stride frequency. Per stride (heel strike to heel strike of a
    leg, 0.6-2.5 s with one toe off, its stance plausible for walking) the first Fourier
    coefficient of the rate about the frame's X and Z axes is taken; the leading
    eigenvector of their summed outer products is that axis."""
    form, count = np.zeros((2, 2)), 0
    low, high = np.array(STANCE_PLAUSIBLE_PERCENT) / 100
    for thigh in thighs:
        strikes = np.round(thigh.heel_strike).astype(int)
        for a, b in zip(strikes, strikes[1:]):
            toe = thigh.toe_off[(thigh.toe_off > a) & (thigh.toe_off < b)]
            if not 0.6 * rate_hz <= b - a <= 2.5 * rate_hz or len(toe) != 1:
                continue
            if not low <= (toe[0] - a) / (b - a) <= high:  # not a walking stride
                continue
            if any(g < b and a < h for g, h in gaps):  # a sensor's gap: not measured
                continue
            phase = np.exp(-2j * np.pi * np.arange(b - a) / (b - a))
            c = rate_b[a:b][:, [0, 2]].T @ phase
            form += np.real(np.outer(c, np.conj(c)))
            count += 1
    if count < MIN_RHYTHM_STRIDES:
        return None
    x, z = np.linalg.eigh(form)[1][:, -1]
    return _turn_of(x, z)


def _turn_of(x: float, z: float) -> float:
    """The turn (rad) taking the frame's X to the direction (x, 0, z): ``about_y(θ)`` takes X
    to (cos θ, 0, -sin θ)."""
    return float(np.arctan2(-z, x))


def _tilt_direction(q_pelvis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the vertical, seen from the pelvis frame, leans off the frame's Y (standing's
    vertical): its X and Z parts (n, 2), and the sine of the tilt (n)."""
    up = quat.rotate(quat.conjugate(q_pelvis), np.broadcast_to(UP, (len(q_pelvis), 3)))
    lean = up[:, [0, 2]]
    return lean, np.hypot(lean[:, 0], lean[:, 1])


def posture_axis(q_pelvis: np.ndarray, rate_hz: float) -> float | None:
    """The pelvis' forward axis (rad, up to a half turn) from the postures it tilts into, or
    None when it never tilts more than ``POSTURE_TILT_DEG`` for ``POSTURE_MIN_S``.

    From standing to sitting the pelvis tilts back, in the sagittal plane (by about 20°:
    Lazennec et al., Surg Radiol Anat 26:136-144, 2004); bending into a squat tilts it
    forward, lying down tips it by 90° about its left-right axis: a tilted pelvis leans along
    its forward axis, whichever way. The axis is the weighted mean direction of the lean
    (doubled angles: forward and back are the same axis), each sample weighted by its tilt's
    squared sine, so that lying and deep sitting outweigh small sways."""
    lean, sine = _tilt_direction(q_pelvis)
    tilted = sine > np.sin(np.radians(POSTURE_TILT_DEG))
    if tilted.sum() < POSTURE_MIN_S * rate_hz:
        return None
    direction = np.arctan2(-lean[tilted, 1], lean[tilted, 0])  # as _turn_of, per sample
    return float(0.5 * np.angle(np.sum(sine[tilted] ** 2 * np.exp(2j * direction))))


def _lying(q_pelvis: np.ndarray) -> np.ndarray:
    """Where the pelvis lies: tilted past ``LYING_TILT_DEG``."""
    return _tilt_direction(q_pelvis)[1] > np.sin(np.radians(LYING_TILT_DEG))


def lying_front(
    q_pelvis: np.ndarray, thighs: list[ThighMotion], rate_hz: float, lever_only: bool = False
) -> float | None:
    """The turn (rad) that makes the pelvis frame's X its front, from lying down; None when
    the pelvis never lies (tilts past ``LYING_TILT_DEG``) — or, ``lever_only``, not where a
    bent shank shows a femur's front — for ``POSTURE_MIN_S``.

    Lying face down (the prone test) the front of the pelvis faces the floor, lying on the
    back the ceiling; which of the two the femurs' fronts say (``front_e``: in a prone test
    the bent shank's lever, which points the femur's front down whatever the knee-axis fit)."""
    down = _lying(q_pelvis)
    shown = np.array([t.lever if lever_only else np.ones(len(t.lever), bool) for t in thighs])
    if thighs:
        down &= shown.any(axis=0)
    if down.sum() < POSTURE_MIN_S * rate_hz or not thighs:
        return None
    lean, _ = _tilt_direction(q_pelvis[down])
    fronts = np.array([t.front_e[down, 2] for t in thighs])
    front_z = np.sum(fronts * shown[:, down], axis=0)  # the thighs whose front is shown
    facing = np.where(front_z < 0, -1.0, 1.0)  # face down: the vertical leans to the back
    x, z = np.sum(lean * facing[:, None], axis=0)
    return _turn_of(x, z)


def _least_leak(q_pelvis: np.ndarray, thighs: list[ThighMotion], standing: np.ndarray) -> float:
    """The turn (rad, up to a half turn) under which hip flexion leaks least into adduction."""
    pick = slice(None, None, max(1, len(q_pelvis) // 4000))

    def leak(angle: float) -> float:
        turned = quat.multiply(q_pelvis, about_y(angle))
        total = 0.0
        for thigh in thighs:
            reference = quat.multiply(yaw(standing_offset(thigh.q, turned, standing)), turned[pick])
            hip = joint_angles(
                quat.multiply(quat.conjugate(reference), thigh.q[pick]), thigh.side, "hip"
            )
            total += float(np.var(hip[:, 1]))
        return total

    best = min(np.radians(np.arange(0, 180, 10.0)), key=leak)
    return float(
        minimize_scalar(
            leak, bounds=(best - 0.18, best + 0.18), method="bounded", options={"xatol": 0.005}
        ).x
    )


def acceleration_agreement(
    pelvis_acc_e: np.ndarray,
    thighs: list[ThighMotion],
    offsets: list[float],
    span: slice = slice(None),
) -> float:
    """Positive when, the pelvis' earth frame turned into each thigh's by its ``offsets``
    (:func:`standing_offset`), the pelvis' horizontal acceleration points where the thighs'
    does: the hips carry them together. Over the samples of ``span``."""
    total = 0.0
    for thigh, offset in zip(thighs, offsets):
        pelvis = (pelvis_acc_e[span, 0] + 1j * pelvis_acc_e[span, 1]) * np.exp(1j * offset)
        acc = thigh.acc_e[span, 0] + 1j * thigh.acc_e[span, 1]
        total += float(np.sum(np.real(np.conj(pelvis) * acc)))
    return total


def pelvis_columns(rate_hz: float, q_pelvis: np.ndarray, stride_s: float) -> dict[str, np.ndarray]:
    """The pelvis' own angles (:data:`~hiprot.columns.PELVIS_SEGMENT`, degrees).

    Tilt and obliquity are against gravity, zero at the standing calibration (the pelvis
    frame is the heading frame there). Pelvic rotation relative to the walking direction is
    the pelvis' heading less its stride-long (``stride_s``) moving average, taken twice
    ("twicing", Tukey, Exploratory Data Analysis, 1977: the second pass removes the first's
    lag through a turn): the walking direction is the one the pelvis itself walks, on
    average over a stride. A constant pelvic rotation relative to the direction of travel is
    not observable with six-axis sensors (each sensor's heading is its own, and the
    strides' travel direction carries several degrees of error:
    :mod:`~hiprot.kinematics.anchoring`), so it reads zero: the rotation within each stride
    is measured, its mean over the stride is not (docs/gait.md)."""
    inclination, heading = pelvis_angles(q_pelvis)
    window = max(1, int(round(stride_s * rate_hz)))
    unwrapped = np.unwrap(heading)
    once = uniform_filter1d(unwrapped, window, mode="nearest")
    trend = 2 * once - uniform_filter1d(once, window, mode="nearest")
    return {
        PELVIS_TILT: inclination[:, 0],
        PELVIS_OBLIQUITY: inclination[:, 1],
        PELVIS_ROTATION: np.degrees(wrap(unwrapped - trend)),
    }
