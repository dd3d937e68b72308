"""``segments.jsonl``: labelled segments and markers inside one continuous recording.

The recording runs from start to shutdown whatever happens; commands (``start``, ``stop``,
``label``, ``mark``) only add lines to this file, so a forgotten ``start`` loses nothing: a
``mark`` dropped at the time, or any later ``start`` naming that marker, opens the segment
back there. Each command is one JSON line written with a single ``write(2)`` to a file opened
``O_APPEND`` and fsync'd before the command counts as applied (and before it is
acknowledged): a line is on disk whole or, when the recorder died in mid-write, as a torn
last line without its newline, which readers skip. There is no half-applied command.

Every line carries the command's ``id``; a command whose id is already in the file changes
nothing and is answered with the outcome it had (``duplicate``). Segment boundaries are
``time_s`` on the session clock, the clock of the samples in ``imu.bin``.

Line fields: ``id``, ``op``, ``time_s``, ``utc``; ``start`` and ``label`` add ``labels``
(:data:`LABEL_VALUES`, ``note`` and ``subject``), ``start`` may add ``from_mark`` (a marker's
id: the segment begins at the marker), ``mark`` may add ``note``. The segments follow from the
lines in order: ``start`` closes the open segment (if any) and opens one; ``stop`` closes it;
``label`` merges labels into the open segment, else into the latest one.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hiprot.activities import SEGMENTS_FILE
from hiprot.columns import ACTIVITIES, MODE, PHASE, SUBJECT
from hiprot.errors import RecordingError
from hiprot.files import PRIVATE_FILE, fsync_directory, read_regular

MAX_FILE_BYTES = 16 * 1024 * 1024  # about 100 000 commands; a day of use is a few hundred
MAX_TEXT = 200  # characters of a note, subject or id
OPS = ("start", "stop", "label", "mark")
LABEL_VALUES: dict[str, tuple[str, ...]] = {
    "activity": ACTIVITIES,
    "side": ("left", "right"),
    PHASE: ("before", "after"),
    MODE: ("active", "passive"),
}
TEXT_LABELS = ("note", SUBJECT)


class CommandRejected(ValueError):
    """A command that cannot apply (bad labels, nothing to stop): nothing was written."""


@dataclass
class Segment:
    """A labelled stretch of the recording; ``end_s`` None while open (or never stopped)."""

    index: int
    start_s: float
    end_s: float | None
    labels: dict[str, str] = field(default_factory=dict)
    start_id: str = ""

    @property
    def name(self) -> str:
        """``01-seated-test-right-before``: its number and labels, for output directories."""
        parts = [self.labels.get(k) for k in ("activity", "side", PHASE, MODE)]
        words = [p for p in parts if p] or ["unlabelled"]
        return f"{self.index:02d}-" + "-".join(words)

    def as_dict(self) -> dict:
        return {
            "index": self.index,
            "name": self.name,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "labels": dict(self.labels),
            "start_id": self.start_id,
        }


@dataclass
class Timeline:
    """What the lines of a segments file say: segments, markers, applied ids, skipped lines."""

    segments: list[Segment] = field(default_factory=list)
    marks: dict[str, dict] = field(default_factory=dict)  # id → line
    outcomes: dict[str, dict] = field(default_factory=dict)  # command id → its outcome
    skipped: list[str] = field(default_factory=list)

    @property
    def open(self) -> Segment | None:
        last = self.segments[-1] if self.segments else None
        return last if last is not None and last.end_s is None else None

    def apply(self, line: dict) -> dict:
        """Apply one (valid) line; its outcome: op, time and the segment or marker concerned."""
        op, time_s = line["op"], line["time_s"]
        outcome: dict = {"op": op, "time_s": time_s}
        if op == "start":
            begin = self.marks[line["from_mark"]]["time_s"] if "from_mark" in line else time_s
            if self.open is not None:
                self.open.end_s = max(self.open.start_s, begin)
            segment = Segment(len(self.segments) + 1, begin, None, dict(line["labels"]), line["id"])
            self.segments.append(segment)
            outcome["segment"] = segment.as_dict()
        elif op == "stop":
            segment = self.open
            segment.end_s = max(segment.start_s, time_s)
            outcome["segment"] = segment.as_dict()
        elif op == "label":
            segment = self.open or self.segments[-1]
            segment.labels.update(line["labels"])
            outcome["segment"] = segment.as_dict()
        else:
            self.marks[line["id"]] = line
            outcome["mark"] = {"id": line["id"], "time_s": time_s, "note": line.get("note")}
        self.outcomes[line["id"]] = outcome
        return outcome

    def check(self, command: dict) -> None:
        """Raise :class:`CommandRejected` when ``command`` cannot apply now."""
        op = command["op"]
        if op == "stop" and self.open is None:
            raise CommandRejected("no segment is open")
        if op == "label" and not self.segments:
            raise CommandRejected("no segment to label yet")
        mark = command.get("from_mark")
        if mark is not None and mark not in self.marks:
            raise CommandRejected(f"no marker with id {mark!r}")


def validate(command: dict) -> dict:
    """The line fields of a command (``id``, ``op``, ``labels``, ``from_mark``, ``note``), checked;
    :class:`CommandRejected` (one line) when anything is wrong."""
    if not isinstance(command, dict):
        raise CommandRejected("a command is a JSON object")
    cid, op = command.get("id"), command.get("op")
    if not isinstance(cid, str) or not 0 < len(cid) <= MAX_TEXT:
        raise CommandRejected(f"'id' must be a string of 1 to {MAX_TEXT} characters")
    if op not in OPS:
        raise CommandRejected(f"'op' must be one of {', '.join(OPS)}, not {op!r}")
    out: dict = {"id": cid, "op": op}
    labels = command.get("labels") or {}
    if not isinstance(labels, dict):
        raise CommandRejected("'labels' must be an object")
    if labels and op not in ("start", "label"):
        raise CommandRejected(f"{op!r} takes no labels")
    for key, value in labels.items():
        if key in LABEL_VALUES:
            if value not in LABEL_VALUES[key]:
                allowed = ", ".join(LABEL_VALUES[key])
                raise CommandRejected(f"label {key!r} must be one of {allowed}, not {value!r}")
        elif key in TEXT_LABELS:
            if not isinstance(value, str) or len(value) > MAX_TEXT:
                raise CommandRejected(
                    f"label {key!r} must be text of at most {MAX_TEXT} characters"
                )
        else:
            known = ", ".join([*LABEL_VALUES, *TEXT_LABELS])
            raise CommandRejected(f"unknown label {key!r} (labels: {known})")
    if op in ("start", "label"):
        out["labels"] = dict(labels)
    if op == "label" and not labels:
        raise CommandRejected("'label' needs at least one label")
    mark = command.get("from_mark")
    if mark is not None:
        if op != "start" or not isinstance(mark, str):
            raise CommandRejected("'from_mark' is a marker id, and only for 'start'")
        out["from_mark"] = mark
    note = command.get("note")
    if note is not None:
        if op != "mark" or not isinstance(note, str) or len(note) > MAX_TEXT:
            raise CommandRejected(f"'note' is text of at most {MAX_TEXT} characters, for 'mark'")
        out["note"] = note
    return out


def read_timeline(session_dir: Path) -> Timeline:
    """The segments and markers of a session (none when it has no segments file).

    A torn last line (the recorder died in mid-write) or a damaged line is skipped and named
    in ``skipped``: the commands before it stand, a damaged one never half applies.
    """
    path = Path(session_dir) / SEGMENTS_FILE
    timeline = Timeline()
    if not path.exists():
        return timeline
    try:
        data = read_regular(path, MAX_FILE_BYTES)
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    lines = data.split(b"\n")
    if lines[-1]:
        timeline.skipped.append(f"torn last line ({len(lines[-1])} bytes, no newline)")
    for number, raw in enumerate(lines[:-1], 1):
        try:
            line = json.loads(raw)
            command = validate(line)
            time_s = line["time_s"]
            if not isinstance(time_s, int | float) or isinstance(time_s, bool):
                raise CommandRejected("'time_s' is not a number")
            if command["id"] in timeline.outcomes:
                raise CommandRejected(f"id {command['id']!r} repeated")
            timeline.check(command)
        except (ValueError, KeyError) as exc:
            timeline.skipped.append(f"line {number}: {exc}")
            continue
        timeline.apply({**line, **command, "time_s": float(time_s)})
    return timeline


class SegmentLog:
    """Applies commands to a session's ``segments.jsonl``: durable first, idempotent by id.

    ``clock`` gives the session time (the samples' clock) at which a command applies, ``utc``
    its wall-clock time (default now). Safe to call from any thread: commands apply one at a
    time, in the order they arrive.
    """

    def __init__(
        self,
        session_dir: Path,
        clock: Callable[[], float],
        utc: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.path = Path(session_dir) / SEGMENTS_FILE
        self.clock, self.utc = clock, utc
        self.timeline = read_timeline(session_dir)
        self._lock = threading.Lock()
        existed = self.path.exists()
        self._fd: int | None = os.open(
            self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE
        )
        if not existed:
            fsync_directory(self.path.parent)
        self._torn = bool(self.timeline.skipped) and self.path.read_bytes()[-1:] != b"\n"

    def __enter__(self) -> SegmentLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def apply(self, command: dict) -> dict:
        """Apply ``command`` (see :func:`validate`); the result: ``status`` ``ok`` (written and
        fsync'd), ``duplicate`` (its id was applied before: that outcome, nothing written) or
        ``rejected`` (with ``reason``, nothing written). An OSError means nothing applied."""
        with self._lock:
            try:
                line = validate(command)
                cid = line["id"]
                if cid in self.timeline.outcomes:
                    return {"status": "duplicate", **self.timeline.outcomes[cid]}
                self.timeline.check(line)
            except CommandRejected as exc:
                return {"status": "rejected", "reason": str(exc)}
            if self._fd is None:
                raise OSError("the segments file is closed")
            line["time_s"] = round(float(self.clock()), 4)
            line["utc"] = self.utc().isoformat(timespec="milliseconds")
            data = json.dumps(line, separators=(",", ":")).encode() + b"\n"
            if self._torn:  # end the torn line first, so this one stays whole
                os.write(self._fd, b"\n")
                self._torn = False
            written = os.write(self._fd, data)  # O_APPEND: one write, one whole line
            if written != len(data):  # a full disk: the short line is torn, readers skip it
                self._torn = True
                raise OSError(f"short write to {self.path} ({written} of {len(data)} bytes)")
            os.fsync(self._fd)
            return {"status": "ok", **self.timeline.apply(line)}

    def open_activity(self) -> str | None:
        """The labelled activity of the open segment (None: no segment open, or unlabelled)."""
        with self._lock:
            segment = self.timeline.open
            return segment.labels.get("activity") if segment is not None else None

    def state(self) -> dict:
        """The session's segment state: ``session`` (the directory name), ``open`` (the open
        segment, or None), ``segments`` and ``marks`` (how many so far)."""
        with self._lock:
            segment = self.timeline.open
            return {
                "session": self.path.parent.name,
                "open": segment.as_dict() if segment is not None else None,
                "segments": len(self.timeline.segments),
                "marks": len(self.timeline.marks),
            }

    def close(self) -> None:
        """Close the file; again does nothing."""
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def write_commands(session_dir: Path, commands: list[tuple[float, dict]], start: datetime) -> None:
    """Apply ``commands`` — (session time, command) — to a session written afterwards (a
    simulated one: the segments the person's phone would have labelled), each on the wall clock
    at ``start`` + its time; :class:`RecordingError` if one does not apply or cannot be written.
    No commands, no file."""
    if not commands:
        return
    clock = {"time_s": 0.0}
    try:
        with SegmentLog(
            session_dir, lambda: clock["time_s"], lambda: start + timedelta(seconds=clock["time_s"])
        ) as log:
            for clock["time_s"], command in commands:
                outcome = log.apply(command)
                if outcome["status"] != "ok":
                    raise RecordingError(
                        f"{session_dir}: segment command {command['id']}: {outcome}"
                    )
    except OSError as exc:
        raise RecordingError(f"{session_dir}: cannot write the segments: {exc.strerror}") from exc


def before_after_pairs(segments: list[Segment]) -> list[tuple[Segment, Segment]]:
    """Each ``after`` segment with the latest ``before`` segment preceding it that has the same
    activity, side, mode and subject (labels missing on both count as the same)."""
    keys = ("activity", "side", MODE, SUBJECT)
    pairs = []
    for after in segments:
        if after.labels.get(PHASE) != "after":
            continue
        match = [
            b
            for b in segments
            if b.labels.get(PHASE) == "before"
            and b.start_s <= after.start_s
            and b.index != after.index
            and all(b.labels.get(k) == after.labels.get(k) for k in keys)
        ]
        if match:
            pairs.append((match[-1], after))
    return pairs
