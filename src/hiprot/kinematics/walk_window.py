"""The steady strides a session without a standing phase is calibrated from.

Data imported from other systems, or a wearer who forgot to stand still first, has no
still standing phase. Walking then stands in for it (issue #16; McGrath & Stirling,
Sensors 22:2544, 2022, self-calibrate lower-limb IMUs from walking alone): the first
``STRIDES`` strides of a straight, steady walk after gait initiation. Each segment's "up"
is its accelerometer's mean in late single-limb support, 50-70 % of stance (about 30-42 %
of the gait cycle): the foot is flat and still, so the acceleration is nearly gravity
alone, the thigh and shank are within about 10° of the vertical and the knee is nearest
extension in stance (Perry & Burnfield, Gait Analysis, 2nd ed., 2010; 30-50 % of stance,
where the knee is still flexed from loading response, put knee flexion 14-16° low on the
simulator against 7-13° here: ``scripts/walking_calibration_sweep.py``). The gyroscope's bias is its mean over those whole strides
(a straight walk's rotations cancel over a stride). No walking posture defines hip IR
zero: the window serves as the first standing, so the zero is the thigh's mean rotation
over those strides, and the flexion zeros are the segments in late stance — assumptions,
stated in the results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hiprot import quat
from hiprot.config import Rig
from hiprot.geometry import wrap
from hiprot.kinematics.anchoring import INITIATION_STRIDES
from hiprot.kinematics.shank_events import ShankEventDetector, shank_events
from hiprot.resample import Grid

STRIDES = 5  # a design choice: enough strides for a mean, few enough to find a straight stretch
MIN_STRIDE_S, MAX_STRIDE_S = 0.6, 2.5  # plausible stride times, as the stride segmenter's
MAX_TURN_DEG = 15.0  # the thigh's heading change across the window (a straight walk)
MID_STANCE = (0.5, 0.7)  # share of stance: late single support, the knee nearest extension


@dataclass(frozen=True)
class WalkWindow:
    """Grid indices ``start:stop`` of the steady strides, and per side the mid-stance
    samples inside them."""

    start: int
    stop: int
    mid_stance: dict[str, np.ndarray]
    strides: int


def walk_window(rig: Rig, grid: Grid) -> WalkWindow | None:
    """The first straight run of :data:`STRIDES` steady strides after gait initiation, with
    mid-stance samples of every leg; None when the session has none, or a leg has no shank."""
    events = {}
    for side in rig.sides:
        shank = rig.find("shank", side)
        if shank is None or shank.name not in grid.tracks:
            return None  # a thigh's mid-stance needs its own leg's gait events
        track = grid.tracks[shank.name]
        _, found = shank_events(track.gyr, track.acc, grid.rate_hz, ShankEventDetector())
        events[side] = (np.asarray(found.heel_strike, float), np.asarray(found.toe_off, float))
    if not events:
        return None
    side, (heel, toe) = next(iter(events.items()))
    q_thigh = grid.tracks[rig.find("thigh", side).name].q_es
    steady = 0
    for i in range(len(heel) - 1):
        a, b = heel[i], heel[i + 1]
        one_toe_off = np.sum((toe > a) & (toe < b)) == 1
        seconds = (b - a) / grid.rate_hz
        gapped = not grid.valid[int(np.floor(a)) : int(np.ceil(b)) + 1].all()
        if not (MIN_STRIDE_S <= seconds <= MAX_STRIDE_S and one_toe_off) or gapped:
            steady = 0
            continue
        steady += 1
        if steady < INITIATION_STRIDES + STRIDES:
            continue
        strikes = heel[i + 1 - STRIDES : i + 2]
        if not _straight(q_thigh, strikes):
            continue
        stances = {s: _stances(*events[s], strikes[0], strikes[-1]) for s in events}
        if all(len(found) >= STRIDES - 1 for found in stances.values()):
            mid = {s: np.concatenate(found) for s, found in stances.items()}
            return WalkWindow(int(np.floor(strikes[0])), int(np.ceil(b)) + 1, mid, STRIDES)
    return None


def _straight(q: np.ndarray, strikes: np.ndarray) -> bool:
    """Whether the sensor with orientations ``q`` stays within :data:`MAX_TURN_DEG` of its
    heading at the first heel strike at every later one (the same phase of each stride: the
    turn between them is nearly all yaw; the fusion's orientation is bias-corrected)."""
    at = np.round(strikes).astype(int)
    relative = quat.multiply(q[at[1:]], quat.conjugate(q[at[0]]))
    turn = np.degrees(np.abs(wrap(2.0 * np.arctan2(relative[:, 3], relative[:, 0]))))
    return bool(np.all(turn <= MAX_TURN_DEG))  # False where the orientation is unknown (NaN)


def _stances(heel: np.ndarray, toe: np.ndarray, first: float, last: float) -> list[np.ndarray]:
    """Per stance that begins at or after heel strike ``first`` and ends before ``last``, the
    grid indices of its :data:`MID_STANCE` share."""
    out = []
    for a in heel[(heel >= first) & (heel < last)]:
        later = toe[toe > a]
        if not len(later) or later[0] >= last:
            continue
        low, high = (a + share * (later[0] - a) for share in MID_STANCE)
        out.append(np.arange(int(np.ceil(low)), int(high) + 1))
    return out
