"""The on-disk outbox: metric messages not yet acknowledged by the broker, in order.

paho keeps its queue in memory only, so a logger restart would lose metrics the
broker never saw. Every metric goes through this SQLite table first and leaves
it only once the broker acknowledged it (QoS 1 PUBACK); a restarted logger
sends what is left, oldest first.

Each message gets a sequence number (SQLite ``AUTOINCREMENT``: never reused,
even after rows are deleted) and the outbox's ``stream`` id, both written into
the payload, so a subscriber can recognise a message re-sent after a lost
acknowledgement: ``(stream, seq)`` is unique per message.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import uuid
from pathlib import Path

from hiprot.errors import HiprotError

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def default_outbox_path(device_id: str) -> Path:
    """``$XDG_STATE_HOME/hiprot/mqtt-outbox-<device_id>.sqlite3`` (default ``~/.local/state``)."""
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return state / "hiprot" / f"mqtt-outbox-{device_id}.sqlite3"


class OutboxBusy(HiprotError):
    """Another running process owns this outbox file."""


class Outbox:
    """Pending metric messages in a SQLite file (``":memory:"`` for one that dies with us).

    Not thread-safe: one thread (the publisher's) uses it after opening.
    """

    def __init__(self, path: Path | str, max_messages: int = 100_000):
        self.path = str(path)
        self.max_messages = max_messages
        self._lock_file = None
        if self.path != ":memory:":
            self._lock_file = self._take_lock(Path(self.path))
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            self._db.executescript(SCHEMA)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self.stream = self._meta("stream", uuid.uuid4().hex[:12])
            self.dropped = int(self._meta("dropped", "0"))
            self._db.commit()
            self.pending = self._db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            self._release_lock()
            raise HiprotError(f"{self.path}: unusable MQTT outbox: {exc}") from exc

    @staticmethod
    def _take_lock(path: Path):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock = open(path.with_name(path.name + ".lock"), "w")
        except OSError as exc:
            raise HiprotError(f"{path}: cannot create the MQTT outbox: {exc.strerror}") from exc
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise OutboxBusy(f"{path}: MQTT outbox in use by another hiprot process") from None
        return lock

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _meta(self, key: str, default: str) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES (?, ?)", (key, default))
            return default
        return row[0]

    def add(self, messages: list[tuple[str, str]]) -> int:
        """Append ``(topic, JSON object text)`` pairs in one transaction; return the number dropped.

        Beyond ``max_messages`` pending, new messages are dropped and counted
        (the count survives restarts) rather than growing without bound.
        """
        room = max(0, self.max_messages - self.pending)
        kept, dropped = messages[:room], len(messages) - min(room, len(messages))
        with self._db:
            self._db.executemany("INSERT INTO messages (topic, body) VALUES (?, ?)", kept)
            if dropped:
                self.dropped += dropped
                self._db.execute(
                    "UPDATE meta SET value = ? WHERE key = 'dropped'", (str(self.dropped),)
                )
        self.pending += len(kept)
        return dropped

    def after(self, seq: int, limit: int) -> list[tuple[int, str, bytes]]:
        """Up to ``limit`` pending messages after ``seq``, oldest first: (seq, topic, payload)."""
        rows = self._db.execute(
            "SELECT seq, topic, body FROM messages WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
        ).fetchall()
        return [(s, topic, self.payload(s, body)) for s, topic, body in rows]

    def payload(self, seq: int, body: str) -> bytes:
        """The JSON payload as sent: ``seq`` and ``stream`` first, then the stored body's keys."""
        return f'{{"seq": {seq}, "stream": "{self.stream}", {body[1:]}'.encode()

    def remove(self, seqs: list[int]) -> None:
        """Forget messages the broker acknowledged."""
        if not seqs:
            return
        with self._db:
            self._db.executemany("DELETE FROM messages WHERE seq = ?", [(s,) for s in seqs])
        self.pending = self._db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]

    def close(self) -> None:
        self._db.close()
        self._release_lock()
