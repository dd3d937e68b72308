"""Joint angles of a whole session: knee flexion and hip angles per leg (ISB).

Three ways to the hip, chosen per sample:

- **rotation tests** (seated or prone, thigh horizontal and knee bent, only in a
  rotation-test session or where one is detected): the bent shank is the
  femur's lever; with a pelvis sensor hip IR is pelvis → femur, without one the
  femur's twist against gravity, which the gravity-referenced second figure
  always carries (:mod:`hiprot.kinematics.rotation_test`).
- **with a pelvis sensor**: pelvis → femur directly. The pelvis' heading
  relative to the thigh's (unobservable with 6-axis fusion) is set by still
  standing and followed through walking from stride to stride, so drift does
  not accumulate (:mod:`hiprot.kinematics.anchoring`).
- **thigh + shank only**: hip IR relative to the direction of walking — the
  pelvis is taken upright, facing the direction stood in at the last rest, and
  turning as the walking direction turns.

With a pelvis sensor the pelvis' own tilt, obliquity and rotation relative to the walking
direction are reported too (:func:`pelvis_columns`).

Every later still standing rest re-establishes hip IR zero; the angles each rest
would read without it (the reference carried into it) are compared with the
first standing: the return-to-zero check, which needs no truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.stats import theilslopes

from hiprot import quat
from hiprot.activities import ActivityTimeline
from hiprot.anatomy import heading_rotation, joint_angles
from hiprot.calibration import Calibration
from hiprot.calibration.result import STANDING
from hiprot.columns import (
    HIP_IR_GRAVITY,
    PELVIS_UP,
    TEST_HIP_FLEXION,
    TEST_KNEE_FLEXION,
    TEST_POSTURE,
    hip_adduction,
    hip_flexion,
    hip_ir,
    knee_flexion,
)
from hiprot.columns import angle_columns as rig_columns
from hiprot.config import Rig
from hiprot.fusion.timeline import MAX_GAP_S
from hiprot.geometry import X_AXIS, Y_AXIS, circular_mean, wrap, yaw
from hiprot.kinematics.anchoring import (
    MAX_START_TURN_DEG,
    STRAIGHT_DEG,
    Reference,
    anchored,
    merged,
    walks_between,
)
from hiprot.kinematics.gait_events import GaitEvents
from hiprot.kinematics.heading import hinge_heading_offset, smooth_angle, z_heading
from hiprot.kinematics.pelvis_frame import (
    ThighMotion,
    about_y,
    acceleration_e,
    pelvis_columns,
    pelvis_turn,
    rate_b,
    settled_turn,
    standing_offset,
)
from hiprot.kinematics.rests import standing_rests
from hiprot.kinematics.rotation_test import (
    HANDOVER_STEP_DEG,
    clinical_zero,
    femur_from_shank,
    gravity_hip,
    handover,
    handover_step,
    lever_front_turn,
    long_axis_knee,
    pelvis_heading_in_test,
    pelvis_up,
    test_heading_offset,
    test_posture,
    test_spans,
)
from hiprot.kinematics.shank_events import ShankEventDetector, shank_events
from hiprot.kinematics.walking import mid_stances, straight_path, walking_directions
from hiprot.resample import Grid
from hiprot.saturation import (
    DRIVER_FULL_SCALE,
    SMALLEST_RANGE_ACC,
    SMALLEST_RANGE_GYR,
    at_full_scale,
)

OFFSET_WINDOW_S = 30.0  # heading offsets are medians over this many seconds of straight strides
# The pelvis sensor's offset from the walking direction drifts while walking (2 % gyroscope
# scale errors: about 0.2 °/s between pelvis and thigh modules on the simulator, technical),
# which a window's median follows only where the window is centred. Design choices, on
# scripts/return_to_zero_sweep.py (seeds 1-10, both realisms): a trend at 95 % confidence
# also fitted the stride-to-stride wobble of realistic walks (3 of 40 rests worse, up to
# 3.4°), at 99 % none; eight strides are about ten seconds of walking. The thigh-only offsets
# keep the median: their wobble is the hip's own rotation, and lines there read up to 2.6°.
TREND_CONFIDENCE = 0.99
TREND_MIN_STRIDES = 8


@dataclass
class LegResult:
    """One leg's angles (degrees) and what the analysis needs besides."""

    columns: dict[str, np.ndarray] = field(default_factory=dict)
    events: GaitEvents = field(default_factory=GaitEvents)
    sagittal_rate: np.ndarray | None = None  # the shank's rate about its swing axis (rad/s)
    shank_acc: np.ndarray | None = None  # the shank's acceleration (m/s², sensor frame)
    thigh_heading_deg: np.ndarray | None = None  # the thigh's heading about the vertical, unwrapped
    thigh_inclination_deg: np.ndarray | None = None  # the thigh's long axis from the vertical
    test_posture: np.ndarray | None = None  # True where the rotation-test reference holds
    hip_ir_gravity: np.ndarray | None = None  # the test's gravity-referenced IR (deg), NaN outside
    test_hip_flexion: np.ndarray | None = None  # hip flexion in the test (deg), NaN outside
    test_knee_flexion: np.ndarray | None = None  # knee flexion between long axes, NaN outside
    pelvis_up: np.ndarray | None = None  # the vertical in the pelvis frame (n, 3), pelvis only
    # what the causal estimate holds (:mod:`hiprot.kinematics.causal`), per sample:
    hip_heading: np.ndarray | None = None  # the hip reference's turn about the vertical (rad)
    shank_yaw: np.ndarray | None = None  # the shank's heading offset to the thigh (rad)
    test_zero: np.ndarray | None = None  # a rotation test's IR offset to the clinical zero (deg)
    test_spans: np.ndarray | None = None  # where the rotation-test reference may hold
    front: float = 0.0  # the femur's front turned from the thigh frame's (rad)
    stride_mean_heading: np.ndarray | None = None  # no pelvis: the thigh's stride mean (rad)
    walking: np.ndarray | None = None  # no pelvis: where the reference follows the walking
    stride_s: float = 1.1  # the median stride's duration
    unknown_s: float = 0.0  # the hip reference unknown after sensor gaps, beyond the gaps (s)

    def test_inputs(self, keep: np.ndarray | slice = slice(None)) -> dict[str, np.ndarray]:
        """The trial detector's inputs by column suffix (:mod:`hiprot.columns`), at ``keep``."""
        if self.test_posture is None:
            return {}
        out = {
            TEST_POSTURE: self.test_posture[keep],
            HIP_IR_GRAVITY: self.hip_ir_gravity[keep],
            TEST_HIP_FLEXION: self.test_hip_flexion[keep],
        }
        if self.test_knee_flexion is not None:
            out[TEST_KNEE_FLEXION] = self.test_knee_flexion[keep]
        if self.pelvis_up is not None:
            out |= {name: self.pelvis_up[keep, k] for k, name in enumerate(PELVIS_UP)}
        return out


