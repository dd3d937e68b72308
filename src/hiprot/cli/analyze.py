"""``hiprot analyze``: angles, strides, reps, test results, reports and charts of sessions;
``--compare BEFORE AFTER`` and ``--history DIR`` across sessions."""

from __future__ import annotations

import json
import os
import traceback
from contextlib import nullcontext
from pathlib import Path

import click

from hiprot.analysis.batch_summary import summary_rows, write_summary_csv
from hiprot.analysis.comparability import check, refuse_kinds, session_facts
from hiprot.analysis.compare import compare, not_comparable
from hiprot.analysis.history import (
    history,
    repeat_differences,
    session_entries,
    summary_lines,
    write_history_csv,
)
from hiprot.analysis.outputs import code_hash, read_report
from hiprot.analysis.session_files import cached, session_dirs
from hiprot.calibration.result import WALKING_ONLY
from hiprot.cli.console import Progress
from hiprot.columns import (
    ACTIVITIES,
    CADENCE,
    HIP_IR_MAX,
    HIP_IR_ROM,
    STANCE_MEDIAN,
    STANCE_PLAUSIBLE,
    WALKING_RENAMES,
    mean_key,
    sd_key,
    trial_summary_key,
)
from hiprot.errors import AnalysisError, EmptySessionError, HiprotError
from hiprot.files import atomic_path, private_dir

EXISTING_DIR = click.Path(exists=True, file_okay=False, path_type=Path)
IR_BEST, IR_MEAN, IR_SD = (trial_summary_key("ir", s) for s in ("best", "mean", "sd"))
ER_BEST = trial_summary_key("er", "best")
SUMMARY_FILE = "summary.csv"  # a batch's measures, one row per session, leg and measure


def _targets(sessions: list[Path], out_dir: Path | None) -> list[tuple[Path, Path]]:
    """(session, output directory): ``SESSION/analysis`` by default; with ``--out``, that
    directory for one session and a subdirectory per session for several."""
    if out_dir is None:
        return [(s, s / "analysis") for s in sessions]
    if len(sessions) == 1:
        return [(sessions[0], out_dir)]
    names = [s.name for s in sessions]
    return [
        (s, out_dir / (s.name if names.count(s.name) == 1 else f"{s.parent.name}-{s.name}"))
        for s in sessions
    ]


def _summary_lines(report: dict) -> list[str]:
    """A few lines for the terminal: what was found, per leg."""
    info, summaries = report["session"], report["summaries"]
    lines = [f"  activity: {info['activity'] or 'unknown'} ({info['activity_source']})"]
    calibration = report.get("calibration") or {}
    verdicts = calibration.get("verdict") or {}
    if verdicts:
        walking = calibration.get("method") == WALKING_ONLY
        lines.append(
            "  calibration"
            + (" (from walking: zeros assumed)" if walking else "")
            + ": "
            + ", ".join(
                f"{side} {v['verdict']}" + (f" ({', '.join(v['reasons'])})" if v["reasons"] else "")
                for side, v in verdicts.items()
            )
        )
    for rest in (report.get("return_to_zero") or {}).get("rests", []):
        readings = ", ".join(
            f"{name.removesuffix('_deg').replace('_', ' ')} {value:+.1f}°"
            for name, value in rest["angles_deg"].items()
        )
        lines.append(
            f"  return to zero, standing at {rest['start_s']:.0f}-{rest['end_s']:.0f} s: {readings}"
        )
    if report.get("segments_mixed"):  # its per-leg figures mix test, exercises and re-test
        lines.append("  whole session: mixes what its segments keep apart; per segment below")
    else:
        lines += _leg_lines(summaries, "  ")
    for segment in report.get("segments") or []:
        found = ", ".join(
            f"{segment[k]} {k}" for k in ("strides", "reps", "trials") if segment.get(k)
        )
        if segment.get("dir"):
            what = segment.get("activity") or "no activity"
            lines.append(
                f"  segment {segment['name']} ({what}): {found or 'nothing found'}, in "
                f"{segment['dir']}"
            )
            lines += _leg_lines(segment.get("summaries") or {}, "    ")
        else:
            lines.append(f"  segment {segment['name']}: not analysed")
    for pair in report.get("segment_pairs") or []:
        lines.append(f"  before/after: {pair['before']} -> {pair['after']}")
        if pair.get("error"):
            lines.append(f"    no comparison: {pair['error']}")
        if pair.get("verdict") and not pair.get("changes"):  # the change lines carry the reasons
            lines.append(f"    {pair['verdict']}: {'; '.join(pair['reasons'])}")
        lines += [f"    {change['line']}" for change in pair.get("changes", [])]
        lines += [f"    warning: {warning}" for warning in pair.get("warnings", [])]
    return lines + [f"  note: {w}" for w in report["warnings"]]


