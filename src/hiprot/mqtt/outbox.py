"""The outbox of one session: metric messages not yet acknowledged by the broker, in order.

paho keeps its queue in memory only, so a logger restart would lose metrics the
broker never saw. Every metric goes through a SQLite file first and leaves it
only once the broker acknowledged it (QoS 1 PUBACK); a restarted logger sends
what is left, oldest first.

There is one outbox file per session (``<session>-<stream>.sqlite3`` in the
device's outbox directory), holding the session's id, so a metric left over by
one run is delivered later under its own session and never under the next one.

Each message gets a sequence number (never reused) and the outbox's ``stream``
id, both written into the payload with the ``session`` id (and ``replay`` for a
replayed session), so a subscriber can recognise a message re-sent after a lost
acknowledgement: ``(stream, seq)`` is unique per message.

The outbox is a side channel and must never stop the recording: when its file
cannot be created or a write fails (damaged file, full or read-only file
system), it carries on in memory (``in_memory``, ``problem`` say why) with the
same stream and numbering; what was already on disk stays there for the next start.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import sqlite3
import uuid
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
SUFFIX = ".sqlite3"
DAMAGED_SUFFIX = ".damaged"


class OutboxBusy(Exception):
    """Another live publisher owns this outbox file."""


def _file_name(session: str, stream: str) -> str:
    """A file name for ``session`` (any text) that stays one safe path component."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", session)[:100]
    return f"{safe}-{stream}{SUFFIX}"