@dataclass
class Anchors:
    """Headings fixed while standing at calibration; live windows reuse them.

    ``thigh_heading``: per side, the direction the pelvis faces (rad, that thigh's
    filter frame; no pelvis sensor); ``pelvis_offset``: per side, the yaw turning the
    pelvis frame into that thigh's; ``pelvis_turn``: the pelvis frame's rotation about
    its own vertical (rad); ``walk_correction``: per side, the walking correction in
    force (:mod:`hiprot.kinematics.anchoring`). ``compute`` returns them as they stand
    at the end of its data, so that live windows carry them on. ``test_yaw``,
    ``pelvis_test_yaw`` and ``test_zero``: per side, the rotation test's fitted shank heading
    offset and pelvis turn (rad) and its IR's offset to the clinical zero (degrees,
    :func:`~hiprot.kinematics.rotation_test.clinical_zero`) at the last sample a live window
    emitted, when that lies in a rotation test
    (:func:`~hiprot.kinematics.rotation_test.handover`). ``thigh_front_turn``: per side, the
    femur's front from a rotation test's bent shank (rad about the thigh's long axis, none
    without a test); ``pelvis_settled``: the pelvis' turn came from walking or posture
    (:func:`~hiprot.kinematics.pelvis_frame.pelvis_turn`), not the least leak.
    """

    thigh_heading: dict[str, float] = field(default_factory=dict)
    pelvis_offset: dict[str, float] = field(default_factory=dict)
    pelvis_turn: float = 0.0
    walk_correction: dict[str, float] = field(default_factory=dict)
    test_yaw: dict[str, float] = field(default_factory=dict)
    pelvis_test_yaw: dict[str, float] = field(default_factory=dict)
    test_zero: dict[str, float] = field(default_factory=dict)
    thigh_front_turn: dict[str, float] = field(default_factory=dict)
    pelvis_settled: bool = False

    def forget(self, sides: list[str], pelvis: bool) -> None:
        """A sensor of ``sides`` (the pelvis sensor: of every side) came back after a gap the
        fusion does not bridge, turned by an unknown yaw: the heading links it took part in
        are unknown (NaN) until a stride or rest measures them again."""
        for side in sides:
            self.pelvis_offset[side] = np.nan
            self.pelvis_test_yaw.pop(side, None)
            if not pelvis:  # a leg's sensor: its heading and the test's shank offset too
                self.thigh_heading[side] = np.nan
                self.test_yaw.pop(side, None)

    def merged_into(self, earlier: Anchors | None) -> Anchors:
        """These headings, and ``earlier``'s for legs not computed this time."""
        if earlier is None:
            return self
        computed = {*self.thigh_heading, *self.pelvis_offset}

        def merged(mine: dict, theirs: dict) -> dict:
            return {k: v for k, v in theirs.items() if k not in computed} | mine

        return Anchors(
            {**earlier.thigh_heading, **self.thigh_heading},
            {**earlier.pelvis_offset, **self.pelvis_offset},
            self.pelvis_turn,
            {**earlier.walk_correction, **self.walk_correction},
            merged(self.test_yaw, earlier.test_yaw),
            merged(self.pelvis_test_yaw, earlier.pelvis_test_yaw),
            merged(self.test_zero, earlier.test_zero),
            {**earlier.thigh_front_turn, **self.thigh_front_turn},
            self.pelvis_settled,
        )


@dataclass
class RestReading:
    """A still standing rest after the first: its span, and per angle column how far the
    angles there, computed without it as an anchor, sit from the first standing's."""

    start_s: float
    end_s: float
    angles_deg: dict[str, float]


