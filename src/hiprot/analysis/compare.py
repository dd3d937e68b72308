"""Across sessions: before/after comparison with its verdict, and each leg's history.

Both work from session reports (``report.json`` content, of this version or an earlier one:
names since changed are read under their current names). What is compared
depends on the activity both sessions share:

- rotation tests: per leg, the trial mean of peak internal and of peak external
  rotation (the best trial is reported too);
- walks: per leg, the IR range and the peak IR of the straight strides;
- exercises: per leg, the IR range of the repetitions.

A change counts as real only when it exceeds what the measurement's own spread
allows: the trials' (strides', repetitions') sample SDs in both sessions give,
through a two-sample t test at 95 %, the smallest detectable change
(:func:`~hiprot.analysis.rotation_tests.detectable_change`). Smaller changes
are reported as "no detectable change".
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from hiprot.analysis.formatting import rounded, sample_sd
from hiprot.analysis.rotation_tests import detectable_change
from hiprot.columns import (
    BEST,
    BEST_CHANGE,
    CHANGE,
    COMPENSATED,
    COUNT,
    DETECTABLE_CHANGE,
    HIP_ER_MAX,
    HIP_IR_MAX,
    HIP_IR_REFERENCE,
    HIP_IR_ROM,
    HISTORY_COLUMNS,
    MODE,
    SD,
    VALUE,
    current_names,
)
from hiprot.errors import HiprotError

# kind of session → [(measure, list in the report, key)]; values are taken per leg
TEST_MEASURES = [
    ("internal rotation (test, trial mean)", "tests", HIP_IR_MAX),
    ("external rotation (test, trial mean)", "tests", HIP_ER_MAX),
]
MEASURES = {
    "seated-test": TEST_MEASURES,
    "prone-test": TEST_MEASURES,
    "walk": [
        ("IR range per stride (walking)", "strides", HIP_IR_ROM),
        ("peak IR per stride (walking)", "strides", HIP_IR_MAX),
    ],
    "exercise": [("IR range per repetition", "reps", HIP_IR_ROM)],
}


class ComparisonError(HiprotError):
    """The sessions cannot be compared (different activities, no common leg, nothing measured)."""


def _family(report: dict) -> str | None:
    """What can be compared with what: the activity; hip IR measured against the same thing."""
    return report["session"]["activity"]


def leg_values(report: dict, side: str, listing: str, key: str) -> np.ndarray:
    """One leg's values of ``key`` in the report's ``strides`` (straight ones only), ``reps``
    or ``tests``."""
    if listing == "strides":
        rows = [s for s in report["strides"].get(side, []) if not s["turning"]]
    else:
        rows = [r for r in report[listing] if r["side"] == side]
    return np.array([r[key] for r in rows if r.get(key) is not None], float)


def compare(before: dict, after: dict) -> dict:
    """Per leg and measure: before, after, change, the smallest detectable change and a verdict."""
    before, after = current_names(before), current_names(after)
    family = _family(before)
    if family != _family(after) or family not in MEASURES:
        raise ComparisonError(
            f"cannot compare {before['session']['name']} ({before['session']['activity']}) "
            f"with {after['session']['name']} ({after['session']['activity']}): "
            "compare two sessions of the same kind (two seated tests, two prone tests, two walks "
            "or two exercises)"
        )
    references = {r["angles"][HIP_IR_REFERENCE] for r in (before, after)}
    if len(references) > 1:
        raise ComparisonError(
            f"cannot compare {before['session']['name']} with {after['session']['name']}: hip IR is "
            f"measured against different references ({' / '.join(sorted(references))}); "
            "wear the same sensors for both"
        )
    modes = {t.get(MODE) for r in (before, after) for t in r.get("tests", [])} - {None}
    if len(modes) > 1:
        raise ComparisonError(
            f"cannot compare {before['session']['name']} with {after['session']['name']}: "
            "active and passive range differ; compare tests of the same mode"
        )
    changes = []
    for side in ("right", "left"):
        for measure, listing, key in MEASURES[family]:
            b, a = leg_values(before, side, listing, key), leg_values(after, side, listing, key)
            if len(b) and len(a):
                change = _change(side, measure, key, b, a)
                if listing == "tests":
                    change |= _compensation(before, after, side)
                    change["verdict"] += compensation_note(change)
                changes.append(change)
    if not changes:
        raise ComparisonError(
            f"nothing to compare: no leg has {family} results in both "
            f"{before['session']['name']} and {after['session']['name']}"
        )
    return rounded({"before": _about(before), "after": _about(after), "changes": changes})


def _change(side: str, measure: str, key: str, b: np.ndarray, a: np.ndarray) -> dict:
    change = float(a.mean() - b.mean())
    threshold = detectable_change(sample_sd(b), len(b), sample_sd(a), len(a))
    detectable = None if threshold is None else bool(abs(change) > threshold)
    described = f"{side} {measure}: {change:+.1f}° (from {b.mean():.1f}° to {a.mean():.1f}°)"
    if detectable is None:
        verdict = f"{described}: repeatability unknown (a session has fewer than 2 values)"
    elif detectable:
        verdict = f"{described}: a real change (exceeds the {threshold:.1f}° repeatability)"
    else:
        verdict = f"{described}: no detectable change (within the {threshold:.1f}° repeatability)"
    return {
        "side": side,
        "measure": measure,
        "key": key,
        "before": _stats(b),
        "after": _stats(a),
        CHANGE: change,
        BEST_CHANGE: float(a.max() - b.max()),
        DETECTABLE_CHANGE: threshold,
        "detectable": detectable,
        "verdict": verdict,
    }


def _compensation(before: dict, after: dict, side: str) -> dict:
    """A test comparison's compensated trials per session (:data:`COMPENSATED`), said in its
    verdict: a compensated trial's pelvis moved enough to fake a probable change."""
    counts = {}
    for name, report in (("before", before), ("after", after)):
        flags = [t.get(COMPENSATED) for t in report["tests"] if t["side"] == side]
        counts[name] = None if any(f is None for f in flags) else sum(bool(f) for f in flags)
    return {COMPENSATED: counts}


