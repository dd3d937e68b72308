"""The publisher against real Mosquitto brokers: nothing lost, in order, duplicates marked."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from hiprot.config import MqttConfig
from hiprot.mqtt import Publisher
from hiprot.mqtt.connection import BrokerError

from .conftest import PASSWORD, USER

METRIC_TOPICS = ("/stride", "/rep", "/test")


def session_metrics(n: int) -> list[tuple[str, dict]]:
    """Metric messages as an analysis stage would produce them for one session."""
    out = []
    for i in range(n):
        kind = ("stride", "stride", "stride", "rep", "test")[i % 5]
        out.append(
            (
                kind,
                {
                    "side": "right",
                    "index": i,
                    "start_s": round(i * 1.1, 3),
                    "end_s": round(i * 1.1 + 1.05, 3),
                    "hip_ir_max_deg": round(10 + i % 17, 1),
                },
            )
        )
    return out


def metrics_received(sub) -> list[tuple[bytes, dict]]:
    with sub.received.lock:
        raw = [p for t, p, _ in sub.received.messages if t.endswith(METRIC_TOPICS)]
    return [(p, json.loads(p)) for p in raw]


def assert_exactly(produced, received) -> None:
    """Every produced metric arrived once after removing marked duplicates, in order, unchanged."""
    first: dict[tuple[str, int], bytes] = {}
    for payload, message in received:
        key = (message["stream"], message["seq"])
        assert first.setdefault(key, payload) == payload, "a re-sent copy must be identical"
    unique = [json.loads(p) for p in first.values()]
    assert [m["seq"] for m in unique] == sorted(m["seq"] for m in unique), "out of order"
    assert len({m["stream"] for m in unique}) == 1
    assert len({m["session"] for m in unique}) == 1, "one session, named in every metric"
    stripped = [
        {k: v for k, v in m.items() if k not in ("seq", "stream", "session", "timestamp")}
        for m in unique
    ]
    assert stripped == [payload for _, payload in produced]


def test_every_metric_of_a_session_arrives_in_order(broker, subscribe, tmp_path):
    sub = subscribe(broker, "hiprot/dev/#")
    produced = session_metrics(200)
    publisher = Publisher(
        MqttConfig(port=broker.port), "dev", broker.host, outbox_dir=tmp_path / "outbox"
    )
    assert publisher.start()
    publisher.begin_session("s1")
    for kind, payload in produced:
        publisher.publish_metric(kind, payload)
    assert publisher.flush(30)
    publisher.stop()
    assert sub.received.wait(lambda r: len(metrics_received(sub)) >= 200, 30)
    assert_exactly(produced, metrics_received(sub))
    topics = [t.rsplit("/", 1)[1] for t, _, _ in sub.received.messages if t.endswith(METRIC_TOPICS)]
    assert topics == [kind for kind, _ in produced]
    assert sub.received.on("/status")[-1] == b"offline"


def test_a_metric_published_just_before_stop_is_delivered(broker, subscribe, tmp_path):
    """The last metrics of a session (published as it ends) are flushed even when they reach
    the queue after the worker's last take: the worker stops only once they are acknowledged."""
    sub = subscribe(broker, "hiprot/dev/#")
    publisher = Publisher(
        MqttConfig(port=broker.port), "dev", broker.host, outbox_dir=tmp_path / "outbox"
    )
    assert publisher.start()
    publisher.begin_session("s1")
    assert sub.received.wait(lambda r: publisher.stats.connected, 15)
    worker_note = publisher._note_outbox
    late = session_metrics(2)

    def note_then_caller_ends_the_session() -> None:
        # The worker has taken the queue; the caller now publishes its last metrics and stops.
        worker_note()
        if late:
            for kind, payload in late:
                publisher.publish_metric(kind, payload)
            late.clear()
            publisher._flush_deadline = time.monotonic() + 30
            publisher._stopping.set()

    publisher._note_outbox = note_then_caller_ends_the_session
    publisher._wake()
    publisher.stop()
    assert publisher.acknowledged == {"stride": 2}, publisher.stats
    assert sub.received.wait(lambda r: len(metrics_received(sub)) >= 2, 10)
    for path in (tmp_path / "outbox").glob("*.sqlite3"):  # a drained outbox may be gone
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0


def test_broker_restart_mid_session_loses_no_metric(persistent_broker, subscribe, tmp_path):
    sub = subscribe(persistent_broker, "hiprot/dev/#", persistent=True)
    produced = session_metrics(300)
    publisher = Publisher(
        MqttConfig(port=persistent_broker.port),
        "dev",
        persistent_broker.host,
        outbox_dir=tmp_path / "outbox",
    )
    assert publisher.start()
    publisher.begin_session("s1")
    for kind, payload in produced[:100]:
        publisher.publish_metric(kind, payload)
        publisher.publish("angles", {"time_s": 0.0})
    persistent_broker.stop()
    for kind, payload in produced[100:150]:
        publisher.publish_metric(kind, payload)
    assert sub.received.wait(lambda r: not publisher.stats.connected, 15)
    for kind, payload in produced[150:200]:
        publisher.publish_metric(kind, payload)
        publisher.publish("angles", {"time_s": 0.0})
    assert sub.received.wait(lambda r: publisher.stats.live_dropped >= 50, 10), (
        "live angles are dropped while offline"
    )
    persistent_broker.start()
    for kind, payload in produced[200:]:
        publisher.publish_metric(kind, payload)
    assert publisher.flush(60), f"undelivered: {publisher.stats}"
    assert publisher.stats.reconnects >= 1 and publisher.stats.metrics_dropped == 0
    publisher.stop()
    assert sub.received.wait(lambda r: len({m["seq"] for _, m in metrics_received(sub)}) >= 300, 30)
    assert_exactly(produced, metrics_received(sub))