@dataclass
class SessionAngles:
    """Angles on the grid's time base, per leg, with notes on what they mean.

    ``rests``: the return-to-zero check (batch only); ``walk_corrections_deg``: per
    side, how far each walking estimate of the hip reference sat from the standing zero.
    """

    time_s: np.ndarray
    columns: dict[str, np.ndarray]
    legs: dict[str, LegResult]
    notes: list[str]
    anchors: Anchors
    rests: list[RestReading] = field(default_factory=list)
    walk_corrections_deg: dict[str, list[float]] = field(default_factory=dict)


def angle_columns(rig: Rig) -> list[str]:
    """The joint-angle columns reported for ``rig``, in ``angles.csv`` order."""
    shanks = [side for side in rig.sides if rig.find("shank", side) is not None]
    return rig_columns(rig.sides, shanks, rig.find("pelvis") is not None)


def _stride_mean(
    heading: np.ndarray, weight: np.ndarray, rate_hz: float, stride_s: float
) -> np.ndarray:
    return smooth_angle(heading, weight, max(1, int(round(stride_s * rate_hz))))


def _offset_track(
    time_s: np.ndarray,
    stride_s: np.ndarray,
    straight: np.ndarray,
    offsets: np.ndarray,
    fallback: float,
    rests: list[tuple[int, int]],
    trend: bool = False,
    gaps: list[tuple[int, int]] = (),
) -> np.ndarray:
    """A slowly varying heading offset (rad) from the per-stride ``offsets`` of the
    ``straight`` strides among all strides (centres ``stride_s``): per straight bout — a run
    of straight strides between turns, inside one walk between still standing rests — the
    running median of the bout's own strides over ``OFFSET_WINDOW_S``, the window cut short
    at the bout's ends (never padded with an end stride, which would make the end stride's
    own noise the estimate there), interpolated across turns, never across a sensor's
    ``gaps`` (index ranges): the offset may step there. With ``trend``, a window whose
    offsets drift significantly gives its line's value instead (:func:`_window_offset`).
    A rest re-anchors the reference, so a walk's estimate must not lean towards the next walk's strides; a turn
    may change the offset itself, for the two sensors turn by their own gyroscope scale
    errors (2 % of a 180° turn: 3.6°), so a bout's estimate must not lean towards the next
    bout's strides either."""
    out = np.full(len(time_s), fallback)
    bout = np.cumsum(~straight)[straight]
    at = stride_s[straight]
    half = OFFSET_WINDOW_S / 2.0
    for begin, stop in walks_between(len(time_s), merged(list(rests) + list(gaps))):
        inside = (at >= time_s[begin]) & (at <= time_s[stop - 1])
        if not inside.any():
            continue
        here, values, runs = at[inside], np.unwrap(offsets[inside]), bout[inside]
        low = np.maximum(np.searchsorted(here, here - half), np.searchsorted(runs, runs))
        high = np.minimum(
            np.searchsorted(here, here + half, side="right"),
            np.searchsorted(runs, runs, side="right"),
        )
        smooth = np.array(
            [_window_offset(here[a:b], values[a:b], t, trend) for a, b, t in zip(low, high, here)]
        )
        out[begin:stop] = np.interp(time_s[begin:stop], here, smooth)
    return out


def _window_offset(at: np.ndarray, values: np.ndarray, t: float, trend: bool) -> float:
    """The offset at ``t`` from one window's strides: their median, or with ``trend`` where
    the window's Theil-Sen slope differs from zero at ``TREND_CONFIDENCE`` (Sen's interval,
    J Am Stat Assoc 63:1379-1389, 1968) over at least ``TREND_MIN_STRIDES``, the line's
    value at ``t``. A median window is centred on its stride only inside a bout: at a
    bout's ends it lags a drifting offset by up to half the window."""
    if trend and len(values) >= TREND_MIN_STRIDES:
        slope, intercept, low, high = theilslopes(values, at, alpha=TREND_CONFIDENCE)
        if low > 0.0 or high < 0.0:
            return float(intercept + slope * t)
    return float(np.median(values))


