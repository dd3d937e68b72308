"""Session directories on disk and the results already there: light to import, so that
comparing and charting history from cached results starts quickly."""

from __future__ import annotations

from pathlib import Path

from hiprot.activities import SEGMENTS_FILE
from hiprot.analysis.outputs import (
    AnalysisOutputError,
    input_fingerprint,
    read_report,
    reusable_report,
)
from hiprot.files import TEMP_PREFIX

SESSION_FILES = ("rig.toml", "session.json", "imu.csv", "imu.bin")
INPUT_FILES = (*SESSION_FILES, SEGMENTS_FILE)  # what an analysis reads: its fingerprint


def is_session(path: Path) -> bool:
    """A directory holding any of the files a session has."""
    return path.is_dir() and any((path / name).exists() for name in SESSION_FILES)


def session_dirs(paths: list[Path]) -> list[Path]:
    """The session directories named, a directory of sessions standing for its sessions (not
    its hidden :data:`~hiprot.files.TEMP_PREFIX` ones: copies or deletions under way)."""
    out = []
    for path in paths:
        inner = (
            sorted(
                p for p in path.iterdir() if is_session(p) and not p.name.startswith(TEMP_PREFIX)
            )
            if path.is_dir() and not is_session(path)
            else []
        )
        out += inner or [path]
    return out


def options(activity: str | None, charts: bool) -> dict:
    """The options of an analysis run that its results depend on."""
    return {"activity": activity, "charts": charts}


def cached(
    session_dir: Path, out_dir: Path, activity: str | None = None, charts: bool = True
) -> dict | None:
    """The report of an earlier analysis of ``session_dir`` into ``out_dir`` with the same session
    files, software and activity (with charts, unless none are wanted), or None (see
    :func:`hiprot.analysis.outputs.reusable_report`)."""
    accepted = [options(activity, True)] + ([] if charts else [options(activity, False)])
    report = reusable_report(out_dir, input_fingerprint(session_dir, INPUT_FILES), accepted)
    for segment in (report or {}).get("segments") or []:
        if segment.get("dir"):
            try:
                read_report(Path(out_dir) / segment["dir"])
            except AnalysisOutputError:
                return None  # a segment's results removed or damaged: analyse again
    return report
