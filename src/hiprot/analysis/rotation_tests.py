"""Seated and prone hip-rotation tests: trials, peak IR and ER, best of trials, repeatability.

In both tests the knee is bent 90° and the foot swings outward (hip internal
rotation, IR) to the end of range, back, then inward (external rotation, ER)
and back. Each swing is an excursion of the hip IR angle
(:mod:`hiprot.analysis.excursions`); an IR and an ER excursion next to each
other (either order) make one trial. A swing without its partner is still a
trial, with the other peak missing. The knee stays bent through a trial: while
the knee bends or straightens (sitting down, lying down, bending the knee to
start) no swing counts, and neutral is where the hip angle settles after it.
ER is reported positive (``hip_er_max_deg`` is minus the lowest hip IR angle).

Repeatability comes from the trials themselves: their spread (sample SD) is
the test's trial-to-trial error. ``detectable_change`` is the smallest change
of the trial mean that a reassessment with as many trials would show at 95 %
confidence (two-sample t test with that SD in both sessions), and never less
than 1°: three nearly identical trials say little about the next session, and
the angles themselves are not better than that.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import t as student_t

from hiprot.analysis.excursions import Excursion, ExcursionDetector
from hiprot.analysis.formatting import rounded, sample_sd
from hiprot.columns import TEST_DIRECTIONS, trial_summary_key

TESTS = {"seated-test": "seated-ir", "prone-test": "prone-ir"}
MIN_DETECTABLE_DEG = 1.0  # no change under a degree is called real, however alike the trials


@dataclass
class Trial:
    """One trial; the fields are the ``test`` metrics (report and MQTT)."""

    test: str
    side: str
    trial: int
    start_s: float
    end_s: float
    hip_ir_max_deg: float | None
    hip_er_max_deg: float | None
    ir_peak_s: float | None
    er_peak_s: float | None

    def payload(self) -> dict:
        """JSON-ready metrics (rounded)."""
        return rounded(asdict(self))


class TrialDetector:
    """Find one leg's trials of ``test`` (``seated-ir`` or ``prone-ir``) as samples arrive.

    ``min_range_deg``: smallest swing away from neutral that counts.
    """

    def __init__(self, test: str, side: str, rate_hz: float, min_range_deg: float = 6.0):
        self.test = test
        self.side = side
        self.detector = ExcursionDetector(rate_hz, (1, -1), min_range_deg=min_range_deg)
        self.pending: Excursion | None = None
        self.trials: list[Trial] = []

    def update(
        self, time_s: np.ndarray, hip_ir_deg: np.ndarray, knee_flexion_deg: np.ndarray | None = None
    ) -> list[Trial]:
        """Feed samples in time order (with the knee angle when measured: while the knee bends
        or straightens the person is getting into position); returns the trials completed."""
        done = []
        for swing in self.detector.update(time_s, hip_ir_deg, knee_flexion_deg):
            if self.pending is None:
                self.pending = swing
            elif self.pending.direction != swing.direction:
                done.append(self._trial(self.pending, swing))
                self.pending = None
            else:
                done.append(self._trial(self.pending))
                self.pending = swing
        return done

    def finish(self) -> list[Trial]:
        """The last trial when it has only one swing."""
        if self.pending is None:
            return []
        trial, self.pending = self._trial(self.pending), None
        return [trial]

    def _trial(self, *swings: Excursion) -> Trial:
        ir = next((s for s in swings if s.direction > 0), None)
        er = next((s for s in swings if s.direction < 0), None)
        trial = Trial(
            self.test,
            self.side,
            len(self.trials) + 1,
            min(s.start_s for s in swings),
            max(s.end_s for s in swings),
            ir.peak_deg if ir else None,
            -er.peak_deg if er else None,
            ir.peak_s if ir else None,
            er.peak_s if er else None,
        )
        self.trials.append(trial)
        return trial


def detectable_change(
    sd_before: float | None, n_before: int, sd_after: float | None, n_after: int
) -> float | None:
    """Smallest change of a trial mean that exceeds the trial-to-trial spread at 95 % confidence
    (pooled two-sample t test), and never under MIN_DETECTABLE_DEG; None when a session has
    fewer than two trials."""
    if sd_before is None or sd_after is None or n_before < 2 or n_after < 2:
        return None
    dof = n_before + n_after - 2
    pooled = np.sqrt(((n_before - 1) * sd_before**2 + (n_after - 1) * sd_after**2) / dof)
    spread = float(student_t.ppf(0.975, dof) * pooled * np.sqrt(1 / n_before + 1 / n_after))
    return max(spread, MIN_DETECTABLE_DEG)


def trial_summary(trials: list[Trial]) -> dict:
    """Per leg: trials, best/mean/SD of peak IR and ER, and the change a retest could detect."""
    out = {}
    for side in sorted({t.side for t in trials}):
        mine = [t for t in trials if t.side == side]
        leg: dict = {"test": mine[0].test, "trials": len(mine)}
        for name, key in TEST_DIRECTIONS.items():
            values = np.array([getattr(t, key) for t in mine if getattr(t, key) is not None])
            sd = sample_sd(values)
            leg[f"{name}_trials"] = len(values)
            leg[trial_summary_key(name, "best")] = float(values.max()) if len(values) else None
            leg[trial_summary_key(name, "mean")] = float(values.mean()) if len(values) else None
            leg[trial_summary_key(name, "sd")] = sd
            leg[trial_summary_key(name, "detectable_change")] = detectable_change(
                sd, len(values), sd, len(values)
            )
        out[side] = leg
    return rounded(out)
