"""An MQTT publisher that never blocks the pipeline.

Topics live under ``<prefix>/<device_id>/``: ``status`` (retained
online/offline, offline as Last Will), ``session`` (retained) and ``angles``.
When the broker is unreachable a one-line warning is printed and recording
goes on; paho keeps retrying in its own thread.
"""

from __future__ import annotations

import json
import threading
import time

import click
import paho.mqtt.client as mqtt

from hiprot.config import MqttConfig

CONNECT_WAIT_S = 2.0


class Publisher:
    """Publish JSON payloads for one device; connection handled by paho's thread."""

    def __init__(self, config: MqttConfig, device_id: str, host: str | None = None,
                 port: int | None = None):
        self.host, self.port = host or config.host, port or config.port
        self.base = f"{config.topic_prefix}/{device_id}"
        self.sent = 0
        self._connected = threading.Event()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                   client_id=f"hiprot-{device_id}")
        if config.username:
            self._client.username_pw_set(config.username, config.read_password())
        if config.tls:
            self._client.tls_set(ca_certs=str(config.ca_file) if config.ca_file else None)
        self._client.will_set(self.topic("status"), "offline", qos=1, retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = lambda *args: self._connected.clear()

    def topic(self, name: str) -> str:
        return f"{self.base}/{name}"

    def start(self) -> bool:
        """Connect in the background; warn once in one line if the broker does not answer."""
        try:
            self._client.connect_async(self.host, self.port, keepalive=10)
        except (OSError, ValueError) as exc:
            click.echo(f"warning: MQTT broker {self.host}:{self.port} unusable ({exc}); "
                       "recording continues without live publishing", err=True)
            return False
        self._client.loop_start()
        if not self._connected.wait(CONNECT_WAIT_S):
            click.echo(f"warning: MQTT broker {self.host}:{self.port} not reachable; "
                       "recording continues, publishing resumes if it appears", err=True)
            return False
        return True

    def publish(self, name: str, payload: dict, qos: int = 0, retain: bool = False) -> None:
        """Publish ``payload`` as JSON on ``<base>/<name>`` with a wall-clock timestamp."""
        if not self._connected.is_set():
            return
        body = {"timestamp": time.time(), **payload}
        self._client.publish(self.topic(name), json.dumps(body), qos=qos, retain=retain)
        self.sent += 1

    def stop(self) -> None:
        """Publish ``offline``, flush and disconnect."""
        if self._connected.is_set():
            info = self._client.publish(self.topic("status"), "offline", qos=1, retain=True)
            info.wait_for_publish(timeout=2.0)
            self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            click.echo(f"warning: MQTT broker refused the connection: {reason_code}", err=True)
            return
        client.publish(self.topic("status"), "online", qos=1, retain=True)
        self._connected.set()
