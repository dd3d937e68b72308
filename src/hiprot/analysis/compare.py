"""Before and after: the change of each leg's measures between two sessions and its verdict.

Works from session reports (``report.json`` content, of this version or an earlier one:
names since changed are read under their current names). What is compared depends on
the kind of session both share (:data:`MEASURES`):

- rotation tests: per leg, the trial mean of peak internal and of peak external
  rotation. With a pelvis sensor these are pelvis → femur figures, which the pelvis'
  tilt does not enter (the compensation limit is derived for the gravity figure, which
  reads it one to one: :mod:`hiprot.analysis.rotation_tests`), so every trial counts,
  and each change reports in both sessions the pelvis' mean tilt a trial and how many
  trials were compensated (``columns.COMPENSATED`` True: ``COMPENSATED_TRIALS``) — what the
  pelvis did instead; without one compensation cannot be excluded;
- walks: per leg, excursions of the straight strides — the IR range and the IR range
  in stance — not peaks, which depend on each session's zero; without a pelvis sensor the
  same excursions of the thigh's rotation relative to the walking direction, under that
  name: they hold pelvic rotation and are never a hip IR verdict;
- exercises: per leg, the IR range of the repetitions.

The verdict (:func:`judge`): **probable change** when the change exceeds the larger
of the within-session bound and the between-session MDC95
(:mod:`hiprot.analysis.change_threshold`), **within measurement error** otherwise,
**not comparable** when the sessions do not measure the same thing
(:mod:`hiprot.analysis.comparability`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hiprot.analysis.change_threshold import (
    PRIORS,
    BetweenSessionError,
    clusters,
    pooled_sem,
    standard_error,
    within_session_bound,
)
from hiprot.analysis.comparability import (
    Comparability,
    ComparisonError,
    SessionFacts,
    check,
    session_facts,
)
from hiprot.analysis.formatting import rounded, sample_sd
from hiprot.columns import (
    CHANGE,
    COMPENSATED,
    COMPENSATED_TRIALS,
    COUNT,
    DETECTABLE_CHANGE,
    HIP_ER_MAX,
    HIP_IR_MAX,
    HIP_IR_ROM,
    HIP_IR_ROM_STANCE,
    PELVIC_COMPENSATION,
    SD,
    VALUE,
    WALKING_RENAMES,
    current_names,
)

__all__ = ["ComparisonError", "compare", "leg_values", "MEASURES"]

PROBABLE = "probable change"
WITHIN = "within measurement error"
NOT_COMPARABLE = "not comparable"
TEST_MEASURES = [
    ("internal rotation (test, trial mean)", "tests", HIP_IR_MAX),
    ("external rotation (test, trial mean)", "tests", HIP_ER_MAX),
]
# kind of session → [(measure, list in the report, key)]; values are taken per leg
MEASURES = {
    "seated-test": TEST_MEASURES,
    "prone-test": TEST_MEASURES,
    "walk": [
        ("IR range per stride (walking)", "strides", HIP_IR_ROM),
        ("IR range in stance (walking)", "strides", HIP_IR_ROM_STANCE),
        (
            "thigh rotation range per stride, to the walking direction (not hip IR)",
            "strides",
            WALKING_RENAMES[HIP_IR_ROM],
        ),
        (
            "thigh rotation range in stance, to the walking direction (not hip IR)",
            "strides",
            WALKING_RENAMES[HIP_IR_ROM_STANCE],
        ),
    ],
    "exercise": [("IR range per repetition", "reps", HIP_IR_ROM)],
}


@dataclass
class LegValues:
    """One leg's values of a measure in one session, their clusters, and the pelvis' tilt in
    its trials (``compensation``: per trial where a pelvis sensor measured it; ``compensated``:
    how many were beyond the limit)."""

    values: np.ndarray
    bouts: np.ndarray | None  # walking bout of each stride; None: each value its own cluster
    compensation: np.ndarray = field(default_factory=lambda: np.empty(0))
    compensated: int = 0

    def stats(self) -> dict:
        se = standard_error(clusters(self.values, self.bouts))
        measured = len(self.compensation) > 0
        return {
            VALUE: float(self.values.mean()),
            SD: sample_sd(self.values),
            COUNT: len(self.values),
            "se_deg": None if se is None else se[0],
            PELVIC_COMPENSATION: float(self.compensation.mean()) if measured else None,
            COMPENSATED_TRIALS: self.compensated if measured else None,
        }


def leg_values(report: dict, side: str, listing: str, key: str) -> LegValues:
    """One leg's values of ``key`` in the report's straight ``strides`` (with their bout: the
    strides between two turns), ``reps`` or ``tests`` (with the pelvis' tilt in each)."""
    if listing == "strides":
        values, bouts, bout, turning = [], [], 0, False
        for s in report["strides"].get(side, []):
            if s.get("turning"):
                bout += not turning
                turning = True
                continue
            turning = False
            if s.get(key) is not None:
                values.append(s[key])
                bouts.append(bout)
        return LegValues(np.array(values, float), np.array(bouts))
    rows = [r for r in report[listing] if r.get("side") == side and r.get(key) is not None]
    tilts = [r[PELVIC_COMPENSATION] for r in rows if r.get(PELVIC_COMPENSATION) is not None]
    return LegValues(
        np.array([r[key] for r in rows], float),
        None,
        np.array(tilts, float),
        sum(r.get(COMPENSATED) is True for r in rows),
    )


def compare(
    before: dict,
    after: dict,
    repeats: dict | None = None,
    facts: tuple[SessionFacts, SessionFacts] | None = None,
) -> dict:
    """Per leg and measure: before, after, change, both thresholds and a verdict.

    ``repeats``: (side, key) → the person's same-day repeat differences (degrees) that
    update the prior; ``facts``: the sessions' facts when known from their files."""
    before, after = current_names(before), current_names(after)
    if facts is None:
        facts = (session_facts(None, before), session_facts(None, after))
    else:
        facts = (_with_report(facts[0], before), _with_report(facts[1], after))
    verdict = check(*facts)
    kind = facts[0].kind
    if kind not in MEASURES:
        raise ComparisonError(
            f"cannot compare {facts[0].name} with {facts[1].name}: {kind or 'unknown'} sessions "
            "have no measures to compare"
        )
    changes = []
    for side in verdict.sides:
        for measure, listing, key in MEASURES[kind]:
            b = leg_values(before, side, listing, key)
            a = leg_values(after, side, listing, key)
            if len(b.values) and len(a.values):
                error = pooled_sem(PRIORS[(kind, key)], (repeats or {}).get((side, key), []))
                changes.append(_change(side, measure, key, b, a, error, verdict))
    if not changes and verdict.comparable:
        raise ComparisonError(
            f"nothing to compare: no leg has {kind} results in both "
            f"{facts[0].name} and {facts[1].name}"
        )
    return rounded(_result(before, after, verdict, changes))


def not_comparable(before: SessionFacts, after: SessionFacts, verdict: Comparability) -> dict:
    """The result for sessions found not comparable from their files (nothing analysed)."""
    about = [
        {"name": f.name, "start_utc": f.start_utc, "activity": f.kind} for f in (before, after)
    ]
    return {
        "before": about[0],
        "after": about[1],
        "verdict": NOT_COMPARABLE,
        "reasons": verdict.reasons,
        "warnings": verdict.warnings,
        "changes": [],
    }


def _with_report(facts: SessionFacts, report: dict) -> SessionFacts:
    merged = session_facts(None, report)
    merged.kind = facts.kind or merged.kind
    merged.subject = facts.subject or merged.subject
    merged.repeat_of = facts.repeat_of or merged.repeat_of
    merged.start_utc = facts.start_utc or merged.start_utc
    merged.sides = merged.sides or facts.sides
    return merged


def _result(before: dict, after: dict, verdict: Comparability, changes: list) -> dict:
    return {
        "before": _about(before),
        "after": _about(after),
        "verdict": None if verdict.comparable else NOT_COMPARABLE,
        "reasons": verdict.reasons,
        "warnings": verdict.warnings,
        "changes": changes,
    }


def judge(change: float, within: float | None, mdc: float) -> tuple[float, str]:
    """The threshold in force (the larger bound) and the verdict of ``change``."""
    threshold = mdc if within is None else max(within, mdc)
    return threshold, PROBABLE if abs(change) > threshold else WITHIN


def _change(
    side: str,
    measure: str,
    key: str,
    b: LegValues,
    a: LegValues,
    error: BetweenSessionError,
    comparability: Comparability,
) -> dict:
    change = float(a.values.mean() - b.values.mean())
    within = within_session_bound(
        standard_error(clusters(b.values, b.bouts)), standard_error(clusters(a.values, a.bouts))
    )
    threshold, verdict = judge(change, within, error.mdc95_deg)
    if not comparability.comparable:
        verdict = NOT_COMPARABLE
    described = (
        f"{side} {measure}: {change:+.1f}° (from {b.values.mean():.1f}° to {a.values.mean():.1f}°)"
    )
    bound = f"MDC95 {error.mdc95_deg:.1f}°" + (
        f", within-session {within:.1f}°" if within is not None else ""
    )
    line = f"{described} vs {bound}: {verdict}"
    if verdict == NOT_COMPARABLE:
        line += f" ({'; '.join(comparability.reasons)})"
    line += f" [{error.source()}]"
    if len(b.compensation) and len(a.compensation):
        line += (
            f"; pelvis tilted {b.compensation.mean():.1f}° → {a.compensation.mean():.1f}° a "
            f"trial, compensated in {b.compensated} of {len(b.values)} → {a.compensated} of "
            f"{len(a.values)} trials"
        )
    return {
        "side": side,
        "measure": measure,
        "key": key,
        "before": b.stats(),
        "after": a.stats(),
        CHANGE: change,
        DETECTABLE_CHANGE: threshold,
        "within_session_deg": within,
        "mdc95_deg": error.mdc95_deg,
        "sem_deg": error.sem_deg,
        "sem_source": error.source(),
        "verdict": verdict,
        "line": line,
    }


def _about(report: dict) -> dict:
    info = report["session"]
    return {key: info.get(key) for key in ("name", "path", "start_utc", "activity")}
