"""Seated and prone hip-rotation tests: the posture, the shank's lever and the two references.

In both tests the thigh lies horizontal and the knee is bent about 90°; the bent
shank is the goniometer's lever (Norkin & White, *Measurement of Joint Motion*,
5th ed. 2016: the stationary arm plumb, the moving arm along the tibia, zero
with the shank vertical). Only the thigh's and the shank's long axes enter the
lever, not the thigh module's own twist, which skin attenuates by about 30 %
(Fiorentino et al., Gait Posture 55:184-190 (2017)).

Two figures per sample in the test posture:

- **pelvis-referenced** (the primary figure with a pelvis sensor): pelvis sensor
  → femur, ISB (Wu et al., J Biomech 35:543-548 (2002)). A pelvis that tilts
  sideways (seated) or rolls (prone) with the hip carries the femur with it and
  does not enter this angle.
- **gravity-referenced** (the second figure; the only one without a pelvis
  sensor): the femur's twist against a pelvis frame taken upright (front of the
  thigh up: seated) or face down (prone), its heading from the femur's. This is
  what a plumb-line goniometer reads, zero with the shank vertical — and it
  reads hip rotation *plus* the pelvis' obliquity (seated) or roll (prone), the
  compensations the examiner blocks by hand.

The pelvic compensation itself is how far the pelvis tilts during a trial: the
angle between the vertical seen from the pelvis sensor at the trial's start and
later. Seated that is the obliquity, prone the roll about the body's long axis;
turning about the vertical (and heading drift) does not enter, and neither does
the pelvis' anatomical calibration.

The test posture counts only inside rotation tests: when the session's activity (or a
labelled segment's, :mod:`hiprot.activities`) is a rotation test, or — activity
unknown — where the posture (thigh horizontal,
shank hanging) lasts at least ``DETECT_S`` and the shank is held more than
``DETECT_DEG`` out of the vertical in it for ``DETECT_S`` (an end-range hold; a
fidgeting leg moves on, and a knee bending tilts the shank too) (the criterion of :mod:`hiprot.analysis.session` for telling a rotation
test, 10° of ER held 2 s). In an exercise session the working leg of a standing
hip-IR activation (hip and knee at 90°, the foot swung out and back: a rotation test
standing up) is measured the same way: a posture span at least ``DETECT_S`` long in
which the shank's tilt from the vertical ranges over more than ``DETECT_DEG`` (swung
out and back) — the front leg of a lunge, its foot planted, leans steadily and never
does. Stairs, squats, lunges and sitting keep the pelvis (or walking) reference.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from hiprot import quat
from hiprot.activities import ActivityTimeline
from hiprot.anatomy import joint_angles
from hiprot.geometry import UP, X_AXIS, Y_AXIS, wrap

HORIZONTAL_THIGH = np.sin(np.radians(35.0))  # |long axis · up| below this: thigh horizontal
KNEE_BENT_DEG = 45.0  # above this the shank serves as the rotation test's lever
SWUNG_SHANK_DEG = 10.0  # a shank further than this from vertical fits the heading offset
MIN_SWUNG_SAMPLES = 50
TWIST_SHARE = (
    0.25  # the thigh turns about its long axis by at least this share of the shank's swing
)
PELVIS_FIT_RANGE_DEG = 60.0  # the pelvis' heading in a test lies within this of standing's
PELVIS_FIT_GAIN = 0.5  # ... and is taken only when it halves the spread of flexion and adduction
PELVIS_FIT_SAMPLES = 400  # ... that spread from about this many samples of the span (every 50 ms
# of a live window's 20 s): live windows refit it twice a second while nothing is kept
FIT_EDGE_S = 2.0  # the first and last seconds of a span (bending the knee) stay out of the fit
FIT_KNEE_SD_DEG = 4.0  # a fitted heading leaving the knee angle varying more than this is none
HANGING_SHANK_DEG = 60.0  # a test's shank hangs within this of vertical (swings reach ~45°)
DETECT_DEG = 10.0  # activity unknown: a swing this far out of the vertical marks a test
DETECT_S = 2.0  # ... held (still) this long, in a posture span at least this long
HELD_RATE_DEG_S = 5.0  # held: the shank's tilt changing slower than this
SEAM_TILT_DEG = 10.0  # live: a refitted yaw takes over where the shank is this near vertical
HANDOVER_STEP_DEG = 1.0  # ... and one moving the shank more ends the test posture for a sample
ZERO_BAND_DEG = 5.0  # a hanging shank this near vertical is the vertical (the knee's varus at 90°)
NEUTRAL_DEG = 15.0  # the clinical zero: the gravity angle within this of vertical, held still...
NEUTRAL_S = 0.5  # ... for at least this long in a span (design choice: half the trials' 1 s
# still start, so that a live window sees it before the first swing)
ROTATION_TESTS = ("seated-test", "prone-test")
WALK = "walk"  # a labelled walk never takes the test reference
SWINGING_EXERCISE = "exercise"  # standing IR activations: the working leg in the test posture


def handover(
    spans: np.ndarray, q_shank: np.ndarray | None, seam: int | None
) -> tuple[int, int] | None:
    """Live windows: where the yaws carried from the window before give way to this one's fits.

    A live window (:class:`~hiprot.pipeline.Pipeline`) sees only the last seconds of a test
    span, so its fits differ from the window before's; a fitted yaw that changed while the
    shank is out of the vertical would make the knee and gravity angles jump between the
    samples one window emitted and those of the next. So in the span under way at ``seam``
    (the first sample not yet emitted) the yaws in force at the last emitted sample are kept
    until the shank is next within ``SEAM_TILT_DEG`` of the vertical (a trial's start, a swing
    crossing the vertical), where a turn about the vertical moves the knee and gravity angles
    little (by sin(tilt) of the change: at the 4-6° a knee's varus tilts a hanging shank, a
    tenth of it) — and as early as that, so that a still start has settled again before the
    swing. Returns (the span's start, that sample — the span's end if there is none), or None
    when no span is under way at ``seam`` or it starts there (nothing of it emitted yet).
    """
    if seam is None or not 0 < seam < len(spans) or not spans[seam - 1]:
        return None
    start, end = next((a, b) for a, b in _runs(spans) if a < seam <= b)
    if end == seam:
        return None
    if q_shank is None:
        return start, end
    up = np.abs(quat.rotate(q_shank[seam:end], Y_AXIS)[:, 2])
    near = _runs(up > np.cos(np.radians(SEAM_TILT_DEG)))
    if not near:
        return start, end
    return start, seam + near[0][0]


def handover_step(
    carried: float | None, offset: np.ndarray, q_shank: np.ndarray, handed: tuple[int, int] | None
) -> float:
    """How far (degrees) the shank's long axis moves where ``offset`` takes over from the
    ``carried`` yaw (:func:`handover`): 2·sin(|change|/2)·sin(tilt)."""
    if carried is None or handed is None or handed[1] >= len(offset):
        return 0.0
    k = handed[1]
    change = np.angle(np.exp(1j * (offset[k] - carried)))
    tilt = np.arccos(np.clip(abs(quat.rotate(q_shank[k], Y_AXIS)[2]), 0.0, 1.0))
    return float(np.degrees(2 * np.sin(abs(change) / 2) * np.sin(tilt)))


def _place(
    out: np.ndarray,
    a: int,
    b: int,
    fit: float | None,
    carried: float | None,
    handed: tuple[int, int] | None,
) -> None:
    """Write span ``a:b``'s fitted yaw into ``out`` — in the span a live window continues, the
    carried yaw up to the handover (:func:`handover`) and after it when nothing was fitted."""
    if carried is None or handed is None or handed[0] != a:
        if fit is not None:
            out[a:b] = fit
        return
    switch = handed[1]
    out[a:switch] = carried
    out[switch:b] = carried if fit is None else fit


def test_heading_offset(
    offset: np.ndarray,
    q_thigh: np.ndarray,
    q_shank: np.ndarray,
    spans: np.ndarray,
    rate_hz: float,
    carried: float | None = None,
    handed: tuple[int, int] | None = None,
) -> np.ndarray:
    """The shank's heading offset to the thigh (rad), fitted anew where the thigh is horizontal.

    The offset (from the knee axes, :func:`~hiprot.kinematics.heading.hinge_heading_offset`)
    lines the shank's knee axis up with the thigh's; with the knee bent 90° a knee that screws
    home (the tibia turned in on the femur) and the thigh module, which follows only part of
    the femur's rotation (skin), put it off by tens of degrees, and the swings of a rotation
    test then read a quarter short. In a rotation test the knee holds its angle while the
    shank swings, so over each span of ``spans`` (:func:`test_spans`) the offset is the one
    constant yaw under which the angle between the two long axes varies least (a grid search
    all round). Two yaws do that — the swing and its mirror image — and a knee bending seen
    90° off passes for a swing too; the femur decides, not the knee axis (which a live
    calibration from a few knee bends can put 100° off): the hip rotation turns the thigh
    about its long axis with the shank, by 70 % of it through the skin (Fiorentino et al.
    2017), a knee bending does not turn it, so the yaw kept is the one under which the thigh
    module's twist follows the shank's swing about the thigh's long axis by at least
    ``TWIST_SHARE`` (a third of that 70 %; :func:`_share`). A span in which the shank never
    swings keeps the hinge's offset (with the shank vertical the offset moves nothing). Only
    swung samples (shank over ``SWUNG_SHANK_DEG`` from vertical) enter, and not those of the
    span's first and last ``FIT_EDGE_S`` (bending the knee into position); when even the best
    yaw leaves the knee varying by more than ``FIT_KNEE_SD_DEG`` (SD), the knee moved —
    fidgeting, no rotation test — and the hinge's offset stays.

    Live (``carried``: the yaw in force at the last sample emitted, ``handed``:
    :func:`handover`), the span under way keeps the carried yaw up to the handover, and after
    it when this window fits none; the first and last seconds are left out only where the
    span's start and end are in view (a live window's last samples end no span: with them the
    fit is there before a swing's samples are emitted).
    """
    out = np.unwrap(offset)
    t = quat.rotate(q_thigh, Y_AXIS)
    u = quat.rotate(q_shank, Y_AXIS)
    front = quat.rotate(q_thigh, X_AXIS)
    edge, n = int(round(FIT_EDGE_S * rate_hz)), len(spans)
    for a, b in _runs(spans):
        fit = _span_yaw(t[a:b], u[a:b], front[a:b], edge if a > 0 else 0, edge if b < n else 0)
        _place(out, a, b, fit, carried, handed)
    return out


def _span_yaw(
    t: np.ndarray, u: np.ndarray, front: np.ndarray, first: int, last: int
) -> float | None:
    """One span's fitted yaw (:func:`test_heading_offset`), or None, leaving out its ``first``
    and ``last`` samples (bending and straightening the knee)."""
    tilted = np.abs(u[:, 2]) < np.cos(np.radians(SWUNG_SHANK_DEG))
    tilted[:first] = False
    tilted[len(tilted) - last :] = False
    if tilted.sum() < MIN_SWUNG_SAMPLES:
        return None
    ta, ua, fa = t[tilted], u[tilted], front[tilted]
    yaws = np.radians(np.arange(-180.0, 180.0, 0.5))
    cos_part = ta[:, 0] * ua[:, 0] + ta[:, 1] * ua[:, 1]
    sin_part = ta[:, 1] * ua[:, 0] - ta[:, 0] * ua[:, 1]
    rest = ta[:, 2] * ua[:, 2]
    cov = np.cov(np.stack([cos_part, sin_part, rest]))  # the knee's spread, as a quadratic form
    c, s = np.cos(yaws), np.sin(yaws)
    spread = (
        c * c * cov[0, 0]
        + s * s * cov[1, 1]
        + 2 * c * s * cov[0, 1]
        + 2 * c * cov[0, 2]
        + 2 * s * cov[1, 2]
        + cov[2, 2]
    )
    local = np.flatnonzero((spread <= np.roll(spread, 1)) & (spread <= np.roll(spread, -1)))
    twist = _about(ta, fa)
    for k in local[np.argsort(spread[local])][:2]:
        turned = quat.rotate(yaw_about_up(yaws[k], len(ua)), ua)
        swing = _about(ta, turned)
        if _share(twist, swing) < TWIST_SHARE:
            continue  # the thigh does not turn with this swing: the mirror image, or a knee
        knee = np.degrees(np.arccos(np.clip(np.sum(ta * turned, axis=1), -1.0, 1.0)))
        if np.std(knee) > FIT_KNEE_SD_DEG:
            return None  # no yaw holds the knee still: it moved (fidgeting), no rotation test
        return float(yaws[k])
    return None


def _about(axis: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The angle (rad, unwrapped) of ``v`` about ``axis`` (per sample), from the downward
    vertical projected across ``axis``."""
    down = axis * axis[:, 2:3] - UP
    across = v - np.sum(v * axis, axis=1, keepdims=True) * axis
    sin = np.sum(np.cross(down, across) * axis, axis=1)
    return np.unwrap(np.arctan2(sin, np.sum(down * across, axis=1)))


