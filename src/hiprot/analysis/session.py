"""Batch analysis of one processed session: what was done, and its strides, reps or trials.

The session's activity comes from the command line, else ``session.json``
(``hiprot record --activity``), else from the data: strides covering half of
the time after the standing phase → ``walk``; the hip going into external
rotation (below −10° for 2 s or more) → a rotation test, ``seated-test`` when
the thigh's front faces up then, ``prone-test`` when it faces down; anything
else → ``exercise``. The metrics come from :class:`~hiprot.analysis.live.LiveAnalysis`
fed the whole session at once, so batch and live agree (but for an exercise nobody
named, whose angles batch computes again as an exercise's:
:func:`hiprot.analysis.batch.remeasure_inferred_exercise`). A session without joint
angles (it could not be calibrated) still gets each shank's stride timing, from its own
gyroscope and accelerometer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hiprot import quat
from hiprot.activities import INFERRED
from hiprot.analysis.live import ACTIVITIES, LiveAnalysis
from hiprot.analysis.reps import Rep
from hiprot.analysis.rotation_tests import Trial, session_mode, trial_warnings
from hiprot.analysis.strides import (
    HEADING,
    INCLINATION,
    WALKING_THIGH_DEG,
    Stride,
    StrideSegmenter,
    stance_warnings,
)
from hiprot.columns import SATURATED, hip_ir, leg_column, thigh_heading, thigh_inclination
from hiprot.geometry import X_AXIS
from hiprot.kinematics.shank_events import ShankEventDetector, shank_events
from hiprot.processing import ProcessedSession
from hiprot.saturation import recorded_full_scale, saturated_on

TEST_ER_DEG = 10.0  # external rotation beyond this (for TEST_ER_S) marks a rotation test
TEST_ER_S = 2.0
WALK_SHARE = 0.5  # strides covering this share of the time after standing: a walk
NOT_DETERMINED = "not given, and no joint angles to infer it from"


@dataclass
class SessionAnalysis:
    """The analysed session: activity (and where it came from), strides, reps, trials, warnings."""

    activity: str | None
    activity_source: str
    strides: list[Stride] = field(default_factory=list)
    reps: list[Rep] = field(default_factory=list)
    trials: list[Trial] = field(default_factory=list)
    skipped_strides: int = 0
    not_walking: int = 0  # leg cycles with the thigh flexed throughout: not strides
    warnings: list[str] = field(default_factory=list)


def analysis_inputs(processed: ProcessedSession) -> tuple[np.ndarray, dict, dict]:
    """(time_s, columns, events) for :class:`LiveAnalysis` from a processed session: the angle
    columns plus each thigh's heading and where its sensors were at full scale, and each
    leg's gait events as times."""
    angles = processed.angles
    columns = dict(angles.columns)
    for side, leg in angles.legs.items():
        columns[thigh_heading(side)] = leg.thigh_heading_deg
        columns[thigh_inclination(side)] = leg.thigh_inclination_deg
        columns[leg_column(side, SATURATED)] = leg_saturated(processed, side)
        columns.update({leg_column(side, k): v for k, v in leg.test_inputs().items()})
    events = {
        side: {k: v.tolist() for k, v in leg.events.times(angles.time_s).items()}
        for side, leg in angles.legs.items()
    }
    return angles.time_s, columns, events


