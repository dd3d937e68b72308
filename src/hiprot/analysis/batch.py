"""Analysing recorded sessions on disk: one session's outputs, many sessions on all cores.

:func:`analyze_to` turns a session directory into its output directory:
``angles.csv``, ``orientations.csv``, ``report.json``, the tables of
:mod:`hiprot.analysis.report` and the PNG charts of :mod:`hiprot.analysis.plots`.
:func:`run_parallel` runs it over many sessions in worker processes and hands
back each result or the exception that ended it, so one bad session never
stops the others.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hiprot.activities import INFERRED
from hiprot.analysis.comparability import ComparisonError
from hiprot.analysis.compare import compare
from hiprot.analysis.outputs import OutputSet, input_fingerprint
from hiprot.analysis.report import TABLES, build_report, tables, write_report, write_table
from hiprot.analysis.session import (
    SessionAnalysis,
    analysis_inputs,
    analyze_session,
    infer_activity,
)
from hiprot.analysis.session_files import INPUT_FILES, options
from hiprot.analysis.verdict import judge, refused, withheld, withhold
from hiprot.columns import ACTIVITIES, HIP_IR_REFERENCE, PELVIS_TILT, PHASE
from hiprot.csvio import write_angles_csv, write_rows
from hiprot.errors import AnalysisError, HiprotError
from hiprot.kinematics.angles import SessionKinematics
from hiprot.kinematics.rotation_test import SWINGING_EXERCISE
from hiprot.processing import ProcessedSession, process_session, session_activity
from hiprot.recording import Segment, before_after_pairs, load_session

CHARTS = ("hip_ir.png", "pelvis.png", "gait_cycle.png", "strides.png", "reps.png", "tests.png")
SEGMENTS_DIR = "segments"  # one analysis directory per labelled segment, under the session's
SEGMENTS_INDEX = "segments.json"
OUTPUT_FILES = ("orientations.csv", "angles.csv", *TABLES, *CHARTS, SEGMENTS_INDEX)


def write_orientations(path: Path, processed: ProcessedSession) -> None:
    """``time_s,sensor,qw,qx,qy,qz`` rows, each sensor's ``q_ES`` at its own sample times."""
    with open(path, "w") as f:
        f.write("time_s,sensor,qw,qx,qy,qz\n")
        for name, o in processed.orientations.items():
            fmt = "%.6f," + name.replace("%", "%%") + ",%.6f,%.6f,%.6f,%.6f"
            write_rows(f, np.column_stack([o.time_s, o.q_es]), fmt)


@dataclass
class Analysed:
    """A session processed and analysed in memory (see :func:`analyse`)."""

    processed: ProcessedSession
    analysis: SessionAnalysis
    report: dict
    verdicts: dict  # per leg, the calibration verdict
    check: object  # the joint angles, kept where every leg was refused (their rests' check)


def judge_and_withhold(processed: ProcessedSession) -> dict:
    """Judge every leg of ``processed`` and withhold the angles of those judged unusable (its
    warnings say so); a session left with no leg has its angles set to None. The verdicts."""
    if processed.angles is None:
        return {}
    verdicts = judge(processed.calibration.quality, processed.angles, tuple(processed.angles.legs))
    lines = withhold(processed.angles, verdicts)
    processed.warnings += lines
    if refused(verdicts):
        processed.angles = None
        processed.no_angles = "; ".join(line for line in lines if "calibration unusable" in line)
    return verdicts


def remeasure_inferred_exercise(processed: ProcessedSession, activity: str | None) -> str | None:
    """Angles computed again as an exercise's when nobody named the activity (``activity``,
    ``session.json``, a segment label) and the data say exercise
    (:func:`~hiprot.analysis.session.infer_activity`: no walk, no rotation test's end-range
    hold); returns the activity inferred (None: named, or no angles to infer it from), so that
    the analysis need not infer it again. Not knowing the activity, the
    kinematics holds the rotation-test reference only where such a hold shows; the working
    leg of a standing IR activation (hip and knee at 90°) never holds still and was read on
    the hinge's thigh frame, 8-9° RMSE off on the simulator's realistic people
    (`scripts/return_to_zero_sweep.py`, which names no activity) against 0.8° as an exercise.
    A rotation test inferred needs nothing: its holds already set the reference. Live, with
    no activity, the angles stay the first kind (docs/methods.md)."""
    named = activity or processed.session.meta.get("activity") in ACTIVITIES
    if processed.angles is None or named or session_activity(processed.session).spans:
        return None
    time_s, columns, events = analysis_inputs(processed)
    inferred = infer_activity(processed, time_s, columns, events, np.ones(len(time_s), bool))
    if inferred != SWINGING_EXERCISE:
        return inferred
    notes = set(processed.angles.notes)
    processed.angles = SessionKinematics().compute(
        processed.rig, processed.grid, processed.calibration, activity=SWINGING_EXERCISE
    )
    processed.warnings = [w for w in processed.warnings if w not in notes]
    processed.warnings += processed.angles.notes
    return inferred


