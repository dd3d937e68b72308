"""The command topic: commands in on ``<prefix>/<device>/cmd``, results out on ``.../cmd/result``.

A command is a JSON object ``{"id": ..., "device": ..., "op": ..., ...}`` (the fields of
:func:`hiprot.recording.segments.validate`). The listener answers every command addressed to
its device with a result ``{"id", "device", "status", ...}``; a command naming another
``device`` is answered ``ignored`` and not applied. The handler applies a command durably
before the result is published (and before paho acknowledges the QoS 1 message).

Delivery is the sender's job, not the broker's: the listener keeps no session on the broker
(a persistent one would hand a command sent to a stopped recorder to the next recording, as
we saw), and :func:`send_command` (``hiprot command``) publishes with QoS 1 and waits for the
result with that id, re-sending the same command after a lost connection or a silent
interval. The id makes every repeat change nothing, so a command is acknowledged, or reported
as not acknowledged — never half applied. Who may publish to the command topic is the broker's ACL (``config/mosquitto.acl``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable

from hiprot.config import MqttConfig
from hiprot.errors import HiprotError
from hiprot.mqtt.connection import KEEPALIVE_S, BrokerError, new_client, refusal_message

COMMAND_TOPIC = "cmd"
RESULT_TOPIC = "cmd/result"
STATE_TOPIC = "segment"  # retained: the segment state, for a dashboard that connects later
# Chosen, not published: a round trip takes about 50 ms here (scripts/command_latency.py), so
# 2 s without an answer means a lost message, not a slow device; a command is well under 1 kB.
RESEND_S = 2.0  # the sender re-sends a command not answered within this
MAX_COMMAND_BYTES = 4096

log = logging.getLogger(__name__)


class CommandNotAcknowledged(HiprotError):
    """No result came back in time: the command may or may not have applied (re-send its id)."""


def new_command_id() -> str:
    """A fresh command id (random: ids of different senders never collide)."""
    return uuid.uuid4().hex[:16]


class CommandListener:
    """Subscribe to the device's command topic and answer each command with ``handler``'s result.

    ``handler(command)`` returns the result fields (``status`` and what it says) and raises
    OSError when it could not make the command durable: then the result is ``failed`` and
    the sender may re-send. ``state()`` (optional) is published retained on ``segment`` at
    every connection and after every applied command. A context manager; ``close()`` twice
    does nothing.
    """

    def __init__(
        self,
        config: MqttConfig,
        device_id: str,
        handler: Callable[[dict], dict],
        host: str | None = None,
        port: int | None = None,
        state: Callable[[], dict] | None = None,
    ):
        self.device_id = device_id
        self.handler, self.state = handler, state
        self.host, self.port = host or config.host, port or config.port
        base = f"{config.topic_prefix}/{device_id}"
        self.command_topic, self.result_topic = f"{base}/{COMMAND_TOPIC}", f"{base}/{RESULT_TOPIC}"
        self.state_topic = f"{base}/{STATE_TOPIC}"
        password = config.read_password() if config.username else None
        self.subscribed = threading.Event()
        self.handled = 0
        self._client = new_client(config, f"hiprot-{device_id}-cmd", password)
        self._client.reconnect_delay_set(0.25, 5.0)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = lambda *a: self.subscribed.clear()
        self._client.on_message = self._on_message
        self._client.on_subscribe = lambda *a: self.subscribed.set()
        self._refusal: str | None = None
        self._config = config
        self._closed = False

    def start(self) -> CommandListener:
        """Connect in the background (paho's own thread retries until the broker answers)."""
        self._client.connect_async(self.host, self.port, keepalive=KEEPALIVE_S)
        self._client.loop_start()
        return self

    def __enter__(self) -> CommandListener:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Disconnect and stop the network thread; again does nothing."""
        if self._closed:
            return
        self._closed = True
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            message = refusal_message(self._config, self.host, self.port, reason_code)
            if message != self._refusal:
                self._refusal = message
                log.warning("command topic: %s", message)
            return
        self._refusal = None
        client.subscribe(self.command_topic, qos=1)
        self._publish_state(client)

    def _publish_state(self, client) -> None:
        if self.state is not None:
            body = json.dumps({"timestamp": round(time.time(), 3), **self.state()})
            client.publish(self.state_topic, body, qos=1, retain=True)

    def _on_message(self, client, userdata, message) -> None:
        """Runs in paho's thread; the broker gets its PUBACK after this returns."""
        try:
            result = self.answer(message.payload)
        except Exception:  # noqa: BLE001 - an exception here would end paho's network thread
            log.exception("command topic: a command failed")
            return
        if result is not None:
            body = json.dumps({"timestamp": round(time.time(), 3), **result})
            client.publish(self.result_topic, body, qos=1)
            if result.get("status") == "ok":
                self._publish_state(client)

    def answer(self, payload: bytes) -> dict | None:
        """The result for one command's payload (None: not even an id to answer to)."""
        try:
            if len(payload) > MAX_COMMAND_BYTES:
                raise ValueError(f"longer than {MAX_COMMAND_BYTES} bytes")
            command = json.loads(payload)
            if not isinstance(command, dict):
                raise ValueError("not a JSON object")
        except (ValueError, UnicodeDecodeError) as exc:
            log.warning("command topic: unreadable command ignored (%s)", exc)
            return None
        head = {"id": command.get("id"), "device": self.device_id}
        if command.get("device") != self.device_id:
            return {**head, "status": "ignored", "reason": f"for device {command.get('device')!r}"}
        try:
            result = self.handler({k: v for k, v in command.items() if k != "device"})
        except OSError as exc:  # not durable, so not applied: the sender may re-send
            log.warning("command %s not applied: %s", head["id"], exc)
            return {**head, "status": "failed", "reason": f"not recorded: {exc}"}
        self.handled += 1
        return {**head, **result}


def send_command(
    config: MqttConfig,
    device_id: str,
    command: dict,
    host: str | None = None,
    port: int | None = None,
    timeout_s: float = 10.0,
    password: str | None = None,
) -> dict:
    """Publish ``command`` (an ``id`` is added when missing) to the device and return its result.

    Re-sends the same command after a lost connection or ``RESEND_S`` without an answer, until
    ``timeout_s``; then raises :class:`CommandNotAcknowledged`. A refused login raises
    :class:`BrokerError`.
    """
    host, port = host or config.host, port or config.port
    command = {"id": new_command_id(), **command, "device": device_id}
    base = f"{config.topic_prefix}/{device_id}"
    result: dict = {}
    got = threading.Event()
    state = {"connected": False, "sent_at": None, "refusal": None}
    lock = threading.Lock()
    body = json.dumps(command)

    def on_connect(client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            state["refusal"] = refusal_message(config, host, port, reason_code)
            return
        client.subscribe(f"{base}/{RESULT_TOPIC}", qos=1)

    def on_subscribe(client, *args):
        with lock:
            state["connected"], state["sent_at"] = True, time.monotonic()
        client.publish(f"{base}/{COMMAND_TOPIC}", body, qos=1)

    def on_disconnect(*args):
        with lock:
            state["connected"], state["sent_at"] = False, None

    def on_message(client, userdata, message):
        try:
            answer = json.loads(message.payload)
        except ValueError:
            return
        if isinstance(answer, dict) and answer.get("id") == command["id"]:
            result.update(answer)
            got.set()

    client = new_client(config, f"hiprot-cmd-{command['id']}", password or _password(config))
    client.reconnect_delay_set(0.25, 1.0)
    client.on_connect, client.on_subscribe = on_connect, on_subscribe
    client.on_disconnect, client.on_message = on_disconnect, on_message
    deadline = time.monotonic() + timeout_s
    client.connect_async(host, port, keepalive=KEEPALIVE_S)
    client.loop_start()
    try:
        while not got.wait(0.05):
            if state["refusal"] is not None:
                raise BrokerError(state["refusal"])
            now = time.monotonic()
            if now >= deadline:
                raise CommandNotAcknowledged(
                    f"no answer from device {device_id!r} within {timeout_s:g} s; the command "
                    f"may or may not have applied: send it again with --id {command['id']}"
                )
            with lock:
                resend = state["connected"] and now - state["sent_at"] >= RESEND_S
                if resend:
                    state["sent_at"] = now
            if resend:
                client.publish(f"{base}/{COMMAND_TOPIC}", body, qos=1)
    finally:
        client.disconnect()
        client.loop_stop()
    return result


def _password(config: MqttConfig) -> str | None:
    return config.read_password() if config.username else None