def analyze_session(
    processed: ProcessedSession,
    activity: str | None = None,
    span: tuple[float, float] | None = None,
    source: str | None = None,
) -> SessionAnalysis:
    """Strides, reps or trials of ``processed``; a session without angles gets warnings only.

    ``span`` (start, end on the session clock): only that stretch, a labelled segment of the
    session (its activity is then given or inferred, never session.json's); the angles come
    from the whole session, calibrated once. ``source`` says where a given activity came from.
    """
    source = source or ("command line" if activity is not None else NOT_DETERMINED)
    if activity is None and span is None and processed.session.meta.get("activity") in ACTIVITIES:
        activity, source = processed.session.meta["activity"], "session.json"
    if processed.angles is None:
        return _timing_only(processed, activity, source)
    time_s, columns, events = analysis_inputs(processed)
    inside = np.ones(len(time_s), bool)
    if span is not None:
        inside = (time_s >= span[0]) & (time_s <= span[1])
        if not inside.any():
            return SessionAnalysis(activity, source, warnings=["no joint angles in this segment"])
        if activity is None:
            activity, source = (
                infer_activity(processed, time_s, columns, events, inside),
                INFERRED,
            )
        time_s, columns = time_s[inside], {k: v[inside] for k, v in columns.items()}
        events = {
            side: {k: [t for t in v if span[0] <= t <= span[1]] for k, v in leg.items()}
            for side, leg in events.items()
        }
    sides = tuple(processed.angles.legs)
    rate_hz = processed.grid.rate_hz
    if activity is None:
        activity, source = (
            infer_activity(processed, time_s, columns, events, inside),
            INFERRED,
        )
    live = LiveAnalysis(sides, rate_hz, activity, mode=session_mode(processed.session.meta))
    live.update(time_s, columns, events)
    live.finish()
    strides = live.strides
    skipped = {side: segmenter.skipped for side, segmenter in live.segmenters.items()}
    not_walking = {side: segmenter.not_walking for side, segmenter in live.segmenters.items()}
    if activity == "walk":
        for side in _withheld_legs(processed, columns):
            leg = processed.angles.legs[side]
            timing, skipped[side], not_walking[side] = _shank_strides(
                processed,
                side,
                span,
                {INCLINATION: leg.thigh_inclination_deg, HEADING: leg.thigh_heading_deg},
            )
            strides = sorted(strides + timing, key=lambda s: s.end_s)
    result = SessionAnalysis(
        activity,
        source,
        strides,
        live.reps,
        live.trials,
        sum(skipped.values()),
        sum(not_walking.values()),
    )
    result.warnings += _findings(result, sides)
    return result


def leg_saturated(processed: ProcessedSession, side: str) -> np.ndarray:
    """On the session's grid, True next to a sample at full scale of the leg's sensors (or
    the pelvis sensor): the angles computed there are wrong."""
    grid, health = processed.grid, processed.session.meta.get("health") or {}
    out = np.zeros(len(grid.time_s), bool)
    for sensor in processed.rig.sensors:
        if sensor.side in (side, None) and sensor.name in processed.session.samples:
            samples = processed.session.samples[sensor.name]
            out |= saturated_on(grid.time_s, samples, recorded_full_scale(health.get(sensor.name)))
    return out


def _timing_only(processed: ProcessedSession, activity: str | None, source: str) -> SessionAnalysis:
    """Stride timing from each shank's own signals, for a session without joint angles;
    strides across a gap in a sensor's samples are skipped (their events are guesses)."""
    grid, strides, skipped = processed.grid, [], 0
    shanks = [s for s in processed.rig.sensors if s.segment == "shank" and s.name in grid.tracks]
    for sensor in shanks:
        found, gapped, _ = _shank_strides(processed, sensor.side)
        strides += found
        skipped += gapped
    strides.sort(key=lambda s: s.end_s)
    span = float(grid.time_s[-1] - grid.time_s[0]) if len(grid.time_s) else 0.0
    walking = max(
        (sum(s.stride_time_s for s in strides if s.side == x.side) for x in shanks), default=0.0
    )
    if activity is None and strides and walking >= WALK_SHARE * span:
        activity, source = "walk", INFERRED
    walk = activity == "walk"
    result = SessionAnalysis(activity, source, strides if walk else [], [], [], skipped * walk)
    result.warnings.append(
        "no joint angles: stride timing only"
        if result.strides
        else "no joint angles: nothing to analyse"
    )
    result.warnings += stance_warnings(result.strides)
    if result.skipped_strides:
        result.warnings.append(
            f"{result.skipped_strides} strides skipped: a sensor had a gap in its samples"
        )
    return result


