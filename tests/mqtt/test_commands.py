"""The command topic against a real Mosquitto: only the wearer may command (the shipped ACL),
another device's commands are ignored, a repeated id changes nothing, a broker restart in
mid-command is retried, and ``hiprot command`` labels a running ``hiprot record``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time

import paho.mqtt.client as mqtt
import pytest
from hiprot_testing import CONFIG, Broker, ConfiguredBroker, free_port

from hiprot.config import MqttConfig
from hiprot.mqtt.commands import CommandListener, CommandNotAcknowledged, send_command
from hiprot.mqtt.connection import BrokerError
from hiprot.recording.segments import SEGMENTS_FILE, SegmentLog, read_timeline

DEVICE = "dev1"
USERS = {"hiprot": "logger secret", "wearer": "wearer secret", "viewer": "viewer secret"}


def _config(broker, user: str | None = None) -> MqttConfig:
    return MqttConfig(host=broker.host, port=broker.port, username=user)


def _lines(directory) -> list[dict]:
    path = directory / SEGMENTS_FILE
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def acl_broker(tmp_path):
    """A broker with the shipped config/mosquitto.acl and a password for each of USERS."""
    passwd = shutil.which("mosquitto_passwd") or pytest.fail("mosquitto_passwd is not installed")
    password_file = tmp_path / "passwd"
    for user, password in USERS.items():
        create = ["-c"] if not password_file.exists() else []
        subprocess.run([passwd, *create, "-b", str(password_file), user, password], check=True)
    b = ConfiguredBroker(
        tmp_path,
        lambda port: [
            f"listener {port} 127.0.0.1",
            "allow_anonymous false",
            f"password_file {password_file}",
            f"acl_file {CONFIG / 'mosquitto.acl'}",
            "persistence false",
        ],
    ).start()
    yield b
    b.stop()


@pytest.fixture
def listening(tmp_path):
    """Start a command listener writing into ``tmp_path/session``; all closed afterwards."""
    made = []

    def make(broker, user: str | None = None):
        session = tmp_path / "session"
        session.mkdir(exist_ok=True)
        log = SegmentLog(session, time.monotonic)
        if user is not None:
            os.environ["HIPROT_MQTT_PASSWORD"] = USERS[user]
        listener = CommandListener(_config(broker, user), DEVICE, log.apply, state=log.state)
        listener.start()
        made.append((listener, log))
        assert listener.subscribed.wait(10), "the listener did not subscribe"
        return session

    yield make
    os.environ.pop("HIPROT_MQTT_PASSWORD", None)
    for listener, log in made:
        listener.close()
        listener.close()  # idempotent
        log.close()


def _send(broker, user, command, timeout_s=4.0, password=None):
    password = password or (USERS[user] if user else None)
    return send_command(
        _config(broker, user), DEVICE, command, timeout_s=timeout_s, password=password
    )


def test_only_the_wearer_may_command(acl_broker, listening):
    session = listening(acl_broker, "hiprot")
    start = {"op": "start", "labels": {"activity": "seated-test"}}
    assert _send(acl_broker, "wearer", {**start, "id": "w1"})["status"] == "ok"
    with pytest.raises(CommandNotAcknowledged):  # the ACL drops the viewer's publish
        _send(acl_broker, "viewer", {"op": "stop", "id": "v1"}, timeout_s=3.0)
    with pytest.raises(BrokerError, match="refused"):
        _send(acl_broker, "wearer", {"op": "stop", "id": "x1"}, password="wrong")
    assert [line["id"] for line in _lines(session)] == ["w1"]


def test_another_devices_commands_are_ignored(broker, listening):
    session = listening(broker)
    with pytest.raises(CommandNotAcknowledged):  # on another device's topic: not ours to answer
        send_command(_config(broker), "dev2", {"op": "mark", "id": "a"}, timeout_s=2.0)
    answers = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-foreign")
    client.on_message = lambda c, u, m: answers.append(json.loads(m.payload))
    client.connect(broker.host, broker.port)
    client.subscribe(f"hiprot/{DEVICE}/cmd/result", qos=1)
    client.loop_start()
    try:
        time.sleep(0.3)
        body = json.dumps({"id": "b", "device": "dev2", "op": "mark"})  # on our topic, for dev2
        client.publish(f"hiprot/{DEVICE}/cmd", body, qos=1).wait_for_publish(5)
        deadline = time.monotonic() + 10
        while not answers and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.disconnect()
        client.loop_stop()
    assert answers and answers[0]["status"] == "ignored" and answers[0]["id"] == "b"
    assert _lines(session) == []


def test_a_repeated_command_id_changes_nothing(broker, listening):
    session = listening(broker)
    command = {"op": "start", "id": "same", "labels": {"side": "left"}}
    first = _send(broker, None, command)
    again = _send(broker, None, command)
    assert (first["status"], again["status"]) == ("ok", "duplicate")
    assert again["segment"] == first["segment"]
    assert len(_lines(session)) == 1


def test_the_segment_state_is_retained_for_later_subscribers(broker, listening, subscribe):
    listening(broker)
    _send(broker, None, {"op": "start", "id": "a", "labels": {"activity": "walk"}})
    late = subscribe(broker, f"hiprot/{DEVICE}/segment")
    assert late.received.wait(lambda r: r.json("/segment"), 10)
    (state,) = late.received.json("/segment")
    assert state["open"]["name"] == "01-walk" and state["segments"] == 1
    _send(broker, None, {"op": "stop", "id": "b"})
    assert late.received.wait(lambda r: r.json("/segment")[-1]["open"] is None, 10)


def test_a_broker_restart_in_mid_command_is_retried_and_applies_once(broker, listening):
    session = listening(broker)
    assert _send(broker, None, {"op": "start", "id": "s1", "labels": {}})["status"] == "ok"
    broker.stop()
    outcome = {}

    def send():  # while the broker is away: the sender keeps trying with the same id
        try:
            outcome["result"] = _send(broker, None, {"op": "stop", "id": "s2"}, timeout_s=30)
        except Exception as exc:  # noqa: BLE001 - checked below
            outcome["error"] = exc

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(1.5)
    Broker(broker.conf.parent, broker.port).start()  # the same port, a fresh broker
    broker.process = None
    sender.join(40)
    assert outcome.get("result", {}).get("status") == "ok", outcome
    # the answer lost on the way back: the sender re-sends the id, and nothing changes
    assert _send(broker, None, {"op": "stop", "id": "s2"}, timeout_s=10)["status"] == "duplicate"
    assert [line["id"] for line in _lines(session)] == ["s1", "s2"]


def _long_rig(tmp_path, broker, sim_rig_text):
    rig = tmp_path / "rig.toml"
    rig.write_text(
        sim_rig_text.replace('host = "localhost"', f'host = "{broker.host}"')
        .replace("port = 1883", f"port = {broker.port}")
        .replace('device_id = "hiprot-sim"', 'device_id = "cmd-test"')
        .replace("duration_s = 20", "duration_s = 120")
    )
    return rig


def test_a_killed_recorder_keeps_every_acknowledged_command(broker, tmp_path, sim_rig_text):
    rig = _long_rig(tmp_path, broker, sim_rig_text)
    recorder = subprocess.Popen(
        [sys.executable, "-m", "hiprot", "record", "--rig", str(rig), "--out", str(tmp_path / "s")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert recorder.stdout.readline().startswith("recording"), recorder.stderr.read()
        config = MqttConfig(host=broker.host, port=broker.port)
        command = {"op": "start", "id": "k1", "labels": {"activity": "exercise"}}
        assert send_command(config, "cmd-test", command, timeout_s=10)["status"] == "ok"
        recorder.kill()  # SIGKILL right after the acknowledgement
        recorder.wait(30)
    finally:
        recorder.kill()
        recorder.wait()
    (session,) = (tmp_path / "s").iterdir()
    assert not json.loads((session / "session.json").read_text())["complete"]
    timeline = read_timeline(session)
    assert timeline.open is not None and timeline.open.start_id == "k1" and not timeline.skipped


def test_hiprot_command_labels_a_running_recording(broker, tmp_path, sim_rig_text):
    rig = _long_rig(tmp_path, broker, sim_rig_text)
    hiprot = [sys.executable, "-m", "hiprot"]
    recorder = subprocess.Popen(
        [*hiprot, "record", "--rig", str(rig), "--out", str(tmp_path / "sessions")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert recorder.stdout.readline().startswith("recording"), recorder.stderr.read()

        def command(*args):
            return subprocess.run(
                [*hiprot, "command", *args, "--rig", str(rig)],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )

        start = ["start", "--activity", "seated-test", "--side", "right", "--phase", "before"]
        started = command(*start, "--id", "c1")
        assert started.returncode == 0, started.stderr
        assert "ok: start, segment 01-seated-test-right-before" in started.stdout
        assert command(*start, "--id", "c1").stdout.startswith("c1: duplicate")
        stopped = command("stop", "--id", "c2")
        assert stopped.returncode == 0 and "ended at" in stopped.stdout, stopped.stderr
        refused = command("stop")
        assert refused.returncode == 2 and "no segment is open" in refused.stderr
        assert recorder.poll() is None, "the recording still runs"
        recorder.terminate()  # SIGTERM: the service's clean stop
        out, err = recorder.communicate(timeout=60)
    finally:
        recorder.kill()
        recorder.wait()
    assert recorder.returncode == 0, err
    (session,) = (tmp_path / "sessions").iterdir()
    meta = json.loads((session / "session.json").read_text())
    assert meta["complete"] and meta["stop_reason"] == "signal"  # no command stopped it
    timeline = read_timeline(session)
    assert [s.name for s in timeline.segments] == ["01-seated-test-right-before"]
    assert timeline.open is None and not timeline.skipped


def test_no_answer_is_one_line_and_status_2():
    result = subprocess.run(
        [sys.executable, "-m", "hiprot", "command", "stop", "--id", "late"]
        + ["--broker", f"127.0.0.1:{free_port()}", "--timeout", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert "no answer" in line and "--id late" in line


@pytest.mark.parametrize("labelled", [False, True])
def test_the_live_metrics_follow_the_open_segments_activity(broker, tmp_path, labelled):
    """A seated test recorded without --activity gives strides only; a segment labelled
    seated-test switches the live analysis to trials."""
    from hiprot import run_loop
    from hiprot.config import parse_rig_text
    from hiprot.mqtt import Publisher
    from hiprot.sources import open_source

    text = (CONFIG / "sim.toml").read_text().replace('scenario = "walk"', 'scenario = "seated-ir"')
    text = text.replace("duration_s = 20\n", "")  # the scenario's own length: all its trials
    rig = parse_rig_text(
        text.replace('device_id = "hiprot-sim"', 'device_id = "live-seg"'), tmp_path
    )
    publisher = Publisher(rig.mqtt, rig.device_id, broker.host, broker.port)
    publisher.start()
    with open_source(rig, realtime=False) as source:
        summary = run_loop.run(
            rig,
            source,
            None,
            publisher,
            session_path=tmp_path,
            start_utc="2026-01-01T00:00:00+00:00",
            segment_activity=(lambda: "seated-test") if labelled else (lambda: None),
        )
    if labelled:
        assert summary.metrics.get("test", 0) >= 2, summary.metrics
    else:
        assert "test" not in summary.metrics, summary.metrics
