"""One leg's mounting: the thigh's (and shank's) frame from standing "up" and the knee axis.

The knee axis comes from the movement after standing (:func:`knee_fit`): ``"seel"``, the
plain hinge fit of Seel et al. (2014) (:func:`hiprot.calibration.hinge.fit_hinge`), by
default — the robust fit of :mod:`hiprot.calibration.knee_axis` did not improve hip IR on
the simulator sweep (median ratio 1.01, docs/calibration.md) and costs heading on a rigid
hinge — or ``"robust"``. The verdict's figures (``knee_axis_tilt_deg``,
``hinge_residual_pct``, ``knee_axis_halves_deg``) always come from the robust fit, on
which the verdict's limits were measured. Without a shank the thigh's own main rotation
axis serves.
"""

from __future__ import annotations

import numpy as np

from hiprot import quat
from hiprot.calibration.hinge import HingeFit, fit_hinge, principal_axis
from hiprot.calibration.knee_axis import knee_axes
from hiprot.calibration.segments import frame_from_axes, sagittal_angle, tilt_from_vertical
from hiprot.errors import CalibrationError
from hiprot.geometry import Y_AXIS, Z_AXIS, wrap
from hiprot.resample import Grid

MIN_MOVING_S = 0.5
MOVING_RATE = 0.3  # rad/s: a segment turning faster than this is moving
MAX_MOVEMENT_S = 60.0
MIN_AXIS_TILT_DEG = 3.0  # knee axis inclination (RMS) needed to compare the two axes' signs
SIGN_WINDOW_S = 10.0  # movement right after standing (walking, knee bends) decides the signs
MIN_SIGN_CONTRAST = 0.6  # how clearly the axes' tilts must agree (1) or oppose (-1)
KNEE_AXIS_METHODS = ("seel", "robust")
VERDICT_METHOD = "robust"  # the fit the verdict's figures and limits come from


def knee_fit(
    method: str, gyr_1: np.ndarray, gyr_2: np.ndarray, up_1: np.ndarray, up_2: np.ndarray
) -> HingeFit:
    """The knee axis in the thigh (1) and shank (2) sensor frames by ``method``."""
    if method == "seel":
        return fit_hinge(gyr_1, gyr_2, up_1, up_2)
    return knee_axes(gyr_1, gyr_2, up_1, up_2)


def _movement(rates: list[np.ndarray], after: int, rate_hz: float) -> np.ndarray:
    """Indices after ``after`` where any of the (bias-free) ``rates`` turns, at most a minute's worth."""
    moving = np.any([np.linalg.norm(r, axis=1) > MOVING_RATE for r in rates], axis=0)
    moving[:after] = False
    index = np.flatnonzero(moving)
    return index[: int(MAX_MOVEMENT_S * rate_hz)]


def _relative_sign(
    grid: Grid, thigh: str, shank: str, axes: dict, moving: np.ndarray
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
    method: str,
    t_gyr: np.ndarray,
    s_gyr: np.ndarray,
    q_thigh: np.ndarray,
    q_shank: np.ndarray,
    stop: int,
    rate_hz: float,
) -> float | None:
    """How far the knee axis fitted on the first half of the session's knee flexion and
    extension lies from the one fitted on the second half (degrees, the larger of thigh
    and shank, about each segment's long axis: the heading that sets its anterior axis): a
    sensor that slipped, or a knee that is no clean hinge, gives two axes. Only samples
    where the knee itself flexes or extends count (both segments turning together about
    the femur, as in a rotation test, say nothing about the hinge)."""
    z_thigh, z_shank = (quat.rotate(q, Z_AXIS) for q in (q_thigh, q_shank))
    flexing = np.flatnonzero(np.abs(s_gyr @ z_shank - t_gyr @ z_thigh) > MOVING_RATE)
    flexing = flexing[flexing >= stop]
    if len(flexing) < 2 * MIN_MOVING_S * rate_hz:
        return None
    first, second = np.array_split(flexing, 2)
    thigh_up, shank_up = (quat.rotate(q, Y_AXIS) for q in (q_thigh, q_shank))
    a = knee_fit(method, t_gyr[first], s_gyr[first], thigh_up, shank_up)
    b = knee_fit(method, t_gyr[second], s_gyr[second], thigh_up, shank_up)
    angles = [
        _heading_between(u, v, up)
        for u, v, up in ((a.axis_1, b.axis_1, thigh_up), (a.axis_2, b.axis_2, shank_up))
    ]
    return round(max(angles), 1)


