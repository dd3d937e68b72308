"""The raw block format: bit-exact round trip, torn and corrupted files never misread."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hiprot.recording.raw import (
    BLOCK_HEADER_SIZE,
    MAGIC,
    HeaderError,
    RawFileReader,
    RawFileWriter,
    decode_file_header,
    encode_block,
    encode_file_header,
    scan_blocks,
    writer_alive,
)
from hiprot.recording.session import assemble
from hiprot.samples import ImuSamples

SENSORS = ["pelvis", "right_thigh", "right_shank"]


def _samples(rng: np.random.Generator, start: int, n: int, mag: bool) -> ImuSamples:
    t = (start + np.arange(n)) / 200.0
    return ImuSamples(
        t,
        rng.normal(0, 9.81, (n, 3)),
        rng.normal(0, 2, (n, 3)),
        rng.normal(0, 50, (n, 3)) if mag else None,
    )


def _file(blocks_per_sensor: int = 4, n: int = 20):
    """A raw file as bytes, the samples in it, and the offset where each block starts."""
    rng = np.random.default_rng(7)
    data = bytearray(encode_file_header(SENSORS, 'device_id = "x"\n', {"device_id": "x"}))
    sent: dict[str, list[ImuSamples]] = {name: [] for name in SENSORS}
    offsets, seq = [], 0
    for b in range(blocks_per_sensor):
        for index, name in enumerate(SENSORS):
            s = _samples(rng, b * n, n, mag=(name == "pelvis"))
            offsets.append(len(data))
            data += encode_block(seq, index, s)
            sent[name].append(s)
            seq += 1
    return bytes(data), {k: ImuSamples.concat(v) for k, v in sent.items()}, offsets


def _read(data: bytes, final: bool = True):
    header = decode_file_header(data)
    result = scan_blocks(data, header.size, len(header.sensors), final)
    chunk, _ = assemble(result.blocks, header.sensors, "test")
    return chunk, result


def _assert_rows_are_original(chunk: dict[str, ImuSamples], sent: dict[str, ImuSamples]) -> None:
    """Every recovered sample is exactly the original sample with the same timestamp."""
    for name, got in chunk.items():
        original = sent[name]
        index = np.searchsorted(original.time_s, got.time_s)
        assert np.all(index < len(original))
        assert np.array_equal(original.time_s[index], got.time_s)
        assert np.array_equal(original.acc[index], got.acc)
        assert np.array_equal(original.gyr[index], got.gyr)
        if got.mag is not None:
            assert np.array_equal(original.mag[index], got.mag)


def test_round_trip_is_bit_exact_with_and_without_magnetometer():
    data, sent, _ = _file()
    chunk, result = _read(data)
    assert not result.damage and result.end == len(data)
    for name in SENSORS:
        for field in ("time_s", "acc", "gyr", "mag"):
            a, b = getattr(sent[name], field), getattr(chunk[name], field)
            assert (a is None and b is None) or np.array_equal(a, b)
    assert chunk["pelvis"].mag is not None and chunk["right_thigh"].mag is None


def test_layout_matches_the_documented_bytes():
    block = encode_block(5, 2, ImuSamples([1.5], [[1, 2, 3]], [[4, 5, 6]]))
    magic, seq, sensor, flags, n, payload_crc, header_crc = struct.unpack_from("<4sIHHIII", block)
    assert (magic, seq, sensor, flags, n) == (b"HBLK", 5, 2, 0, 1)
    assert header_crc == zlib.crc32(block[:20])
    payload = block[BLOCK_HEADER_SIZE:]
    assert payload_crc == zlib.crc32(payload)
    assert np.array_equal(np.frombuffer(payload, "<f8"), [1.5, 1, 2, 3, 4, 5, 6])
    header = encode_file_header(["a"], "", {})
    assert header[:8] == MAGIC == b"\x89HIPROT\n"
    assert struct.unpack_from("<I", header, 8)[0] == 1


def test_cut_anywhere_gives_an_exact_prefix_and_reports_the_torn_tail():
    data, sent, offsets = _file()
    rng = np.random.default_rng(1)
    header_size = decode_file_header(data).size
    cuts = set(rng.integers(header_size, len(data), 150).tolist())
    for start in offsets[-3:]:  # every byte of the last blocks
        cuts.update(range(start, min(start + BLOCK_HEADER_SIZE + 40, len(data))))
    for cut in sorted(cuts):
        chunk, result = _read(data[:cut])
        complete_blocks = sum(1 for o in offsets if o < cut) - (0 if cut in offsets else 1)
        assert len(result.blocks) == complete_blocks, cut
        _assert_rows_are_original(chunk, sent)
        for name, got in chunk.items():  # a prefix: nothing skipped
            assert np.array_equal(got.time_s, sent[name].time_s[: len(got)])
        if cut in offsets:
            assert not result.damage
        else:
            (damage,) = result.damage
            assert damage.offset + damage.length == cut
            assert "incomplete last block" in damage.reason


def test_every_single_flipped_byte_is_detected_and_costs_only_its_block():
    data, sent, offsets = _file()
    header_size = decode_file_header(data).size
    bounds = [*offsets, len(data)]
    for position in range(header_size, len(data), 7):
        damaged = bytearray(data)
        damaged[position] ^= 0x5A
        chunk, result = _read(bytes(damaged))
        _assert_rows_are_original(chunk, sent)
        assert len(result.blocks) == len(offsets) - 1, position
        (damage,) = result.damage
        i = bounds.index(damage.offset)  # exactly the block that holds the flipped byte
        assert damage.offset <= position < damage.offset + damage.length == bounds[i + 1]


def test_a_flipped_byte_in_the_file_header_is_a_clear_error():
    data, _, _ = _file()
    damaged = bytearray(data)
    damaged[30] ^= 0x01
    with pytest.raises(HeaderError, match="file header damaged"):
        decode_file_header(bytes(damaged))
    with pytest.raises(HeaderError, match="not a hiprot raw sample file"):
        decode_file_header(b"time_s,sensor,acc_x\n" * 3)


@settings(max_examples=60, deadline=None)
@given(
    cut=st.integers(min_value=0, max_value=10**6),
    flips=st.lists(
        st.tuples(st.integers(min_value=0), st.integers(min_value=1, max_value=255)), max_size=6
    ),
    garbage=st.binary(max_size=64),
)
def test_any_damage_never_yields_a_wrong_value(cut, flips, garbage):
    data, sent, _ = _file()
    cut %= len(data) + 1
    damaged = bytearray(data[:cut])
    header_size = decode_file_header(data).size
    for position, mask in flips:
        if len(damaged) > header_size:
            damaged[header_size + position % (len(damaged) - header_size)] ^= mask
    damaged += garbage
    try:
        chunk, result = _read(bytes(damaged))
    except HeaderError:
        assert cut < header_size, "only a cut inside the file header may make the file unreadable"
        return
    _assert_rows_are_original(chunk, sent)
    recovered = sum(len(b.samples) for b in result.blocks)
    assert recovered == sum(len(s) for s in chunk.values())


def test_reader_follows_a_file_while_it_is_written(tmp_path):
    path = tmp_path / "imu.bin"
    writer = RawFileWriter(path, SENSORS, "", {})
    reader = RawFileReader(path)
    assert writer_alive(path)
    assert reader.read(final=False) == []
    rng = np.random.default_rng(3)
    block = writer.encode("right_thigh", _samples(rng, 0, 50, False))
    writer.append(block[:30])  # a block cut mid-way is simply not there yet
    assert reader.read(final=False) == [] and not reader.damage
    writer.append(block[30:])
    (got,) = reader.read(final=False)
    assert len(got.samples) == 50 and not reader.damage
    writer.append(writer.encode("pelvis", _samples(rng, 0, 10, True)))
    (got,) = reader.read(final=False)
    assert got.sensor_index == 0 and got.samples.mag is not None
    writer.close()
    assert not writer_alive(path)
    assert reader.read(final=True) == [] and not reader.damage
    reader.close()
