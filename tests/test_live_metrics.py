"""Strides published live (through replay and the real broker) are the strides batch analysis finds."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import paho.mqtt.client as mqtt

from hiprot.analysis.session import analyze_session
from hiprot.processing import process_session
from hiprot.recording import load_session


def _collect(broker, topic):
    received, ready = [], threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
    client.on_subscribe = lambda *a: ready.set()
    client.on_message = lambda c, u, m: received.append((m.topic, m.payload))
    client.connect(broker.host, broker.port)
    client.loop_start()
    assert ready.wait(10)
    return client, received


def test_replayed_walk_publishes_every_stride_batch_analysis_finds(broker, tmp_path):
    session = tmp_path / "walk"
    subprocess.run([sys.executable, "-m", "hiprot", "simulate", "--scenario", "walk", "--duration", "40",
                    "--seed", "4", "--out", str(session)], check=True, capture_output=True, timeout=120)
    client, received = _collect(broker, "hiprot/+/stride")
    try:
        result = subprocess.run([sys.executable, "-m", "hiprot", "replay", str(session), "--speed", "0",
                                 "--broker", broker.address], capture_output=True, text=True, timeout=300)
        batch = analyze_session(process_session(load_session(session))).strides
        deadline = time.monotonic() + 10  # the broker may still be forwarding the last ones
        while len(received) < len(batch) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.loop_stop()
        client.disconnect()
    assert result.returncode == 0, result.stderr
    live = [json.loads(p) for _, p in received]
    assert len(batch) > 20
    assert [(s["side"], s["index"]) for s in live] == [(s.side, s.index) for s in batch]
    differences = []
    for message, stride in zip(live, batch):
        assert abs(message["start_s"] - stride.start_s) < 0.02
        differences.append(abs(message["hip_ir_max_deg"] - stride.hip_ir_max_deg))
    # live sees a 20 s window (its walking-direction offsets from fewer strides) and has no
    # accelerometer correction: its hip IR differs slightly from batch
    assert max(differences) < 4.0 and sum(differences) / len(differences) < 1.5
