"""The walking skeleton end to end: simulated rig → fusion → hip IR → disk → MQTT."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from hiprot.config import load_rig
from hiprot.recording import load_session
from hiprot.sim import simulate


def test_demo_publishes_to_a_real_broker_and_records(broker, subscribe, tmp_path):
    sub = subscribe(broker, "hiprot/#")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hiprot",
            "demo",
            "--broker",
            broker.address,
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert sub.received.wait(lambda r: r.on("/status")[-1:] == [b"offline"], 10)
    received = [(t, p) for t, p, _ in sub.received.messages]
    assert result.returncode == 0, result.stderr
    topics = [t for t, _ in received]
    assert topics.count("hiprot/hiprot-sim/status") >= 2
    assert [p for t, p in received if t.endswith("/status")][-1] == b"offline"
    angles = [json.loads(p) for t, p in received if t.endswith("/angles")]
    assert len(angles) > 100
    assert all("timestamp" in a and "time_s" in a for a in angles)
    live = [(a["time_s"], a["right_hip_ir_deg"]) for a in angles if "right_hip_ir_deg" in a]
    time_s, ir = np.array(live).T
    truth = simulate(load_rig())  # the demo's rig and seed: the same walk
    true_ir = np.interp(time_s, truth.time_s, truth.truth_deg["right_hip_ir_deg"])
    assert np.sqrt(np.mean((ir - true_ir) ** 2)) <= 5.0, "live hip IR against the simulated truth"
    (session_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    session = load_session(session_dir)
    assert {len(s) for s in session.samples.values()} == {4000}
    assert "session:" in result.stdout and "right_hip_ir_deg" in result.stdout


def test_demo_without_broker_warns_once_and_still_records(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "hiprot", "demo", "--broker", "127.0.0.1:9", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "127.0.0.1:9" in warnings[0]
    (session_dir,) = tmp_path.iterdir()
    assert json.loads((session_dir / "session.json").read_text())["complete"]
