"""An analysis run's files on disk: written so that no reader trusts a half-written or mixed set.

:class:`OutputSet` first removes the previous ``report.json`` and outputs,
then writes every file atomically (:func:`hiprot.files.atomic_path`) and
``report.json`` last, with the run's ``run_id`` and each output's size and
SHA-256 under ``outputs``. A run killed at any moment therefore leaves either
no ``report.json`` or one whose files are all there and complete.
:func:`read_report` is the reader: it refuses a directory without
``report.json`` and any output whose size or hash differs from what the
report lists (half-written, edited, or left by another run), and gives the
report's keys under their current names (:func:`hiprot.columns.current_names`).

:func:`input_fingerprint` names what a run read (the session's files) and what read
it (the software version and the hash of the package's code); a report carrying the
same fingerprint and options is reused instead of analysing again
(:func:`reusable_report`), so comparing and charting history re-analyse only what
changed.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from hiprot import __version__
from hiprot.columns import current_names
from hiprot.errors import HiprotError
from hiprot.files import (
    atomic_path,
    fsync_directory,
    private_dir,
    read_regular,
    remove_temporaries,
    sha256_file,
)

REPORT_FILE = "report.json"
MAX_REPORT_BYTES = 256 * 1024 * 1024  # a day of strides is a few MB


class AnalysisOutputError(HiprotError):
    """An analysis directory is unfinished, or its files do not match its ``report.json``."""


class OutputSet:
    """One run's outputs in ``directory``: :meth:`file` for each, then :meth:`finish`.

    ``stale`` names every file a run may write: they are removed first (with
    ``report.json``), so files of an earlier run never sit beside this one's.
    """

    def __init__(self, directory: Path, stale: Iterable[str]):
        self.directory = Path(directory)
        self.run_id = uuid.uuid4().hex
        self.outputs: dict[str, dict] = {}
        private_dir(self.directory)
        remove_temporaries(self.directory)
        for name in (REPORT_FILE, *stale):
            (self.directory / name).unlink(missing_ok=True)
        fsync_directory(self.directory)

    @contextlib.contextmanager
    def file(self, name: str) -> Iterator[Path]:
        """A temporary path to write output ``name`` into; it takes the name when done."""
        with atomic_path(self.directory / name) as temp:
            yield temp
            self.outputs[name] = {"bytes": temp.stat().st_size, "sha256": sha256_file(temp)}

    def finish(self, report: dict, write: Callable[[Path, dict], None]) -> Path:
        """Write ``report`` (with ``run_id``, ``outputs`` and ``files``) as ``report.json``, last."""
        report["run_id"] = self.run_id
        report["outputs"] = dict(sorted(self.outputs.items()))
        report["files"] = sorted([*self.outputs, REPORT_FILE])
        path = self.directory / REPORT_FILE
        with atomic_path(path) as temp:
            write(temp, report)
        return path


def read_report(directory: Path) -> dict:
    """``report.json`` of an analysis directory, once every output it lists is checked whole."""
    directory = Path(directory)
    path = directory / REPORT_FILE
    if not path.exists():
        raise AnalysisOutputError(
            f"{directory}: no {REPORT_FILE}: the analysis never finished here (interrupted?); "
            "run hiprot analyze again"
        )
    try:
        report = json.loads(read_regular(path, MAX_REPORT_BYTES))
    except (OSError, ValueError, RecursionError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not valid JSON"
        raise AnalysisOutputError(f"{path}: unreadable: {why}") from None
    outputs = report.get("outputs") if isinstance(report, dict) else None
    if not isinstance(outputs, dict) or not report.get("run_id"):
        raise AnalysisOutputError(
            f"{path}: lists no checked outputs (an older hiprot wrote it?); run hiprot analyze again"
        )
    for name, expected in outputs.items():
        _check_output(directory, name, expected)
    return current_names(report)


def _check_output(directory: Path, name: str, expected: object) -> None:
    if "/" in name or name.startswith(".") or not isinstance(expected, dict):
        raise AnalysisOutputError(f"{directory / REPORT_FILE}: bad output entry {name!r}")
    path = directory / name
    if not path.is_file():
        raise AnalysisOutputError(f"{path}: listed in {REPORT_FILE} but missing")
    if path.stat().st_size != expected.get("bytes") or sha256_file(path) != expected.get("sha256"):
        raise AnalysisOutputError(
            f"{path}: differs from what {REPORT_FILE} lists (half-written, changed, or from "
            "another run); run hiprot analyze again"
        )


@functools.cache
def code_hash() -> str:
    """SHA-256 of the package's Python sources: a changed analysis is a new version."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def input_fingerprint(session_dir: Path, names: Iterable[str]) -> str:
    """SHA-256 of the session files ``names`` present in ``session_dir`` (name, size and
    content), the software version and :func:`code_hash`."""
    digest = hashlib.sha256(f"{__version__}\0{code_hash()}".encode())
    for name in names:
        path = Path(session_dir) / name
        if path.is_file():
            digest.update(f"\0{name}\0{path.stat().st_size}\0{sha256_file(path)}".encode())
    return digest.hexdigest()


def reusable_report(out_dir: Path, fingerprint: str, accepted: list[dict]) -> dict | None:
    """The report in ``out_dir`` when a complete earlier run read the same input with the same
    software and options among ``accepted``; None otherwise (absent, unfinished, changed or
    other options)."""
    if not (Path(out_dir) / REPORT_FILE).exists():
        return None
    try:
        report = read_report(out_dir)
    except AnalysisOutputError:
        return None
    made = report.get("input") or {}
    if made.get("fingerprint") != fingerprint or made.get("options") not in accepted:
        return None
    return report
