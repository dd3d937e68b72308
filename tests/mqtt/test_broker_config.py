"""The shipped Mosquitto configurations: the appliance's (config/mosquitto.conf) lets no anonymous
client in on either listener; the development one (config/mosquitto-dev.conf) is anonymous on
localhost only. The installed appliance, ACL included, is tests/firmware/test_appliance.py."""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import threading

import paho.mqtt.client as mqtt
import pytest
from hiprot_testing import CONFIG, ConfiguredBroker, free_port


def _answer(port: int, transport: str, login: tuple[str, str] | None = None):
    """The broker's CONNACK reason for a client (anonymous unless ``login``)."""
    got, answered = [], threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, transport=transport)
    if login is not None:
        client.username_pw_set(*login)
    client.on_connect = lambda c, u, f, reason, p: (got.append(reason), answered.set())
    client.connect("127.0.0.1", port, keepalive=10)
    client.loop_start()
    try:
        assert answered.wait(10), "no CONNACK"
    finally:
        client.disconnect()
        client.loop_stop()
    return got[0]


def _shipped_broker(tmp_path, name: str, replace: dict[str, str]) -> ConfiguredBroker:
    """``config/<name>`` with its listeners on free localhost ports and ``replace`` applied."""
    text = (CONFIG / name).read_text()
    ws_port = free_port()

    def lines(port: int) -> list[str]:
        out = text
        for old, new in {
            **replace,
            "listener 1883": f"listener {port}",
            "listener 9001": f"listener {ws_port}",
        }.items():
            assert old in out, old
            out = out.replace(old, new)
        return out.splitlines()

    return ConfiguredBroker(tmp_path, lines, ws_port).start()


def test_the_appliance_config_admits_no_anonymous_client_on_either_listener(tmp_path):
    passwd = shutil.which("mosquitto_passwd") or pytest.fail("mosquitto_passwd is not installed")
    subprocess.run(
        [passwd, "-c", "-b", str(tmp_path / "passwd"), "dashboard", "s3cret"], check=True
    )
    broker = _shipped_broker(
        tmp_path,
        "mosquitto.conf",
        {
            "listener 1883\n": "listener 1883 127.0.0.1\n",
            "listener 9001\n": "listener 9001 127.0.0.1\n",
            "password_file /etc/mosquitto/hiprot.passwd": f"password_file {tmp_path}/passwd",
            "acl_file /etc/mosquitto/hiprot.acl": f"acl_file {CONFIG / 'mosquitto.acl'}",
            "persistence true": f"persistence true\npersistence_location {tmp_path}/",
        },
    )
    try:
        for port, transport in ((broker.port, "tcp"), (broker.ws_port, "websockets")):
            assert _answer(port, transport).is_failure, f"anonymous on {transport}"
            assert _answer(port, transport, ("dashboard", "wrong")).is_failure
            assert not _answer(port, transport, ("dashboard", "s3cret")).is_failure
    finally:
        broker.stop()


def test_the_development_config_is_anonymous_on_localhost_over_tcp_and_websockets(tmp_path):
    broker = _shipped_broker(tmp_path, "mosquitto-dev.conf", {})
    try:
        assert not _answer(broker.port, "tcp").is_failure
        key = base64.b64encode(os.urandom(16)).decode()
        with socket.create_connection(("127.0.0.1", broker.ws_port), timeout=10) as s:
            s.sendall(
                (
                    f"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                    "Sec-WebSocket-Protocol: mqtt\r\n\r\n"
                ).encode()
            )
            assert s.recv(200).startswith(b"HTTP/1.1 101")
        assert not _answer(broker.ws_port, "websockets").is_failure
    finally:
        broker.stop()
    listeners = [
        line for line in (CONFIG / "mosquitto-dev.conf").open() if line.startswith("listener")
    ]
    assert listeners and all(line.split()[2] == "127.0.0.1" for line in listeners)
