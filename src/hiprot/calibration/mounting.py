"""Every sensor's mounting in one session: the still standing (or steady walking) gives
each segment's "up" and the gyroscope bias, each leg's knee axis its frames (:mod:`.leg`),
the pelvis a frame about its vertical."""

from __future__ import annotations

import numpy as np

from hiprot.calibration.leg import calibrate_leg
from hiprot.calibration.result import STANDING, WALKING_ONLY, Calibration
from hiprot.calibration.segments import frame_from_axes
from hiprot.calibration.standing import standing_phase
from hiprot.config import Rig
from hiprot.resample import Grid


def calibrate(
    rig: Rig, grid: Grid, knee_axis: str = "seel", judge: bool = True, walking=None
) -> Calibration:
    """Find standing, then the mounting of every sensor; refuse clearly when data cannot define it.

    ``knee_axis``, the axis the frames (and so the angles) use: ``"seel"`` (the plain hinge
    fit) or ``"robust"`` (:mod:`.knee_axis`, for comparison); the verdict's figures come from
    the robust fit either way (:mod:`.leg`). ``judge=False`` leaves those figures out: the
    live pipeline's calibration (the robust fits, on the recorder loop's thread, kept it from
    the sensors' FIFOs long enough to lose samples); batch analysis judges with them.
    ``walking`` (a :class:`~hiprot.kinematics.walk_window.WalkWindow`): calibrate from those
    steady strides instead of standing — "up" from each segment's mean acceleration at
    mid-stance (the pelvis: both legs' mid-stances), the bias from the whole strides."""
    y, bias = {}, {}
    if walking is None:
        start, stop = standing_phase(rig, grid)
        quiet = {name: np.arange(start, stop) for name in grid.tracks}
        standing = {"duration_s": round((stop - start) / grid.rate_hz, 2)}
    else:
        start, stop = walking.start, walking.stop
        both = np.concatenate(list(walking.mid_stance.values()))
        quiet = {
            sensor.name: walking.mid_stance.get(sensor.side, both)
            for sensor in rig.sensors
            if sensor.name in grid.tracks
        }
        standing = {
            "duration_s": 0.0,
            "walking_s": round((stop - start) / grid.rate_hz, 2),
            "strides": walking.strides,
        }
    for name, track in grid.tracks.items():
        mean = track.acc[quiet[name]].mean(axis=0)
        y[name] = mean / np.linalg.norm(mean)
        bias[name] = track.gyr[start:stop].mean(axis=0)
    q_sb: dict[str, np.ndarray] = {}
    quality: dict[str, dict] = {"standing": standing}
    for side in rig.sides:
        thigh = rig.find("thigh", side).name
        shank = rig.find("shank", side)
        frames, leg_quality = calibrate_leg(
            grid,
            thigh,
            shank.name if shank else None,
            y,
            bias,
            stop if walking is None else start,
            knee_axis,
            judge,
            walking is not None,
        )
        q_sb.update(frames)
        quality[side] = leg_quality
    pelvis = rig.find("pelvis")
    if pelvis is not None:
        horizontal = np.cross(y[pelvis.name], [1.0, 0.0, 0.0])
        if np.linalg.norm(horizontal) < 0.3:
            horizontal = np.cross(y[pelvis.name], [0.0, 1.0, 0.0])
        q_sb[pelvis.name] = frame_from_axes(y[pelvis.name], horizontal)
    return Calibration(
        q_sb,
        (float(grid.time_s[start]), float(grid.time_s[stop - 1])),
        quality,
        STANDING if walking is None else WALKING_ONLY,
    )
