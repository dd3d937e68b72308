"""Over the weeks: one series per subject, kind of session, reference, leg and measure, its trend
and a first → latest verdict.

A session's date is its ``start_utc``; each series is ordered by it. The trend is
the least-squares slope of the session means against time in °/week with its 90 %
interval (Student t on n − 2 degrees of freedom), given from sessions on three
different days at least (sessions minutes apart say nothing per week). The
first → latest verdict is :func:`hiprot.analysis.compare.judge` on the first and the
latest session of the series. Same-day repeats (``repeat_of`` in ``session.json``)
are not points of a series: their difference from the session they repeat is the
person's own test–retest error (:func:`repeat_differences`), which updates the
published prior (:func:`hiprot.analysis.change_threshold.pooled_sem`).
Sessions are grouped per ``subject`` (absent: one unnamed subject). A session with segments
labelled with an activity (the guided session: test, exercises, re-test in one recording)
enters as those segments, each dated by its start (:func:`session_entries`).
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from scipy.special import stdtrit

from hiprot.activities import INFERRED
from hiprot.analysis.change_threshold import (
    PRIORS,
    clusters,
    pooled_sem,
    standard_error,
    within_session_bound,
)
from hiprot.analysis.comparability import SessionFacts, check, session_facts
from hiprot.analysis.compare import MEASURES, judge, leg_values
from hiprot.analysis.formatting import rounded
from hiprot.analysis.outputs import AnalysisOutputError, read_report
from hiprot.calibration.result import WALKING_ONLY
from hiprot.columns import (
    COMPENSATED_TRIALS,
    COUNT,
    HISTORY_COLUMNS,
    PHASE,
    SD,
    VALUE,
    current_names,
)

REPEAT_WITHIN_S = 3600.0  # a repeat is re-strapped, re-calibrated and re-tested within the hour
SECONDS_PER_WEEK = 7 * 86400.0
TREND_LEVEL = 0.90


def _time(start_utc: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(start_utc) if start_utc else None
    except ValueError:
        return None


def session_entries(
    session: Path, analysis_dir: Path, report: dict
) -> tuple[list[tuple[dict, SessionFacts]], list[str]]:
    """(report, facts) of a session for :func:`history`, and warnings. A session with segments
    labelled with an activity enters as those segments (each its report in ``analysis_dir``,
    named ``<session>/<segment>``, dated by its start, a ``before``/``after`` test in a series
    of its own, none a repeat: a repeat inside one recording shares its strapping and
    calibration), and as a whole only when its activity was given and no segment is labelled
    with it (a walk with a labelled test keeps its strides). Analysed whole, a guided session
    (test, exercises, re-test) is one inferred activity with the exercises' reps counted as
    trials. A labelled segment without results is left out, said in the warnings."""
    facts = session_facts(session, report)
    labelled = [s for s in report.get("segments") or [] if (s.get("labels") or {}).get("activity")]
    if not labelled:
        return [(report, facts)], []
    given = (report.get("session") or {}).get("activity_source") != INFERRED
    kinds = {s["labels"]["activity"] for s in labelled}
    entries = [(report, facts)] if given and facts.kind not in kinds else []
    warnings = (
        [
            f"{facts.name}: only its labelled segments are in the history; the rest, inferred "
            f"{facts.kind}, is not (give the session's activity to keep it)"
        ]
        if not given and facts.kind and facts.kind not in kinds
        else []
    )
    start = _time(facts.start_utc)
    for segment in labelled:
        try:
            part = read_report(analysis_dir / segment["dir"]) if segment.get("dir") else None
        except AnalysisOutputError as exc:
            part, why = None, str(exc)
        else:
            why = "not analysed (no joint angles)"
        if part is None:
            warnings.append(f"{facts.name}: segment {segment['name']} left out: {why}")
            continue
        entry = session_facts(session, part)
        entry.name = f"{facts.name}/{segment['name']}"
        entry.start_utc = (
            (start + timedelta(seconds=segment["start_s"])).isoformat(timespec="milliseconds")
            if start is not None
            else None
        )
        entry.phase = segment["labels"].get(PHASE)
        entry.repeat_of = None
        entries.append((part, entry))
    return entries, warnings


def is_repeat(first: SessionFacts, facts: SessionFacts) -> bool:
    """``facts`` is an explicit repeat of ``first``: marked so, the same kind, started within
    :data:`REPEAT_WITHIN_S` of it and comparable with it."""
    t0, t1 = _time(first.start_utc), _time(facts.start_utc)
    return (
        facts.repeat_of == first.name
        and t0 is not None
        and t1 is not None
        and abs((t1 - t0).total_seconds()) <= REPEAT_WITHIN_S
        and first.kind == facts.kind
        and first.kind in MEASURES
        and check(first, facts).comparable
    )


def repeat_differences(entries: list[tuple[dict, SessionFacts]]) -> dict:
    """(kind, side, key) → after − before of every explicit same-day repeat pair
    (:func:`is_repeat`)."""
    by_name = {facts.name: (report, facts) for report, facts in entries}
    out: dict = {}
    for report, facts in entries:
        if facts.repeat_of not in by_name:
            continue
        first_report, first = by_name[facts.repeat_of]
        if not is_repeat(first, facts):
            continue
        for side in check(first, facts).sides:
            for _, listing, key in MEASURES[facts.kind]:
                b = leg_values(first_report, side, listing, key).values
                a = leg_values(report, side, listing, key).values
                if len(a) and len(b):
                    out.setdefault((facts.kind, side, key), []).append(float(a.mean() - b.mean()))
    return out


def trend(weeks: np.ndarray, values: np.ndarray) -> dict | None:
    """Least-squares slope (°/week) with its 90 % interval; None with under 3 sessions or all
    on one date."""
    if len(values) < 3 or np.ptp(weeks) == 0:
        return None
    slope, intercept = np.polyfit(weeks, values, 1)
    residuals = values - (slope * weeks + intercept)
    dof = len(values) - 2
    s = np.sqrt(np.sum(residuals**2) / dof)
    se = s / np.sqrt(np.sum((weeks - weeks.mean()) ** 2))
    half = float(stdtrit(dof, 0.5 + TREND_LEVEL / 2) * se)
    return {
        "slope_deg_per_week": float(slope),
        "ci90_deg_per_week": [float(slope - half), float(slope + half)],
        "sessions": len(values),
        "weeks": float(np.ptp(weeks)),
    }


def _series_reference(facts: SessionFacts) -> str | None:
    """The reference a session's series is kept under: a session calibrated from walking
    (its zeros assumed) is not comparable with standing-calibrated ones — a series of its own;
    tests before and after the exercises each have their own (the day's acute effect is not
    the weeks' change)."""
    reference = facts.reference
    if facts.calibration_method == WALKING_ONLY:
        reference = f"{reference or 'reference unknown'}, calibrated from walking"
    if facts.phase is not None:
        reference = f"{reference or 'reference unknown'}, {facts.phase} the exercises"
    return reference


def history(entries: list[tuple[dict, SessionFacts]]) -> dict:
    """The sessions (oldest first) with each leg's measures, and every series with its trend and
    first → latest verdict. ``entries``: (report, facts) per session."""
    entries = [(current_names(r), f) for r, f in entries]
    entries.sort(key=lambda e: (e[1].start_utc or "", e[1].name))
    repeats = repeat_differences(entries)
    by_name = {facts.name: facts for _, facts in entries}
    sessions, series, earlier = [], {}, {}
    for report, facts in entries:
        reference = _series_reference(facts)
        group = (facts.subject, facts.kind, reference)
        warnings = check(earlier[group], facts).warnings if group in earlier else []
        earlier[group] = facts
        legs: dict = {}
        for side in facts.sides:
            for measure, listing, key in MEASURES.get(facts.kind, []):
                leg = leg_values(report, side, listing, key)
                if not len(leg.values):
                    continue
                legs.setdefault(side, {})[key] = {"measure": measure, **leg.stats()}
                first = by_name.get(facts.repeat_of or "")
                repeat = first is not None and is_repeat(first, facts)
                if repeat or side in facts.unusable or facts.posture_failed:
                    continue
                name = (facts.subject, facts.kind, reference, side, key)
                series.setdefault(name, []).append((facts, leg, measure))
        sessions.append(
            {
                "name": facts.name,
                "start_utc": facts.start_utc,
                "activity": facts.kind,
                "subject": facts.subject,
                "reference": reference,
                "repeat_of": facts.repeat_of,
                "warnings": warnings,  # against the previous session of its kind: moved strap...
                "legs": legs,
            }
        )
    return rounded(
        {
            "sessions": sessions,
            "series": [
                _series(name, points, repeats) for name, points in sorted(series.items(), key=str)
            ],
        }
    )


def _series(name: tuple, points: list, repeats: dict) -> dict:
    subject, kind, reference, side, key = name
    times = [_time(f.start_utc) for f, _, _ in points]
    dated = [k for k, t in enumerate(times) if t is not None]
    t0 = times[dated[0]] if dated else None
    weeks = np.array([(times[k] - t0).total_seconds() / SECONDS_PER_WEEK for k in dated])
    values = np.array([points[k][1].values.mean() for k in dated])
    error = pooled_sem(PRIORS[(kind, key)], repeats.get((kind, side, key), []))
    out = {
        "subject": subject,
        "activity": kind,
        "reference": reference,
        "side": side,
        "key": key,
        "measure": points[0][2],
        "points": [
            {"session": f.name, "start_utc": f.start_utc, **leg.stats()} for f, leg, _ in points
        ],
        "trend": trend(weeks, values) if len({times[k].date() for k in dated}) >= 3 else None,
        "mdc95_deg": error.mdc95_deg,
        "sem_source": error.source(),
        "first_to_latest": None,
    }
    if len(points) >= 2:
        first, last = points[0][1], points[-1][1]
        change = float(last.values.mean() - first.values.mean())
        within = within_session_bound(
            standard_error(clusters(first.values, first.bouts)),
            standard_error(clusters(last.values, last.bouts)),
        )
        threshold, verdict = judge(change, within, error.mdc95_deg)
        out["first_to_latest"] = {
            "from": points[0][0].name,
            "to": points[-1][0].name,
            "change_deg": change,
            "threshold_deg": threshold,
            "verdict": verdict,
        }
    return out


def summary_lines(result: dict) -> list[str]:
    """One line per session warned about (against the one before it), then one per series:
    first → latest with its verdict, and the trend."""
    lines = [f"{s['name']}: warning: {w}" for s in result["sessions"] for w in s["warnings"]]
    for s in result["series"]:
        who = f"{s['subject']}: " if s["subject"] else ""
        head = f"{who}{s['side']} {s['measure']} ({s['reference'] or 'reference unknown'})"
        verdict = s["first_to_latest"]
        if verdict is None:
            lines.append(f"{head}: one session")
            continue
        bound = f"MDC95 {s['mdc95_deg']:.1f}°"
        if verdict["threshold_deg"] > s["mdc95_deg"]:
            bound += f", within-session {verdict['threshold_deg']:.1f}°"
        line = (
            f"{head}: {verdict['change_deg']:+.1f}° from {verdict['from']} to {verdict['to']} vs "
            f"{bound}: {verdict['verdict']}"
        )
        if s["trend"]:
            lo, hi = s["trend"]["ci90_deg_per_week"]
            line += (
                f"; trend {s['trend']['slope_deg_per_week']:+.2f}°/week "
                f"(90 % interval {lo:+.2f} to {hi:+.2f})"
            )
        lines.append(line)
    return lines


def write_history_csv(path: Path, result: dict) -> None:
    """One row per session, leg and measure (machine-readable measure keys)."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HISTORY_COLUMNS)
        for s in result["sessions"]:
            for side, measures in s["legs"].items():
                for key, v in measures.items():
                    writer.writerow(
                        [
                            s["subject"] or "",
                            s["name"],
                            s["start_utc"],
                            s["activity"],
                            s["reference"],
                            side,
                            key,
                            v[VALUE],
                            v[SD],
                            v[COUNT],
                            "" if v[COMPENSATED_TRIALS] is None else v[COMPENSATED_TRIALS],
                            s["repeat_of"] or "",
                        ]
                    )
