"""The raw sample file ``imu.bin``: an append-only sequence of CRC-checked blocks.

Byte layout (all integers little-endian; docs/recording.md "Recording format" has
the same table for readers in other languages)::

    file header
      0   8  magic 89 48 49 50 52 4F 54 0A  ("\\x89HIPROT\\n")
      8   4  u32 raw format version (1)
      12  4  u32 L, length of the JSON that follows
      16  L  JSON (UTF-8): {"sensors": [names in index order], "rig_toml": text, "meta": {...}}
      16+L 4 u32 CRC-32 of bytes 0 .. 16+L
    then blocks, one sensor each
      0   4  magic "HBLK"
      4   4  u32 sequence number, 0, 1, 2 ... in file order
      8   2  u16 sensor index into the header's "sensors"
      10  2  u16 flags: bit 0 set = magnetometer columns present
      12  4  u32 n, samples in the block
      16  4  u32 CRC-32 of the payload
      20  4  u32 CRC-32 of bytes 0 .. 20 of this block header
      24  .  payload, float64: time_s[n], acc[n][3], gyr[n][3], (mag[n][3])

A block is trusted only when both CRCs match, so a torn tail (power cut,
``kill -9``) or a flipped bit is detected and dropped, never misread. After a
damaged block the reader looks for the next valid block header and goes on.
Values are stored as float64, so what is read back is bit-identical to what
the source yielded.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hiprot.files import PRIVATE_FILE, open_regular, physical_memory
from hiprot.samples import ImuSamples

MAGIC = b"\x89HIPROT\n"
RAW_FORMAT_VERSION = 1
BLOCK_MAGIC = b"HBLK"
FLAG_MAG = 0x0001
MAX_BLOCK_SAMPLES = 100_000

_FILE_HEAD = struct.Struct("<8sII")
_CRC = struct.Struct("<I")
_BLOCK_HEAD = struct.Struct("<4sIHHIII")
BLOCK_HEADER_SIZE = _BLOCK_HEAD.size
TORN_BLOCK = "incomplete last block (write cut short: crash, power loss or full disk)"


def _columns(has_mag: bool) -> int:
    return 10 if has_mag else 7


def encode_file_header(sensors: list[str], rig_toml: str, meta: dict) -> bytes:
    """The file header: sensor names (block index order), the rig and the start metadata."""
    body = json.dumps({"sensors": sensors, "rig_toml": rig_toml, "meta": meta}).encode()
    head = _FILE_HEAD.pack(MAGIC, RAW_FORMAT_VERSION, len(body)) + body
    return head + _CRC.pack(zlib.crc32(head))


def encode_block(sequence: int, sensor_index: int, samples: ImuSamples) -> bytes:
    """One block holding ``samples`` of the sensor at ``sensor_index``."""
    parts = [samples.time_s, samples.acc, samples.gyr]
    if samples.mag is not None:
        parts.append(samples.mag)
    payload = b"".join(np.ascontiguousarray(p, dtype="<f8").tobytes() for p in parts)
    flags = FLAG_MAG if samples.mag is not None else 0
    head = _BLOCK_HEAD.pack(
        BLOCK_MAGIC, sequence, sensor_index, flags, len(samples), zlib.crc32(payload), 0
    )[:-4]
    return head + _CRC.pack(zlib.crc32(head)) + payload


@dataclass
class FileHeader:
    """What the file header says: sensor names, the rig's TOML text, the start metadata."""

    sensors: list[str]
    rig_toml: str
    meta: dict
    size: int


class HeaderError(ValueError):
    """The file header is missing, incomplete or damaged (message says which)."""

    def __init__(self, message: str, incomplete: bool = False):
        super().__init__(message)
        self.incomplete = incomplete


def decode_file_header(data: bytes) -> FileHeader:
    """Parse the file header at the start of ``data``; :class:`HeaderError` if unusable."""
    if len(data) < _FILE_HEAD.size:
        raise HeaderError(f"file header incomplete ({len(data)} bytes)", incomplete=True)
    magic, version, length = _FILE_HEAD.unpack_from(data, 0)
    if magic != MAGIC:
        raise HeaderError("not a hiprot raw sample file (wrong magic bytes)")
    if version != RAW_FORMAT_VERSION:
        raise HeaderError(
            f"raw format version {version} is not supported (this hiprot reads "
            f"version {RAW_FORMAT_VERSION}; a newer hiprot wrote it?)"
        )
    end = _FILE_HEAD.size + length
    if len(data) < end + _CRC.size:
        raise HeaderError(
            f"file header incomplete ({len(data)} of {end + _CRC.size} bytes)", incomplete=True
        )
    (crc,) = _CRC.unpack_from(data, end)
    if crc != zlib.crc32(data[:end]):
        raise HeaderError("file header damaged (CRC mismatch)")
    try:
        body = json.loads(bytes(data[_FILE_HEAD.size : end]))
        return FileHeader(
            list(body["sensors"]), str(body["rig_toml"]), dict(body["meta"]), end + _CRC.size
        )
    except (ValueError, RecursionError, KeyError, TypeError) as exc:
        raise HeaderError(f"file header unusable ({type(exc).__name__}: {exc})") from None


