"""Live analysis: the same strides, reps and trials as batch, and payloads the publisher takes."""

from __future__ import annotations

import json
import threading

import paho.mqtt.client as mqtt
import pytest

from hiprot.analysis.live import LiveAnalysis
from hiprot.analysis.session import analysis_inputs
from hiprot.config import MqttConfig
from hiprot.kinematics.gait_events import StreamingGaitEvents
from hiprot.mqtt import Publisher


def stream(scored, chunk: int = 10) -> list[tuple[str, dict]]:
    """Feed a processed session to the live objects in chunks, as the live pipeline would:
    angles and the shank rate (and knee angle) per chunk, events from the streaming detector."""
    processed = scored.processed
    time_s, columns, _ = analysis_inputs(processed)
    rate_hz = processed.grid.rate_hz
    legs = processed.angles.legs
    live = LiveAnalysis(tuple(legs), rate_hz, scored.analysis.activity)
    detectors = {side: StreamingGaitEvents(rate_hz) for side in legs}
    out = []
    for i in range(0, len(time_s), chunk):
        part = slice(i, i + chunk)
        events = {
            side: d.update(
                time_s[part],
                legs[side].sagittal_rate[part],
                columns[f"{side}_knee_flexion_deg"][part],
            )
            for side, d in detectors.items()
        }
        out += live.update(time_s[part], {k: v[part] for k, v in columns.items()}, events)
    last = {side: d.finish() for side, d in detectors.items()}
    out += live.update(time_s[:0], {k: v[:0] for k, v in columns.items()}, last)
    return out + live.finish()


@pytest.mark.parametrize(
    "name, kind", [("walk_with_pelvis", "stride"), ("exercise", "rep"), ("prone", "test")]
)
def test_live_gives_the_batch_metrics(name, kind, request):
    scored = request.getfixturevalue(name)
    batch = {
        "stride": scored.analysis.strides,
        "rep": scored.analysis.reps,
        "test": scored.analysis.trials,
    }[kind]
    live = stream(scored)
    assert {k for k, _ in live} == {kind}
    assert len(batch) >= 4

    def key(p):
        return (p["side"], p["start_s"])

    assert sorted((p for _, p in live), key=key) == sorted((b.payload() for b in batch), key=key)


def test_live_metrics_arrive_at_a_subscriber(broker, walk_without_pelvis, tmp_path):
    received, lock = [], threading.Lock()

    def on_message(client, userdata, message):
        with lock:
            received.append(json.loads(message.payload))

    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    sub.on_message = on_message
    subscribed = threading.Event()
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.on_connect = lambda c, *a: c.subscribe("hiprot/dev/stride", qos=1)
    sub.connect(broker.host, broker.port)
    sub.loop_start()
    assert subscribed.wait(10)
    publisher = Publisher(
        MqttConfig(port=broker.port), "dev", broker.host, outbox_path=tmp_path / "outbox.sqlite3"
    )
    assert publisher.start()
    produced = stream(walk_without_pelvis)
    for kind, payload in produced:
        publisher.publish_metric(kind, payload)
    publisher.stop()
    waiting = threading.Event()
    for _ in range(100):
        with lock:
            if len(received) >= len(produced):
                break
        waiting.wait(0.1)
    sub.loop_stop()
    assert len(produced) > 30
    assert [
        {k: v for k, v in m.items() if k not in ("seq", "stream", "timestamp")} for m in received
    ] == [p for _, p in produced]
