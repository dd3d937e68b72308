"""The appliance install.sh sets up, run for real: Mosquitto with the installed configuration,
password file and ACL (no anonymous client, only the wearer commands), the logger publishing
through it as its own user, and Home Assistant's entities fed by what it publishes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from hiprot_testing import CONFIG, ConfiguredBroker, Received, free_port, ha_state

from hiprot.config import DASHBOARD_PORT
from hiprot.mqtt.health import battery_percent

from .conftest import NEEDS_ROOT

pytestmark = NEEDS_ROOT


def secret(root: Path, name: str) -> str:
    return (root / "etc/hiprot" / name).read_text().strip()


@pytest.fixture(scope="module")
def appliance_broker(installed_root, tmp_path_factory):
    """Mosquitto as Debian runs it with the installed drop-in: a main file that sets persistence
    and includes conf.d/, the drop-in's ports on localhost and its paths in the scratch root."""
    work = tmp_path_factory.mktemp("broker")
    ws_port = free_port()
    installed = (installed_root / "etc/mosquitto/conf.d/hiprot.conf").read_text()

    def lines(port: int) -> list[str]:
        text = (
            installed.replace("listener 1883\n", f"listener {port} 127.0.0.1\n")
            .replace("listener 9001\n", f"listener {ws_port} 127.0.0.1\n")
            .replace("_file /etc/mosquitto/", f"_file {installed_root}/etc/mosquitto/")
        )
        assert text.count("127.0.0.1") == 2 and text.count(str(installed_root)) == 2
        (work / "conf.d").mkdir(exist_ok=True)
        (work / "conf.d" / "hiprot.conf").write_text(text)
        return ["persistence true", f"persistence_location {work}/", f"include_dir {work}/conf.d"]

    broker = ConfiguredBroker(work, lines, ws_port).start()
    yield broker
    broker.stop()


