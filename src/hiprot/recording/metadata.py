"""``session.json``: what a session is, written atomically with its space reserved ahead.

The final metadata must reach the disk even when the disk is nearly full, so
the temporary file used for the atomic replace is allocated in advance.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from hiprot import __version__
from hiprot.columns import SUBJECT
from hiprot.config import Rig
from hiprot.files import PRIVATE_FILE, fsync_directory, read_regular

FORMAT_VERSION = 2  # session directory layout; 1 was the first CSV-only recorder
META_FILE = "session.json"
SPARE_FILE = "session.json.tmp"
RESERVED_BYTES = 64 * 1024
# session.json is a few kB; a per-sensor gap list of a day-long recording stays far below this
MAX_META_BYTES = 64 * 1024 * 1024


def rig_description(rig: Rig) -> dict:
    """The rig as stored in ``session.json``: rate, fusion, each sensor's chip, wiring and place."""
    sensors = []
    for s in rig.sensors:
        sensors.append(
            {
                "name": s.name,
                "segment": s.segment,
                "side": s.side,
                "chip": s.chip,
                "bus": s.bus,
                "address": s.address,
                "mux_address": s.mux_address,
                "mux_channel": s.mux_channel,
                "mag_chip": s.mag_chip,
                "mag_address": s.mag_address,
            }
        )
    return {
        "device_id": rig.device_id,
        "sample_rate_hz": rig.sample_rate_hz,
        "fusion": {"filter": rig.fusion.filter, "use_magnetometer": rig.fusion.use_magnetometer},
        "simulated": rig.simulation is not None,
        "sensors": sensors,
    }


def start_meta(
    rig: Rig,
    start: datetime,
    raw_file: str,
    activity: str | None,
    note: str | None,
    mode: str | None = None,
    repeat_of: str | None = None,
) -> dict:
    """``session.json`` as written when a recording starts (``complete`` false); ``mode``:
    ``active`` or ``passive`` rotation tests (None: not given); ``repeat_of``: the session
    this one repeats the same day (sensors re-strapped, re-calibrated, re-tested)."""
    return {
        "format_version": FORMAT_VERSION,
        "device_id": rig.device_id,
        SUBJECT: rig.subject,
        "start_utc": start.isoformat(timespec="milliseconds"),
        "end_utc": None,
        "software_version": __version__,
        "simulated": rig.simulation is not None,
        "sample_rate_hz": rig.sample_rate_hz,
        "rig": rig_description(rig),
        "calibration": None,
        "activity": activity,
        "mode": mode,
        "note": note,
        "repeat_of": repeat_of,
        "raw_file": raw_file,
        "samples": {s.name: 0 for s in rig.sensors},
        "dropped": {"queue_full_chunks": 0, "queue_full_samples": {s.name: 0 for s in rig.sensors}},
        "gaps": {s.name: {"count": 0, "missing_samples": 0, "longest_s": 0.0} for s in rig.sensors},
        "duration_s": 0.0,
        "stop_reason": None,
        "complete": False,
    }


class MetaFile:
    """Writes ``session.json`` by replacing it atomically from a pre-allocated spare file."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.path = self.directory / META_FILE
        self._spare = self.directory / SPARE_FILE

    def write(self, meta: dict, final: bool = False) -> None:
        """Replace ``session.json`` with ``meta``; reserve space for the next write unless final."""
        data = json.dumps(meta, indent=2).encode() + b"\n"
        # no O_TRUNC: write into the blocks reserved before, then cut to length
        fd = os.open(self._spare, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.ftruncate(fd, len(data))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(self._spare, self.path)
        fsync_directory(self.directory)
        if not final:
            self._reserve()

    def _reserve(self) -> None:
        """Allocate the spare file now; without space the next write simply needs fresh space."""
        try:
            fd = os.open(self._spare, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        except OSError:
            return
        try:
            os.posix_fallocate(fd, 0, RESERVED_BYTES)
        except OSError:
            os.close(fd)
            self._spare.unlink(missing_ok=True)
            return
        os.close(fd)


# Keys that readers of a session rely on, with the JSON types they must have when present.
META_TYPES = {
    "format_version": int,
    "raw_file": str,
    "complete": bool,
    "samples": dict,
    "start_utc": str,
    "activity": str,
    "mode": str,
    "note": str,
    SUBJECT: str,
    "repeat_of": str,
    "duration_s": (int, float),
}


def read_meta(path: Path) -> dict:
    """``session.json`` as a dict; ValueError/OSError as raised (callers word the message).

    A key of :data:`META_TYPES` with another type (a damaged or hand-edited file), or JSON nested
    too deeply for the parser, is a ValueError; a FIFO, device or oversized file an OSError.
    """
    try:
        meta = json.loads(read_regular(Path(path), MAX_META_BYTES))
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if not isinstance(meta, dict):
        raise ValueError("expected a JSON object")  # noqa: TRY004 - callers catch ValueError
    for key, kind in META_TYPES.items():
        value = meta.get(key)
        if value is not None and (
            not isinstance(value, kind) or isinstance(value, bool) != (kind is bool)
        ):
            raise ValueError(f"{key!r} is {value!r}")
    samples = meta.get("samples") or {}
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in samples.values()):
        raise ValueError(f"'samples' is {samples!r}")
    return meta