def analyse(session, activity: str | None = None) -> Analysed:
    """Process and analyse a loaded session in memory: its processed data, analysis and report
    (a leg whose calibration is unusable has its angles withheld, as :func:`analyze_to`)."""
    processed = process_session(session, activity=activity)
    inferred = remeasure_inferred_exercise(processed, activity)
    check = processed.angles
    verdicts = judge_and_withhold(processed)
    if inferred != SWINGING_EXERCISE and withheld(verdicts):
        inferred = None  # inferred from angles withheld since: the analysis infers it without them
    analysis = analyze_session(
        processed, inferred or activity, source=INFERRED if inferred else None
    )
    report = build_report(processed, analysis, verdicts, check)
    return Analysed(processed, analysis, report, verdicts, check)


def analyze_to(
    session_dir: Path, out_dir: Path, activity: str | None = None, charts: bool = True
) -> dict:
    """Analyse one session and write every output into ``out_dir``, ``report.json`` last
    (see :mod:`hiprot.analysis.outputs`); returns its report.

    A leg whose calibration is unusable has its angles withheld; a session left without
    joint angles raises :class:`AnalysisError` after writing what it could (orientations,
    stride timing, the report)."""
    fingerprint = input_fingerprint(session_dir, INPUT_FILES)  # before reading: as it was read
    done = analyse(load_session(session_dir), activity)
    processed, analysis, report = done.processed, done.analysis, done.report
    verdicts, check = done.verdicts, done.check
    report["input"] = {"fingerprint": fingerprint, "options": options(activity, charts)}
    try:
        outputs = OutputSet(out_dir, OUTPUT_FILES)
        with outputs.file("orientations.csv") as path:
            write_orientations(path, processed)
        if processed.angles is not None:
            with outputs.file("angles.csv") as path:
                write_angles_csv(path, processed.angles.time_s, processed.angles.columns)
        for name, items in tables(analysis).items():
            with outputs.file(name) as path:
                write_table(path, name, items, report["angles"][HIP_IR_REFERENCE])
        if charts:
            _charts(processed, report, outputs)
        segments = processed.session.timeline
        shutil.rmtree(out_dir / SEGMENTS_DIR, ignore_errors=True)  # an earlier run's
        if segments.segments:
            index = _analyze_segments(segments, processed, verdicts, check, activity, out_dir)
            with outputs.file(SEGMENTS_INDEX) as path:
                path.write_text(json.dumps(index, indent=2) + "\n")
            report["segments"], report["segment_pairs"] = index["segments"], index["pairs"]
            mixed = _mixed_warning(report["session"], index["segments"])
            report["warnings"] += mixed
            report["segments_mixed"] = bool(mixed)
        outputs.finish(report, write_report)
    except OSError as exc:
        raise HiprotError(f"{out_dir}: cannot write the analysis: {exc.strerror or exc}") from exc
    if processed.angles is None:
        why = processed.no_angles or "no joint angles"
        raise AnalysisError(
            f"no joint angles: {why} (wrote {', '.join(report['files'])} to {out_dir})"
        )
    return report


def _analyze_segments(
    timeline, processed: ProcessedSession, verdicts: dict, check, activity, out_dir: Path
) -> dict:
    """Each labelled segment analysed as its own activity (its label, else ``activity``, else
    inferred) into ``out_dir/segments/<name>/`` (report.json and tables); the index: every
    segment, what was found in it, and the before/after pairs its labels make with their
    comparison (:func:`_pair`)."""
    last_s = float(processed.grid.time_s[-1]) if len(processed.grid.time_s) else 0.0
    entries, reports = [], {}
    for segment in timeline.segments:
        entry = {**segment.as_dict(), "dir": f"{SEGMENTS_DIR}/{segment.name}"}
        if processed.angles is None:
            entry["dir"] = None
            entry["warnings"] = ["no joint angles: the segment was not analysed"]
            entries.append(entry)
            continue
        given = segment.labels.get("activity") or activity
        source = "segment label" if segment.labels.get("activity") else None
        analysis = analyze_session(processed, given, _span(segment, last_s), source)
        report = build_report(processed, analysis, verdicts, check)
        report["segment"] = segment.as_dict()
        target = OutputSet(out_dir / entry["dir"], OUTPUT_FILES)
        for name, items in tables(analysis).items():
            with target.file(name) as path:
                write_table(path, name, items, report["angles"][HIP_IR_REFERENCE])
        target.finish(report, write_report)
        reports[segment.name] = report
        entry.update(
            activity=analysis.activity,
            activity_source=analysis.activity_source,
            strides=len(analysis.strides),
            reps=len(analysis.reps),
            trials=len(analysis.trials),
            summaries=report["summaries"],
            warnings=analysis.warnings,
        )
        entries.append(entry)
    return {
        "segments": entries,
        "pairs": [_pair(b, a, reports) for b, a in before_after_pairs(timeline.segments)],
        "skipped_lines": timeline.skipped,
    }


