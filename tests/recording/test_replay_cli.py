"""hiprot replay: the live pipeline over a recording, published to a real broker; live sessions
are followed as they grow."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from hiprot.processing import process_session
from hiprot.recording import load_session
from hiprot.recording.replay import replay_chunks
from hiprot.samples import ImuSamples, split_chunk


def test_replay_publishes_what_the_pipeline_computes(rig, record, broker, subscribe, hiprot):
    path, _ = record(rig, duration_s=20.0)
    sub = subscribe(broker, "hiprot/hiprot-sim/#")
    result = hiprot("replay", path, "--speed", "0", "--broker", broker.address)
    sub.received.wait(lambda r: b"offline" in r.on("/status"), 10)
    received = [(t, p) for t, p, _ in sub.received.messages]
    assert result.returncode == 0, result.stderr
    assert "complete: 8000 samples (20.0 s) from 2 sensors" in result.stdout
    angles = [json.loads(p) for t, p in received if t.endswith("/angles")]
    published = [a for a in angles if "right_hip_ir_deg" in a]
    # live angles start once standing and 5 s of walking have calibrated the rig; they are
    # published up to the live delay before the end of the replay
    assert len(published) > 20 * 15
    batch = process_session(load_session(path)).angles
    ir = batch.columns["right_hip_ir_deg"]
    differences = []
    for message in published:
        i = int(np.argmin(np.abs(batch.time_s - message["time_s"])))
        assert abs(batch.time_s[i] - message["time_s"]) < 1e-4
        differences.append(message["right_hip_ir_deg"] - ir[i])
    assert np.sqrt(np.mean(np.square(differences))) < 1.0, "live and batch hip IR must agree"


def test_replay_paces_chunks_at_the_requested_speed(rig, record):
    path, _ = record(rig, duration_s=2.0)
    session = load_session(path)
    for speed in (4.0, 0.0):
        times, ends = [], []
        for chunk in replay_chunks(session, speed):
            times.append(time.monotonic())
            ends.append(max(s.time_s[-1] for s in chunk.values()))
        assert sum(len(c) for c in session.samples.values()) == 800
        if speed:  # never earlier than the sample clock allows
            assert times[-1] - times[0] >= (ends[-1] - ends[0]) / speed - 1e-3


@given(
    n=st.integers(1, 500),
    start=st.integers(0, 10**6),
    window=st.sampled_from([0.005, 0.05, 0.1, 1.0]),
)
def test_chunks_for_replay_keep_every_sample_in_order(n, start, window):
    t = (start + np.arange(n)) / 200.0  # spans that are exact multiples of the window included
    s = ImuSamples(t, np.zeros((n, 3)), np.zeros((n, 3)))
    pieces = split_chunk({"a": s}, window)
    assert np.array_equal(np.concatenate([p["a"].time_s for p in pieces]), t)


def test_replay_follows_a_session_while_it_is_recorded(tmp_path, rig):
    """The recorder runs until the replay has said it follows a live session (was: a 3 s
    recording, over before a replay started on a loaded machine), then is stopped; the replay,
    as fast as it can, ends with every sample recorded, those written after it started
    included."""
    long_rig = tmp_path / "long.toml"  # 2 minutes for the replay to start: a generous deadline
    long_rig.write_text(rig.source.read_text().replace("duration_s = 20", "duration_s = 120"))
    assert "duration_s = 120" in long_rig.read_text()
    command = [sys.executable, "-m", "hiprot"]
    recorder = subprocess.Popen(
        [*command, "record", "--rig", str(long_rig), "--out", str(tmp_path / "s"), "--no-mqtt"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    replay = None
    try:
        line = recorder.stdout.readline()
        assert line.startswith("recording"), recorder.stderr.read()
        path = line.rsplit(" to ", 1)[1].strip()
        replay = subprocess.Popen(
            [*command, "replay", path, "--speed", "0", "--no-mqtt"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        first = replay.stdout.readline()
        assert first.startswith("replaying"), first + replay.stderr.read()
        so_far = re.search(r"still being recorded: (\d+) samples", first)
        assert so_far, first
        recorder.send_signal(signal.SIGTERM)
        assert recorder.wait(timeout=120) == 0, recorder.stderr.read()
        out, err = replay.communicate(timeout=300)
        assert replay.returncode == 0, err
    finally:
        for process in (recorder, replay):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)
    final = load_session(path)
    assert final.recovery.complete
    expected = ", ".join(f"{n} {c} samples" for n, c in final.recovery.samples.items())
    assert expected in out
    assert sum(final.recovery.samples.values()) > int(so_far[1]), "samples came after the start"


def test_replay_with_another_rig_file(rig, record, tmp_path, hiprot):
    path, _ = record(rig, duration_s=3.0)
    other = tmp_path / "mahony.toml"
    other.write_text(rig.source.read_text().replace('filter = "madgwick"', 'filter = "mahony"'))
    result = hiprot("replay", path, "--speed", "0", "--no-mqtt", "--rig", other)
    assert result.returncode == 0, result.stderr
    renamed = tmp_path / "renamed.toml"
    renamed.write_text(rig.source.read_text().replace('"right_shank"', '"shank"'))
    result = hiprot("replay", path, "--speed", "0", "--no-mqtt", "--rig", renamed)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert str(renamed) in result.stderr and "right_shank" in result.stderr