def test_metrics_survive_a_killed_logger(broker, subscribe, tmp_path):
    outbox = tmp_path / "outbox"
    broker.stop()
    script = textwrap.dedent(f"""
        import time
        from hiprot.config import MqttConfig
        from hiprot.mqtt import Publisher
        pub = Publisher(MqttConfig(port={broker.port}), "dev", "{broker.host}", outbox_dir="{outbox}")
        pub.start()
        pub.begin_session("killed")
        for i in range(50):
            pub.publish_metric("stride", {{"index": i}})
        time.sleep(120)
    """)
    logger = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                (path,) = outbox.glob("killed-*.sqlite3")
                with sqlite3.connect(path) as db:
                    if db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 50:
                        break
            except (ValueError, sqlite3.OperationalError):
                pass
            time.sleep(0.1)
        else:
            pytest.fail("the logger never wrote its outbox")
    finally:
        logger.send_signal(signal.SIGKILL)
        logger.wait(10)
    broker.start()
    sub = subscribe(broker, "hiprot/dev/#")
    again = Publisher(MqttConfig(port=broker.port), "dev", broker.host, outbox_dir=outbox)
    assert again.start()
    again.begin_session("next")
    assert again.flush(30)
    again.stop()
    assert sub.received.wait(lambda r: len(metrics_received(sub)) >= 50, 30)
    assert_exactly([("stride", {"index": i}) for i in range(50)], metrics_received(sub))
    assert [m["seq"] for _, m in metrics_received(sub)] == list(range(1, 51))
    assert {m["session"] for _, m in metrics_received(sub)} == {"killed"}, "under its own session"
    assert list(outbox.iterdir()) == [], "delivered outboxes are deleted"


def test_outbox_is_bounded_and_counts_what_it_drops(broker, subscribe, tmp_path):
    broker.stop()
    publisher = Publisher(
        MqttConfig(port=broker.port),
        "dev",
        broker.host,
        outbox_dir=tmp_path / "outbox",
        outbox_size=20,
    )
    assert not publisher.start()
    publisher.begin_session("s1")
    for i in range(30):
        publisher.publish_metric("rep", {"index": i})
    broker.start()
    sub = subscribe(broker, "hiprot/dev/#")
    assert publisher.flush(30)
    assert publisher.stats.metrics_dropped == 10
    publisher.stop()
    assert sub.received.wait(lambda r: len(metrics_received(sub)) >= 20, 30)
    assert [m["index"] for _, m in metrics_received(sub)] == list(range(20))


def test_status_goes_offline_when_the_logger_is_killed(broker, subscribe, tmp_path):
    sub = subscribe(broker, "hiprot/+/status")
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    logger = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hiprot",
            "record",
            "--broker",
            broker.address,
            "--out",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert sub.received.wait(lambda r: r.on("/status")[-1:] == [b"online"], 60), logger.stderr
    finally:
        logger.send_signal(signal.SIGKILL)
        logger.wait(10)
    assert sub.received.wait(lambda r: r.on("/status")[-1:] == [b"offline"], 30)
    late = subscribe(broker, "hiprot/+/status")
    assert late.received.wait(lambda r: r.on("/status") == [b"offline"], 10), "offline is retained"


def _tls_config(tls_files, tmp_path, port: int, password: str, ca: bool = True) -> MqttConfig:
    secret = tmp_path / "mqtt-password"
    secret.write_text(password + "\n")
    secret.chmod(0o600)
    return MqttConfig(
        host="127.0.0.1",
        port=port,
        tls=True,
        ca_file=tls_files["ca.crt"] if ca else None,
        username=USER,
        password_file=secret,
    )


def test_tls_with_password_delivers(tls_broker, tls_files, tmp_path):
    config = _tls_config(tls_files, tmp_path, tls_broker.port, PASSWORD)
    publisher = Publisher(config, "dev", outbox_dir=tmp_path / "outbox")
    assert publisher.start()
    publisher.begin_session("s1")
    publisher.publish_metric("stride", {"index": 0})
    assert publisher.flush(20)
    publisher.stop()


def test_wrong_password_is_a_clear_error(tls_broker, tls_files, tmp_path):
    config = _tls_config(tls_files, tmp_path, tls_broker.port, "not the password")
    publisher = Publisher(config, "dev", outbox_dir=tmp_path / "outbox")
    with pytest.raises(BrokerError) as info:
        publisher.start()
    message = str(info.value)
    assert "\n" not in message and "refused" in message and USER in message
    assert "not the password" not in message


def test_unknown_certificate_authority_is_refused(tls_broker, tls_files, tmp_path):
    config = _tls_config(tls_files, tmp_path, tls_broker.port, PASSWORD, ca=False)
    with pytest.raises(BrokerError, match="TLS failed: certificate verify failed"):
        Publisher(config, "dev", outbox_dir=tmp_path / "outbox").start()


def test_cli_wrong_password_one_line_exit_2(tls_broker, tls_files, tmp_path, sim_rig_text):
    _tls_config(tls_files, tmp_path, tls_broker.port, "hunter2")
    rig = tmp_path / "rig.toml"
    rig.write_text(
        sim_rig_text.replace(
            "port = 1883",
            f'port = {tls_broker.port}\ntls = true\nca_file = "{tls_files["ca.crt"]}"\n'
            f'username = "{USER}"\npassword_file = "mqtt-password"',
        )
    )
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hiprot",
            "record",
            "--rig",
            str(rig),
            "--duration",
            "1",
            "--broker",
            f"127.0.0.1:{tls_broker.port}",
            "--out",
            str(tmp_path / "sessions"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "refused the connection" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    assert not (tmp_path / "sessions").exists(), "nothing is recorded with a broken MQTT setup"