@dataclass
class Block:
    """One valid block: its place in the file and its samples."""

    offset: int
    sequence: int
    sensor_index: int
    samples: ImuSamples


@dataclass
class Damage:
    """Bytes the reader could not trust and skipped."""

    offset: int
    length: int
    reason: str
    samples: int | None = None  # samples lost, when the block header was still readable


@dataclass
class ScanResult:
    """Blocks found in a byte range, damage skipped, and where parsing stopped."""

    blocks: list[Block] = field(default_factory=list)
    damage: list[Damage] = field(default_factory=list)
    end: int = 0  # offset after the last byte consumed (valid block or skipped damage)


def _block_at(data: bytes, pos: int, sensors: int) -> tuple[str, Block | int | None]:
    """Try a block at ``pos``: ("ok", block) / ("short", None) / ("bad-header", None) /
    ("bad-payload", n)."""
    if len(data) - pos < BLOCK_HEADER_SIZE:
        return "short", None
    view = memoryview(data)  # CRCs over slices of a view copy nothing
    magic, seq, index, flags, n, payload_crc, header_crc = _BLOCK_HEAD.unpack_from(data, pos)
    if (
        magic != BLOCK_MAGIC
        or header_crc != zlib.crc32(view[pos : pos + BLOCK_HEADER_SIZE - 4])
        or index >= sensors
        or flags & ~FLAG_MAG
        or n > MAX_BLOCK_SAMPLES
    ):
        return "bad-header", None
    has_mag = bool(flags & FLAG_MAG)
    start = pos + BLOCK_HEADER_SIZE
    stop = start + 8 * n * _columns(has_mag)
    if stop > len(data):
        return "short", None
    if zlib.crc32(view[start:stop]) != payload_crc:
        return "bad-payload", n
    values = np.frombuffer(data, dtype="<f8", count=n * _columns(has_mag), offset=start)
    t = values[:n]
    acc = values[n : 4 * n].reshape(n, 3)
    gyr = values[4 * n : 7 * n].reshape(n, 3)
    mag = values[7 * n : 10 * n].reshape(n, 3) if has_mag else None
    return "ok", Block(pos, seq, index, ImuSamples(t, acc, gyr, mag))


def _block_size(block: Block) -> int:
    return BLOCK_HEADER_SIZE + 8 * len(block.samples) * _columns(block.samples.mag is not None)


def scan_blocks(data: bytes, start: int, sensors: int, final: bool) -> ScanResult:
    """Parse blocks from ``start``; skip damaged ones and resynchronise on the next valid header.

    With ``final`` False (a file still being written) an incomplete block at
    the end is left unconsumed so a later call can finish it; with ``final``
    True it is reported as torn and dropped.
    """
    result = ScanResult(end=start)
    pos = start
    while pos < len(data):
        status, found = _block_at(data, pos, sensors)
        if status == "ok":
            result.blocks.append(found)
            pos += _block_size(found)
            result.end = pos
            continue
        if status == "short":
            break
        reason = (
            "block header damaged"
            if status == "bad-header"
            else "block payload damaged (CRC mismatch)"
        )
        nxt = _next_valid_block(data, pos + 1, sensors)
        if nxt is None:
            break
        result.damage.append(Damage(pos, nxt - pos, reason, found))
        pos = result.end = nxt
    if final and result.end < len(data):
        result.damage.append(_tail_damage(data, result.end, sensors))
        result.end = len(data)
    return result


def _next_valid_block(data: bytes, pos: int, sensors: int) -> int | None:
    """Offset of the next block with a valid header and payload, or None."""
    while True:
        pos = data.find(BLOCK_MAGIC, pos)
        if pos < 0:
            return None
        if _block_at(data, pos, sensors)[0] == "ok":
            return pos
        pos += 1


def _tail_damage(data: bytes, pos: int, sensors: int) -> Damage:
    """Describe the bytes after the last valid block of a finished file."""
    status, found = _block_at(data, pos, sensors)
    length = len(data) - pos
    if status == "bad-payload":
        return Damage(pos, length, "last block damaged (CRC mismatch)", found)
    torn = length >= BLOCK_HEADER_SIZE or BLOCK_MAGIC.startswith(data[pos : pos + 4])
    if status == "short" and torn:
        samples = _BLOCK_HEAD.unpack_from(data, pos)[4] if length >= BLOCK_HEADER_SIZE else None
        return Damage(pos, length, TORN_BLOCK, samples)
    return Damage(pos, length, "unreadable bytes at the end (torn or damaged write)")


