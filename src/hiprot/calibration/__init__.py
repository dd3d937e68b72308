"""Sensor-to-segment calibration from a standing phase and movement with knee flexion.

Protocol (what the user does at the start of every session): stand still
with feet forward for at least 3 s, then walk a few steps or do a few knee
bends. :func:`calibrate` returns every sensor's mounting rotation ``q_SB``
with a quality report, or refuses with a :class:`CalibrationError` that says
what was missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hiprot import quat
from hiprot.calibration.hinge import fit_hinge, principal_axis
from hiprot.calibration.rest import first_rest_phase, rest_mask
from hiprot.calibration.segments import frame_from_axes, sagittal_angle, tilt_from_vertical
from hiprot.chip_catalogue import gyro_bias_bound_dps
from hiprot.config import Rig
from hiprot.errors import CalibrationError
from hiprot.geometry import Y_AXIS, Z_AXIS, wrap
from hiprot.resample import Grid

MIN_STANDING_S = 2.5  # of the 3 s asked for: rest detection trims the window edges
MIN_MOVING_S = 0.5
MOVING_RATE = 0.3  # rad/s: a segment turning faster than this is moving
MAX_MOVEMENT_S = 60.0
MIN_AXIS_TILT_DEG = 3.0  # knee axis inclination (RMS) needed to compare the two axes' signs
SIGN_WINDOW_S = 10.0  # movement right after standing (walking, knee bends) decides the signs
MIN_SIGN_CONTRAST = 0.6  # how clearly the axes' tilts must agree (1) or oppose (-1)


@dataclass
class Calibration:
    """Mounting rotation per sensor (``q_EB = q_ES ⊗ q_SB``) and how it was found."""

    q_sb: dict[str, np.ndarray]
    standing_s: tuple[float, float]
    quality: dict[str, dict] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """JSON-ready summary for reports and session metadata."""
        return {
            "standing_s": [round(v, 3) for v in self.standing_s],
            "mounting_q_sb": {k: [round(float(x), 6) for x in v] for k, v in self.q_sb.items()},
            "quality": self.quality,
        }


def still_mask(rig: Rig, grid: Grid) -> np.ndarray:
    """True on the grid where every sensor is at rest (:func:`~hiprot.calibration.rest.rest_mask`)."""
    still = grid.valid.copy()
    for name, track in grid.tracks.items():
        bias_dps = gyro_bias_bound_dps(rig.sensor(name).chip)
        still &= rest_mask(track.acc, track.gyr, grid.rate_hz, bias_dps)
    return still


def _standing(rig: Rig, grid: Grid) -> tuple[int, int]:
    phase = first_rest_phase(still_mask(rig, grid), grid.rate_hz, MIN_STANDING_S)
    if phase is None:
        raise CalibrationError(
            "no still standing phase found: stand still with feet forward for at least 3 s "
            "at the start of the session"
        )
    return phase


def _movement(rates: list[np.ndarray], after: int, rate_hz: float) -> np.ndarray:
    """Indices after ``after`` where any of the (bias-free) ``rates`` turns, at most a minute's worth."""
    moving = np.any([np.linalg.norm(r, axis=1) > MOVING_RATE for r in rates], axis=0)
    moving[:after] = False
    index = np.flatnonzero(moving)
    return index[: int(MAX_MOVEMENT_S * rate_hz)]


def _relative_sign(
    grid: Grid, thigh: str, shank: str, axes: dict, y: dict, moving: np.ndarray
) -> int | None:
    """+1 if the two fitted knee axes point the same way, -1 if opposite, None if unknown.

    The knee axis seen by thigh and shank is one line, so its inclination is the same
    in both — unless one fitted axis points the other way. This decides whenever the
    axis tilts out of the horizontal (hip rotation or adduction, pelvic tilt), which a
    purely sagittal criterion cannot when one segment barely tilts forward.
    """
    up = {n: quat.rotate(grid.tracks[n].q_es[moving], axes[n])[:, 2] for n in (thigh, shank)}
    if np.sqrt(np.mean(up[thigh] ** 2)) < np.sin(np.radians(MIN_AXIS_TILT_DEG)):
        return None
    same = np.mean((up[thigh] - up[shank]) ** 2)
    opposite = np.mean((up[thigh] + up[shank]) ** 2)
    contrast = (opposite - same) / (opposite + same)
    if abs(contrast) < MIN_SIGN_CONTRAST:
        return None  # the tilts disagree either way: the knee is no clean hinge here
    return 1 if contrast > 0 else -1