@dataclass
class LegMotion:
    """What one leg's sensors say before any hip reference is chosen."""

    side: str
    thigh: np.ndarray  # q_EB of the femur
    result: LegResult
    shank: np.ndarray | None = None  # q_EB of the tibia, heading aligned to the femur
    thigh_acc_e: np.ndarray | None = None  # thigh sensor's acceleration in its earth frame
    tests: np.ndarray | None = None  # where the rotation-test reference may hold (test_spans)
    test_offset: np.ndarray | None = None  # the shank's heading offset (rad) per sample
    restart: int | None = None  # live: a sample where the test's angles step (fit handed over)
    front: float = 0.0  # turn (rad) about the long axis from the thigh frame's front to the femur's
    reframed: bool = False  # live: this window settled the pelvis frame (Anchors.pelvis_settled)
    stride_s: float = 1.1
    stride_time_s: np.ndarray = field(default_factory=lambda: np.empty(0))
    stride_direction: np.ndarray = field(default_factory=lambda: np.empty(0))

    def motion(self) -> ThighMotion:
        """What the pelvis frame needs of this leg (:mod:`hiprot.kinematics.pelvis_frame`)."""
        events = self.result.events
        front = quat.rotate(self.femur(), X_AXIS)
        test = self.test_lever()
        if test is None:
            test = np.zeros(len(self.thigh), bool)
        else:
            front[test] = quat.rotate(femur_from_shank(self.thigh[test], self.shank[test]), X_AXIS)
        return ThighMotion(
            self.side, self.thigh, self.thigh_acc_e, events.heel_strike, events.toe_off, front, test
        )

    def test_lever(self) -> np.ndarray | None:
        """Where the bent shank is the femur's lever (the test posture in a test span), or None
        without a shank."""
        if self.shank is None or self.tests is None:
            return None
        if not self.tests.any():
            return self.tests
        return self.tests & test_posture(self.thigh, long_axis_knee(self.thigh, self.shank))

    def femur(self) -> np.ndarray:
        """The femur's frame: the thigh's, its front turned by ``front``."""
        return quat.multiply(self.thigh, about_y(self.front)) if self.front else self.thigh

    def walking(self, time_s: np.ndarray) -> np.ndarray:
        """True within a stride of any stride used for the walking direction."""
        if len(self.stride_time_s) == 0:
            return np.zeros(len(time_s), bool)
        centres = np.sort(self.stride_time_s)
        after = np.clip(np.searchsorted(centres, time_s), 0, len(centres) - 1)
        before = np.clip(after - 1, 0, len(centres) - 1)
        nearest = np.minimum(np.abs(time_s - centres[after]), np.abs(time_s - centres[before]))
        return nearest <= self.stride_s