def gait_sign_score(flexion: np.ndarray) -> float:
    """How well a walk's knee angle under one choice of the axes' signs looks like a knee's
    (higher is better), when its zero is no standing: the knee angle is the difference of the
    thigh's and shank's sagittal angles, which in gait spans about 60° (Perry & Burnfield
    2010), while their sum — an axis of the wrong relative sign — spans far more; and the knee
    flexes (its swing peak lies further above the median than its least value below it)."""
    low, median, high = np.percentile(flexion, [2, 50, 98])
    return -(high - low) + (1e-3 if high - median > median - low else 0.0)


def _horizontal(axis: np.ndarray, up: np.ndarray) -> np.ndarray:
    """``axis`` made perpendicular to ``up`` (unit); unchanged when nearly parallel to it, for
    :func:`~hiprot.calibration.segments.frame_from_axes` to refuse."""
    flat = axis - (axis @ up) * up
    norm = float(np.linalg.norm(flat))
    return flat / norm if norm >= 0.3 else axis


def _heading_between(u: np.ndarray, v: np.ndarray, up: np.ndarray) -> float:
    """Angle (deg, 0-90) between two axes projected on the plane perpendicular to ``up``."""
    u, v = u - (u @ up) * up, v - (v @ up) * up
    cos = abs(float(u @ v)) / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-12)
    return float(np.degrees(np.arccos(min(1.0, cos))))


def calibrate_leg(
    grid: Grid,
    thigh: str,
    shank: str | None,
    y: dict,
    bias: dict,
    stop: int,
    method: str = "seel",
    judge: bool = True,
    walking: bool = False,
) -> tuple[dict, dict]:
    """Mounting of one leg's thigh (and shank) sensors (knee axis by ``method``), with quality
    figures (the verdict's from the robust fit, whatever ``method``; none with ``judge=False``).
    ``walking``: "up" came from mid-stance, not standing (:func:`gait_sign_score` decides the
    axes' signs)."""
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
        quality["axis_off_horizontal_deg"] = {
            thigh: round(tilt_from_vertical(y[thigh], axes[thigh]), 1)
        }
    else:
        fit = knee_fit(method, t_gyr[moving], s_gyr[moving], y[thigh], y[shank])
        axes = {thigh: fit.axis_1, shank: fit.axis_2}
        quality["axis_off_horizontal_deg"] = {
            n: round(tilt_from_vertical(y[n], a), 1) for n, a in axes.items()
        }
        if judge:
            judged = fit
            if method != VERDICT_METHOD:
                judged = knee_fit(VERDICT_METHOD, t_gyr[moving], s_gyr[moving], y[thigh], y[shank])
            quality["knee_axis_tilt_deg"] = round(tilt_from_vertical(y[thigh], judged.axis_1), 1)
            quality["hinge_residual_pct"] = round(100 * judged.rms_residual / judged.rms_rate, 1)
        # only the heading is used (frame_from_axes): the signs are decided on it too, since a
        # tilt that the skin's twist gave one module says nothing about the other's sign
        axes = {n: _horizontal(a, y[n]) for n, a in axes.items()}
    candidates = ((1, 1), (1, -1), (-1, 1), (-1, -1)) if shank else ((1,), (-1,))
    if shank is not None:
        relative = _relative_sign(grid, thigh, shank, axes, moving)
        if relative is not None:
            candidates = ((1, relative), (-1, -relative))
    first = moving[: int(SIGN_WINDOW_S * grid.rate_hz)]  # the calibration movement itself
    best = None
    for signs in candidates:
        frames = {n: frame_from_axes(y[n], s * axes[n]) for n, s in zip(axes, signs)}
        flexion = sagittal_angle(grid.tracks[thigh].q_es[first], frames[thigh])
        if shank is not None:
            flexion = wrap(flexion - sagittal_angle(grid.tracks[shank].q_es[first], frames[shank]))
        score = (
            gait_sign_score(flexion) if walking and shank is not None else float(np.mean(flexion))
        )
        if best is None or score > best[0]:
            best = (score, frames, flexion)
    _, frames, flexion = best
    if shank is not None and judge:
        halves = _axis_halves(
            VERDICT_METHOD, t_gyr, s_gyr, frames[thigh], frames[shank], stop, grid.rate_hz
        )
        if halves is not None:
            quality["knee_axis_halves_deg"] = halves
    name = "knee_flexion" if shank else "thigh_flexion"
    quality[f"{name}_range_deg"] = [
        round(float(np.degrees(np.percentile(flexion, p))), 1) for p in (2, 98)
    ]
    return frames, quality