def _share(twist: np.ndarray, swing: np.ndarray) -> float:
    """The slope of the thigh's twist on the shank's swing about the thigh's long axis (least
    squares): about 0.7 in a rotation test (skin lets the thigh module follow 70 % of the
    femur), negative for the swing's mirror image, near 0 for a knee bending."""
    swing = swing - swing.mean()
    return float(np.sum((twist - twist.mean()) * swing) / max(np.sum(swing**2), 1e-12))


def pelvis_heading_in_test(
    q_pelvis: np.ndarray,
    q_femur: np.ndarray,
    spans: np.ndarray,
    side: str,
    carried: float | None = None,
    handed: tuple[int, int] | None = None,
) -> np.ndarray:
    """A yaw (rad, per sample; 0 outside ``spans``) to turn the pelvis frame by in a rotation
    test so that it lines up with the thigh's heading.

    Standing sets the pelvis' heading relative to the thigh through the pelvis' anatomical
    turn, which skin and knee put off by tens of degrees; pelvis → femur does not mind while
    the pelvis is still, but a pelvis that tilts with the hip (the compensation) then leaks
    into hip rotation. In a test the hip only rotates, so over each span the yaw is the one
    under which hip flexion and adduction (pelvis → femur) vary least, within
    ``PELVIS_FIT_RANGE_DEG`` of the standing one — kept only when it is no edge of that range
    and at least halves their spread (``PELVIS_FIT_GAIN``): a still pelvis says nothing. A
    turn further off (prone, the anatomical turn can flip by about 160°) is not found: the
    compensation then leaks in, amplified. Live, ``carried`` and ``handed`` as in
    :func:`test_heading_offset`, except that a turn once kept (any but the standing one, 0)
    holds for the rest of the span: with the hip flexed a turn of the pelvis frame moves hip
    rotation itself, whatever the shank, and a window's 20 s may not show the compensation
    that set it.
    """
    out = np.zeros(len(q_pelvis))
    grid = np.radians(np.arange(-PELVIS_FIT_RANGE_DEG, PELVIS_FIT_RANGE_DEG + 0.5, 1.0))
    for a, b in _runs(spans):
        if carried and handed is not None and handed[0] == a:
            out[a:b] = carried
            continue
        pick = np.arange(a, b, max(1, (b - a) // PELVIS_FIT_SAMPLES))
        if len(pick) < MIN_SWUNG_SAMPLES:
            _place(out, a, b, None, carried, handed)
            continue
        m = len(pick)  # every turn of the grid at once: (len(grid) * m) quaternions
        turns = np.repeat(
            np.column_stack([np.cos(grid / 2), 0 * grid, 0 * grid, np.sin(grid / 2)]), m, axis=0
        )
        turned = quat.multiply(turns, np.tile(q_pelvis[pick], (len(grid), 1)))
        femur = np.tile(q_femur[pick], (len(grid), 1))
        hip = joint_angles(quat.multiply(quat.conjugate(turned), femur), side, "hip")
        hip = hip.reshape(len(grid), m, 3)
        spread = np.var(hip[:, :, 0], axis=1) + np.var(hip[:, :, 1], axis=1)
        best = int(np.argmin(spread))
        at_edge = best in (0, len(grid) - 1)
        kept = not at_edge and spread[best] < PELVIS_FIT_GAIN * spread[len(grid) // 2]
        _place(out, a, b, float(grid[best]) if kept else None, carried, handed)
    return out


def clinical_zero(
    figure: np.ndarray,
    gravity_ir: np.ndarray,
    spans: np.ndarray,
    rate_hz: float,
    carried: float | None = None,
    handed: tuple[int, int] | None = None,
) -> np.ndarray:
    """Per sample (degrees, 0 outside ``spans``) what to take off a test's IR ``figure`` (the
    pelvis-referenced or the gravity angle) for the goniometer's zero: the shank vertical
    (Norkin & White 2016), as the trials have it (:mod:`hiprot.analysis.rotation_tests`).

    Pelvis → femur IR carries every error of the pelvis' and femur's anatomical frames as a
    constant offset (a seated pelvis turned 10° off its calibrated forward axis while tilted
    back reads about as much IR), while its changes within a span are exact under any such
    constant error; the gravity angle has no such offset but takes in the knee's varus, which
    carries a hanging shank up to 4-6° off the femur's plane (``ZERO_BAND_DEG``). Where the
    leg rests at a trial's start — the gravity angle within ``NEUTRAL_DEG`` of vertical (the
    trial detector's start tolerance) and held still — the pelvis is back at its neutral: per
    span the figure there reads what the gravity angle reads beyond ``ZERO_BAND_DEG`` (a hip
    resting short of neutral), from the median over at least ``NEUTRAL_S`` of such samples;
    otherwise NaN: none found (nothing is taken off; live, the next window looks again). Live (``carried``, ``handed``: as in
    :func:`test_heading_offset`) a span under way keeps the carried offset. The figure less
    the offset is to be wrapped to ±180°.
    """
    out = np.zeros(len(spans))
    need = max(1, int(round(NEUTRAL_S * rate_hz)))
    for a, b in _runs(spans):
        out[a:b] = np.nan
        if carried is not None and handed is not None and handed[0] == a:
            out[a:b] = carried
            continue
        gravity = gravity_ir[a:b]
        speed = uniform_filter1d(np.abs(np.gradient(gravity)) * rate_hz, need) if b - a > 1 else 0
        with np.errstate(invalid="ignore"):
            neutral = (np.abs(gravity) < NEUTRAL_DEG) & (speed < HELD_RATE_DEG_S)
        neutral &= np.isfinite(figure[a:b])
        if neutral.sum() >= need:
            rest = float(np.median(gravity[neutral]))
            beyond = np.sign(rest) * max(abs(rest) - ZERO_BAND_DEG, 0.0)
            values = figure[a:b][neutral]
            first = values[0]  # the median about the first: a figure near ±180° does not split
            out[a:b] = first + np.median(np.degrees(wrap(np.radians(values - first)))) - beyond
    return out


def lever_front_turn(
    q_thigh: np.ndarray, q_shank: np.ndarray, test: np.ndarray, rate_hz: float
) -> float | None:
    """How far (rad) the femur's front, as the bent shank shows it, lies from the thigh frame's
    X about the thigh's long axis, where the shank hangs near vertical in ``test`` (the test
    posture); None with less than ``NEUTRAL_S`` of such samples.

    The thigh frame's front comes from the knee-axis fit, which a knee that is no hinge and the
    skin put off by tens of degrees (about 35° on the simulator's realistic people after a
    seated calibration); with the knee bent the shank lies in the femur's sagittal plane (up to
    the knee's varus, 4-6°: Kefala et al. 2017), and with the shank vertical the hip is at the
    goniometer's zero, as standing feet forward is."""
    near = test & (np.abs(quat.rotate(q_shank, Y_AXIS)[:, 2]) > np.cos(np.radians(NEUTRAL_DEG)))
    if near.sum() < NEUTRAL_S * rate_hz:
        return None
    lever = quat.rotate(femur_from_shank(q_thigh[near], q_shank[near]), X_AXIS)
    seen = quat.rotate(quat.conjugate(q_thigh[near]), lever)  # in the thigh frame
    return float(np.angle(np.sum(np.exp(1j * np.arctan2(-seen[:, 2], seen[:, 0])))))


def yaw_about_up(angle: float, n: int) -> np.ndarray:
    """``n`` copies of the rotation by ``angle`` (rad) about the earth vertical."""
    return np.tile([np.cos(angle / 2), 0.0, 0.0, np.sin(angle / 2)], (n, 1))


def long_axis_knee(q_thigh: np.ndarray, q_shank: np.ndarray) -> np.ndarray:
    """Knee flexion (degrees) as the angle between the thigh's and the shank's long axes: unlike
    the ISB knee angle it needs no knee axis, which a knee that screws home puts off (its
    hip rotation then leaks into the knee angle)."""
    cos = np.sum(quat.rotate(q_thigh, Y_AXIS) * quat.rotate(q_shank, Y_AXIS), axis=1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def test_posture(q_thigh: np.ndarray, knee_deg: np.ndarray | None) -> np.ndarray:
    """True where the thigh is within 35° of horizontal and (when measured) the knee bent
    (``knee_deg``: :func:`long_axis_knee`)."""
    horizontal = np.abs(quat.rotate(q_thigh, Y_AXIS)[:, 2]) < HORIZONTAL_THIGH
    if knee_deg is None:
        return horizontal
    with np.errstate(invalid="ignore"):
        return horizontal & (knee_deg > KNEE_BENT_DEG)


def femur_from_shank(q_eb_thigh: np.ndarray, q_eb_shank: np.ndarray) -> np.ndarray:
    """The femur frame with its front taken from the flexed shank instead of the knee axis.

    With the knee bent the shank lies in the femur's sagittal plane, pointing
    back from the knee: the goniometer's lever in a rotation test. Only the two
    long axes enter (both from standing), not the functional knee axis.
    """
    y = quat.rotate(q_eb_thigh, Y_AXIS)
    back = -quat.rotate(q_eb_shank, Y_AXIS)  # knee → ankle
    back -= np.sum(back * y, axis=1, keepdims=True) * y
    x = -back / np.linalg.norm(back, axis=1, keepdims=True)
    return quat.from_matrix(np.stack([x, y, np.cross(x, y)], axis=2))


def gravity_pelvis(q_eb_thigh: np.ndarray) -> np.ndarray:
    """Pelvis frame for the gravity reference: upright when the hip is flexed (front of thigh
    up), lying face down when the thigh's front points down (prone); heading from the femur."""
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


def gravity_hip(q_femur: np.ndarray, side: str) -> np.ndarray:
    """ISB hip angles (n, 3, degrees) of ``q_femur`` against :func:`gravity_pelvis`."""
    reference = gravity_pelvis(q_femur)
    return joint_angles(quat.multiply(quat.conjugate(reference), q_femur), side, "hip")


def pelvis_up(q_pelvis: np.ndarray) -> np.ndarray:
    """The vertical in the pelvis sensor's frame (n, 3): the angle between two of them is how far
    the pelvis tilted in between — obliquity seated, roll prone — whatever its heading."""
    return quat.rotate(quat.conjugate(q_pelvis), np.broadcast_to(UP, (len(q_pelvis), 3)))


def test_spans(
    q_thigh: np.ndarray,
    q_shank: np.ndarray | None,
    rate_hz: float,
    activity: ActivityTimeline | str | None,
    time_s: np.ndarray,
) -> np.ndarray:
    """Where the rotation-test reference may hold: the thigh horizontal and the shank within
    ``HANGING_SHANK_DEG`` of vertical (hanging seated, foot up prone), each stretch of one
    activity (a labelled segment's, else the session's) judged by its own rule
    (:func:`_activity_spans`). Where labels split a session, a posture span the reference
    holds in keeps it throughout, in stretches labelled otherwise too (but walking): the
    person sat down before the test segment started, sits on after it stopped, or the
    exercises began while seated — one sitting, one reference. Only gravity enters (no
    heading: the two sensors' headings are not aligned yet), so this comes before the
    shank's heading is fitted."""
    posture = np.abs(quat.rotate(q_thigh, Y_AXIS)[:, 2]) < HORIZONTAL_THIGH
    tilt = None
    if q_shank is not None:
        up = np.clip(np.abs(quat.rotate(q_shank, Y_AXIS)[:, 2]), 0.0, 1.0)  # prone: foot up
        tilt = np.degrees(np.arccos(up))
        posture &= tilt < HANGING_SHANK_DEG
    timeline = ActivityTimeline.of(activity)
    blocks = timeline.blocks(time_s)
    out = np.zeros(len(posture), bool)
    for a, b, name in blocks:
        out[a:b] = _activity_spans(posture[a:b], None if tilt is None else tilt[a:b], rate_hz, name)
    if len(blocks) > 1:
        walking = timeline.at(time_s) == WALK
        for a, b in _runs(posture):
            if out[a:b].any():
                out[a:b] |= ~walking[a:b]
    return out


def _activity_spans(
    posture: np.ndarray, tilt: np.ndarray | None, rate_hz: float, activity: str | None
) -> np.ndarray:
    """Where in ``posture`` the rotation-test reference holds for ``activity``: everywhere in a
    rotation test; activity unknown, in spans of the posture at least DETECT_S long in which
    the shank (its ``tilt`` from the vertical) is held more than DETECT_DEG out of the vertical
    for DETECT_S (without a shank sensor: every such span); in an exercise, spans of the
    posture at least DETECT_S long in which the shank swings through more than DETECT_DEG of
    tilt (the working leg of a standing IR activation; only the tilt's size enters); in any
    other activity nowhere."""
    if activity in ROTATION_TESTS:
        return posture
    out = np.zeros(len(posture), bool)
    need = int(round(DETECT_S * rate_hz))
    if activity == SWINGING_EXERCISE and tilt is not None:
        for a, b in _runs(posture):
            if b - a >= need and np.ptp(tilt[a:b]) > DETECT_DEG:
                out[a:b] = True
        return out
    if activity is not None:
        return out
    held = posture
    if tilt is not None:
        rate = np.abs(np.gradient(tilt)) * rate_hz if len(tilt) > 1 else np.zeros(len(tilt))
        still = uniform_filter1d(rate, max(1, need // 4)) < HELD_RATE_DEG_S
        held = posture & still & (tilt > DETECT_DEG)
    for a, b in _runs(posture):
        if b - a >= need and max((d - c for c, d in _runs(held[a:b])), default=0) >= need:
            out[a:b] = True
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of True in ``mask``."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))