class RawFileWriter:
    """Create ``imu.bin``, hold an exclusive lock on it while writing, append blocks.

    The lock (``flock``) tells readers that a writer is alive; the kernel drops
    it when the process ends in any way, ``kill -9`` included.
    """

    def __init__(self, path: Path, sensors: list[str], rig_toml: str, meta: dict):
        self.path = Path(path)
        self.index = {name: i for i, name in enumerate(sensors)}
        self.sequence = 0
        self.size = 0
        self._fd = os.open(
            self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, PRIVATE_FILE
        )
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self.append(encode_file_header(sensors, rig_toml, meta))
        self.sync()

    def encode(self, name: str, samples: ImuSamples) -> bytes:
        """Blocks (as bytes) for ``samples`` of sensor ``name``, split to the block size limit."""
        out = []
        for start in range(0, len(samples), MAX_BLOCK_SAMPLES):
            out.append(
                encode_block(
                    self.sequence, self.index[name], samples[start : start + MAX_BLOCK_SAMPLES]
                )
            )
            self.sequence += 1
        return b"".join(out)

    def append(self, data: bytes) -> None:
        """Write all of ``data`` at the end of the file, or nothing of it.

        On an error (a full disk) the partial write is cut off again, so the
        file still ends with a complete block, and the OSError is raised.
        """
        view = memoryview(data)
        size = self.size
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError:
            os.ftruncate(self._fd, size)
            raise
        self.size = size + len(data)

    def sync(self) -> None:
        """Flush to the storage device (fsync)."""
        os.fsync(self._fd)

    def close(self) -> None:
        """Sync, release the lock and close."""
        try:
            self.sync()
        finally:
            os.close(self._fd)


def writer_alive(path: Path) -> bool:
    """True while a :class:`RawFileWriter` (in any process) still has ``path`` open."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block this check
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


class RawFileReader:
    """Read ``imu.bin`` incrementally: each :meth:`read` returns the blocks appended since.

    A file still being written is read up to its last complete block; the
    rest is picked up by the next call. ``fallback_sensors`` (the rig's sensor
    names, in the order the writer indexes them) lets blocks be recovered when
    the file header itself is damaged.
    """

    def __init__(self, path: Path, fallback_sensors: list[str] | None = None):
        self.path = Path(path)
        self.fallback_sensors = fallback_sensors
        self.header: FileHeader | None = None
        self.damage: list[Damage] = []
        self.bytes_read = 0
        self.bytes_valid = 0
        self.missing_blocks = 0
        self._last_sequence = -1
        self._buffer = b""  # bytes read but not yet parsed start at self._start
        self._start = 0
        self._base = 0  # file offset of self._buffer[0]
        try:  # kept open to follow a growing file; the whole file is held in memory
            self._file = open_regular(self.path, physical_memory())
        except OSError as exc:
            raise HeaderError(f"cannot open: {exc.strerror}") from exc

    def __enter__(self) -> RawFileReader:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    def read(self, final: bool) -> list[Block]:
        """New valid blocks; with ``final`` the file counts as finished (a torn tail is dropped)."""
        new = self._file.read()
        self.bytes_read += len(new)
        if self._start < len(self._buffer):
            self._buffer = self._buffer[self._start :] + new
        else:
            self._buffer = new
        self._base += self._start
        self._start = 0
        if self.header is None and not self._read_header(final):
            return []
        result = scan_blocks(self._buffer, self._start, len(self.header.sensors), final)
        for damage in result.damage:
            damage.offset += self._base
        self.damage += result.damage
        blocks = []
        for block in result.blocks:
            block.offset += self._base
            if block.sequence <= self._last_sequence:
                self.damage.append(
                    Damage(
                        block.offset,
                        _block_size(block),
                        "block out of order (repeated sequence number)",
                        len(block.samples),
                    )
                )
                continue
            self.missing_blocks += block.sequence - self._last_sequence - 1
            self._last_sequence = block.sequence
            self.bytes_valid += _block_size(block)
            blocks.append(block)
        self._start = result.end
        return blocks

    def _read_header(self, final: bool) -> bool:
        try:
            self.header = decode_file_header(self._buffer)
        except HeaderError as exc:
            if exc.incomplete and not final:
                return False
            if self.fallback_sensors is None or exc.incomplete:
                raise
            start = _next_valid_block(self._buffer, _FILE_HEAD.size, len(self.fallback_sensors))
            if start is None:
                raise
            self.header = FileHeader(list(self.fallback_sensors), "", {}, start)
            self.damage.append(Damage(0, start, f"{exc}; sensors taken from rig.toml"))
        else:
            self.bytes_valid += self.header.size
        self._start = self.header.size
        return True
