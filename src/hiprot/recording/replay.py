"""Replay: a recorded session as a source of chunks, paced like the live rig.

A finished session is read once and cut into chunks. A session still being
recorded is followed: new blocks are picked up as the recorder appends them,
until it closes the session.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

from hiprot.errors import RecordingError
from hiprot.recording.raw import HeaderError, RawFileReader, writer_alive
from hiprot.recording.session import Session, assemble
from hiprot.recording.writer import RAW_FILE
from hiprot.samples import Chunk, split_chunk

CHUNK_S = 0.05
POLL_S = 0.1


class Pacer:
    """Sleeps so that sample time advances ``speed`` times faster than wall time (0: no waiting)."""

    def __init__(self, speed: float, stop: threading.Event | None = None):
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self.speed, self.stop = speed, stop
        self._origin: tuple[float, float] | None = None  # (sample time, monotonic time)

    def wait_until(self, sample_time: float) -> None:
        """Return when ``sample_time`` is due (or at once when replaying as fast as possible)."""
        now = time.monotonic()
        if self._origin is None:
            self._origin = (sample_time, now)
        if self.speed == 0:
            return
        due = self._origin[1] + (sample_time - self._origin[0]) / self.speed
        if due > now:
            _wait(self.stop, due - now)


def _wait(stop: threading.Event | None, seconds: float) -> None:
    """Sleep, cut short when ``stop`` is set."""
    if stop is None:
        time.sleep(seconds)
    else:
        stop.wait(seconds)


def _end_time(chunk: Chunk) -> float:
    return max(s.time_s[-1] for s in chunk.values())


def replay_chunks(
    session: Session,
    speed: float = 1.0,
    stop: threading.Event | None = None,
    chunk_s: float = CHUNK_S,
) -> Iterator[Chunk]:
    """The session's samples in ``chunk_s`` chunks, in time order, paced at ``speed`` x real time.

    While the session is still being recorded, newly written samples are
    followed until the recorder closes it (or ``stop`` is set).
    """
    pacer = Pacer(speed, stop)
    for chunk in split_chunk(session.samples, chunk_s):
        pacer.wait_until(_end_time(chunk))
        yield chunk
    if session.recovery.live:
        yield from _follow(session, pacer, stop, chunk_s)


def _follow(
    session: Session, pacer: Pacer, stop: threading.Event | None, chunk_s: float
) -> Iterator[Chunk]:
    """Chunks appended to a live recording after ``session`` was loaded."""
    raw_path = Path(session.path) / RAW_FILE
    seen = {name: s.time_s[-1] for name, s in session.samples.items()}
    try:
        reader = RawFileReader(raw_path, [s.name for s in session.rig.sensors])
    except HeaderError as exc:
        raise RecordingError(f"{raw_path}: {exc}") from exc
    with reader:
        while stop is None or not stop.is_set():
            alive = writer_alive(raw_path)
            try:
                blocks = reader.read(final=not alive)
            except HeaderError as exc:
                raise RecordingError(f"{raw_path}: {exc}") from exc
            new, _ = assemble(blocks, reader.header.sensors, raw_path)
            new = {name: s[s.time_s > seen.get(name, float("-inf"))] for name, s in new.items()}
            new = {name: s for name, s in new.items() if len(s)}
            for chunk in split_chunk(new, chunk_s):
                pacer.wait_until(_end_time(chunk))
                yield chunk
            for name, s in new.items():
                seen[name] = s.time_s[-1]
            if not alive:
                return
            if not blocks:
                _wait(stop, POLL_S)
