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


class SessionKinematics:
    """Compute all joint angles of a calibrated session on its common grid.

    ``detector``: the gait event detector (strides give the walking direction).
    """

    def __init__(self, detector: MidSwingDetector | None = None):
        self.detector = detector or MidSwingDetector()

    def compute(self, rig: Rig, grid: Grid, calibration: Calibration) -> SessionAngles:
        q_eb = {n: quat.multiply(track.q_es, calibration.q_sb[n]) for n, track in grid.tracks.items()
                if n in calibration.q_sb}
        pelvis = rig.find("pelvis")
        notes = []
        if pelvis is None:
            notes.append("no pelvis sensor: hip internal rotation is relative to the direction of "
                         "walking (pelvis assumed upright and facing it)")
        columns: dict[str, np.ndarray] = {}
        legs = {}
        for side in rig.sides:
            leg = self._leg(rig, grid, q_eb, calibration, side, pelvis.name if pelvis else None)
            legs[side] = leg
            columns.update(leg.columns)
        for values in columns.values():
            values[~grid.valid] = np.nan
        return SessionAngles(grid.time_s, columns, legs, notes)

    def _leg(self, rig: Rig, grid: Grid, q_eb: dict, calibration: Calibration, side: str,
             pelvis: str | None) -> LegResult:
        rate = grid.rate_hz
        thigh_name = rig.find("thigh", side).name
        shank_sensor = rig.find("shank", side)
        thigh = q_eb[thigh_name]
        result = LegResult()
        stride_s, walk_dir, at = 1.1, np.empty(0), np.empty(0)
        if shank_sensor is not None:
            shank_name = shank_sensor.name
            shank = quat.multiply(yaw(hinge_heading_offset(thigh, q_eb[shank_name], rate)), q_eb[shank_name])
            knee = joint_angles(quat.multiply(quat.conjugate(thigh), shank), side, "knee")
            result.columns[f"{side}_knee_flexion_deg"] = knee[:, 0]
            track = grid.tracks[shank_name]
            z_s = quat.rotate(calibration.q_sb[shank_name], Z_AXIS)
            result.sagittal_rate = track.gyr @ z_s
            result.events = self.detector.detect(result.sagittal_rate, rate)
            hs = result.events.heel_strike
            if len(hs) > 2:
                stride_s = float(np.median(np.diff(hs))) / rate
            q_es_aligned = quat.multiply(shank, quat.conjugate(calibration.q_sb[shank_name]))
            stances = mid_stances(np.linalg.norm(track.gyr, axis=1), hs, result.events.toe_off)
            centres, walk_dir = walking_directions(q_es_aligned, track.acc, track.gyr, rate, stances)
            at = np.interp(centres, np.arange(len(grid.time_s)), grid.time_s) if len(centres) else at
        heading_t, weight_t = z_heading(thigh)
        mean_t = _stride_mean(heading_t, weight_t, rate, stride_s)
        straight = self._straight(mean_t, at, grid.time_s)
        if pelvis is not None:
            heading_p, weight_p = z_heading(q_eb[pelvis])
            mean_p = _stride_mean(heading_p, weight_p, rate, stride_s)
            standing = float(_wrap(heading_t[0] - heading_p[0]))
            offsets = _wrap(walk_dir - np.interp(at, grid.time_s, np.unwrap(mean_p)))[straight]
            offset = _offset_track(grid.time_s, at[straight], offsets, standing)
            reference = quat.multiply(yaw(offset), q_eb[pelvis])
        else:
            offsets = _wrap(np.interp(at, grid.time_s, np.unwrap(mean_t)) - walk_dir)[straight]
            c = _offset_track(grid.time_s, at[straight], offsets, 0.0)
            reference = heading_rotation(np.degrees(np.unwrap(mean_t) - c))
        hip = joint_angles(quat.multiply(quat.conjugate(reference), thigh), side, "hip")
        horizontal = np.abs(quat.rotate(thigh, Y_AXIS)[:, 2]) < HORIZONTAL_THIGH
        if horizontal.any():
            test_pelvis = _virtual_pelvis_for_horizontal_thigh(thigh[horizontal])
            hip[horizontal] = joint_angles(
                quat.multiply(quat.conjugate(test_pelvis), thigh[horizontal]), side, "hip")
        result.columns[f"{side}_hip_ir_deg"] = hip[:, 2]
        if pelvis is not None:
            result.columns[f"{side}_hip_flexion_deg"] = hip[:, 0]
            result.columns[f"{side}_hip_adduction_deg"] = hip[:, 1]
        return result

    @staticmethod
    def _straight(mean_heading: np.ndarray, at: np.ndarray, time_s: np.ndarray) -> np.ndarray:
        """Which strides (centred at ``at``) walk straight: the heading barely changes around them."""
        if len(at) == 0:
            return np.zeros(0, bool)
        unwrapped = np.unwrap(mean_heading)
        before = np.interp(at - 1.0, time_s, unwrapped)
        after = np.interp(at + 1.0, time_s, unwrapped)
        return np.abs(np.degrees(after - before)) < STRAIGHT_DEG
