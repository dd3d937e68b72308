"""Joint angles of a whole session: knee flexion and hip angles per leg (ISB).

Three ways to the hip, chosen per sample:

- **thigh horizontal** (seated or prone rotation tests, hip flexed to 90° on
  one leg): the pelvis is still, so the femur's twist about its long axis is
  measured against gravity alone — drift-free with the thigh sensor. The
  pelvis frame is taken upright (hip flexed: seated) or lying face down
  (prone), its heading given by the femur's long axis.
- **with a pelvis sensor**: pelvis → femur directly. The pelvis' heading
  relative to the thigh's (unobservable with 6-axis fusion) is re-estimated
  from the walking direction every stride, so drift does not accumulate.
- **thigh + shank only**: hip IR relative to the direction of walking — the
  pelvis is taken upright, facing the walking direction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import median_filter
from scipy.optimize import minimize_scalar

from hiprot import quat
from hiprot.analysis.gait_events import GaitEvents, MidSwingDetector
from hiprot.anatomy import heading_rotation, joint_angles
from hiprot.calibration import Calibration
from hiprot.config import Rig
from hiprot.kinematics.heading import hinge_heading_offset, smooth_angle, yaw
from hiprot.kinematics.walking import mid_stances, walking_directions
from hiprot.resample import Grid

UP = np.array([0.0, 0.0, 1.0])
X_AXIS, Y_AXIS, Z_AXIS = np.eye(3)
HORIZONTAL_THIGH = np.sin(np.radians(35.0))  # |long axis · up| below this: thigh horizontal
OFFSET_WINDOW_S = 30.0  # heading offsets are medians over this many seconds of straight strides
STRAIGHT_DEG = 15.0  # strides turning less than this count as straight


@dataclass
class LegResult:
    """One leg's angles (degrees) and what the analysis needs besides."""

    columns: dict[str, np.ndarray] = field(default_factory=dict)
    events: GaitEvents = field(default_factory=GaitEvents)
    sagittal_rate: np.ndarray | None = None


@dataclass
class SessionAngles:
    """Angles on the grid's time base, per leg, with notes on what they mean."""

    time_s: np.ndarray
    columns: dict[str, np.ndarray]
    legs: dict[str, LegResult]
    notes: list[str]


def angle_columns(rig: Rig) -> list[str]:
    """The joint-angle columns reported for ``rig``, in ``angles.csv`` order."""
    pelvis = rig.find("pelvis") is not None
    columns = []
    for side in rig.sides:
        columns.append(f"{side}_hip_ir_deg")
        if rig.find("shank", side) is not None:
            columns.append(f"{side}_knee_flexion_deg")
        if pelvis:
            columns += [f"{side}_hip_flexion_deg", f"{side}_hip_adduction_deg"]
    return columns


