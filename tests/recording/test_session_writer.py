"""SessionWriter: metadata, drops and gaps counted, readable while it records."""

from __future__ import annotations

import importlib
import json
import time
from datetime import UTC, datetime

import numpy as np
import pytest
from click.testing import CliRunner

from hiprot.cli import main
from hiprot.config import parse_rig
from hiprot.recording import SessionWriter, load_session
from hiprot.recording.raw import RawFileWriter
from hiprot.samples import ImuSamples, split_chunk
from hiprot.sim import simulate
from hiprot.sources import open_source


def test_session_json_describes_the_session(rig, record):
    path, sent = record(
        rig,
        activity="seated-test",
        note="left hip, after mobility work",
        close_meta={"health": {"right_thigh": {"i2c_errors": 0}}},
    )
    meta = json.loads((path / "session.json").read_text())
    assert meta["format_version"] == 2 and meta["device_id"] == "hiprot-sim"
    assert datetime.fromisoformat(meta["start_utc"]).utcoffset().total_seconds() == 0
    assert meta["software_version"] and meta["sample_rate_hz"] == 200
    placed = [
        (s["name"], s["segment"], s["side"], s["chip"], s["address"])
        for s in meta["rig"]["sensors"]
    ]
    assert placed == [
        ("right_thigh", "thigh", "right", "icm42688", 0x68),
        ("right_shank", "shank", "right", "icm42688", 0x69),
    ]
    assert meta["calibration"] is None
    assert meta["activity"] == "seated-test" and meta["note"] == "left hip, after mobility work"
    assert meta["samples"] == {name: len(s) for name, s in sent.items()}
    assert meta["dropped"]["queue_full_chunks"] == 0
    assert meta["gaps"]["right_thigh"]["count"] == 0
    assert meta["health"] == {"right_thigh": {"i2c_errors": 0}}
    assert meta["complete"] and meta["raw_file"] == "imu.bin"
    assert sorted(p.name for p in path.iterdir()) == ["imu.bin", "rig.toml", "session.json"]


def test_a_full_queue_drops_whole_chunks_and_counts_every_sample(rig, tmp_path):
    samples = simulate(rig, 10.0).samples
    writer = SessionWriter(rig, tmp_path, queue_size=1)
    chunks = split_chunk(samples, 0.005)
    for chunk in chunks:
        writer.write(chunk)
    path = writer.close()
    meta = json.loads((path / "session.json").read_text())
    dropped = meta["dropped"]
    assert dropped["queue_full_chunks"] > 0
    session = load_session(path)
    for name, s in samples.items():
        assert meta["samples"][name] + dropped["queue_full_samples"][name] == len(s)
        got = session.samples[name]
        assert len(got) == meta["samples"][name]
        index = np.searchsorted(s.time_s, got.time_s)  # the kept chunks, unchanged
        assert np.array_equal(s.gyr[index], got.gyr)


def test_gaps_in_the_timestamps_are_counted(rig, tmp_path):
    samples = simulate(rig, 3.0).samples
    thigh = samples["right_thigh"]
    keep = np.ones(len(thigh), bool)
    keep[100:110] = False  # 10 missing samples
    keep[300:303] = False  # 3 more
    writer = SessionWriter(rig, tmp_path)
    shank = samples["right_shank"]
    writer.write({"right_thigh": thigh[:150][keep[:150]], "right_shank": shank[:150]})
    writer.write({"right_thigh": thigh[150:][keep[150:]], "right_shank": shank[150:]})
    meta = json.loads((writer.close() / "session.json").read_text())
    gaps = meta["gaps"]["right_thigh"]
    assert (gaps["count"], gaps["missing_samples"]) == (2, 13)
    assert gaps["longest_s"] == pytest.approx(0.055, abs=0.004)  # 11 periods, read-latency jitter
    assert meta["gaps"]["right_shank"]["count"] == 0


