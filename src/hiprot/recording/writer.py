"""Writes a session directory from its own thread behind a bounded queue.

Layout: ``session.json`` (metadata), ``rig.toml`` (the rig used) and
``imu.bin`` (raw samples, see :mod:`hiprot.recording.raw`). Samples are
handed to the kernel (appended) every ``write_interval_s`` (0.25 s) and
fsync'd every ``sync_interval_s`` (0.5 s). Two bounds follow, because data
handed to ``write(2)`` sits in the page cache and outlives the process while
only ``fsync(2)`` makes it durable (POSIX.1-2017 ``fsync``; Linux man-pages
``write(2)``): a killed process (``kill -9``, a crash) loses only what is still
in its own memory, about the write interval plus the sensors' read period; a
power cut loses what was not yet fsync'd, about the sync interval. The
producer never blocks: a full queue drops the chunk and counts it.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from hiprot.columns import SUBJECT
from hiprot.config import Rig, rig_to_toml
from hiprot.errors import RecordingError
from hiprot.files import PRIVATE_DIR, PRIVATE_FILE, fsync_directory, private_dir
from hiprot.recording.disk import DiskGuard, DiskPolicy
from hiprot.recording.metadata import MetaFile, start_meta
from hiprot.recording.raw import RawFileWriter
from hiprot.samples import Chunk, ImuSamples

RAW_FILE = "imu.bin"
SYNC_INTERVAL_S = 0.5  # fsync: what a power cut can lose
WRITE_INTERVAL_S = 0.25  # append to the kernel: what a killed process can lose
GAP_FACTOR = 1.5  # a step longer than 1.5 sample periods is a gap
STOP_DISK_LOW = "disk space low"
STOP_WRITE_ERROR = "write error"
# session.json keys also kept in the imu.bin header, so a lost session.json can be recovered
HEADER_META_KEYS = (
    "format_version",
    "device_id",
    SUBJECT,
    "start_utc",
    "software_version",
    "sample_rate_hz",
    "activity",
    "note",
)
_TICK = object()

log = logging.getLogger(__name__)


def _new_session_dir(out_dir: Path, name: str) -> Path:
    """Create ``out_dir/name`` (``name-2``, ``name-3``... if taken)."""
    for attempt in range(1, 1000):
        path = out_dir / (name if attempt == 1 else f"{name}-{attempt}")
        try:
            private_dir(path.parent)
            path.mkdir(PRIVATE_DIR)
            os.chmod(path, PRIVATE_DIR)  # movement data is private, whatever the umask
            return path
        except FileExistsError:
            continue
        except OSError as exc:
            raise RecordingError(
                f"{path}: cannot create session directory: {exc.strerror}"
            ) from exc
    raise RecordingError(f"{out_dir}: too many sessions named {name}")


def bytes_per_second(rig: Rig) -> float:
    """Raw data rate of a rig in ``imu.bin`` (float64 time, acc, gyr and mag when fitted)."""
    columns = sum(10 if s.has_magnetometer else 7 for s in rig.sensors)
    return 8.0 * columns * rig.sample_rate_hz


class SessionWriter:
    """Record chunks of samples into a new session directory under ``out_dir``.

    ``stop_requested`` is set when the recording must end (disk nearly full,
    write error); the logger loop checks it and closes the session cleanly.
    ``start`` is the wall-clock UTC of sample time 0 (default: now); it names
    the session and is its ``start_utc``.
    """

    def __init__(
        self,
        rig: Rig,
        out_dir: Path,
        activity: str | None = None,
        note: str | None = None,
        queue_size: int = 1000,
        *,
        disk: DiskPolicy | None = None,
        sync_interval_s: float = SYNC_INTERVAL_S,
        write_interval_s: float = WRITE_INTERVAL_S,
        warn: Callable[[str], None] = log.warning,
        start: datetime | None = None,
        mode: str | None = None,
        repeat_of: str | None = None,
    ):
        if not 0 < sync_interval_s <= 1.0:
            raise ValueError("sync_interval_s must be in (0, 1] s")
        if not 0 < write_interval_s <= sync_interval_s:
            raise ValueError("write_interval_s must be in (0, sync_interval_s] s")
        self.rig, self.sync_interval_s = rig, sync_interval_s
        self.write_interval_s = write_interval_s
        self._disk = DiskGuard(Path(out_dir), disk or DiskPolicy(), bytes_per_second(rig), warn)
        self._disk.check_start()
        start = start or datetime.now(UTC)
        self.path = _new_session_dir(Path(out_dir), f"{rig.device_id}-{start:%Y%m%dT%H%M%SZ}")
        self.meta = start_meta(rig, start, RAW_FILE, activity, note, mode, repeat_of)
        rig_toml = rig_to_toml(rig)
        try:
            self._write_durably(self.path / "rig.toml", rig_toml.encode())
            self._meta_file = MetaFile(self.path)
            self._meta_file.write(self.meta)
            header_meta = {k: self.meta[k] for k in HEADER_META_KEYS}
            self._raw = RawFileWriter(
                self.path / RAW_FILE, [s.name for s in rig.sensors], rig_toml, header_meta
            )
            fsync_directory(self.path)
        except OSError as exc:
            raise RecordingError(f"{self.path}: cannot start the recording: {exc}") from exc
        self.stop_requested = threading.Event()
        self.error: OSError | None = None
        self._blocks = BlockAppender(self._raw, rig, self.meta["samples"], self.meta["gaps"])
        self._dropped_chunks = 0
        self._dropped_samples = {s.name: 0 for s in rig.sensors}
        self._cpu_s = 0.0
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._thread = threading.Thread(target=self._run, name="session-writer", daemon=True)
        self._thread.start()

    @staticmethod
    def _write_durably(path: Path, data: bytes) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    @property
    def stop_reason(self) -> str | None:
        return self.meta["stop_reason"]

    @property
    def dropped_chunks(self) -> int:
        """Chunks dropped because the queue was full."""
        return self._dropped_chunks

    def write(self, chunk: Chunk) -> None:
        """Queue a chunk; never blocks. A full queue (or a stopped writer) drops and counts it."""
        for name in chunk:
            if name not in self._dropped_samples:
                raise ValueError(f"sensor {name!r} is not in the rig")
        if self._thread.is_alive():
            try:
                self._queue.put_nowait(chunk)
                return
            except queue.Full:
                pass
        self._dropped_chunks += 1
        for name, samples in chunk.items():
            self._dropped_samples[name] += len(samples)

    def close(self, **extra_meta) -> Path:
        """Write what is queued, close the files and mark the session complete.

        ``extra_meta`` (e.g. ``duration_s``, a source's ``health``) goes into
        ``session.json``. A write error is raised after the metadata is closed.
        """
        while self._thread.is_alive():
            try:
                self._queue.put(None, timeout=0.1)
                break
            except queue.Full:
                continue
        self._thread.join()
        self.meta["dropped"] = {
            "queue_full_chunks": self._dropped_chunks,
            "queue_full_samples": dict(self._dropped_samples),
        }
        self.meta["writer"] = {
            "cpu_s": round(self._cpu_s, 3),
            "raw_bytes": self._raw.size,
            "sync_interval_s": self.sync_interval_s,
            "write_interval_s": self.write_interval_s,
        }
        self.meta.update(extra_meta)
        self.meta["end_utc"] = datetime.now(UTC).isoformat(timespec="milliseconds")
        self.meta["stop_reason"] = self.meta["stop_reason"] or "stopped"
        self.meta["complete"] = True
        try:
            self._meta_file.write(self.meta, final=True)
        except OSError as exc:
            raise RecordingError(
                f"{self.path}: cannot close session.json ({exc}); "
                "the samples are on disk and load as an unclosed session"
            ) from exc
        if self.error is not None:
            raise RecordingError(
                f"{self.path}: recording stopped by a write error: {self.error}; "
                "the session is closed and holds what was written before"
            )
        return self.path

    def _request_stop(self, reason: str) -> None:
        if self.meta["stop_reason"] is None:
            self.meta["stop_reason"] = reason
        self.stop_requested.set()

    def _run(self) -> None:
        start_cpu = time.thread_time()
        next_write = time.monotonic() + self.write_interval_s
        next_sync = time.monotonic() + self.sync_interval_s
        try:
            while True:
                wait = min(next_write, next_sync) - time.monotonic()
                try:
                    chunk = self._queue.get(timeout=max(0.0, wait))
                except queue.Empty:
                    chunk = _TICK
                if chunk is None:
                    break
                if chunk is not _TICK:
                    self._blocks.add(chunk)
                now = time.monotonic()
                if now >= next_sync:
                    self._blocks.flush()
                    now = time.monotonic()
                    next_write, next_sync = now + self.write_interval_s, now + self.sync_interval_s
                    if self._disk.must_stop():
                        self._request_stop(STOP_DISK_LOW)
                elif now >= next_write:
                    self._blocks.write()
                    next_write = now + self.write_interval_s
            self._blocks.flush()
        except OSError as exc:
            self.error = exc
            self._request_stop(STOP_WRITE_ERROR)
        finally:
            try:
                self._raw.close()
            except OSError as exc:
                self.error = self.error or exc
            self._cpu_s = time.thread_time() - start_cpu


class BlockAppender:
    """The writer thread's work, done synchronously: samples in, CRC'd blocks out, fsync'd.

    :meth:`add` takes chunks and counts gaps in their timestamps; :meth:`write`
    appends everything added since as one block per sensor and adds the
    written samples to ``samples`` (counts and gaps are ``session.json`` dicts,
    updated in place); :meth:`flush` writes and fsyncs.
    """

    def __init__(
        self, raw: RawFileWriter, rig: Rig, samples: dict[str, int], gaps: dict[str, dict]
    ):
        self.raw, self.rig, self.samples, self.gaps = raw, rig, samples, gaps
        self._period = 1.0 / rig.sample_rate_hz
        self._last_time: dict[str, float] = {}
        self._pending: dict[str, list[ImuSamples]] = {}

    def add(self, chunk: Chunk) -> None:
        """Hold ``chunk`` for the next flush and update the gap counts."""
        for name, samples in chunk.items():
            if not len(samples):
                continue
            self._pending.setdefault(name, []).append(samples)
            times = samples.time_s
            if name in self._last_time:
                times = np.concatenate(([self._last_time[name]], times))
            steps = np.diff(times)
            gaps = steps[steps > GAP_FACTOR * self._period]
            if len(gaps):
                stats = self.gaps[name]
                stats["count"] += len(gaps)
                stats["missing_samples"] += int(np.sum(np.round(gaps / self._period) - 1))
                stats["longest_s"] = max(stats["longest_s"], round(float(gaps.max()), 6))
            self._last_time[name] = float(samples.time_s[-1])

    def flush(self) -> None:
        """:meth:`write`, then fsync: what was written survives a power cut."""
        self.write()
        self.raw.sync()

    def write(self) -> None:
        """Append the held samples as one block per sensor (per run of equal columns).

        Appended data is in the kernel: it survives the process being killed.
        """
        if not self._pending:
            return
        data, counts = [], {}
        for sensor in self.rig.sensors:
            for run in _runs_with_same_columns(self._pending.get(sensor.name, [])):
                samples = ImuSamples.concat(run)
                data.append(self.raw.encode(sensor.name, samples))
                counts[sensor.name] = counts.get(sensor.name, 0) + len(samples)
        self._pending.clear()
        self.raw.append(b"".join(data))
        for name, n in counts.items():
            self.samples[name] += n


def _runs_with_same_columns(parts: list[ImuSamples]) -> list[list[ImuSamples]]:
    """Consecutive pieces grouped so each group either has magnetometer values or has none."""
    runs: list[list[ImuSamples]] = []
    for part in parts:
        if runs and (runs[-1][-1].mag is None) == (part.mag is None):
            runs[-1].append(part)
        else:
            runs.append([part])
    return runs
