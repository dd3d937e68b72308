"""SessionWriter: metadata, drops and gaps counted, readable while it records."""

from __future__ import annotations

import json
import time
from datetime import datetime

import numpy as np
import pytest

from hiprot.config import parse_rig
from hiprot.recording import SessionWriter, load_session
from hiprot.samples import ImuSamples, split_chunk
from hiprot.sim import simulate


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
    while True:  # the writer syncs every 0.5 s: the first second shows up without closing
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