class SessionKinematics:
    """Compute all joint angles of a calibrated session on its common grid.

    ``detector``: the gait event detector (strides give the walking direction).
    """

    def __init__(self, detector: ShankEventDetector | None = None):
        self.detector = detector or ShankEventDetector()

    def compute(
        self,
        rig: Rig,
        grid: Grid,
        calibration: Calibration,
        anchors: Anchors | None = None,
        activity: ActivityTimeline | str | None = None,
        emitted: tuple[float, float] | None = None,
    ) -> SessionAngles:
        """Angles of every leg; ``anchors`` from an earlier call (live windows), else found
        in the grid's standing phase. ``activity``: the session's, or a timeline of labelled
        segments' (the rotation-test reference holds only in rotation tests; None: where one
        is detected). ``emitted``
        (live): the last sample time a window before emitted and the last this one will; the
        rotation tests' fits are carried over that seam and returned as of the second."""
        q_eb = {
            n: quat.multiply(track.q_es, calibration.q_sb[n])
            for n, track in grid.tracks.items()
            if n in calibration.q_sb
        }
        seam = last = None
        if emitted is not None:
            seam = int(np.searchsorted(grid.time_s, emitted[0], side="right"))
            last = int(np.searchsorted(grid.time_s, emitted[1], side="right")) - 1
        before = anchors or Anchors()
        legs = [
            self._motion(rig, grid, q_eb, calibration, side, activity, seam, before)
            for side in rig.sides
        ]
        pelvis = rig.find("pelvis")
        batch = anchors is None
        rests = standing_rests(rig, grid, q_eb, calibration)
        if anchors is None:
            anchors = self.anchor(
                grid,
                calibration,
                legs,
                q_eb[pelvis.name] if pelvis else None,
                acceleration_e(grid, pelvis.name) if pelvis else None,
                rate_b(grid, calibration, pelvis.name) if pelvis else None,
                rests,
            )
        elif pelvis is not None:
            settled = self._settle(
                grid, legs, q_eb[pelvis.name], acceleration_e(grid, pelvis.name), anchors
            )
            if settled is not anchors:  # a new pelvis frame: the tests' fits start anew
                anchors = before = settled
                for leg in legs:
                    leg.reframed = True
        carried = Anchors(
            dict(anchors.thigh_heading),
            dict(anchors.pelvis_offset),
            anchors.pelvis_turn,
            dict(anchors.walk_correction),
            pelvis_settled=anchors.pelvis_settled,
            thigh_front_turn=dict(anchors.thigh_front_turn),
        )  # the rotation tests' fits: only as this call leaves them (none outside a test)
        q_pelvis = (
            quat.multiply(q_eb[pelvis.name], about_y(anchors.pelvis_turn)) if pelvis else None
        )
        tracks = {}
        for leg in legs:
            correction = anchors.walk_correction.get(leg.side)
            if q_pelvis is None:
                start = anchors.thigh_heading[leg.side]
                reference, track = self._walking_reference(grid, leg, start, correction, rests)
                carried.thigh_heading[leg.side] = float(track.values[-1])
            else:
                start = anchors.pelvis_offset[leg.side]
                leg.front = anchors.thigh_front_turn.get(leg.side, 0.0)
                reference, track = self._pelvis_reference(
                    grid, leg, q_pelvis, start, correction, rests
                )
                carried.pelvis_offset[leg.side] = float(track.values[-1])
            carried.walk_correction.pop(leg.side, None)
            if track.correction is not None:
                carried.walk_correction[leg.side] = track.correction
            tracks[leg.side] = track
            turn, zero = self._hip(leg, reference, q_pelvis is not None, seam, before, grid.rate_hz)
            _keep_fits(leg, track, turn, zero)
            if last is not None and last >= 0 and leg.result.test_posture[last]:
                carried.pelvis_test_yaw[leg.side] = float(turn[last])
                if np.isfinite(zero[last]):  # none found yet: the next window looks again
                    carried.test_zero[leg.side] = float(zero[last])
            if last is not None and last >= 0 and leg.tests[last] and leg.test_offset is not None:
                carried.test_yaw[leg.side] = float(leg.test_offset[last])
        notes = []
        walking = any(len(leg.stride_time_s) for leg in legs)
        if pelvis is None and walking:
            notes.append(
                "no pelvis sensor: while walking, the rotation measured is the thigh's rotation "
                "relative to the direction of walking — pelvic rotation included, not hip IR "
                "(wear a pelvis sensor when gait is the question)"
            )
        if pelvis is not None:
            notes.append(
                "pelvis angles: tilt and obliquity zeroed standing, rotation relative to the "
                "walking direction within each stride; they show pelvic compensation, not "
                "lumbar twist (that needs a trunk sensor)"
            )
        if any(
            leg.result.test_posture is not None and leg.result.test_posture.any() for leg in legs
        ):
            notes.append(
                "in rotation tests (thigh horizontal, knee bent), hip rotation is pelvis → "
                "femur with the shank as lever; the femur's twist against gravity is the second "
                "figure"
                if pelvis is not None
                else "in rotation tests (thigh horizontal, knee bent), hip rotation is the "
                "femur's twist against gravity: pelvic compensation cannot be excluded"
            )
        if pelvis is None and any(leg.shank is None for leg in legs):
            notes.append(
                "a leg with a thigh sensor only has hip rotation in rotation tests "
                "(thigh horizontal); walking needs its shank sensor"
            )
        computed = {name: values for leg in legs for name, values in leg.result.columns.items()}
        if q_pelvis is not None:
            stride_s = float(np.mean([leg.stride_s for leg in legs]))
            computed |= pelvis_columns(grid.rate_hz, q_pelvis, stride_s)
        columns = {name: computed[name] for name in angle_columns(rig)}
        for values in columns.values():
            values[~grid.valid] = np.nan
        return SessionAngles(
            grid.time_s,
            columns,
            {leg.side: leg.result for leg in legs},
            notes,
            carried,
            _return_to_zero(grid, legs, columns, rests, tracks, q_pelvis)
            if batch and calibration.method == STANDING  # walking sets no zero to return to
            else [],
            {side: np.degrees(t.corrections).round(2).tolist() for side, t in tracks.items()},
        )

    def anchor(
        self,
        grid: Grid,
        calibration: Calibration,
        legs: list[LegMotion],
        q_pelvis: np.ndarray | None,
        pelvis_acc_e: np.ndarray | None,
        pelvis_rate_b: np.ndarray | None = None,
        rests: list[tuple[int, int]] = (),
    ) -> Anchors:
        """Headings while standing (and the pelvis frame's turn about its vertical, with the
        pelvis' angular velocity in its body frame, ``pelvis_rate_b``)."""
        standing = np.flatnonzero(
            (grid.time_s >= calibration.standing_s[0]) & (grid.time_s <= calibration.standing_s[1])
        )
        anchors = Anchors()
        for leg in legs:
            heading, weight = z_heading(leg.thigh[standing])
            anchors.thigh_heading[leg.side] = circular_mean(heading, weight)
        if q_pelvis is not None:
            thighs = [leg.motion() for leg in legs]
            anchors.pelvis_turn, anchors.pelvis_settled = pelvis_turn(
                q_pelvis,
                pelvis_acc_e,
                pelvis_rate_b,
                thighs,
                standing,
                grid.rate_hz,
                _heading_breaks(grid),
                rests,
            )
            turned = quat.multiply(q_pelvis, about_y(anchors.pelvis_turn))
            for leg in legs:
                front = self._lever_front(grid, leg)
                if front:
                    anchors.thigh_front_turn[leg.side] = front
                linked = quat.multiply(leg.thigh, about_y(front))
                anchors.pelvis_offset[leg.side] = standing_offset(linked, turned, standing)
        return anchors

    def _settle(
        self,
        grid: Grid,
        legs: list[LegMotion],
        q_pelvis: np.ndarray,
        pelvis_acc_e: np.ndarray,
        anchors: Anchors,
    ) -> Anchors:
        """Live: the pelvis frame the calibration could not give, once a window shows it.

        The live calibration sees standing and a few knee bends: no walking rhythm, no posture,
        no rotation test. The first window in which the pelvis rests tilted turns the pelvis
        frame to its posture (:func:`~hiprot.kinematics.pelvis_frame.settled_turn`), the
        first with a rotation test in view takes each femur's front from the bent shank
        (:meth:`_lever_front`); each link to the thighs changes with them as the batch
        analysis has it (:meth:`anchor`), and the tests' pelvis fits and clinical zeros start
        anew (where a test is under way, its angles step there: :attr:`LegMotion.restart`)."""
        offsets, fronts = dict(anchors.pelvis_offset), dict(anchors.thigh_front_turn)
        turn, settled = anchors.pelvis_turn, anchors.pelvis_settled
        if not settled:
            linked = [leg for leg in legs if leg.side in offsets]
            found = settled_turn(
                q_pelvis,
                pelvis_acc_e,
                [leg.motion() for leg in linked],
                turn,
                [offsets[leg.side] for leg in linked],
                grid.rate_hz,
            )
            if found is not None:
                offsets = {side: offset - (found - turn) for side, offset in offsets.items()}
                turn, settled = found, True
        for leg in legs:
            if leg.side not in fronts and leg.side in offsets:
                front = self._lever_front(grid, leg)
                if front:
                    fronts[leg.side] = front
                    offsets[leg.side] += front
        if offsets == anchors.pelvis_offset:
            return anchors
        return replace(
            anchors,
            pelvis_offset=offsets,
            pelvis_turn=turn,
            pelvis_settled=settled,
            thigh_front_turn=fronts,
            pelvis_test_yaw={},
            test_zero={},
        )

    def _lever_front(self, grid: Grid, leg: LegMotion) -> float:
        """The turn (rad) about the thigh's long axis from the thigh frame's front to the femur's
        as a rotation test's bent shank shows it (0 without a test in view): the thigh's
        heading, standing, links the pelvis to it (:func:`lever_front_turn`)."""
        test = leg.test_lever()
        if test is None or not test.any():
            return 0.0
        front = lever_front_turn(leg.thigh, leg.shank, test, grid.rate_hz)
        return 0.0 if front is None else front

    def _motion(
        self,
        rig: Rig,
        grid: Grid,
        q_eb: dict,
        calibration: Calibration,
        side: str,
        activity: ActivityTimeline | str | None,
        seam: int | None,
        anchors: Anchors,
    ) -> LegMotion:
        """Knee flexion, gait events and stride directions of one leg, and where the rotation-test
        reference may hold (live, ``seam`` and the ``anchors`` carry its fit over, see
        :meth:`compute`)."""
        rate = grid.rate_hz
        thigh = rig.find("thigh", side).name
        leg = LegMotion(side, q_eb[thigh], LegResult(), thigh_acc_e=acceleration_e(grid, thigh))
        leg.result.thigh_heading_deg = np.degrees(np.unwrap(z_heading(leg.thigh)[0]))
        long_axis_up = quat.rotate(leg.thigh, Y_AXIS)[:, 2]
        leg.result.thigh_inclination_deg = np.degrees(np.arccos(np.clip(long_axis_up, -1, 1)))
        shank_sensor = rig.find("shank", side)
        if shank_sensor is None:
            leg.tests = test_spans(leg.thigh, None, rate, activity, grid.time_s)
            return leg
        name = shank_sensor.name
        leg.tests = test_spans(leg.thigh, q_eb[name], rate, activity, grid.time_s)
        handed = handover(leg.tests, q_eb[name], seam)
        offset = leg.test_offset = test_heading_offset(
            hinge_heading_offset(leg.thigh, q_eb[name], rate),
            leg.thigh,
            q_eb[name],
            leg.tests,
            rate,
            anchors.test_yaw.get(side),
            handed,
        )
        if (
            handover_step(anchors.test_yaw.get(side), offset, q_eb[name], handed)
            > HANDOVER_STEP_DEG
        ):
            leg.restart = handed[1]  # the angles before and after differ: no trial across it
        shank = leg.shank = quat.multiply(yaw(offset), q_eb[name])
        knee = joint_angles(quat.multiply(quat.conjugate(leg.thigh), shank), side, "knee")
        leg.result.columns[knee_flexion(side)] = knee[:, 0]
        track = grid.tracks[name]
        leg.result.shank_acc = track.acc
        leg.result.sagittal_rate, leg.result.events = shank_events(
            track.gyr, track.acc, rate, self.detector, knee[:, 0]
        )
        events = leg.result.events
        if len(events.heel_strike) > 2:
            leg.stride_s = float(np.median(np.diff(events.heel_strike))) / rate
        q_es_aligned = quat.multiply(shank, quat.conjugate(calibration.q_sb[name]))
        long_axis = quat.rotate(shank, Y_AXIS)
        stances = mid_stances(long_axis[:, 2], events.heel_strike, events.toe_off)
        clipped = at_full_scale(track.acc, DRIVER_FULL_SCALE.acc_m_s2, SMALLEST_RANGE_ACC)
        clipped |= at_full_scale(track.gyr, DRIVER_FULL_SCALE.gyr_rad_s, SMALLEST_RANGE_GYR)
        centres, directions = walking_directions(
            q_es_aligned, track.acc, track.gyr, long_axis, rate, stances, clipped
        )
        if len(centres):
            leg.stride_time_s = np.interp(centres, np.arange(len(grid.time_s)), grid.time_s)
            leg.stride_direction = directions
        return leg

    def _straight(self, grid: Grid, leg: LegMotion, mean_heading: np.ndarray) -> np.ndarray:
        """Which strides walk straight, measured whole: the heading barely changes around
        them, and no sensor had a gap within a stride of their centre (the stride-long
        heading means and the stride's direction would mix the two sides of the gap)."""
        at, unwrapped = leg.stride_time_s, np.unwrap(mean_heading)
        change = np.interp(at + 1.0, grid.time_s, unwrapped) - np.interp(
            at - 1.0, grid.time_s, unwrapped
        )
        straight = np.abs(np.degrees(change)) < STRAIGHT_DEG
        for begin, stop in _heading_breaks(grid):
            near_s = (grid.time_s[begin] - leg.stride_s, grid.time_s[stop - 1] + leg.stride_s)
            straight &= (at < near_s[0]) | (at > near_s[1])
        return straight

    def _walking_reference(
        self,
        grid: Grid,
        leg: LegMotion,
        still: float,
        correction: float | None,
        rests: list[tuple[int, int]],
    ) -> tuple[np.ndarray, Reference]:
        """Upright pelvis facing the direction stood in (``still`` until the first rest, then
        each rest's thigh heading), turning while walking as the walking direction turns: the
        thigh's stride-mean heading less its (slowly varying) offset from the strides' travel
        direction, anchored to the rest before (:func:`~hiprot.kinematics.anchoring.anchored`)."""
        heading, weight = z_heading(leg.thigh)
        mean = np.unwrap(_stride_mean(heading, weight, grid.rate_hz, leg.stride_s))
        straight = self._straight(grid, leg, mean)
        at = leg.stride_time_s[straight]
        leg.result.stride_mean_heading = mean
        leg.result.walking = leg.walking(grid.time_s) & (len(at) > 0)
        offsets = wrap(np.interp(at, grid.time_s, mean) - leg.stride_direction[straight])
        gaps = _heading_breaks(grid)
        offset = _offset_track(
            grid.time_s, leg.stride_time_s, straight, offsets, 0.0, rests, gaps=gaps
        )
        walk = straight_path(
            grid.time_s,
            mean - offset,
            leg.stride_time_s,
            straight,
            merged(rests + gaps),
            OFFSET_WINDOW_S,
        )
        rest_values = [_rest_track(heading[a:b], weight[a:b]) for a, b in rests]
        track = anchored(
            grid.time_s,
            walk,
            leg.walking(grid.time_s) & (len(at) > 0),
            leg.stride_time_s,
            straight,
            rests,
            rest_values,
            still,
            correction,
            np.radians(MAX_START_TURN_DEG),
            gaps,
            leg.stride_s,
        )
        leg.result.unknown_s = _unknown_s(grid, track)
        return heading_rotation(np.degrees(track.values)), track

    def _pelvis_reference(
        self,
        grid: Grid,
        leg: LegMotion,
        q_pelvis: np.ndarray,
        still: float,
        correction: float | None,
        rests: list[tuple[int, int]],
    ) -> tuple[np.ndarray, Reference]:
        """The pelvis sensor's frame turned about the vertical into this leg's heading frame:
        by ``still`` (found standing) until the first rest, then by what each rest finds (the
        femur's front: the thigh's turned by ``leg.front``, :meth:`_lever_front`);
        while walking following the yaw under which the pelvis faces, on average over each
        stride, the direction the strides travel — anchored to the rest before
        (:func:`~hiprot.kinematics.anchoring.anchored`), so walking follows drift only."""
        heading_p, weight_p = z_heading(q_pelvis)
        mean_p = np.unwrap(_stride_mean(heading_p, weight_p, grid.rate_hz, leg.stride_s))
        straight = self._straight(grid, leg, mean_p)
        at = leg.stride_time_s[straight]
        raw = wrap(leg.stride_direction - np.interp(leg.stride_time_s, grid.time_s, mean_p))
        gaps = _heading_breaks(grid)
        walk = _offset_track(
            grid.time_s,
            leg.stride_time_s,
            straight,
            raw[straight],
            still,
            rests,
            trend=True,
            gaps=gaps,
        )
        heading_t, weight_t = z_heading(leg.femur())
        rest_values = [
            _rest_track(heading_t[a:b] - heading_p[a:b], weight_t[a:b] * weight_p[a:b])
            for a, b in rests
        ]
        track = anchored(
            grid.time_s,
            walk,
            leg.walking(grid.time_s) & (len(at) > 0),
            leg.stride_time_s,
            straight,
            rests,
            rest_values,
            still,
            correction,
            gaps=gaps,
            stride_s=leg.stride_s,
        )
        leg.result.unknown_s = _unknown_s(grid, track)
        return quat.multiply(yaw(track.values), q_pelvis), track

    def _hip(
        self,
        leg: LegMotion,
        reference: np.ndarray,
        with_pelvis: bool,
        seam: int | None,
        anchors: Anchors,
        rate_hz: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Hip angles against ``reference``; in rotation tests the bent shank is the femur's
        lever, and without a pelvis sensor the reference is gravity's
        (:mod:`hiprot.kinematics.rotation_test`). Returns the pelvis' turn in the tests (rad
        per sample) and the IR's offset to the clinical zero (degrees per sample,
        :func:`clinical_zero`), both live carried over ``seam`` from ``anchors``."""
        side, thigh, result = leg.side, leg.thigh, leg.result
        hip = joint_angles(quat.multiply(quat.conjugate(reference), leg.femur()), side, "hip")
        knee = None if leg.shank is None else long_axis_knee(thigh, leg.shank)
        test = result.test_posture = leg.tests & test_posture(thigh, knee)
        lever = thigh.copy()
        if leg.shank is not None:
            lever[test] = femur_from_shank(thigh[test], leg.shank[test])
        gravity = np.full((len(thigh), 3), np.nan)
        if test.any():
            gravity[test] = gravity_hip(lever[test], side)
        result.hip_ir_gravity = gravity[:, 2]
        turn, zero = np.zeros(len(thigh)), np.zeros(len(thigh))
        if not with_pelvis:
            hip[test] = gravity[test]
        if test.any():
            handed = handover(test, leg.shank, seam)
            figure = gravity[:, 2].copy()
            if with_pelvis:
                carried = anchors.pelvis_test_yaw.get(side)
                turn = pelvis_heading_in_test(reference, lever, test, side, carried, handed)
                if (
                    carried is not None
                    and handed is not None
                    and handed[1] < len(turn)
                    and np.degrees(abs(turn[handed[1]] - carried)) > HANDOVER_STEP_DEG
                ):
                    leg.restart = handed[1]  # hip rotation steps with the pelvis' turn
                turned = quat.multiply(yaw(turn[test]), reference[test])
                pelvic = joint_angles(
                    quat.multiply(quat.conjugate(turned), lever[test]), side, "hip"
                )
                figure[test] = pelvic[:, 2]
            if leg.reframed and handed is not None and handed[1] < len(test):
                leg.restart = handed[1]  # the pelvis frame settled: hip rotation steps here
            kept = None if leg.restart is not None else anchors.test_zero.get(side)
            zero = clinical_zero(figure, gravity[:, 2], test, rate_hz, kept, handed)
            hip[test, 2] = np.degrees(wrap(np.radians(figure[test] - np.nan_to_num(zero[test]))))
        if with_pelvis:
            result.pelvis_up = pelvis_up(reference)
        result.test_hip_flexion = gravity[:, 0]  # the thigh against an upright (prone) trunk
        if knee is not None:
            result.test_knee_flexion = np.where(test, knee, np.nan)
        if leg.restart is not None:
            result.test_posture = test.copy()
            result.test_posture[leg.restart] = False
        if leg.shank is None and not with_pelvis:
            hip[~test] = np.nan  # no strides, no walking direction: only rotation tests
        result.columns[hip_ir(side)] = hip[:, 2]
        if with_pelvis:
            result.columns[hip_flexion(side)] = hip[:, 0]
            result.columns[hip_adduction(side)] = hip[:, 1]
        return turn, zero


def _heading_breaks(grid: Grid) -> list[tuple[int, int]]:
    """The sensor gaps after which a sensor's heading is no longer linked to the others':
    longer than the fusion bridges by interpolating the samples either side (shorter ones
    it integrates through, :data:`~hiprot.fusion.timeline.MAX_GAP_S`)."""
    return grid.gaps(MAX_GAP_S)


def _unknown_s(grid: Grid, track: Reference) -> float:
    """How long (s) the reference was unknown after sensor gaps, beyond the gaps."""
    return float((np.isnan(track.values) & grid.valid).sum() / grid.rate_hz)


def _keep_fits(leg: LegMotion, track: Reference, turn: np.ndarray, zero: np.ndarray) -> None:
    """Keep in ``leg.result`` what the causal estimate holds of this computation's fits: the
    hip reference's turn about the vertical (a rotation test's pelvis turn included), the
    shank's heading offset, the test's zero, where tests may hold."""
    result = leg.result
    result.hip_heading = track.values + turn
    result.shank_yaw = leg.test_offset
    result.test_zero = np.nan_to_num(zero)
    result.test_spans = leg.tests
    result.front = leg.front
    result.stride_s = leg.stride_s


def _rest_track(angle: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """An angle (rad) through a rest: a weighted straight line, for heading drift goes on
    while standing (fast with a cheap gyroscope until the filter has learnt its bias)."""
    unwrapped = np.unwrap(wrap(angle))
    if len(angle) < 2:
        return unwrapped
    x = np.arange(len(angle), dtype=float)
    return np.polyval(np.polyfit(x, unwrapped, 1, w=np.sqrt(weight) + 1e-9), x)


def _return_to_zero(
    grid: Grid,
    legs: list[LegMotion],
    columns: dict[str, np.ndarray],
    rests: list[tuple[int, int]],
    tracks: dict[str, Reference],
    q_pelvis: np.ndarray | None,
) -> list[RestReading]:
    """Per still standing rest after the first (the calibration's): the angles there with the
    hip reference carried into it — not the one it sets — less the first standing's."""
    if len(rests) < 2:
        return []
    first = {name: float(np.nanmedian(v[slice(*rests[0])])) for name, v in columns.items()}
    out = []
    for k, (a, b) in enumerate(rests[1:], start=1):
        values = {name: float(np.nanmedian(v[a:b])) for name, v in columns.items()}
        for leg in legs:
            carried = tracks[leg.side].carried[k]
            if not np.isfinite(carried):  # a gap since, unmeasured: nothing to check against
                for column in (hip_ir, hip_flexion, hip_adduction):
                    values.pop(column(leg.side), None)
                continue
            if q_pelvis is None:
                reference = heading_rotation(np.full(b - a, np.degrees(carried)))
            else:
                reference = quat.multiply(yaw(np.full(b - a, carried)), q_pelvis[a:b])
            hip = joint_angles(
                quat.multiply(quat.conjugate(reference), leg.femur()[a:b]), leg.side, "hip"
            )
            hip[~grid.valid[a:b]] = np.nan
            for axis, column in ((2, hip_ir), (0, hip_flexion), (1, hip_adduction)):
                column = column(leg.side)
                if column in values:
                    values[column] = float(np.nanmedian(hip[:, axis]))
        out.append(
            RestReading(
                float(grid.time_s[a]),
                float(grid.time_s[b - 1]),
                {name: round(values[name] - first[name], 2) for name in values},
            )
        )
    return out
