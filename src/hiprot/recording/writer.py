"""Writes a session directory from its own thread behind a bounded queue.

Layout: ``session.json`` (metadata), ``rig.toml`` (the rig used) and
``imu.csv`` (raw samples in the CSV import layout), flushed and fsync'd at
least every second so a power cut loses at most the last second.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from hiprot import __version__
from hiprot.config import Rig, rig_to_toml
from hiprot.csvio import IMU_COLUMNS, format_imu_rows
from hiprot.errors import RecordingError
from hiprot.samples import Chunk

FORMAT_VERSION = 1
SYNC_INTERVAL_S = 1.0


def _new_session_dir(out_dir: Path, name: str) -> Path:
    """Create ``out_dir/name`` (``name-2``, ``name-3``... if taken)."""
    for attempt in range(1, 1000):
        path = out_dir / (name if attempt == 1 else f"{name}-{attempt}")
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
        except OSError as exc:
            raise RecordingError(f"{path}: cannot create session directory: {exc.strerror}")
    raise RecordingError(f"{out_dir}: too many sessions named {name}")


class SessionWriter:
    """Record chunks of samples into a new session directory under ``out_dir``."""

    def __init__(self, rig: Rig, out_dir: Path, activity: str | None = None, note: str | None = None,
                 queue_size: int = 1000):
        start = datetime.now(timezone.utc)
        self.path = _new_session_dir(Path(out_dir), f"{rig.device_id}-{start:%Y%m%dT%H%M%SZ}")
        self.meta = {
            "format_version": FORMAT_VERSION,
            "device_id": rig.device_id,
            "start_utc": start.isoformat(timespec="milliseconds"),
            "software_version": __version__,
            "sample_rate_hz": rig.sample_rate_hz,
            "sensors": [s.name for s in rig.sensors],
            "activity": activity,
            "note": note,
            "samples": {s.name: 0 for s in rig.sensors},
            "dropped_chunks": 0,
            "complete": False,
        }
        (self.path / "rig.toml").write_text(rig_to_toml(rig))
        self._write_meta()
        self._queue: queue.Queue[Chunk | None] = queue.Queue(maxsize=queue_size)
        self._file = open(self.path / "imu.csv", "w", newline="")
        self._file.write(",".join(IMU_COLUMNS) + "\n")
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="session-writer", daemon=True)
        self._thread.start()

    def write(self, chunk: Chunk) -> None:
        """Queue a chunk; never blocks. A full queue drops the chunk and counts it."""
        try:
            self._queue.put_nowait(chunk)
        except queue.Full:
            self.meta["dropped_chunks"] += 1

    def close(self, **extra_meta) -> Path:
        """Write what is queued, close the files and mark the session complete."""
        self._queue.put(None)
        self._thread.join()
        self.meta.update(extra_meta, complete=True)
        self._write_meta()
        if self._error is not None:
            raise RecordingError(f"{self.path}: recording failed: {self._error}")
        return self.path

    def _run(self) -> None:
        last_sync = time.monotonic()
        try:
            while True:
                chunk = self._queue.get()
                if chunk is None:
                    break
                rows = format_imu_rows(chunk)
                rows.sort(key=lambda r: r[0])
                self._file.writelines(line + "\n" for _, line in rows)
                for name, s in chunk.items():
                    self.meta["samples"][name] = self.meta["samples"].get(name, 0) + len(s)
                if time.monotonic() - last_sync >= SYNC_INTERVAL_S:
                    self._sync()
                    last_sync = time.monotonic()
        except OSError as exc:
            self._error = exc
        finally:
            self._sync()
            self._file.close()

    def _sync(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())

    def _write_meta(self) -> None:
        tmp = self.path / "session.json.tmp"
        tmp.write_text(json.dumps(self.meta, indent=2))
        os.replace(tmp, self.path / "session.json")
