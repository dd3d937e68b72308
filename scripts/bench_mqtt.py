"""Benchmark live publishing on this machine with a Mosquitto broker of its own.

1. End-to-end latency: the simulated rig paced at real time runs through the
   real logger loop (pipeline, recording, live feed, publisher); a subscriber on
   localhost stamps each ``angles`` message on arrival. Reported per message:
   sample time → received (includes waiting for the 50 ms chunk to fill), and
   chunk handed to the pipeline → received (processing + MQTT only), separately for
   the steady state (samples taken after the first angles arrived: calibrated) and
   the calibration backlog (the samples before, published at once when the rig calibrates).
2. Sustained rate: how many messages per second the publisher delivers to the
   subscriber — metrics (QoS 1 through the SQLite outbox), live angles (QoS 0) —
   against plain paho QoS 1 publishing measured in the same run.

Usage: .venv/bin/python scripts/bench_mqtt.py [--seconds 15] [--messages 5000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
from local_broker import LocalBroker

from hiprot import run_loop
from hiprot.config import MqttConfig, load_rig
from hiprot.mqtt import Publisher
from hiprot.recording import SessionWriter
from hiprot.samples import split_chunk
from hiprot.sim import simulate
from hiprot.sources import CHUNK_S


class Stamper:
    """A subscriber that records (arrival monotonic time, topic, payload) of every message."""

    def __init__(self, port: int, topic: str):
        self.arrivals: list[tuple[float, str, bytes]] = []
        ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-sub-{topic}")
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *a: ready.set()
        self.client.on_message = lambda c, u, m: self.arrivals.append(
            (time.monotonic(), m.topic, m.payload)
        )
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        ready.wait(10)

    def wait_for(self, count: int, suffix: str, timeout: float) -> float:
        """Monotonic time when ``count`` messages on ``*suffix`` had arrived (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hits = [t for t, topic, _ in self.arrivals if topic.endswith(suffix)]
            if len(hits) >= count:
                return hits[count - 1]
            time.sleep(0.01)
        return float("nan")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def latency(port: int, workdir: Path, seconds: float) -> dict[str, np.ndarray]:
    """Per angles message: sample → received and chunk → received, in seconds."""
    rig = load_rig()
    chunks = split_chunk(simulate(rig, seconds).samples, CHUNK_S)
    handed: list[
        tuple[float, float]
    ] = []  # (last sample time of chunk, monotonic when handed over)
    t0 = time.monotonic()

    def paced():
        for chunk in chunks:
            end = max(s.time_s[-1] for s in chunk.values())
            delay = t0 + end - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            handed.append((end, time.monotonic()))
            yield chunk

    stamper = Stamper(port, "hiprot/+/angles")
    publisher = Publisher(rig.mqtt, rig.device_id, "127.0.0.1", port, outbox_dir=workdir / "outbox")
    publisher.start()
    t0 = time.monotonic()
    run_loop.run(rig, paced(), SessionWriter(rig, workdir / "sessions"), publisher)
    time.sleep(0.5)
    stamper.close()
    ends = np.array([e for e, _ in handed])
    handed_at = np.array([h for _, h in handed])
    sample_lat, chunk_lat, sampled = [], [], []
    for arrived, _, payload in stamper.arrivals:
        t = json.loads(payload)["time_s"]
        sampled.append(t0 + t)
        sample_lat.append(arrived - (t0 + t))
        chunk_lat.append(arrived - handed_at[np.searchsorted(ends, t - 1e-9)])
    if not sample_lat:
        raise SystemExit(f"no angles were published in a {seconds:g} s session: make it longer")
    steady = np.array(sampled) >= stamper.arrivals[0][0]  # sampled once angles were flowing
    return {
        "sample": np.array(sample_lat),
        "chunk": np.array(chunk_lat),
        "steady": steady,
    }


def publisher_rate(port: int, workdir: Path, n: int, kind: str) -> float:
    """Messages per second from the first publish to the n-th arrival at the subscriber."""
    stamper = Stamper(port, f"bench/{kind}/#")
    publisher = Publisher(
        MqttConfig(topic_prefix="bench"),
        kind,
        "127.0.0.1",
        port,
        outbox_dir=workdir / kind,
        queue_size=2 * n,
    )
    publisher.start()
    publisher.begin_session("bench")
    start = time.monotonic()
    for i in range(n):
        if kind == "metrics":
            publisher.publish_metric("stride", {"index": i, "hip_ir_max_deg": 12.3})
        else:
            publisher.publish("angles", {"time_s": i / 200, "right_hip_ir_deg": 12.3})
    suffix = "/stride" if kind == "metrics" else "/angles"
    done = stamper.wait_for(n, suffix, 120)
    publisher.stop()
    stamper.close()
    return n / (done - start)


def paho_rate(port: int, n: int) -> float:
    """Plain paho QoS 1 (its own network thread, no outbox): the baseline."""
    stamper = Stamper(port, "bench/paho/#")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-paho")
    client.max_inflight_messages_set(110)
    client.connect("127.0.0.1", port)
    client.loop_start()
    start = time.monotonic()
    for i in range(n):
        client.publish("bench/paho/stride", json.dumps({"index": i, "hip_ir_max_deg": 12.3}), qos=1)
    done = stamper.wait_for(n, "/stride", 120)
    client.disconnect()
    client.loop_stop()
    stamper.close()
    return n / (done - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the live session")
    parser.add_argument("--messages", type=int, default=5000, help="messages per rate measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        broker = LocalBroker(workdir, options="max_queued_messages 0\n").start()
        port = broker.port
        try:
            lat = latency(port, workdir, args.seconds)
            baseline = paho_rate(port, args.messages)
            metrics = publisher_rate(port, workdir, args.messages, "metrics")
            angles = publisher_rate(port, workdir, args.messages, "angles")
        finally:
            broker.stop()
    for label, part in (("steady state", lat["steady"]), ("calibration backlog", ~lat["steady"])):
        print(
            f"end-to-end latency, {label}: {part.sum()} of {len(part)} angles messages "
            f"({args.seconds:g} s live session):"
        )
        if not part.any():
            continue
        print(
            f"  sample time -> received:  {percentiles(lat['sample'][part])}"
            f"  (includes up to {1000 * CHUNK_S:.0f} ms waiting for the chunk to fill)"
        )
        print(
            f"  chunk handed -> received: {percentiles(lat['chunk'][part])}"
            "  (pipeline + publisher + broker)"
        )
    print(f"sustained rate, {args.messages} messages each:")
    print(f"  plain paho QoS 1 (baseline):       {baseline:8.0f} msg/s")
    print(
        f"  publisher metrics (QoS 1, outbox): {metrics:8.0f} msg/s "
        f"= {metrics / baseline:.2f} x baseline"
    )
    print(
        f"  publisher angles (QoS 0):          {angles:8.0f} msg/s "
        f"= {angles / baseline:.2f} x baseline = {angles / 20:.0f} x a 20 Hz angle stream"
    )


def percentiles(latencies_s: np.ndarray) -> str:
    """p50 and p99 in milliseconds."""
    p50, p99 = 1000 * np.percentile(latencies_s, [50, 99])
    return f"p50 {p50:.1f} ms  p99 {p99:.1f} ms"


if __name__ == "__main__":
    main()
