"""Rotation-test trials scored against the simulator's truth (issue 17's targets).

Each trial the product found is matched with the true trial it lies in
(``trial_start``/``trial_end`` events); the true peak IR and ER are the extremes
of the true hip IR (pelvis → femur) in that trial, and the true pelvic
compensation is the scenario's tilt per degree of hip rotation times the larger
true swing from the trial's rest (:mod:`hiprot.sim.scenarios`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hiprot.analysis.rotation_tests import Trial
from hiprot.columns import hip_ir
from hiprot.evaluation.analysis import Scored
from hiprot.sim.realism import PRONE_ROLL_PER_DEG, SEATED_OBLIQUITY_PER_DEG, realism_of


@dataclass
class TrialScore:
    """One found trial with the truth of the trial it lies in (degrees)."""

    trial: Trial
    true_ir_deg: float
    true_er_deg: float
    true_compensation_deg: float

    @property
    def ir_error(self) -> float:
        return self.trial.hip_ir_max_deg - self.true_ir_deg

    @property
    def er_error(self) -> float:
        return self.trial.hip_er_max_deg - self.true_er_deg

    @property
    def compensation_error(self) -> float | None:
        found = self.trial.pelvic_compensation_deg
        return None if found is None else found - self.true_compensation_deg


def compensation_per_deg(scored: Scored) -> float:
    """The pelvis' tilt per degree of hip rotation in the simulated test (0 without)."""
    config = scored.processed.rig.simulation
    if not realism_of(config).compensation:
        return 0.0
    if config.compensation_per_deg is not None:
        return config.compensation_per_deg
    seated = config.scenario == "seated-ir"
    return SEATED_OBLIQUITY_PER_DEG if seated else PRONE_ROLL_PER_DEG


def score_trials(scored: Scored) -> list[TrialScore]:
    """Every found trial that lies in a true one, with that trial's truth."""
    per_deg = compensation_per_deg(scored)
    t = scored.sim.time_s
    out = []
    for trial in scored.analysis.trials:
        truth = scored.sim.truth_deg[hip_ir(trial.side)]
        starts = scored.true_events(trial.side, "trial_start")
        ends = scored.true_events(trial.side, "trial_end")
        for a, b in zip(starts, ends):
            if a - 1.0 <= trial.start_s and trial.end_s <= b + 2.0:
                inside = truth[(t >= a) & (t <= b)]
                rest = float(inside[0])
                swing = max(inside.max() - rest, rest - inside.min())
                out.append(
                    TrialScore(trial, float(inside.max()), float(-inside.min()), per_deg * swing)
                )
                break
    return out


def true_trial_count(scored: Scored, side: str) -> int:
    """How many trials the simulated person did with leg ``side``."""
    return len(scored.true_events(side, "trial_start"))


def largest(values) -> float:
    """The largest absolute value (NaN when there is none)."""
    values = np.abs(np.asarray([v for v in values if v is not None], float))
    return float(values.max()) if len(values) else float("nan")
