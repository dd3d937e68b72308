"""Brokers for the MQTT tests: persistent, TLS with passwords, WebSockets; a recording subscriber."""

from __future__ import annotations

import getpass
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from conftest import Broker, _free_port

USER, PASSWORD = "hiprot", "correct horse battery"


class ConfiguredBroker(Broker):
    """A fixture broker whose configuration lines are made from its port."""

    def __init__(self, workdir: Path, lines: Callable[[int], list[str]], ws_port: int | None = None):
        super().__init__(workdir)
        self.ws_port = ws_port
        self.conf.write_text("\n".join([f"user {getpass.getuser()}", *lines(self.port)]) + "\n")


@pytest.fixture
def persistent_broker(tmp_path):
    """A broker that keeps sessions and queued messages across a restart (like config/mosquitto.conf)."""
    store = tmp_path / "store"
    store.mkdir()
    b = ConfiguredBroker(tmp_path, lambda port: [
        f"listener {port} 127.0.0.1", "allow_anonymous true", "persistence true",
        f"persistence_location {store}/", "autosave_interval 1"]).start()
    yield b
    b.stop()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> dict[str, Path]:
    """A CA, a server certificate for localhost/127.0.0.1 and a mosquitto password file."""
    d = tmp_path_factory.mktemp("tls")
    openssl = shutil.which("openssl") or pytest.fail("openssl is not installed (.ci/run installs it)")
    passwd = shutil.which("mosquitto_passwd") or pytest.fail(
        "mosquitto_passwd is not installed (Debian's mosquitto package; .ci/run installs it)")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args):
        subprocess.run(args, cwd=d, check=True, capture_output=True)

    run(openssl, "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=hiprot test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run(openssl, "req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (d / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                               "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    run(openssl, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf")
    run(passwd, "-c", "-b", "passwd", USER, PASSWORD)
    return {name: d / name for name in ("ca.crt", "server.crt", "server.key", "passwd")}


@pytest.fixture
def tls_broker(tmp_path, tls_files):
    """A broker that only speaks TLS and only to USER with PASSWORD."""
    b = ConfiguredBroker(tmp_path, lambda port: [
        f"listener {port} 127.0.0.1", "allow_anonymous false",
        f"password_file {tls_files['passwd']}", f"cafile {tls_files['ca.crt']}",
        f"certfile {tls_files['server.crt']}", f"keyfile {tls_files['server.key']}",
        "persistence false"]).start()
    yield b
    b.stop()


@pytest.fixture
def ws_broker(tmp_path):
    """A broker with a TCP and a WebSocket listener, as config/mosquitto.conf has."""
    ws_port = _free_port()
    b = ConfiguredBroker(tmp_path, lambda port: [
        f"listener {port} 127.0.0.1", f"listener {ws_port} 127.0.0.1", "protocol websockets",
        "allow_anonymous true", "persistence false"], ws_port).start()
    yield b
    b.stop()


@dataclass
class Received:
    """Messages a subscriber got: (topic, payload bytes, retain flag), in arrival order."""

    messages: list[tuple[str, bytes, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, suffix: str) -> list[bytes]:
        with self.lock:
            return [p for t, p, _ in self.messages if t.endswith(suffix)]

    def json(self, suffix: str) -> list[dict]:
        return [json.loads(p) for p in self.on(suffix)]

    def wait(self, predicate, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(0.05)
        return predicate(self)


class Subscriber:
    """A real paho subscriber; ``persistent`` keeps its session (and queued QoS 1 messages) on the broker."""

    def __init__(self, broker, topic: str = "hiprot/#", persistent: bool = False):
        self.received = Received()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-sub-{broker.port}",
                                  clean_session=not persistent)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.connect(broker.host, broker.port, keepalive=5)
        self.client.loop_start()
        assert self.subscribed.wait(10), "subscriber could not subscribe"

    def _on_message(self, client, userdata, message):
        with self.received.lock:
            self.received.messages.append((message.topic, message.payload, bool(message.retain)))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def subscribe():
    """Start subscribers on a broker; all are closed after the test."""
    made: list[Subscriber] = []

    def make(broker, topic: str = "hiprot/#", persistent: bool = False) -> Subscriber:
        made.append(Subscriber(broker, topic, persistent))
        return made[-1]

    yield make
    for s in made:
        s.close()
