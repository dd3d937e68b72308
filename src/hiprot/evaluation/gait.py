"""Scoring walking with a pelvis sensor against the simulator's truth (``scripts/gait_eval.py``
and the tests): the pelvis' angles while walking straight, and per straight stride the
ranges the product reports against the true ranges over the same stride."""

from __future__ import annotations

import numpy as np

from hiprot.columns import PELVIS_SEGMENT
from hiprot.evaluation.analysis import Scored

TURN_MARGIN_S = 1.0  # a turn's neighbourhood, left out of "straight" (strides span ±1 s)


def straight_walking(scored: Scored, time_s: np.ndarray) -> np.ndarray:
    """True on ``time_s`` after the calibration, inside the walk and away from its turns."""
    events = scored.sim.events
    end = max((e.time_s for e in events if e.event == "calibration_end"), default=0.0)
    strikes = [e.time_s for e in events if e.event == "heel_strike"]
    out = (time_s > end) & (time_s >= min(strikes, default=np.inf))
    out &= time_s <= max(strikes, default=-np.inf)
    for start in (e.time_s for e in events if e.event == "turn_start"):
        stop = min(e.time_s for e in events if e.event == "turn_end" and e.time_s >= start)
        out &= (time_s < start - TURN_MARGIN_S) | (time_s > stop + TURN_MARGIN_S)
    return out


def pelvis_rmse(scored: Scored, centred: bool = False) -> dict[str, float]:
    """RMSE (degrees) of each pelvis column over straight walking; ``centred``: each error
    less its mean over that span (what remains once a constant offset is taken out)."""
    angles = scored.processed.angles
    keep = straight_walking(scored, angles.time_s)
    out = {}
    for name in PELVIS_SEGMENT:
        truth = np.interp(angles.time_s, scored.sim.time_s, scored.sim.truth_deg[name])
        error = (angles.columns[name] - truth)[keep]
        error = error[np.isfinite(error)]
        if centred:
            error = error - error.mean()
        out[name] = float(np.sqrt(np.mean(error**2)))
    return out


def stride_range_errors(scored: Scored, measure: str, truth_column: str) -> np.ndarray:
    """Per straight stride: the product's ``measure`` minus the true range of ``truth_column``
    over the same stride (degrees), for strides where the measure is given."""
    t = scored.sim.time_s
    out = []
    for stride in scored.analysis.strides:
        value = getattr(stride, measure)
        if stride.turning or value is None:
            continue
        inside = (t >= stride.start_s) & (t <= stride.end_s)
        out.append(value - np.ptp(scored.sim.truth_deg[truth_column][inside]))
    return np.array(out)
