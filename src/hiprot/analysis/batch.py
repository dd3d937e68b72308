"""Analysing recorded sessions on disk: one session's outputs, many sessions on all cores.

:func:`analyze_to` turns a session directory into its output directory:
``angles.csv``, ``orientations.csv``, ``report.json``, the tables of
:mod:`hiprot.analysis.report` and the PNG charts of :mod:`hiprot.analysis.plots`.
:func:`run_parallel` runs it over many sessions in worker processes and hands
back each result or the exception that ended it, so one bad session never
stops the others.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from hiprot.analysis.outputs import OutputSet, input_fingerprint
from hiprot.analysis.report import TABLES, build_report, tables, write_report, write_table
from hiprot.analysis.session import SessionAnalysis, analyze_session
from hiprot.analysis.session_files import SESSION_FILES, options
from hiprot.analysis.verdict import judge, refused, withhold
from hiprot.csvio import write_angles_csv
from hiprot.errors import AnalysisError, HiprotError
from hiprot.processing import ProcessedSession, process_session
from hiprot.recording import load_session

CHARTS = ("hip_ir.png", "gait_cycle.png", "strides.png", "reps.png", "tests.png")
OUTPUT_FILES = ("orientations.csv", "angles.csv", *TABLES, *CHARTS)  # all a run may write


def write_orientations(path: Path, processed: ProcessedSession) -> None:
    """``time_s,sensor,qw,qx,qy,qz`` rows, each sensor's ``q_ES`` at its own sample times."""
    with open(path, "w") as f:
        f.write("time_s,sensor,qw,qx,qy,qz\n")
        for name, o in processed.orientations.items():
            fmt = "%.6f," + name.replace("%", "%%") + ",%.6f,%.6f,%.6f,%.6f"
            np.savetxt(f, np.column_stack([o.time_s, o.q_es]), fmt=fmt)


def analyse(session, activity: str | None = None) -> tuple[ProcessedSession, SessionAnalysis, dict]:
    """Process and analyse a loaded session in memory: its processed data, analysis and report
    (a leg whose calibration is unusable has its angles withheld, as :func:`analyze_to`)."""
    processed = process_session(session)
    verdicts = {}
    if processed.angles is not None:
        verdicts = judge(
            processed.calibration.quality, processed.angles, tuple(processed.angles.legs)
        )
        processed.warnings += withhold(processed.angles, verdicts)
    check = processed.angles
    if refused(verdicts):
        processed.angles = None
    analysis = analyze_session(processed, activity)
    return processed, analysis, build_report(processed, analysis, verdicts, check)


def analyze_to(
    session_dir: Path, out_dir: Path, activity: str | None = None, charts: bool = True
) -> dict:
    """Analyse one session and write every output into ``out_dir``, ``report.json`` last
    (see :mod:`hiprot.analysis.outputs`); returns its report.

    A leg whose calibration is unusable has its angles withheld; a session left without
    joint angles raises :class:`AnalysisError` after writing what it could (orientations,
    stride timing, the report)."""
    fingerprint = input_fingerprint(session_dir, SESSION_FILES)  # before reading: as it was read
    processed, analysis, report = analyse(load_session(session_dir), activity)
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
                write_table(path, name, items)
        if charts:
            _charts(processed, report, outputs)
        outputs.finish(report, write_report)
    except OSError as exc:
        raise HiprotError(f"{out_dir}: cannot write the analysis: {exc.strerror or exc}") from exc
    if processed.angles is None:
        why = processed.warnings[-1] if processed.warnings else "no joint angles"
        raise AnalysisError(
            f"no joint angles: {why} (wrote {', '.join(report['files'])} to {out_dir})"
        )
    return report


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
