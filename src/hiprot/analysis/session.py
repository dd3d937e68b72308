"""Batch analysis of one processed session: what was done, and its strides, reps or trials.

The session's activity comes from the command line, else ``session.json``
(``hiprot record --activity``), else from the data: strides covering half of
the time after the standing phase → ``walk``; the hip going into external
rotation (below −10° for 2 s or more) → a rotation test, ``seated-test`` when
the thigh's front faces up then, ``prone-test`` when it faces down; anything
else → ``exercise``. The metrics come from :class:`~hiprot.analysis.live.LiveAnalysis`
fed the whole session at once, so batch and live agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hiprot import quat
from hiprot.analysis.live import ACTIVITIES, LiveAnalysis
from hiprot.analysis.reps import Rep
from hiprot.analysis.rotation_tests import Trial
from hiprot.analysis.strides import Stride
from hiprot.columns import hip_ir, thigh_heading
from hiprot.geometry import X_AXIS
from hiprot.processing import ProcessedSession

TEST_ER_DEG = 10.0  # external rotation beyond this (for TEST_ER_S) marks a rotation test
TEST_ER_S = 2.0
WALK_SHARE = 0.5  # strides covering this share of the time after standing: a walk


@dataclass
class SessionAnalysis:
    """The analysed session: activity (and where it came from), strides, reps, trials, warnings."""

    activity: str | None
    activity_source: str
    strides: list[Stride] = field(default_factory=list)
    reps: list[Rep] = field(default_factory=list)
    trials: list[Trial] = field(default_factory=list)
    skipped_strides: int = 0
    warnings: list[str] = field(default_factory=list)


def analysis_inputs(processed: ProcessedSession) -> tuple[np.ndarray, dict, dict]:
    """(time_s, columns, events) for :class:`LiveAnalysis` from a processed session: the angle
    columns plus each thigh's heading, and each leg's gait events as times."""
    angles = processed.angles
    columns = dict(angles.columns)
    for side, leg in angles.legs.items():
        columns[thigh_heading(side)] = leg.thigh_heading_deg
    events = {
        side: {k: v.tolist() for k, v in leg.events.times(angles.time_s).items()}
        for side, leg in angles.legs.items()
    }
    return angles.time_s, columns, events


def analyze_session(processed: ProcessedSession, activity: str | None = None) -> SessionAnalysis:
    """Strides, reps or trials of ``processed``; a session without angles gets warnings only."""
    source = "command line"
    if activity is None and processed.session.meta.get("activity") in ACTIVITIES:
        activity, source = processed.session.meta["activity"], "session.json"
    if processed.angles is None:
        return SessionAnalysis(activity, source, warnings=["no joint angles: nothing to analyse"])
    time_s, columns, events = analysis_inputs(processed)
    sides = tuple(processed.angles.legs)
    rate_hz = processed.grid.rate_hz
    if activity is None:
        activity, source = (
            _infer_activity(processed, time_s, columns, events),
            "inferred from the data",
        )
    live = LiveAnalysis(sides, rate_hz, activity)
    live.update(time_s, columns, events)
    live.finish()
    result = SessionAnalysis(
        activity,
        source,
        live.strides,
        live.reps,
        live.trials,
        sum(s.skipped for s in live.segmenters.values()),
    )
    result.warnings += _findings(result, sides)
    return result


def _infer_activity(
    processed: ProcessedSession, time_s: np.ndarray, columns: dict, events: dict
) -> str:
    after = time_s > processed.calibration.standing_s[1]
    probe = LiveAnalysis(tuple(processed.angles.legs), processed.grid.rate_hz, "walk")
    probe.update(time_s, columns, events)
    walking = max(
        sum(s.stride_time_s for s in probe.strides if s.side == side) for side in probe.sides
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
        turning = sum(1 for s in result.strides if s.turning)
        if turning:
            out.append(f"{turning} turning strides are listed but left out of the gait summaries")
        if result.skipped_strides:
            out.append(f"{result.skipped_strides} strides skipped: angles missing during them")
    elif result.activity == "exercise" and not result.reps:
        out.append("no repetitions found in an exercise session")
    elif result.activity in ("seated-test", "prone-test") and not result.trials:
        out.append("no rotation-test trials found")
    return out
