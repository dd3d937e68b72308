"""The shipped config/mosquitto.conf starts a broker with a TCP and a WebSocket listener."""

from __future__ import annotations

import base64
import os
import socket

from hiprot_testing import CONFIG, ConfiguredBroker, free_port


def test_shipped_mosquitto_conf_has_tcp_and_websocket_listeners(tmp_path, subscribe):
    text = (CONFIG / "mosquitto.conf").read_text()
    assert "listener 1883\nprotocol mqtt" in text and "listener 9001\nprotocol websockets" in text
    ws_port = free_port()
    broker = ConfiguredBroker(
        tmp_path,
        lambda port: (
            text.replace("listener 1883", f"listener {port} 127.0.0.1")
            .replace("listener 9001", f"listener {ws_port} 127.0.0.1")
            .replace("/var/lib/mosquitto/", f"{tmp_path}/")
            .splitlines()
        ),
    ).start()
    try:
        assert subscribe(broker, "hiprot/#").subscribed.is_set()
        key = base64.b64encode(os.urandom(16)).decode()
        with socket.create_connection(("127.0.0.1", ws_port), timeout=10) as s:
            s.sendall(
                (
                    f"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                    "Sec-WebSocket-Protocol: mqtt\r\n\r\n"
                ).encode()
            )
            assert s.recv(200).startswith(b"HTTP/1.1 101")
    finally:
        broker.stop()