class Client:
    """A paho client that logs in (or not) and records what it receives."""

    def __init__(self, port: int, user=None, password=None, transport="tcp"):
        self.received = Received()
        self.answered = threading.Event()
        self.reason = None
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, transport=transport)
        if user is not None:
            self.client.username_pw_set(user, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda c, u, m: self.received.messages.append(
            (m.topic, m.payload, bool(m.retain))
        )
        self.subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        assert self.answered.wait(10), "the broker did not answer"

    def _on_connect(self, client, userdata, flags, reason, properties):
        self.reason = reason
        self.answered.set()

    @property
    def accepted(self) -> bool:
        return not self.reason.is_failure

    def subscribe(self, *topics: str) -> Client:
        for topic in topics:
            self.subscribed.clear()
            self.client.subscribe(topic, qos=1)
            assert self.subscribed.wait(10)
        return self

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_install_sets_up_the_broker_users_acl_dashboard_and_mdns(installed_root):
    root = installed_root
    users = [line.split(":")[0] for line in (root / "etc/mosquitto/hiprot.passwd").open()]
    assert users == ["hiprot", "wearer"]
    mosquitto_uid = next(
        int(line.split(":")[2])
        for line in (root / "etc/passwd").open()
        if line.startswith("mosquitto:")
    )
    hiprot_uid = next(
        int(line.split(":")[2])
        for line in (root / "etc/passwd").open()
        if line.startswith("hiprot:")
    )
    for path, owner in (
        ("etc/mosquitto/hiprot.passwd", mosquitto_uid),
        ("etc/hiprot/mqtt-password", hiprot_uid),
        ("etc/hiprot/wearer-password", 0),
    ):
        info = (root / path).stat()
        assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == owner, path
    assert len(secret(root, "mqtt-password")) == len(secret(root, "wearer-password")) == 24
    assert secret(root, "mqtt-password") != secret(root, "wearer-password")
    assert (root / "etc/mosquitto/hiprot.acl").read_bytes() == (
        CONFIG / "mosquitto.acl"
    ).read_bytes()
    assert (root / "etc/mosquitto/conf.d/hiprot.conf").read_bytes() == (
        CONFIG / "mosquitto.conf"
    ).read_bytes()
    wants = root / "etc/systemd/system/multi-user.target.wants/hiprot-dashboard.service"
    assert os.readlink(wants) == "/etc/systemd/system/hiprot-dashboard.service"
    unit = (root / "etc/systemd/system/hiprot-dashboard.service").read_text()
    assert f"--host 0.0.0.0 --port {DASHBOARD_PORT}" in unit
    avahi = ET.parse(root / "etc/avahi/services/hiprot.service").getroot()
    ports = {s.findtext("type"): int(s.findtext("port")) for s in avahi.iter("service")}
    assert ports == {"_http._tcp": DASHBOARD_PORT, "_mqtt._tcp": 1883}
    rig = (root / "etc/hiprot/rig.toml").read_text()
    assert 'username = "hiprot"' in rig and 'password_file = "/etc/hiprot/mqtt-password"' in rig


def test_no_anonymous_client_connects_and_only_the_wearer_commands(
    installed_root, appliance_broker
):
    broker = appliance_broker
    for port, transport in ((broker.port, "tcp"), (broker.ws_port, "websockets")):
        anonymous = Client(port, transport=transport)
        wrong = Client(port, "wearer", "not the password", transport=transport)
        assert not anonymous.accepted and not wrong.accepted, transport
        anonymous.close()
        wrong.close()
    logger = Client(broker.port, "hiprot", secret(installed_root, "mqtt-password"))
    wearer = Client(
        broker.ws_port, "wearer", secret(installed_root, "wearer-password"), "websockets"
    )
    assert logger.accepted and wearer.accepted
    logger.subscribe("hiprot/dev/cmd")
    logger.client.publish("hiprot/dev/cmd", b"from the logger", qos=1).wait_for_publish(5)
    wearer.client.publish("hiprot/dev/cmd", b"from the wearer", qos=1).wait_for_publish(5)
    assert logger.received.wait(lambda r: r.on("/cmd"), 10)
    logger.client.publish("hiprot/dev/angles", b"{}", qos=1).wait_for_publish(5)
    wearer.subscribe("hiprot/#")
    logger.client.publish("hiprot/dev/health", b"{}", qos=1).wait_for_publish(5)
    assert wearer.received.wait(lambda r: r.on("/health"), 10), "the wearer reads"
    assert logger.received.on("/cmd") == [b"from the wearer"], "only the wearer commands"
    logger.close()
    wearer.close()


@pytest.fixture(scope="module")
def seated_session(tmp_path_factory) -> Path:
    """A simulated seated IR test (rigid segments: this tests publishing, not accuracy)."""
    out = tmp_path_factory.mktemp("seated") / "SEATED"
    rig = out.parent / "technical.toml"
    text = (CONFIG / "sim.toml").read_text()
    rig.write_text(text.replace("[simulation]\n", '[simulation]\nrealism = "technical"\n'))
    result = subprocess.run(
        [sys.executable, "-m", "hiprot", "simulate", "--rig", str(rig), "--scenario", "seated-ir",
         "--duration", "40", "--out", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out


def test_home_assistant_entities_get_states_from_the_logger_through_the_installed_broker(
    installed_root, appliance_broker, seated_session, tmp_path
):
    """``hiprot replay`` as the installed logger user with discovery on: every entity Home
    Assistant is told of gets a state it accepts; hip IR comes once a second of sample time."""
    broker = appliance_broker
    rig = tmp_path / "rig.toml"
    rig.write_text(
        (CONFIG / "sim.toml")
        .read_text()
        .replace(
            "port = 1883",
            f'port = {broker.port}\nusername = "hiprot"\n'
            f'password_file = "{installed_root}/etc/hiprot/mqtt-password"\n'
            "homeassistant_discovery = true",
        )
    )
    ha = Client(broker.port, "wearer", secret(installed_root, "wearer-password"))
    ha.subscribe("homeassistant/#", "hiprot/#")
    result = subprocess.run(
        [sys.executable, "-m", "hiprot", "replay", str(seated_session), "--rig", str(rig),
         "--broker", f"127.0.0.1:{broker.port}", "--speed", "0"],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    received = ha.received
    assert received.wait(lambda r: r.on("/test/right") and r.on("/status")[-1:] == [b"offline"])
    ha.close()
    configs = [
        json.loads(p) for t, p, _ in received.messages if t.startswith("homeassistant/") and p
    ]
    ids = {c["unique_id"] for c in configs}
    assert ("hiprot_hiprot-sim_battery" in ids) == (battery_percent() is not None)
    assert {"hiprot_hiprot-sim_right_hip_ir", "hiprot_hiprot-sim_right_test_hip_ir_max"} <= ids
    states = received.json("hiprot/hiprot-sim/state")
    duration = json.loads((seated_session / "session.json").read_text())["duration_s"]
    assert duration - 2 <= len(states) <= duration + 1, (len(states), duration)
    ir = [s["right_hip_ir_deg"] for s in states]
    assert ir[0] is None and all(isinstance(v, float) for v in ir[-10:]), "after calibration"
    by_topic: dict[str, list[dict]] = {}
    for topic, payload, _ in received.messages:
        if topic.startswith("hiprot/") and payload.startswith(b"{"):
            by_topic.setdefault(topic, []).append(json.loads(payload))
    for config in configs:
        if "value_template" not in config:
            continue  # the connectivity sensor: payload_on/off of status
        messages = by_topic.get(config["state_topic"], [])
        if config["state_topic"].endswith("/stride"):
            assert not messages, "a seated test has no strides"
            continue
        assert messages, config["name"]
        values = [ha_state(config, m) for m in messages]
        assert values[-1] is not None, config["name"]
    (trial,) = by_topic["hiprot/hiprot-sim/test/right"]
    (metric,) = by_topic["hiprot/hiprot-sim/test"]
    for key in ("seq", "stream", "session"):
        metric.pop(key)
    assert trial == {**metric, "timestamp": trial["timestamp"]} and trial["replay"] is True
