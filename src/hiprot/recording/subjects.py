"""One subject's sessions: found by their pseudonymous subject code, exported, deleted.

Movement data is personal (GDPR Art. 4(1) and 9: health data about a person identified by
a code is pseudonymised, still personal data; Art. 15/17/20: access, erasure, portability),
so one person's sessions must be copied out whole and removed whole without touching
anyone else's.

- **Found** by ``subject`` in ``session.json``; when that file is missing or unreadable (a
  crashed recording), in the ``imu.bin`` header, then in ``rig.toml``. A session whose
  subject cannot be read at all is listed as unknown, never guessed.
- **Exported** into a hidden staging directory beside the destination, every file
  fsync'd and its SHA-256 compared with the original's, then renamed to the session's name
  (Pillai et al., OSDI 2014: write, fsync, rename, fsync the directory). A killed export
  leaves only a staging directory (:data:`STAGING_PREFIX`), never a session that looks whole;
  the next export into the same place removes it.
- **Deleted** by renaming the session to a hidden name first (one atomic step: a killed
  delete never leaves a half-deleted directory that reads as a session), then removing it;
  a later delete of the same subject finishes what a killed one left. Analysis outputs of the
  subject (``report.json`` with the subject, or naming a deleted session) and comparisons or
  histories that include a deleted session are removed file by file, ``report.json`` or the
  summary last, so a killed run is found and finished again.
- A session whose recorder is still writing (:func:`~hiprot.recording.raw.writer_alive`) is
  refused: stop the recording first.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hiprot.analysis.batch import OUTPUT_FILES
from hiprot.analysis.outputs import MAX_REPORT_BYTES, REPORT_FILE
from hiprot.analysis.session_files import SESSION_FILES
from hiprot.columns import SUBJECT
from hiprot.config import load_rig
from hiprot.errors import ConfigError, HiprotError
from hiprot.files import (
    PRIVATE_DIR,
    PRIVATE_FILE,
    TEMP_PREFIX,
    fsync_directory,
    open_regular,
    physical_memory,
    read_regular,
    sha256_file,
)
from hiprot.recording.metadata import META_FILE, read_meta
from hiprot.recording.raw import HeaderError, decode_file_header, writer_alive
from hiprot.recording.writer import RAW_FILE

STAGING_PREFIX = TEMP_PREFIX + "export-"  # a copy not yet checked and renamed
DELETING_PREFIX = TEMP_PREFIX + "delete-"  # a session being removed
MAX_HEADER_BYTES = 4 * 1024 * 1024  # an imu.bin header holds the rig's TOML: a few kB
# summaries over several sessions (hiprot analyze --compare / --history) and their files
AGGREGATES = {
    "compare.json": ("compare.png",),
    "history.json": ("history.csv", "history.png"),
}


class SubjectError(HiprotError):
    """A subject's sessions cannot be exported or deleted as asked (the message says why)."""


@dataclass
class Found:
    """The sessions of a directory that belong to one subject, and those whose subject
    could not be read (``unknown``: path and why)."""

    sessions: list[Path] = field(default_factory=list)
    unknown: list[tuple[Path, str]] = field(default_factory=list)
    interrupted: list[Path] = field(default_factory=list)  # deletions a killed run left


def session_subject(path: Path) -> str | None:
    """The subject code recorded with session ``path`` (None: none was given).

    ``session.json`` first, then the ``imu.bin`` header, then ``rig.toml``; a ValueError
    when none of them can be read.
    """
    path = Path(path)
    problems = []
    try:
        meta = read_meta(path / META_FILE)
        if SUBJECT in meta:
            return meta[SUBJECT]
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        problems.append(f"{META_FILE}: {getattr(exc, 'strerror', None) or exc}")
    if (path / RAW_FILE).exists():
        try:
            with open_regular(path / RAW_FILE, physical_memory()) as f:
                header = decode_file_header(f.read(MAX_HEADER_BYTES))
            if SUBJECT in header.meta:
                return header.meta[SUBJECT]
        except (OSError, HeaderError) as exc:
            problems.append(f"{RAW_FILE}: {getattr(exc, 'strerror', None) or exc}")
    try:
        return load_rig(path / "rig.toml").subject
    except ConfigError as exc:
        problems.append(str(exc))
    raise ValueError("; ".join(problems) or "no session.json, imu.bin or rig.toml")