def _leg_lines(summaries: dict, indent: str) -> list[str]:
    """Per leg, what an analysis found: strides, reps or test trials and their figures."""
    lines = []
    for side, leg in (summaries.get("gait") or {}).get("legs", {}).items():
        ir = leg.get(HIP_IR_MAX)
        rom = leg.get(HIP_IR_ROM)
        what, short = "IR", "IR"
        if ir is None and rom is None:  # thigh + shank: not hip IR (columns.WALKING_RENAMES)
            what, short = "thigh rotation (to the walking direction)", "thigh rotation"
            ir, rom = (leg.get(WALKING_RENAMES[k]) for k in (HIP_IR_MAX, HIP_IR_ROM))
        angles = (
            f"peak {what} {ir['mean']:.1f} ± {ir['sd'] or 0:.1f}°, "
            f"{short} range {rom['mean']:.1f} ± {rom['sd'] or 0:.1f}°, "
            if ir and rom
            else ""
        )
        lines.append(
            f"{indent}{side}: {leg['strides']} strides ({leg['turning_strides']} turning), "
            f"cadence {leg.get(CADENCE, {}).get('mean', float('nan')):.0f} steps/min, "
            f"{angles}stance {leg[STANCE_MEDIAN]:.0f} %"
            + ("" if leg[STANCE_PLAUSIBLE] else " (implausible: events doubtful)")
        )
    for side, leg in (summaries.get("reps") or {}).items():
        lines.append(
            f"{indent}{side}: {leg['reps']} reps in {leg['sets']} sets, IR range "
            f"{leg[mean_key(HIP_IR_ROM)]:.1f} ± {leg[sd_key(HIP_IR_ROM)] or 0:.1f}°"
        )
    for side, leg in (summaries.get("tests") or {}).items():
        lines.append(
            f"{indent}{side}: {leg['trials']} trials, peak IR best {_deg(leg[IR_BEST])} "
            f"(mean {_deg(leg[IR_MEAN])} ± {_deg(leg[IR_SD])}), peak ER best "
            f"{_deg(leg[ER_BEST])}"
        )
    return lines


def _deg(value) -> str:
    return "-" if value is None else f"{value:.1f}°"


def _analyze_all(
    pairs: list[tuple[Path, Path]],
    activity: str | None,
    jobs: int | None,
    charts: bool,
    skip_empty: bool = True,
    reuse: bool = False,
) -> tuple[dict[Path, dict], int, int]:
    """Analyse every session (in parallel when several), print a result or one error line each;
    returns the reports by session (read back and checked from disk), the number that failed
    and the number skipped: among several sessions (``skip_empty``), one without any sample (a
    recording killed while it started) gets a warning instead of an error. ``reuse``: a
    session whose earlier results still hold (same files, software and options) is not
    analysed again."""
    reports, failed, skipped = {}, 0, 0
    if reuse:
        for session, target in pairs:
            report = cached(session, target, activity, charts)
            if report is not None:
                reports[session] = report
        if reports:
            click.echo(f"reused the results of {len(reports)} unchanged sessions")
    items = [
        (session, target, activity, charts) for session, target in pairs if session not in reports
    ]
    if not items:
        return reports, failed, skipped
    from hiprot.analysis.batch import analyze_to, run_parallel  # the heavy part: only when needed

    with Progress("analysing sessions", len(items)) if len(items) > 1 else nullcontext() as bar:
        echo = bar.echo if bar is not None else click.echo
        for (session, target, *_), _report, error in run_parallel(
            analyze_to, items, jobs, bar.step if bar is not None else None
        ):
            written = error is None or isinstance(error, AnalysisError)
            if written:  # also a session without joint angles: what it has was written
                try:
                    reports[session] = read_report(target)
                except HiprotError as exc:
                    error = exc
            if session in reports:
                echo(f"{session}: results in {target}")
                for line in _summary_lines(reports[session]):
                    echo(line)
            if error is None:
                continue
            if isinstance(error, EmptySessionError) and skip_empty and len(items) > 1:
                skipped += 1
                echo(f"hiprot: warning: {session}: skipped: {error}", err=True)
            elif isinstance(error, HiprotError):
                failed += 1
                echo(f"hiprot: error: {session}: {error}", err=True)
            else:
                failed += 1
                echo(f"hiprot: error: {session}: unexpected failure, traceback follows", err=True)
                echo("".join(traceback.format_exception(error)), err=True)
    return reports, failed, skipped


