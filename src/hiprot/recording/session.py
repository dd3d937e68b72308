"""Reading any session directory back: rig, metadata, samples and what could be recovered.

One reader for every kind of session:

* **recorded** by ``hiprot record``/``demo``: ``session.json``, ``rig.toml`` and
  ``imu.bin`` (see :mod:`hiprot.recording.raw`); a crashed, damaged or still
  growing recording loads as far as it is intact, and :class:`Recovery` says
  what was dropped and why;
* **simulated** (``imu.csv`` + ``rig.toml`` + ``truth.csv``) and **imported**
  (``imu.csv`` in the CSV import layout + ``rig.toml``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hiprot.config import Rig, load_rig, parse_rig_text
from hiprot.csvio import read_imu_csv
from hiprot.errors import ConfigError, EmptySessionError, RecordingError
from hiprot.recording.metadata import FORMAT_VERSION, META_FILE, read_meta
from hiprot.recording.raw import Block, Damage, HeaderError, RawFileReader, writer_alive
from hiprot.recording.segments import Timeline, read_timeline
from hiprot.recording.writer import RAW_FILE
from hiprot.samples import Chunk, ImuSamples

CSV_FILE = "imu.csv"


@dataclass
class Recovery:
    """How much of a session was read, and what was dropped and why.

    ``closed``: its recorder closed it (``session.json`` says complete);
    ``live``: a recorder is still appending to it; ``dropped``: byte ranges of
    the raw file that failed their checks (torn tail, damaged blocks);
    ``warnings``: other findings (metadata missing, samples missing compared
    with the metadata...). ``complete`` means nothing at all was lost.
    """

    closed: bool
    live: bool = False
    samples: dict[str, int] = field(default_factory=dict)
    duration_s: float = 0.0
    bytes_total: int = 0
    bytes_recovered: int = 0
    dropped: list[Damage] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.closed and not self.live and not self.dropped and not self.warnings

    @property
    def bytes_dropped(self) -> int:
        return sum(d.length for d in self.dropped)

    @property
    def samples_dropped(self) -> int:
        """Samples known to be lost in damaged blocks (unknown for unreadable bytes)."""
        return sum(d.samples or 0 for d in self.dropped)

    def summary(self) -> str:
        """One line for people: how much was recovered and what was lost."""
        total = sum(self.samples.values())
        got = f"{total} samples ({self.duration_s:.1f} s) from {len(self.samples)} sensors"
        if self.complete:
            return f"complete: {got}"
        if self.live:
            head = f"still being recorded: {got} so far"
        elif not self.closed:
            share = 100.0 * self.bytes_recovered / self.bytes_total if self.bytes_total else 0.0
            head = (
                f"recovered {got}, {share:.2f} % of the file; the recording was not closed "
                "(crash, kill or power loss)"
            )
        else:
            head = f"recovered {got}"
        parts = [head]
        for d in self.dropped:
            lost = f", {d.samples} samples" if d.samples else ""
            parts.append(f"dropped {d.length} bytes at offset {d.offset}{lost}: {d.reason}")
        parts += self.warnings
        return "; ".join(parts)


@dataclass
class Session:
    """A recorded, simulated or imported session.

    ``kind`` is ``recorded``, ``simulated`` or ``imported``; ``recovery``
    says whether everything was read (always complete for CSV sessions); ``timeline``: its
    labelled segments and markers (``segments.jsonl``; none in memory), read once, or why
    they could not be (``timeline_error``: the samples stand without them).
    """

    path: Path
    rig: Rig
    meta: dict
    samples: Chunk
    recovery: Recovery = field(default_factory=lambda: Recovery(closed=True))
    kind: str = "recorded"
    timeline: Timeline = field(default_factory=Timeline)
    timeline_error: str | None = None


def load_session(path: str | Path) -> Session:
    """Load a session directory of any kind; recover what is intact of a damaged recording.

    Raises :class:`RecordingError` (one clear line) when nothing usable is
    there: no directory, no samples file, an unreadable CSV, a raw file whose
    header is lost together with ``rig.toml``, no sample at all.
    """
    path = Path(path)
    if not path.is_dir():
        raise RecordingError(f"{path}: not a session directory")
    session = _load(path)
    try:
        session.timeline = read_timeline(path)
    except RecordingError as exc:  # the samples stand without their labels: said, not fatal
        session.timeline_error = str(exc)
    return session


def _load(path: Path) -> Session:
    meta, warnings = _read_meta(path)
    named = meta.get("raw_file")
    if named is not None and named not in (RAW_FILE, CSV_FILE):  # never a path to follow
        warnings.append(f"{META_FILE} names raw_file {named!r}; read {RAW_FILE} or {CSV_FILE}")
    if (path / RAW_FILE).exists() or (named == RAW_FILE and not (path / CSV_FILE).exists()):
        return _load_recorded(path, meta, warnings)
    if not (path / CSV_FILE).exists():
        raise EmptySessionError(f"{path}: no samples file ({RAW_FILE} or {CSV_FILE})")
    rig = load_rig(path / "rig.toml")
    samples = read_imu_csv(path / CSV_FILE, tuple(s.name for s in rig.sensors))
    recovery = Recovery(closed=True, warnings=warnings, **_counts(samples))
    recovery.bytes_total = recovery.bytes_recovered = (path / CSV_FILE).stat().st_size
    kind = "simulated" if (path / "truth.csv").exists() else ("recorded" if meta else "imported")
    return Session(path, rig, meta, samples, recovery, kind)


def _read_meta(path: Path) -> tuple[dict, list[str]]:
    meta_path = path / META_FILE
    if not meta_path.exists():
        return {}, [f"{META_FILE} missing"] if (path / RAW_FILE).exists() else []
    try:
        meta = read_meta(meta_path)
    except (OSError, ValueError) as exc:
        return {}, [f"{META_FILE} unreadable ({exc}); metadata taken from {RAW_FILE}"]
    version = meta.get("format_version")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise RecordingError(
            f"{meta_path}: session format version {version} is newer than this "
            f"hiprot reads ({FORMAT_VERSION}); update hiprot"
        )
    return meta, []


def _counts(samples: Chunk) -> dict:
    if not samples:
        return {"samples": {}, "duration_s": 0.0}
    start = min(s.time_s[0] for s in samples.values())
    stop = max(s.time_s[-1] for s in samples.values())
    return {"samples": {n: len(s) for n, s in samples.items()}, "duration_s": float(stop - start)}


def _rig_or_error(path: Path) -> tuple[Rig | None, ConfigError | None]:
    try:
        return load_rig(path / "rig.toml"), None
    except ConfigError as exc:
        return None, exc


def _load_recorded(path: Path, meta: dict, warnings: list[str]) -> Session:
    raw_path = path / RAW_FILE
    if not raw_path.exists():
        raise EmptySessionError(f"{raw_path}: missing; no samples were recorded here")
    rig, rig_error = _rig_or_error(path)
    live = writer_alive(raw_path)
    try:
        with RawFileReader(raw_path, [s.name for s in rig.sensors] if rig else None) as reader:
            blocks = reader.read(final=not live)
    except HeaderError as exc:
        if exc.incomplete:
            raise EmptySessionError(
                f"{raw_path}: {exc}: the recording was interrupted before any sample was written"
            ) from exc
        raise RecordingError(f"{raw_path}: {exc}") from exc
    header = reader.header
    if rig is None:  # the reader had no fallback, so this header passed its CRC
        rig = parse_rig_text(header.rig_toml, raw_path)
        warnings.append(f"rig.toml unusable ({rig_error}); rig taken from {RAW_FILE}")
    if not meta:
        meta = dict(header.meta, complete=False)
    samples, notes = assemble(blocks, header.sensors, raw_path)
    warnings += notes
    unknown = set(samples) - {s.name for s in rig.sensors}
    if unknown:
        raise RecordingError(
            f"{raw_path}: samples of sensors not in rig.toml: {', '.join(sorted(unknown))}"
        )
    recovery = Recovery(
        closed=bool(meta.get("complete")),
        live=live,
        warnings=warnings,
        bytes_total=reader.bytes_read,
        bytes_recovered=reader.bytes_valid,
        dropped=reader.damage,
        **_counts(samples),
    )
    if reader.missing_blocks:
        recovery.warnings.append(f"{reader.missing_blocks} blocks missing from the sequence")
    if recovery.closed:
        for name, expected in (meta.get("samples") or {}).items():
            got = recovery.samples.get(name, 0)
            if got < expected:
                recovery.warnings.append(f"{name}: {expected - got} of {expected} samples missing")
    if not samples and not live:
        raise EmptySessionError(f"{path}: no samples recorded ({recovery.summary()})")
    return Session(path, rig, meta, samples, recovery, "recorded")


def assemble(blocks: list[Block], sensors: list[str], source: Path) -> tuple[Chunk, list[str]]:
    """Join blocks into one ImuSamples per sensor, with notes on anything left out.

    Time must increase within each sensor. A sensor whose magnetometer values
    are missing in some blocks keeps its accelerometer and gyroscope only.
    """
    parts: dict[str, list[ImuSamples]] = {}
    for block in blocks:
        parts.setdefault(sensors[block.sensor_index], []).append(block.samples)
    chunk, notes = {}, []
    for name, pieces in parts.items():
        samples = ImuSamples.concat(pieces)
        if samples.mag is None and any(p.mag is not None for p in pieces):
            notes.append(f"{name}: magnetometer values missing in some blocks; mag left out")
        steps = np.diff(samples.time_s)
        if np.any(steps <= 0):
            i = int(np.argmax(steps <= 0)) + 1
            raise RecordingError(
                f"{source}: time of sensor {name!r} does not increase at its "
                f"sample {i} ({samples.time_s[i - 1]} then {samples.time_s[i]} s)"
            )
        chunk[name] = samples
    return chunk, notes