def z_heading(q_eb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Heading (rad) of a segment's forward direction, found as up × Z, and its reliability."""
    z = quat.rotate(q_eb, Z_AXIS)
    forward = np.column_stack([-z[:, 1], z[:, 0]])  # up × z, horizontal part
    return np.arctan2(forward[:, 1], forward[:, 0]), np.hypot(forward[:, 0], forward[:, 1])


def _wrap(angle: np.ndarray) -> np.ndarray:
    return np.angle(np.exp(1j * np.asarray(angle)))


def _stride_mean(heading: np.ndarray, weight: np.ndarray, rate_hz: float, stride_s: float) -> np.ndarray:
    return smooth_angle(heading, weight, max(1, int(round(stride_s * rate_hz))))


def _offset_track(time_s: np.ndarray, at: np.ndarray, offsets: np.ndarray, fallback: float) -> np.ndarray:
    """A slowly varying heading offset: a running median of per-stride offsets, interpolated."""
    if len(offsets) == 0:
        return np.full(len(time_s), fallback)
    unwrapped = np.unwrap(offsets)
    count = max(1, int(np.searchsorted(at, at[0] + OFFSET_WINDOW_S)))
    smooth = median_filter(unwrapped, size=min(len(offsets), count | 1), mode="nearest")
    return np.interp(time_s, at, smooth)


def _virtual_pelvis_for_horizontal_thigh(q_eb_thigh: np.ndarray) -> np.ndarray:
    """Pelvis frame for rotation tests: upright when the hip is flexed (front of thigh up),
    lying face down when the thigh's front points down (prone); heading from the femur."""
    long_axis = quat.rotate(q_eb_thigh, Y_AXIS)
    front_up = quat.rotate(q_eb_thigh, X_AXIS)[:, 2] >= 0
    towards_knee = -long_axis.copy()
    towards_knee[:, 2] = 0
    towards_knee /= np.linalg.norm(towards_knee, axis=1, keepdims=True)
    down = np.broadcast_to(-UP, towards_knee.shape)
    up = np.broadcast_to(UP, towards_knee.shape)
    # seated: pelvis X forward (towards the knee), Y up; prone: X down, Y towards the head.
    x = np.where(front_up[:, None], towards_knee, down)
    y = np.where(front_up[:, None], up, -towards_knee)
    z = np.cross(x, y)
    return quat.from_matrix(np.stack([x, y, z], axis=2))


def _hold_outside(values: np.ndarray, inside: np.ndarray, initial: float) -> np.ndarray:
    """``values`` where ``inside``; elsewhere the last inside value (``initial`` before any)."""
    index = np.where(inside, np.arange(len(values)), -1)
    index = np.maximum.accumulate(index)
    return np.where(index >= 0, values[np.maximum(index, 0)], initial)


@dataclass
class LegMotion:
    """What one leg's sensors say before any hip reference is chosen."""

    side: str
    thigh: np.ndarray  # q_EB of the femur
    result: LegResult
    stride_s: float = 1.1
    stride_time_s: np.ndarray = field(default_factory=lambda: np.empty(0))
    stride_direction: np.ndarray = field(default_factory=lambda: np.empty(0))

    def walking(self, time_s: np.ndarray) -> np.ndarray:
        """True within a stride of any stride used for the walking direction."""
        mask = np.zeros(len(time_s), bool)
        for t in self.stride_time_s:
            mask |= np.abs(time_s - t) <= self.stride_s
        return mask


class SessionKinematics:
    """Compute all joint angles of a calibrated session on its common grid.

    ``detector``: the gait event detector (strides give the walking direction).
    """

    def __init__(self, detector: MidSwingDetector | None = None):
        self.detector = detector or MidSwingDetector()

    def compute(self, rig: Rig, grid: Grid, calibration: Calibration) -> SessionAngles:
        q_eb = {n: quat.multiply(track.q_es, calibration.q_sb[n]) for n, track in grid.tracks.items()
                if n in calibration.q_sb}
        standing = np.flatnonzero((grid.time_s >= calibration.standing_s[0])
                                  & (grid.time_s <= calibration.standing_s[1]))
        legs = [self._motion(rig, grid, q_eb, calibration, side) for side in rig.sides]
        pelvis = rig.find("pelvis")
        notes = []
        if pelvis is None:
            notes.append("no pelvis sensor: hip internal rotation is relative to the direction of "
                         "walking (pelvis assumed upright and facing it)")
            for leg in legs:
                self._hip(leg, self._walking_reference(grid, leg, standing), with_pelvis=False)
        else:
            q_pelvis = self._pelvis_mounting_heading(grid, q_eb[pelvis.name], legs, standing)
            for leg in legs:
                self._hip(leg, self._pelvis_reference(grid, leg, q_pelvis, standing), with_pelvis=True)
        computed = {name: values for leg in legs for name, values in leg.result.columns.items()}
        columns = {name: computed[name] for name in angle_columns(rig)}
        for values in columns.values():
            values[~grid.valid] = np.nan
        return SessionAngles(grid.time_s, columns, {leg.side: leg.result for leg in legs}, notes)

    def _motion(self, rig: Rig, grid: Grid, q_eb: dict, calibration: Calibration, side: str) -> LegMotion:
        """Knee flexion, gait events and stride directions of one leg."""
        rate = grid.rate_hz
        leg = LegMotion(side, q_eb[rig.find("thigh", side).name], LegResult())
        shank_sensor = rig.find("shank", side)
        if shank_sensor is None:
            return leg
        name = shank_sensor.name
        shank = quat.multiply(yaw(hinge_heading_offset(leg.thigh, q_eb[name], rate)), q_eb[name])
        knee = joint_angles(quat.multiply(quat.conjugate(leg.thigh), shank), side, "knee")
        leg.result.columns[f"{side}_knee_flexion_deg"] = knee[:, 0]
        track = grid.tracks[name]
        leg.result.sagittal_rate = track.gyr @ quat.rotate(calibration.q_sb[name], Z_AXIS)
        events = leg.result.events = self.detector.detect(leg.result.sagittal_rate, rate, knee[:, 0])
        if len(events.heel_strike) > 2:
            leg.stride_s = float(np.median(np.diff(events.heel_strike))) / rate
        q_es_aligned = quat.multiply(shank, quat.conjugate(calibration.q_sb[name]))
        long_axis = quat.rotate(shank, Y_AXIS)
        stances = mid_stances(long_axis[:, 2], events.heel_strike, events.toe_off)
        centres, directions = walking_directions(q_es_aligned, track.acc, track.gyr, long_axis, rate, stances)
        if len(centres):
            leg.stride_time_s = np.interp(centres, np.arange(len(grid.time_s)), grid.time_s)
            leg.stride_direction = directions
        return leg

    def _straight(self, grid: Grid, leg: LegMotion, mean_heading: np.ndarray) -> np.ndarray:
        """Which strides walk straight: the heading barely changes around them."""
        at, unwrapped = leg.stride_time_s, np.unwrap(mean_heading)
        change = np.interp(at + 1.0, grid.time_s, unwrapped) - np.interp(at - 1.0, grid.time_s, unwrapped)
        return np.abs(np.degrees(change)) < STRAIGHT_DEG

    def _walking_reference(self, grid: Grid, leg: LegMotion, standing: np.ndarray) -> np.ndarray:
        """Upright pelvis facing the walking direction: the thigh's stride-mean heading less
        its (slowly varying) offset from the strides' travel direction."""
        heading, weight = z_heading(leg.thigh)
        mean = np.unwrap(_stride_mean(heading, weight, grid.rate_hz, leg.stride_s))
        straight = self._straight(grid, leg, mean)
        at = leg.stride_time_s[straight]
        offsets = _wrap(np.interp(at, grid.time_s, mean) - leg.stride_direction[straight])
        direction = mean - _offset_track(grid.time_s, at, offsets, 0.0)
        still = float(smooth_angle(heading[standing], weight[standing], len(standing))[len(standing) // 2])
        direction = _hold_outside(direction, leg.walking(grid.time_s) & (len(at) > 0), still)
        return heading_rotation(np.degrees(direction))

    def _pelvis_reference(self, grid: Grid, leg: LegMotion, q_pelvis: np.ndarray,
                          standing: np.ndarray) -> np.ndarray:
        """The pelvis sensor's frame turned about the vertical into this leg's heading frame:
        at standing the two face the same way; while walking the pelvis faces, on average over
        each stride, the direction the strides travel."""
        heading_t, weight_t = z_heading(leg.thigh)
        heading_p, weight_p = z_heading(q_pelvis)
        still = float(np.angle(np.sum(weight_t[standing] * weight_p[standing]
                                      * np.exp(1j * (heading_t[standing] - heading_p[standing])))))
        mean_p = np.unwrap(_stride_mean(heading_p, weight_p, grid.rate_hz, leg.stride_s))
        straight = self._straight(grid, leg, mean_p)
        at = leg.stride_time_s[straight]
        offsets = _wrap(leg.stride_direction[straight] - np.interp(at, grid.time_s, mean_p))
        offset = _offset_track(grid.time_s, at, offsets, still)
        offset = _hold_outside(offset, leg.walking(grid.time_s) & (len(at) > 0), still)
        return quat.multiply(yaw(offset), q_pelvis)

    def _pelvis_mounting_heading(self, grid: Grid, q_pelvis: np.ndarray, legs: list[LegMotion],
                                 standing: np.ndarray) -> np.ndarray:
        """Turn the pelvis frame about its vertical so that its Z is the hip flexion axis.

        Standing gives the pelvis' vertical only. Hip flexion is by far the hip's largest
        motion in walking, sitting, lunging and bending, so the right heading is the one
        that leaves the least flexion leaking into adduction; of the two opposite
        candidates the one with flexion mostly positive wins.
        """
        pick = slice(None, None, max(1, len(grid.time_s) // 4000))

        def hips(angle: float) -> list[np.ndarray]:
            turned = quat.multiply(q_pelvis, _about_y(angle))
            out = []
            for leg in legs:
                reference = self._pelvis_reference(grid, leg, turned, standing)
                out.append(joint_angles(quat.multiply(quat.conjugate(reference[pick]), leg.thigh[pick]),
                                        leg.side, "hip"))
            return out

        def leak(angle: float) -> float:
            return float(sum(np.var(h[:, 1]) for h in hips(angle)))

        candidates = np.radians(np.arange(0, 180, 5.0))
        best = min(candidates, key=leak)
        best = minimize_scalar(leak, bounds=(best - 0.1, best + 0.1), method="bounded").x
        flexion = np.concatenate([h[:, 0] for h in hips(best)])
        if np.percentile(flexion, 98) < -np.percentile(flexion, 2):
            best += np.pi
        return quat.multiply(q_pelvis, _about_y(best))

    def _hip(self, leg: LegMotion, reference: np.ndarray, with_pelvis: bool) -> None:
        """Hip angles against ``reference``; rotation tests (thigh horizontal) against gravity."""
        side, thigh = leg.side, leg.thigh
        hip = joint_angles(quat.multiply(quat.conjugate(reference), thigh), side, "hip")
        horizontal = np.abs(quat.rotate(thigh, Y_AXIS)[:, 2]) < HORIZONTAL_THIGH
        if horizontal.any():
            test_pelvis = _virtual_pelvis_for_horizontal_thigh(thigh[horizontal])
            test = joint_angles(quat.multiply(quat.conjugate(test_pelvis), thigh[horizontal]), side, "hip")
            hip[horizontal, 2] = test[:, 2]
            if not with_pelvis:
                hip[horizontal] = test
        leg.result.columns[f"{side}_hip_ir_deg"] = hip[:, 2]
        if with_pelvis:
            leg.result.columns[f"{side}_hip_flexion_deg"] = hip[:, 0]
            leg.result.columns[f"{side}_hip_adduction_deg"] = hip[:, 1]


def _about_y(angle: float) -> np.ndarray:
    """Rotation by ``angle`` (rad) about a frame's own Y axis."""
    return np.array([np.cos(angle / 2), 0.0, np.sin(angle / 2), 0.0])