def compensation_note(change: dict) -> str:
    """The verdict's words on compensated trials, if any."""
    counts = change.get(COMPENSATED) or {}
    parts = [f"{n} compensated trial(s) {when}" for when, n in counts.items() if n]
    return f" — {', '.join(parts)}" if parts else ""


def _stats(values: np.ndarray) -> dict:
    return {
        VALUE: float(values.mean()),
        SD: sample_sd(values),
        BEST: float(values.max()),
        COUNT: len(values),
    }


def _about(report: dict) -> dict:
    info = report["session"]
    return {key: info.get(key) for key in ("name", "path", "start_utc", "activity")}


def history(reports: list[dict]) -> dict:
    """Each session (oldest first) with each leg's measures: mean, SD and count."""
    ordered = sorted(
        (current_names(r) for r in reports),
        key=lambda r: (r["session"].get("start_utc") or "", r["session"]["name"]),
    )
    sessions = []
    for report in ordered:
        legs: dict = {}
        for side in ("right", "left"):
            for measure, listing, key in MEASURES.get(_family(report), []):
                values = leg_values(report, side, listing, key)
                if len(values):
                    legs.setdefault(side, {})[measure] = _stats(values)
        start = report["session"].get("start_utc")
        sessions.append({**_about(report), "date": start[:10] if start else None, "legs": legs})
    return rounded({"sessions": sessions})


def write_history_csv(path: Path, result: dict) -> None:
    """One row per session, leg and measure."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HISTORY_COLUMNS)
        for s in result["sessions"]:
            for side, measures in s["legs"].items():
                for measure, v in measures.items():
                    writer.writerow(
                        [
                            s["name"],
                            s["start_utc"],
                            s["activity"],
                            side,
                            measure,
                            v[VALUE],
                            v[SD],
                            v[BEST],
                            v[COUNT],
                        ]
                    )