@click.command()
@click.argument("sessions", nargs=-1, type=EXISTING_DIR)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where results go (default: SESSION/analysis; one subdirectory per session "
    "when several are given).",
)
@click.option(
    "--compare",
    "pair",
    nargs=2,
    type=EXISTING_DIR,
    default=None,
    metavar="BEFORE AFTER",
    help="Compare two sessions (e.g. a test before and after exercises): change per leg, "
    "the change threshold (within-session spread and between-session MDC95) and a verdict. "
    "Writes compare.json and compare.png (into --out, default AFTER/analysis).",
)
@click.option(
    "--history",
    "history_dir",
    type=EXISTING_DIR,
    default=None,
    metavar="DIR",
    help="Each leg's hip rotation over all sessions in DIR by date, with a trend per measure "
    "and a first-to-latest verdict: history.json, history.csv and history.png (into --out, "
    "default DIR/history).",
)
@click.option(
    "--activity",
    type=click.Choice(ACTIVITIES),
    default=None,
    help="What the sessions are (default: session.json's activity, else inferred from the data).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes for several sessions (default: all cores).",
)
@click.option("--no-charts", is_flag=True, help="Skip the PNG charts.")
def analyze(sessions, out_dir, pair, history_dir, activity, jobs, no_charts) -> None:
    """Joint angles, strides, repetitions and rotation-test results of each SESSION (a directory
    of sessions stands for all of them): angles.csv, orientations.csv, report.json,
    strides.csv / reps.csv / tests.csv and PNG charts. Exit status 2 if any session failed."""
    modes = sum(bool(m) for m in (sessions, pair, history_dir))
    if modes != 1:
        raise click.UsageError(
            "give SESSION..., or --compare BEFORE AFTER, or --history DIR (one of them)"
        )
    charts = not no_charts
    if pair:
        _compare(list(pair), out_dir, activity, jobs, charts)
    elif history_dir:
        _history(history_dir, out_dir, activity, jobs, charts)
    else:
        found = session_dirs(list(sessions))
        pairs = _targets(found, out_dir)
        reports, failed, skipped = _analyze_all(pairs, activity, jobs, charts)
        last = None
        if len(found) > 1 or found != list(sessions):  # a batch: its summary and counts
            last = _batch_summary(pairs, reports, out_dir, len(found) - failed - skipped, failed)
        try:
            _exit_if_failed(failed, skipped, len(found))
        finally:
            if last is not None:
                click.echo(last)  # the batch's last line, after what failed or was skipped


def _batch_summary(
    pairs: list[tuple[Path, Path]],
    reports: dict[Path, dict],
    out_dir: Path | None,
    analysed: int,
    failed: int,
) -> str:
    """``summary.csv`` over the sessions with results (also those that failed after writing
    some, such as stride timing without joint angles), in ``--out`` (default: the directory
    holding them all); returns the batch's last line: ``N analysed, M failed, results in DIR``
    (skipped empty sessions are neither)."""
    target = out_dir or Path(os.path.commonpath([s.parent.absolute() for s, _ in pairs]))
    if reports:
        results = [
            (os.path.relpath(where.absolute(), target.absolute()), reports[session])
            for session, where in pairs
            if session in reports
        ]
        try:
            private_dir(target)
            with atomic_path(target / SUMMARY_FILE) as path:
                write_summary_csv(path, summary_rows(results))
        except OSError as exc:
            raise HiprotError(
                f"{target}: cannot write {SUMMARY_FILE}: {exc.strerror or exc}"
            ) from exc
    return f"{analysed} analysed, {failed} failed, results in {target}"


def _exit_if_failed(failed: int, skipped: int, total: int) -> None:
    """Exit status 2 if any session failed (skipped empty ones do not count, unless nothing was
    analysed); the counts when there were several (one has its line)."""
    if skipped:
        click.echo(
            f"hiprot: {skipped} of {total} sessions skipped: no samples (recording interrupted "
            "before its first write)",
            err=True,
        )
    if failed:
        if total > 1:
            click.echo(f"hiprot: {failed} of {total} sessions failed", err=True)
        raise click.exceptions.Exit(2)
    if skipped == total:
        raise click.exceptions.Exit(2)


def _begin(target: Path, summary: str) -> None:
    """Make ``target`` and remove its previous ``summary`` file, which is written last: one
    present always belongs with the files beside it."""
    private_dir(target)
    (target / summary).unlink(missing_ok=True)


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