def find_sessions(directory: Path, subject: str) -> Found:
    """The session directories directly in ``directory`` whose subject is ``subject``."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SubjectError(f"{directory}: not a directory of sessions")
    found = Found()
    for path in sorted(directory.iterdir()):
        if path.name.startswith(TEMP_PREFIX) or path.is_symlink() or not path.is_dir():
            if path.name.startswith(DELETING_PREFIX) and path.is_dir():
                if _subject_or_none(path) == subject:
                    found.interrupted.append(path)
            continue
        if not any((path / name).exists() for name in SESSION_FILES):
            continue
        try:
            if session_subject(path) == subject:
                found.sessions.append(path)
        except ValueError as exc:
            found.unknown.append((path, str(exc)))
    return found


def _subject_or_none(path: Path) -> str | None:
    try:
        return session_subject(path)
    except ValueError:
        return None


def refuse_live(sessions: list[Path]) -> None:
    """A :class:`SubjectError` when a recorder still writes one of ``sessions``."""
    for path in sessions:
        if writer_alive(path / RAW_FILE):
            raise SubjectError(
                f"{path}: still being recorded; stop the recording first (nothing was changed)"
            )


def export_session(session: Path, dest: Path) -> tuple[Path, int, int]:
    """Copy ``session`` to ``dest/<its name>``, checked; (the copy, files, bytes).

    The destination must not exist yet. Every file is copied into a staging directory,
    fsync'd and compared by SHA-256 with the original before the staging directory takes
    the session's name.
    """
    target = Path(dest) / session.name
    if target.exists() or target.is_symlink():
        raise SubjectError(f"{target}: already exists; export into an empty place")
    staging = Path(dest) / f"{STAGING_PREFIX}{session.name}-{uuid.uuid4().hex[:8]}"
    try:
        files, size = _copy_tree(session, staging)
        if target.exists() or target.is_symlink():
            raise SubjectError(f"{target}: appeared during the export; nothing exported there")
        os.rename(staging, target)
        fsync_directory(Path(dest))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target, files, size


def remove_staging(dest: Path) -> list[Path]:
    """Remove the staging directories killed exports left in ``dest`` (partial copies)."""
    left = sorted(p for p in Path(dest).glob(STAGING_PREFIX + "*") if p.is_dir())
    for path in left:
        shutil.rmtree(path)
    if left:
        fsync_directory(Path(dest))
    return left


def _copy_tree(source: Path, staging: Path) -> tuple[int, int]:
    """Copy ``source`` into the new directory ``staging``: directories and regular files only,
    each file fsync'd and checked; (files, bytes)."""
    files = size = 0
    os.mkdir(staging, PRIVATE_DIR)
    for src_dir, dirs, names in os.walk(source):
        rel = Path(src_dir).relative_to(source)
        out_dir = staging / rel
        for name in sorted(dirs):
            if (Path(src_dir) / name).is_symlink():
                raise SubjectError(f"{Path(src_dir) / name}: a symbolic link in a session")
            os.mkdir(out_dir / name, PRIVATE_DIR)
        for name in sorted(names):
            src = Path(src_dir) / name
            mode = os.lstat(src).st_mode
            if not stat.S_ISREG(mode):
                raise SubjectError(f"{src}: not a regular file; a session holds only files")
            size += _copy_file(src, out_dir / name)
            files += 1
        fsync_directory(out_dir)
    return files, size