def test_magnetometer_sensor_and_changing_columns_are_kept(tmp_path):
    rig = parse_rig(
        {
            "device_id": "m",
            "sample_rate_hz": 100,
            "simulation": {},
            "sensors": [
                {
                    "name": "thigh",
                    "segment": "thigh",
                    "side": "left",
                    "chip": "lsm6dsox",
                    "address": 0x6A,
                    "mag_chip": "lis3mdl",
                }
            ],
        },
        tmp_path / "rig.toml",
    )
    rng = np.random.default_rng(0)

    def piece(start, n, mag):
        t = (start + np.arange(n)) / 100.0
        return ImuSamples(
            t,
            rng.normal(size=(n, 3)),
            rng.normal(size=(n, 3)),
            rng.normal(size=(n, 3)) if mag else None,
        )

    parts = [piece(0, 5, True), piece(5, 5, True), piece(10, 5, False), piece(15, 5, True)]
    writer = SessionWriter(rig, tmp_path / "s")
    for p in parts:
        writer.write({"thigh": p})
    session = load_session(writer.close())
    got = session.samples["thigh"]
    assert np.array_equal(got.gyr, np.concatenate([p.gyr for p in parts]))
    assert got.mag is None and any("magnetometer" in w for w in session.recovery.warnings)
    writer = SessionWriter(rig, tmp_path / "t")
    writer.write({"thigh": parts[0]})
    writer.write({"thigh": parts[1]})
    got = load_session(writer.close()).samples["thigh"]
    assert np.array_equal(got.mag, np.concatenate([parts[0].mag, parts[1].mag]))


def test_a_session_is_readable_while_it_is_recorded(rig, tmp_path):
    samples = simulate(rig, 4.0).samples
    chunks = split_chunk(samples, 0.05)
    writer = SessionWriter(rig, tmp_path)
    for chunk in chunks[:20]:
        writer.write(chunk)
    deadline = time.monotonic() + 30
    while True:  # the writer appends every 0.25 s: the first second shows up without closing
        session = load_session(writer.path)
        if sum(session.recovery.samples.values()) == 400:
            break
        assert time.monotonic() < deadline, "samples never became visible"
        time.sleep(0.05)
    assert session.recovery.live and not session.recovery.complete
    assert session.recovery.summary().startswith("still being recorded: 400 samples")
    for chunk in chunks[20:]:
        writer.write(chunk)
    session = load_session(writer.close())
    assert session.recovery.complete and not session.recovery.live
    assert sum(session.recovery.samples.values()) == 1600


def test_samples_reach_the_kernel_every_write_interval_before_any_fsync(rig, tmp_path, monkeypatch):
    """A killed process loses only what it still holds: blocks are appended every write
    interval, not only at the (slower) fsync that a power cut needs."""
    chunks = split_chunk(simulate(rig, 1.0).samples, 0.05)
    writer = SessionWriter(rig, tmp_path, sync_interval_s=1.0, write_interval_s=0.05)
    events: list[str] = []
    append, sync = RawFileWriter.append, RawFileWriter.sync
    monkeypatch.setattr(
        RawFileWriter, "append", lambda s, d: (events.append("append"), append(s, d))
    )
    monkeypatch.setattr(RawFileWriter, "sync", lambda s: (events.append("sync"), sync(s)))
    deadline = time.monotonic() + 30
    for appended, chunk in enumerate(chunks[:3], start=1):
        writer.write(chunk)
        while events.count("append") < appended:
            assert time.monotonic() < deadline, "the chunk never reached the file"
            time.sleep(0.005)
    assert events[:3] == ["append"] * 3  # each chunk in the kernel, none waited for an fsync
    path = writer.close()
    assert json.loads((path / "session.json").read_text())["writer"]["write_interval_s"] == 0.05


def test_write_interval_must_not_exceed_the_sync_interval(rig, tmp_path):
    with pytest.raises(ValueError, match="write_interval_s"):
        SessionWriter(rig, tmp_path, sync_interval_s=0.5, write_interval_s=0.6)


def test_start_utc_is_the_given_start_of_the_sample_clock(rig, tmp_path):
    start = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    writer = SessionWriter(rig, tmp_path, start=start)
    path = writer.close()
    assert path.name == "hiprot-sim-20260102T030405Z"
    assert json.loads((path / "session.json").read_text())["start_utc"] == start.isoformat(
        timespec="milliseconds"
    )


def test_record_dates_the_session_from_when_the_sensors_started(tmp_path, monkeypatch):
    """``start_utc`` is sample time 0 on the wall clock (what a kill's loss is measured
    against), not the later moment at which the session directory was made."""
    record_cli = importlib.import_module("hiprot.cli.record")
    opened = []

    def open_then_pause(*args, **kwargs):
        opened.append(open_source(*args, **kwargs))
        time.sleep(0.05)  # the session directory is made after the sensors started
        return opened[-1]

    monkeypatch.setattr(record_cli, "open_source", open_then_pause)
    args = ["record", "--no-mqtt", "--duration", "0.3", "--out", str(tmp_path)]
    result = CliRunner().invoke(main, args, prog_name="hiprot")
    assert result.exit_code == 0, result.output
    (path,) = tmp_path.iterdir()
    meta = json.loads((path / "session.json").read_text())
    assert meta["start_utc"] == opened[0].start_utc.isoformat(timespec="milliseconds")