def _shank_strides(
    processed: ProcessedSession,
    side: str,
    span: tuple[float, float] | None = None,
    thigh: dict[str, np.ndarray] | None = None,
) -> tuple[list[Stride], int, int]:
    """Stride timing of ``side`` from its shank's own signals (inside ``span``): the strides,
    how many were dropped for crossing a gap in a sensor's samples (their events are guesses)
    and how many leg cycles were no strides. ``thigh``: the thigh's inclination and heading on
    the grid (:data:`INCLINATION`, :data:`HEADING`), where known, so that cycles with the
    thigh flexed throughout are no strides and turns are marked, as for a leg with angles."""
    grid = processed.grid
    track = grid.tracks[processed.rig.find("shank", side).name]
    _, events = shank_events(track.gyr, track.acc, grid.rate_hz, ShankEventDetector())
    times = events.times(grid.time_s)
    low, high = span if span is not None else (-np.inf, np.inf)
    segmenter = StrideSegmenter(side)
    strides = segmenter.update(
        grid.time_s,
        {SATURATED: leg_saturated(processed, side), **(thigh or {})},
        [t for t in times["heel_strike"] if low <= t <= high],
        [t for t in times["toe_off"] if low <= t <= high],
    )
    gaps = grid.time_s[~grid.valid]
    whole = [s for s in strides if not np.any((gaps >= s.start_s) & (gaps <= s.end_s))]
    return whole, len(strides) - len(whole), segmenter.not_walking


def _withheld_legs(processed: ProcessedSession, columns: dict) -> list[str]:
    """The legs with a shank whose angles are all missing — withheld for an unusable
    calibration: they still have stride timing from the shank's own signals."""
    return [
        side
        for side in processed.angles.legs
        if processed.rig.find("shank", side) is not None
        and not np.isfinite(columns[hip_ir(side)]).any()
    ]


def infer_activity(
    processed: ProcessedSession,
    time_s: np.ndarray,
    columns: dict,
    events: dict,
    inside: np.ndarray,
) -> str:
    """The activity of the samples ``inside`` (a mask of the session's grid)."""
    after = inside & (time_s > processed.calibration.standing_s[1])
    probe = LiveAnalysis(tuple(processed.angles.legs), processed.grid.rate_hz, "walk")
    probe.update(time_s, columns, events)
    lo, hi = (time_s[inside][0], time_s[inside][-1]) if inside.any() else (np.inf, -np.inf)
    walking = max(
        sum(
            s.stride_time_s
            for s in probe.strides
            if s.side == side and lo <= s.start_s and s.end_s <= hi
        )
        for side in probe.sides
    )
    if after.any() and walking >= WALK_SHARE * (time_s[after][-1] - time_s[after][0]):
        return "walk"
    rig = processed.rig
    for side in processed.angles.legs:
        er = after & (columns[hip_ir(side)] < -TEST_ER_DEG)
        if er.sum() >= TEST_ER_S * processed.grid.rate_hz:
            thigh = rig.find("thigh", side).name
            q_eb = quat.multiply(
                processed.grid.tracks[thigh].q_es[er], processed.calibration.q_sb[thigh]
            )
            front_up = np.median(quat.rotate(q_eb, X_AXIS)[:, 2]) > 0
            return "seated-test" if front_up else "prone-test"
    return "exercise"


def _findings(result: SessionAnalysis, sides: tuple[str, ...]) -> list[str]:
    """Warnings about what the analysis found (or did not)."""
    out = []
    if result.activity == "walk":
        for side in sides:
            if not any(s.side == side for s in result.strides):
                out.append(f"{side} leg: no strides found in a walking session")
        out += stance_warnings(result.strides)
        turning = sum(1 for s in result.strides if s.turning)
        if turning:
            out.append(f"{turning} turning strides are listed but left out of the gait summaries")
        if result.skipped_strides:
            out.append(f"{result.skipped_strides} strides skipped: angles missing during them")
        if result.not_walking:
            out.append(
                f"{result.not_walking} leg cycles with the thigh flexed beyond "
                f"{WALKING_THIGH_DEG:g}° throughout (pedalling or kicking seated) are not strides"
            )
    elif result.activity == "exercise" and not result.reps:
        out.append("no repetitions found in an exercise session")
    elif result.activity in ("seated-test", "prone-test") and not result.trials:
        out.append("no rotation-test trials found")
    out += trial_warnings(result.trials)
    return out