class Outbox:
    """Pending metric messages of one session: in a SQLite file, or in memory.

    Never raises once made: a failing file turns it into an in-memory outbox.
    Not thread-safe: one thread (the publisher's) uses it after opening.
    """

    def __init__(
        self,
        directory: Path | None,
        session: str,
        replay: bool = False,
        max_messages: int = 100_000,
    ):
        """A new, empty outbox for ``session`` in ``directory`` (None: in memory by choice)."""
        self.session, self.replay = session, replay
        self.stream = uuid.uuid4().hex[:12]
        self.max_messages = max_messages
        self.dropped = 0
        self.path: Path | None = None
        self.problem: str | None = None
        self._rows: dict[int, tuple[str, str]] = {}
        self._seqs: set[int] = set()  # pending, wherever they are
        self._unreadable: set[int] = set()  # pending in a file that failed and could not be read
        self._last_seq = 0
        self._disk_seq = 0  # the last seq committed to the file, when it went to memory
        self._db: sqlite3.Connection | None = None
        self._lock_fd: int | None = None
        if directory is not None:
            path = Path(directory) / _file_name(session, self.stream)
            try:
                Path(directory).mkdir(parents=True, exist_ok=True, mode=0o700)
                self._open(path, create=True)
                self._db.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [
                        ("stream", self.stream),
                        ("session", session),
                        ("replay", json.dumps(replay)),
                        ("dropped", "0"),
                    ],
                )
                self._db.commit()
            except (OSError, sqlite3.Error) as exc:
                self._close_file()
                if self.path is not None:  # ours and empty: nothing to keep
                    _delete(self.path)
                    self.path = None
                self.problem = f"MQTT outbox {path} unusable ({_reason(exc)})"
        self.pending = 0

    @classmethod
    def leftover(cls, path: Path) -> Outbox:
        """The outbox an earlier run left at ``path``, to deliver under its own session.

        Raises :class:`OutboxBusy` when a live publisher owns it, ``sqlite3.Error`` or
        ``OSError`` when it is damaged or unreadable.
        """
        box = cls.__new__(cls)
        box.max_messages, box.problem, box.path = 0, None, None
        box._rows, box._db, box._lock_fd, box._unreadable = {}, None, None, set()
        try:
            box._open(Path(path), create=False)
            meta = dict(box._db.execute("SELECT key, value FROM meta").fetchall())
            box._seqs = {s for (s,) in box._db.execute("SELECT seq FROM messages")}
            if not meta and not box._seqs:  # killed while it was being made: nothing in it
                meta = {"stream": "", "session": None}
            box.stream, box.session = meta["stream"], meta.get("session")
            box.replay = json.loads(meta.get("replay", "false")) is True
            box.dropped = int(meta.get("dropped", "0"))
            box.pending = len(box._seqs)
        except KeyError as exc:
            box._close_file()
            raise sqlite3.DatabaseError(f"no {exc} in its meta table") from None
        except BaseException:
            box._close_file()
            raise
        box._disk_seq = box._last_seq
        return box

    def _open(self, path: Path, create: bool) -> None:
        flags = os.O_RDWR | (os.O_CREAT | os.O_EXCL if create else 0)
        self._lock_fd = os.open(path, flags | os.O_CLOEXEC, 0o600)
        self.path = path
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutboxBusy(f"{path}: in use by another hiprot process") from None
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.executescript(SCHEMA)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'messages'").fetchone()
        self._last_seq = row[0] if row else 0

    @property
    def in_memory(self) -> bool:
        """True when messages are held in memory only (by choice or after a failure)."""
        return self._db is None

    @property
    def lost(self) -> int:
        """Pending messages lost with a file that failed and could not be read back."""
        return len(self._unreadable)

    @property
    def memory_only(self) -> int:
        """Pending messages that exist nowhere but in this process."""
        return sum(1 for seq in self._rows if seq > self._disk_seq)

    def add(self, messages: list[tuple[str, str]]) -> int:
        """Append ``(topic, JSON object text)`` pairs in one transaction; return the number dropped.

        Beyond ``max_messages`` pending, new messages are dropped and counted
        (in the file too) rather than growing without bound.
        """
        room = max(0, self.max_messages - self.pending)
        kept, dropped = messages[:room], len(messages) - min(room, len(messages))
        rows = [(self._last_seq + 1 + i, topic, body) for i, (topic, body) in enumerate(kept)]
        if self._db is not None:
            try:
                with self._db:
                    self._db.executemany(
                        "INSERT INTO messages (seq, topic, body) VALUES (?, ?, ?)", rows
                    )
                    if dropped:
                        self._db.execute(
                            "UPDATE meta SET value = ? WHERE key = 'dropped'",
                            (str(self.dropped + dropped),),
                        )
            except sqlite3.Error as exc:
                self._to_memory(exc)
        if self._db is None:
            self._rows.update((seq, (topic, body)) for seq, topic, body in rows)
        self._last_seq += len(rows)
        self._seqs.update(seq for seq, _, _ in rows)
        self.dropped += dropped
        self.pending = len(self._seqs)
        return dropped

    def after(self, seq: int, limit: int) -> list[tuple[int, str, bytes]]:
        """Up to ``limit`` pending messages after ``seq``, oldest first: (seq, topic, payload)."""
        if self._db is not None:
            try:
                rows = self._db.execute(
                    "SELECT seq, topic, body FROM messages WHERE seq > ? ORDER BY seq LIMIT ?",
                    (seq, limit),
                ).fetchall()
                return [(s, topic, self.payload(s, body)) for s, topic, body in rows]
            except sqlite3.Error as exc:
                self._to_memory(exc)
        later = [s for s in self._rows if s > seq][:limit]
        return [(s, self._rows[s][0], self.payload(s, self._rows[s][1])) for s in later]

    def payload(self, seq: int, body: str) -> bytes:
        """The JSON payload as sent: ``seq``, ``stream``, ``session`` (and ``replay``) first."""
        head = f'"seq": {seq}, "stream": "{self.stream}", "session": {json.dumps(self.session)}'
        if self.replay:
            head += ', "replay": true'
        return f"{{{head}, {body[1:]}".encode()

    def remove(self, seqs: list[int]) -> None:
        """Forget messages the broker acknowledged (or that can never be sent)."""
        if not seqs:
            return
        if self._db is not None:
            try:
                with self._db:
                    self._db.executemany("DELETE FROM messages WHERE seq = ?", [(s,) for s in seqs])
            except sqlite3.Error as exc:
                self._to_memory(exc)
        for s in seqs:
            self._rows.pop(s, None)
        self._seqs.difference_update(seqs)
        self._unreadable.difference_update(seqs)  # delivered after all (it was in flight)
        self.pending = len(self._seqs)

    def close(self) -> None:
        """Close the file; delete it when nothing is left in it to deliver."""
        empty = self._db is not None and self.pending == 0
        self._close_file()
        if empty and self.path is not None:
            _delete(self.path)

    def _to_memory(self, exc: BaseException) -> None:
        """Carry on in memory: what the file still gives is copied, its numbering kept."""
        self.problem = f"MQTT outbox {self.path} failed ({_reason(exc)}); metrics held in memory"
        self._disk_seq = self._last_seq
        try:
            rows = self._db.execute("SELECT seq, topic, body FROM messages ORDER BY seq").fetchall()
            self._rows = {s: (topic, body) for s, topic, body in rows}
        except sqlite3.Error:
            self._rows = {}  # unreadable: lost (the file is put aside at the next start)
        self._unreadable = self._seqs - self._rows.keys()
        self._seqs = set(self._rows)
        self._close_file()
        self.pending = len(self._seqs)

    def _close_file(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def put_aside(path: Path) -> Path | None:
    """Rename a damaged outbox to ``*.damaged`` (kept for inspection); the new path or None."""
    aside = path.with_name(path.name + DAMAGED_SUFFIX)
    try:
        path.rename(aside)
    except OSError:
        return None
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(OSError):
            Path(f"{path}{suffix}").rename(f"{aside}{suffix}")
    return aside


def _delete(path: Path) -> None:
    """Remove a SQLite file with its journal files, as far as the file system lets us."""
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def _reason(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)) or type(
        exc
    ).__name__


def leftover_paths(directory: Path | None, own: Path | None = None) -> list[Path]:
    """Outbox files in ``directory`` other than ``own``, oldest first."""
    if directory is None:
        return []
    try:
        found = [p for p in Path(directory).glob(f"*{SUFFIX}") if p != own and p.is_file()]
    except OSError:
        return []

    def age(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:
            return 0.0

    return sorted(found, key=age)