def _pair(before: Segment, after: Segment, reports: dict) -> dict:
    """A before/after pair of segments with the comparison ``--compare`` makes of two sessions
    (:func:`hiprot.analysis.compare.compare`: change per leg and measure, threshold, verdict),
    of the pair's ``side`` when labelled, the person's same-day repeats aside (one recording
    has no re-strapped repeat); or why there is none."""
    pair: dict = {"before": before.name, "after": after.name}
    if before.name not in reports or after.name not in reports:
        pair["error"] = "not analysed (no joint angles)"
        return pair
    try:
        result = compare(*(_named(reports[s.name], s) for s in (before, after)))
    except ComparisonError as exc:
        pair["error"] = str(exc)
        return pair
    side = before.labels.get("side")
    changes = [c for c in result["changes"] if side is None or c["side"] == side]
    pair.update({k: result[k] for k in ("verdict", "reasons", "warnings")}, changes=changes)
    return pair


def _named(report: dict, segment: Segment) -> dict:
    """``report`` named after its segment (``<session>/<segment>``), for the comparison's words."""
    name = f"{report['session']['name']}/{segment.name}"
    return {**report, "session": {**report["session"], "name": name}}


def _mixed_warning(session: dict, segments: list[dict]) -> list[str]:
    """A warning when the whole session's analysis mixes what its labelled segments keep apart:
    another activity (a guided session: test, exercises, re-test, inferred as one activity) or
    tests before and after the exercises in one summary."""
    labels = [s["labels"] for s in segments]
    activities = sorted({x["activity"] for x in labels if "activity" in x})
    phases = {x[PHASE] for x in labels if PHASE in x}
    given = session["activity_source"] != INFERRED and session["activity"] not in activities
    if given or (set(activities) <= {session["activity"]} and len(phases) < 2):
        return []  # a given activity the labels leave alone (a walk with a labelled test) stands
    what = ", ".join(activities) or "no activity"
    return [
        f"the whole session was analysed as {session['activity'] or 'no activity'} "
        f"({session['activity_source']}), but its segments are labelled {what}"
        + (" before and after" if len(phases) > 1 else "")
        + ": each segment's own analysis is the one to read"
    ]


def _span(segment: Segment, last_s: float) -> tuple[float, float]:
    """A segment's (start, end) on the session clock; one never stopped ends with the data."""
    return segment.start_s, last_s if segment.end_s is None else segment.end_s


def _charts(processed: ProcessedSession, report: dict, outputs: OutputSet) -> None:
    try:
        from hiprot.analysis import (
            plots,
        )  # matplotlib only when charts are drawn (not on the logger)
    except ImportError as exc:
        raise HiprotError(
            f"charts need matplotlib ({exc}); reinstall hiprot or use --no-charts"
        ) from exc

    name = report["session"]["name"]
    summaries = report["summaries"]
    if processed.angles is not None:
        with outputs.file("hip_ir.png") as path:
            plots.hip_ir_timeline(processed.angles.time_s, processed.angles.columns, report, path)
        if PELVIS_TILT in processed.angles.columns:
            with outputs.file("pelvis.png") as path:
                plots.pelvis_timeline(processed.angles.time_s, processed.angles.columns, name, path)
    if summaries["gait"] is not None and processed.angles is not None:
        with outputs.file("gait_cycle.png") as path:
            plots.gait_cycle(summaries["gait"], path, name)
        with outputs.file("strides.png") as path:
            plots.stride_peaks(report["strides"], path, name)
    if report["reps"]:
        with outputs.file("reps.png") as path:
            plots.rep_bars(report["reps"], path, name)
    if report["tests"]:
        with outputs.file("tests.png") as path:
            plots.trial_bars(report["tests"], summaries["tests"], path, name)


def run_parallel(
    work: Callable, items: list, jobs: int | None = None, progress: Callable[[], None] | None = None
) -> Iterator[tuple[object, object, BaseException | None]]:
    """Yield ``(item, result, error)`` as each ``work(*item)`` finishes, in worker processes
    (``jobs``, default all cores; in this process when there is one item or one job)."""
    jobs = jobs or os.cpu_count() or 1
    if len(items) <= 1 or jobs == 1:
        for item in items:
            try:
                result, error = work(*item), None
            except Exception as exc:  # noqa: BLE001 - the caller reports it and goes on
                result, error = None, exc
            if progress:
                progress()
            yield item, result, error
        return
    with ProcessPoolExecutor(max_workers=min(jobs, len(items))) as pool:
        futures = {pool.submit(work, *item): item for item in items}
        for future in as_completed(futures):
            if progress:
                progress()
            error = future.exception()
            yield futures[future], None if error else future.result(), error