def _axis_halves(
    t_gyr: np.ndarray,
    s_gyr: np.ndarray,
    q_thigh: np.ndarray,
    q_shank: np.ndarray,
    stop: int,
    rate_hz: float,
) -> float | None:
    """How far the knee axis fitted on the first half of the session's knee flexion and
    extension lies from the one fitted on the second half (degrees, the larger of thigh
    and shank): a sensor that slipped, or a knee that is no clean hinge, gives two axes.
    Only samples where the knee itself flexes or extends count (both segments turning
    together about the femur, as in a rotation test, say nothing about the hinge)."""
    z_thigh, z_shank = (quat.rotate(q, Z_AXIS) for q in (q_thigh, q_shank))
    flexing = np.flatnonzero(np.abs(s_gyr @ z_shank - t_gyr @ z_thigh) > MOVING_RATE)
    flexing = flexing[flexing >= stop]
    if len(flexing) < 2 * MIN_MOVING_S * rate_hz:
        return None
    first, second = np.array_split(flexing, 2)
    thigh_up, shank_up = (quat.rotate(q, Y_AXIS) for q in (q_thigh, q_shank))
    a = fit_hinge(t_gyr[first], s_gyr[first], thigh_up, shank_up)
    b = fit_hinge(t_gyr[second], s_gyr[second], thigh_up, shank_up)
    angles = [
        np.degrees(np.arccos(min(1.0, abs(float(u @ v)))))
        for u, v in ((a.axis_1, b.axis_1), (a.axis_2, b.axis_2))
    ]
    return round(max(angles), 1)


def _leg(
    grid: Grid, thigh: str, shank: str | None, y: dict, bias: dict, stop: int
) -> tuple[dict, dict]:
    """Mounting of one leg's thigh (and shank) sensors, with quality figures."""
    t_gyr = grid.tracks[thigh].gyr - bias[thigh]
    s_gyr = grid.tracks[shank].gyr - bias[shank] if shank is not None else None
    moving = _movement([r for r in (t_gyr, s_gyr) if r is not None], stop, grid.rate_hz)
    if len(moving) < MIN_MOVING_S * grid.rate_hz:
        raise CalibrationError(
            f"no knee movement after the standing phase for {thigh!r}: "
            "walk a few steps or do a few knee bends after standing still"
        )
    quality: dict = {"moving_s": round(len(moving) / grid.rate_hz, 2)}
    if shank is None:
        axes = {thigh: principal_axis(t_gyr[moving])}
    else:
        fit = fit_hinge(t_gyr[moving], s_gyr[moving], y[thigh], y[shank])
        axes = {thigh: fit.axis_1, shank: fit.axis_2}
        quality["hinge_residual_pct"] = round(100 * fit.rms_residual / fit.rms_rate, 1)
    quality["axis_off_horizontal_deg"] = {
        n: round(tilt_from_vertical(y[n], a), 1) for n, a in axes.items()
    }
    candidates = ((1, 1), (1, -1), (-1, 1), (-1, -1)) if shank else ((1,), (-1,))
    if shank is not None:
        relative = _relative_sign(grid, thigh, shank, axes, y, moving)
        if relative is not None:
            candidates = ((1, relative), (-1, -relative))
    first = moving[: int(SIGN_WINDOW_S * grid.rate_hz)]  # the calibration movement itself
    best = None
    for signs in candidates:
        frames = {n: frame_from_axes(y[n], s * axes[n]) for n, s in zip(axes, signs)}
        flexion = sagittal_angle(grid.tracks[thigh].q_es[first], frames[thigh])
        if shank is not None:
            flexion = wrap(flexion - sagittal_angle(grid.tracks[shank].q_es[first], frames[shank]))
        score = float(np.mean(flexion))
        if best is None or score > best[0]:
            best = (score, frames, flexion)
    _, frames, flexion = best
    if shank is not None:
        halves = _axis_halves(t_gyr, s_gyr, frames[thigh], frames[shank], stop, grid.rate_hz)
        if halves is not None:
            quality["knee_axis_halves_deg"] = halves
    name = "knee_flexion" if shank else "thigh_flexion"
    quality[f"{name}_range_deg"] = [
        round(float(np.degrees(np.percentile(flexion, p))), 1) for p in (2, 98)
    ]
    return frames, quality


def calibrate(rig: Rig, grid: Grid) -> Calibration:
    """Find standing, then the mounting of every sensor; refuse clearly when data cannot define it."""
    start, stop = _standing(rig, grid)
    y, bias = {}, {}
    for name, track in grid.tracks.items():
        mean = track.acc[start:stop].mean(axis=0)
        y[name] = mean / np.linalg.norm(mean)
        bias[name] = track.gyr[start:stop].mean(axis=0)
    q_sb: dict[str, np.ndarray] = {}
    quality: dict[str, dict] = {"standing": {"duration_s": round((stop - start) / grid.rate_hz, 2)}}
    for side in rig.sides:
        thigh = rig.find("thigh", side).name
        shank = rig.find("shank", side)
        frames, leg_quality = _leg(grid, thigh, shank.name if shank else None, y, bias, stop)
        q_sb.update(frames)
        quality[side] = leg_quality
    pelvis = rig.find("pelvis")
    if pelvis is not None:
        horizontal = np.cross(y[pelvis.name], [1.0, 0.0, 0.0])
        if np.linalg.norm(horizontal) < 0.3:
            horizontal = np.cross(y[pelvis.name], [0.0, 1.0, 0.0])
        q_sb[pelvis.name] = frame_from_axes(y[pelvis.name], horizontal)
    return Calibration(q_sb, (float(grid.time_s[start]), float(grid.time_s[stop - 1])), quality)