def _copy_file(src: Path, dst: Path) -> int:
    """Copy one regular file, fsync it and check its SHA-256 against the original; its size."""
    with open_regular(src, 1 << 62) as fin:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        with os.fdopen(fd, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
            fout.flush()
            os.fsync(fout.fileno())
    if sha256_file(dst) != sha256_file(src):
        raise SubjectError(f"{src}: the copy differs from the original (changed while copied?)")
    return dst.stat().st_size


def delete_session(session: Path) -> None:
    """Remove ``session``: renamed to a hidden name in one step, then removed."""
    hidden = session.parent / f"{DELETING_PREFIX}{session.name}"
    os.rename(session, hidden)
    fsync_directory(session.parent)
    finish_deletion(hidden)


def finish_deletion(hidden: Path) -> None:
    """Remove a session already renamed for deletion (also one a killed delete left)."""
    shutil.rmtree(hidden)
    fsync_directory(hidden.parent)


def _walk_files(roots: list[Path], skip: set[Path], names: set[str]) -> Iterator[Path]:
    """Files called one of ``names`` under ``roots`` (links not followed, ``skip`` left out)."""
    seen = set()
    for root in roots:
        for here, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if (Path(here) / d).resolve() not in skip]
            for name in files:
                path = Path(here) / name
                if name in names and path.resolve() not in seen:
                    seen.add(path.resolve())
                    yield path


def _read_json(path: Path) -> object | None:
    try:
        return json.loads(read_regular(path, MAX_REPORT_BYTES))
    except (OSError, ValueError, RecursionError):
        return None


def _mentions(data: object, subject: str, names: set[str]) -> bool:
    """Whether a report or summary is about ``subject`` or one of the sessions ``names``:
    a ``subject`` key holding it, or a ``name``/``path`` key naming such a session."""
    if isinstance(data, dict):
        if data.get(SUBJECT) == subject:
            return True
        for key in ("name", "path"):
            value = data.get(key)
            if isinstance(value, str) and value and Path(value).name in names:
                return True
        return any(_mentions(v, subject, names) for v in data.values())
    if isinstance(data, list):
        return any(_mentions(v, subject, names) for v in data)
    return False


def analysis_outputs(roots: list[Path], subject: str, sessions: list[Path]) -> list[Path]:
    """The ``report.json``, ``compare.json`` and ``history.json`` under ``roots`` (outside
    ``sessions``, which go whole) about ``subject`` or one of ``sessions`` (``name`` or the
    last part of ``path`` in them: a relative path cannot be resolved from here)."""
    names = {s.name.removeprefix(DELETING_PREFIX) for s in sessions}
    skip = {s.resolve() for s in sessions}
    out = []
    for path in _walk_files(roots, skip, {REPORT_FILE, *AGGREGATES}):
        data = _read_json(path)
        if path.name == REPORT_FILE:
            info = data.get("session") if isinstance(data, dict) else None
            about = isinstance(info, dict) and _mentions(
                {k: info.get(k) for k in (SUBJECT, "name", "path")}, subject, names
            )
        else:
            about = _mentions(data, subject, names)
        if about:
            out.append(path)
    return sorted(out)


def remove_outputs(summary: Path) -> list[Path]:
    """Remove the files of one analysis output: those its ``report.json`` lists and every
    file a run may write, or a comparison's or history's files; ``summary`` itself last (a
    killed removal is found again), then its directory when that is left empty."""
    directory = summary.parent
    if summary.name == REPORT_FILE:
        data = _read_json(summary)
        listed = data.get("files", []) if isinstance(data, dict) else []
        names = {n for n in listed if isinstance(n, str) and n == Path(n).name}
        names |= set(OUTPUT_FILES)
    else:
        names = set(AGGREGATES[summary.name])
    names.discard(summary.name)
    removed = []
    for name in sorted(names):
        path = directory / name
        if path.is_file() and not path.is_symlink():
            path.unlink()
            removed.append(path)
    summary.unlink()
    removed.append(summary)
    fsync_directory(directory)
    try:
        directory.rmdir()
        fsync_directory(directory.parent)
    except OSError:
        pass  # not empty: other files live there
    return removed