def _compare(pair: list[Path], out_dir: Path | None, activity, jobs, charts: bool) -> None:
    """Decide comparability from the files (and results still valid), refuse or report
    "not comparable" without analysing, then analyse what is not cached and compare."""
    targets = _targets(pair, out_dir)
    before, after = (session_facts(s, cached(s, t, activity, charts)) for s, t in targets)
    if activity is not None:  # --activity names the kind of both
        before.kind = after.kind = activity
    refuse_kinds(before, after)
    target = out_dir or pair[1] / "analysis"
    early = check(before, after)
    if not early.comparable:
        result = not_comparable(before, after, early)
    else:
        reports, failed, _ = _analyze_all(targets, activity, jobs, charts, False, reuse=True)
        _exit_if_failed(failed, 0, len(pair))
        facts = tuple(session_facts(s, reports[s]) for s in pair)
        repeats = _own_repeats(pair, facts[1].kind, activity, charts)
        result = compare(reports[pair[0]], reports[pair[1]], repeats, facts)
    try:
        _begin(target, "compare.json")
        if charts and result["changes"]:
            from hiprot.analysis import plots  # matplotlib only when charts are drawn

            with atomic_path(target / "compare.png") as path:
                plots.comparison(result, path)
        with atomic_path(target / "compare.json") as path:  # last: the comparison is complete
            _write_json(path, result)
    except OSError as exc:
        raise HiprotError(f"{target}: cannot write the comparison: {exc.strerror or exc}") from exc
    click.echo(f"before {result['before']['name']}, after {result['after']['name']}:")
    if result["verdict"]:
        click.echo(f"  {result['verdict']}: {'; '.join(result['reasons'])}")
    for change in result["changes"]:
        click.echo(f"  {change['line']}")
    for warning in result["warnings"]:
        click.echo(f"  warning: {warning}")
    click.echo(f"comparison in {target}")


def _own_repeats(pair: list[Path], kind, activity, charts: bool) -> dict:
    """(side, key) → the person's same-day repeat differences among the sessions beside BEFORE
    and AFTER whose results are already there (``repeat_of`` marks a repeat)."""
    entries = []
    for session in session_dirs(sorted({p.parent for p in pair})):
        report = cached(session, session / "analysis", activity, charts)
        if report is not None:
            entries.append((report, session_facts(session, report)))
    return {
        (side, key): d for (k, side, key), d in repeat_differences(entries).items() if k == kind
    }


def _previous_history(target: Path, inputs: dict, charts: bool) -> dict | None:
    """The history written before from the same analysis runs by the same code (and its chart
    when charts are wanted), or None."""
    try:
        previous = json.loads((target / "history.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(previous, dict) or previous.get("inputs") != inputs:
        return None
    if charts and not (target / "history.png").is_file():
        return None
    return previous


def _write_history(target: Path, result: dict, charts: bool) -> None:
    try:
        _begin(target, "history.json")
        with atomic_path(target / "history.csv") as path:
            write_history_csv(path, result)
        if charts:
            from hiprot.analysis import plots  # matplotlib only when charts are drawn

            with atomic_path(target / "history.png") as path:
                plots.history(result, path)
        with atomic_path(target / "history.json") as path:  # last: the history is complete
            _write_json(path, result)
    except OSError as exc:
        raise HiprotError(f"{target}: cannot write the history: {exc.strerror or exc}") from exc


def _history(directory: Path, out_dir: Path | None, activity, jobs, charts: bool) -> None:
    found = session_dirs([directory])
    if found == [directory]:
        raise HiprotError(f"{directory}: no session directories in it")
    pairs = _targets(found, out_dir)
    reports, failed, skipped = _analyze_all(pairs, activity, jobs, charts, reuse=True)
    if reports:
        target = out_dir or directory / "history"
        inputs = {
            "code": code_hash(),
            "runs": sorted([str(s), r["run_id"]] for s, r in reports.items()),
        }
        result = _previous_history(target, inputs, charts)
        if result is None:
            where, entries, left_out = dict(pairs), [], []
            for session, report in reports.items():
                parts, warnings = session_entries(session, where[session], report)
                entries += parts
                left_out += warnings
            result = history(entries)
            result["left_out"] = left_out
            result["inputs"] = inputs
            _write_history(target, result, charts)
        for line in summary_lines(result):
            click.echo(f"  {line}")
        for warning in result.get("left_out", []):
            click.echo(f"  warning: {warning}")
        count = len(result["sessions"])
        click.echo(
            f"history of {len(reports)} sessions"
            + (f" ({count} entries, labelled segments apart)" if count != len(reports) else "")
            + f" in {target}"
        )
    _exit_if_failed(failed, skipped, len(found))
