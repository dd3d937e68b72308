"""An MQTT publisher that never blocks the pipeline and never loses a metric.

Callers (the logger loop, any thread) only put messages into bounded queues;
one worker thread owns the paho client and does all the publishing (paho is
not thread-safe for that), driving paho's external-loop API over ``select``.

- **Metrics** (``stride``, ``rep``, ``test``) go through the on-disk
  :class:`~hiprot.mqtt.outbox.Outbox` and leave it only when the broker
  acknowledged them (QoS 1), so they survive a broker restart and a restart of
  the logger itself; they are (re)sent oldest first after every reconnect.
  Each payload carries ``seq`` and ``stream``, which mark any re-sent copy.
- **Live** messages (``angles``, ``health``, ``raw/...``) are sent while
  connected and dropped (counted) while offline: they would be stale.
- **Retained** messages (``session``, discovery configs) are remembered and
  re-published after every reconnect; ``status`` is ``online`` on connect and
  ``offline`` on a clean stop or, as the Last Will, when the logger dies.

A new paho client is made for every connection attempt (with back-off), so
re-sending is ours alone and always in outbox order.
"""

from __future__ import annotations

import json
import logging
import queue
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt

from hiprot.config import MqttConfig
from hiprot.mqtt.connection import (
    KEEPALIVE_S,
    BrokerError,
    new_client,
    refusal_message,
    tls_failure_message,
)
from hiprot.mqtt.outbox import Outbox, OutboxBusy, default_outbox_path

METRIC_KINDS = ("stride", "rep", "test")
RESERVED_KEYS = {"seq", "stream"}
CONNECT_WAIT_S = 2.0
FLUSH_WAIT_S = 5.0
BACKOFF_FIRST_S, BACKOFF_MAX_S = 0.25, 15.0
CONNACK_WAIT_S = 10.0
INFLIGHT_WINDOW = 100
TICK_S = 0.5

log = logging.getLogger(__name__)


@dataclass
class PublisherStats:
    """Counters for the health topic and the run summary."""

    connected: bool = False
    sent: int = 0
    queue_depth: int = 0
    metrics_dropped: int = 0
    live_dropped: int = 0
    reconnects: int = 0


class Publisher:
    """Publish JSON payloads for one device under ``<topic_prefix>/<device_id>/``."""

    def __init__(
        self,
        config: MqttConfig,
        device_id: str,
        host: str | None = None,
        port: int | None = None,
        *,
        client_id: str | None = None,
        outbox_path: Path | str | None = None,
        queue_size: int = 10_000,
        outbox_size: int = 100_000,
    ):
        self.config = config
        self.host, self.port = host or config.host, port or config.port
        self.base = f"{config.topic_prefix}/{device_id}"
        self.client_id = client_id or f"hiprot-{device_id}"
        self.outbox_path = Path(outbox_path) if outbox_path else default_outbox_path(device_id)
        self.outbox_size = outbox_size
        self.stats = PublisherStats()
        self._count_lock = threading.Lock()
        self._password = config.read_password() if config.username else None
        self._metrics: queue.Queue[tuple[str, str]] = queue.Queue(maxsize=queue_size)
        self._live: queue.Queue[tuple[str, bytes, int]] = queue.Queue(maxsize=queue_size)
        self._retained: dict[str, tuple[bytes, int]] = {}
        self._retained_lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._stopping = threading.Event()
        self._outcome = threading.Event()
        self._refusal: str | None = None
        self._thread: threading.Thread | None = None
        self._outbox: Outbox | None = None
        self._client: mqtt.Client | None = None
        self._drop_client = False
        self._connack_deadline = 0.0
        self._next_attempt = 0.0
        self._backoff_s = BACKOFF_FIRST_S
        self._inflight: dict[int, int] = {}
        self._acked: list[int] = []
        self._cursor = 0
        self._ever_connected = False
        self._warned: set[str] = set()
        self._flush_deadline = 0.0
        self._metrics_queued = 0
        self._metrics_taken = 0

    # -- the caller's side -------------------------------------------------

    @property
    def sent(self) -> int:
        """Messages handed to the broker so far."""
        return self.stats.sent

    def topic(self, name: str) -> str:
        """The full topic of ``name`` (e.g. ``angles`` → ``hiprot/<device>/angles``)."""
        return f"{self.base}/{name}"

    def start(self) -> bool:
        """Open the outbox and connect in the background.

        Waits up to ``CONNECT_WAIT_S`` for the broker: True when connected; when
        it does not answer, one warning line and False (publishing starts when
        it appears). A refusal (wrong password, failed TLS) raises
        :class:`BrokerError`, a configuration error.
        """
        try:
            self._outbox = Outbox(self.outbox_path, self.outbox_size)
        except OutboxBusy as exc:
            log.warning("%s; metrics are kept in memory only", exc)
            self._outbox = Outbox(":memory:", self.outbox_size)
        self.stats.queue_depth = self._outbox.pending
        self._thread = threading.Thread(target=self._run, name="mqtt-publisher", daemon=True)
        self._thread.start()
        self._outcome.wait(CONNECT_WAIT_S)
        if self._refusal is not None:
            self.stop()
            raise BrokerError(self._refusal)
        if not self.stats.connected:
            self._warn(
                "unreachable",
                f"MQTT broker {self.host}:{self.port} not reachable; "
                "recording continues, publishing resumes when it appears",
            )
        return self.stats.connected

    def publish(self, name: str, payload: dict, qos: int = 0, retain: bool = False) -> None:
        """Publish ``payload`` as JSON on ``<base>/<name>`` with a wall-clock ``timestamp``.

        Never blocks. Retained messages are re-sent after every reconnect;
        others are dropped (and counted) while the broker is away.
        """
        body = json.dumps({"timestamp": round(time.time(), 3), **payload}).encode()
        self.publish_to(self.topic(name), body, qos, retain)

    def publish_to(self, topic: str, body: bytes, qos: int = 0, retain: bool = False) -> None:
        """Publish raw bytes on any topic (e.g. Home Assistant discovery); never blocks."""
        if retain:
            with self._retained_lock:
                self._retained[topic] = (body, qos)
        try:
            self._live.put_nowait((topic, body, qos, retain))
        except queue.Full:
            self._count_drop("live_dropped", 1)
        self._wake()

    def publish_metric(self, kind: str, payload: dict) -> None:
        """Queue one stride / rep / test message for guaranteed, in-order delivery (QoS 1).

        ``payload`` holds the metrics (units in key names); ``timestamp``,
        ``seq`` and ``stream`` are added. The message is retained so a new
        dashboard shows the last one at once. Never blocks: a full queue drops
        the message and counts it in ``stats.metrics_dropped``.
        """
        if kind not in METRIC_KINDS:
            raise ValueError(f"metric kind must be one of {METRIC_KINDS}, not {kind!r}")
        if RESERVED_KEYS & payload.keys():
            raise ValueError(f"metric keys {sorted(RESERVED_KEYS)} are set by the publisher")
        body = json.dumps({"timestamp": round(time.time(), 3), **payload})
        with self._count_lock:
            self._metrics_queued += 1
        try:
            self._metrics.put_nowait((self.topic(kind), body))
        except queue.Full:
            with self._count_lock:
                self._metrics_queued -= 1
            self._count_drop("metrics_dropped", 1)
        self._wake()

    def flush(self, timeout: float) -> bool:
        """Wait until every queued metric was acknowledged by the broker; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._metrics_taken == self._metrics_queued and self.stats.queue_depth == 0:
                return True
            time.sleep(0.02)
        return False

    def stop(self, flush_timeout: float = FLUSH_WAIT_S) -> None:
        """Deliver what is queued (up to ``flush_timeout``), publish ``offline`` and disconnect.

        Metrics still unacknowledged stay in the outbox for the next start.
        """
        if self._thread is not None:
            self._flush_deadline = time.monotonic() + flush_timeout
            self._stopping.set()
            self._wake()
            self._thread.join()
            self._thread = None
        self._wake_r.close()
        self._wake_w.close()

    def _count_drop(self, counter: str, n: int) -> None:
        """Drops are counted by callers and the worker alike, hence the lock."""
        if n:
            with self._count_lock:
                setattr(self.stats, counter, getattr(self.stats, counter) + n)

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except (BlockingIOError, OSError):
            pass

    def _warn(self, kind: str, message: str) -> None:
        """Log a warning of ``kind`` once: a broker that stays away is said once, not per retry."""
        if kind not in self._warned:
            log.warning(message)
            self._warned.add(kind)

    # -- the worker's side: the only code that touches paho and the outbox --

    def _run(self) -> None:
        try:
            while True:
                self._connect_if_due()
                self._wait_and_io()
                self._take_metrics()
                if self.stats.connected:
                    self._send_retained_and_live()
                    self._send_metrics()
                else:
                    self._drop_live()
                if self._stopping.is_set() and self._flushed():
                    break
        finally:
            self._shutdown()

    def _connect_if_due(self) -> None:
        now = time.monotonic()
        if self._client is not None:
            if not self.stats.connected and now > self._connack_deadline:
                sock = self._client.socket()
                if sock is not None:
                    sock.close()
                self._client = None
                self._schedule_retry()
            return
        if now < self._next_attempt or self._stopping.is_set():
            return
        client = new_client(self.config, self.client_id, self._password, self.topic("status"))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.max_inflight_messages_set(INFLIGHT_WINDOW + 10)
        try:
            client.connect(self.host, self.port, keepalive=KEEPALIVE_S)
        except ssl.SSLError as exc:
            self._refused(tls_failure_message(self.config, self.host, self.port, exc))
            self._schedule_retry()
            return
        except (OSError, ValueError):
            self._outcome.set()
            self._schedule_retry()
            return
        self._client = client
        self._connack_deadline = now + CONNACK_WAIT_S

    def _schedule_retry(self) -> None:
        self._next_attempt = time.monotonic() + self._backoff_s
        self._backoff_s = min(self._backoff_s * 2, BACKOFF_MAX_S)

    def _wait_and_io(self) -> None:
        client = self._client
        sock = client.socket() if client is not None else None
        readers = [self._wake_r] + ([sock] if sock is not None else [])
        writers = [sock] if sock is not None and client.want_write() else []
        timeout = TICK_S
        if client is None and not self._stopping.is_set():
            timeout = min(timeout, max(0.0, self._next_attempt - time.monotonic()))
        tls_buffered = sock is not None and hasattr(sock, "pending") and sock.pending() > 0
        wait_s = 0.0 if tls_buffered else timeout
        readable, writable, _ = select.select(readers, writers, [], wait_s)
        if self._wake_r in readable:
            try:
                while self._wake_r.recv(4096):
                    pass
            except BlockingIOError:
                pass
        if client is not None:
            if sock in readable or tls_buffered:
                client.loop_read()
            if sock in writable and client.socket() is not None:
                client.loop_write()
            if client.socket() is not None:
                client.loop_misc()
        if self._drop_client:
            self._drop_client = False
            self._client = None
        if self._acked:
            self._outbox.remove(self._acked)
            self._acked = []
            self.stats.queue_depth = self._outbox.pending

    def _take_metrics(self) -> None:
        batch = []
        while True:
            try:
                batch.append(self._metrics.get_nowait())
            except queue.Empty:
                break
        if batch:
            self._count_drop("metrics_dropped", self._outbox.add(batch))
            self.stats.queue_depth = self._outbox.pending
            self._metrics_taken += len(batch)

    def _flushed(self) -> bool:
        if not self.stats.connected or self._outbox.pending == 0:
            return True
        return time.monotonic() >= self._flush_deadline

    def _send_retained_and_live(self) -> None:
        while True:
            try:
                topic, body, qos, retain = self._live.get_nowait()
            except queue.Empty:
                return
            if not self._send(topic, body, qos, retain):
                return

    def _drop_live(self) -> None:
        while True:
            try:
                _, _, _, retain = self._live.get_nowait()
            except queue.Empty:
                return
            if not retain:
                self._count_drop("live_dropped", 1)

    def _send_metrics(self) -> None:
        room = INFLIGHT_WINDOW - len(self._inflight)
        if room <= 0 or self._outbox.pending == 0:
            return
        for seq, topic, payload in self._outbox.after(self._cursor, room):
            info = self._client.publish(topic, payload, qos=1, retain=True)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                return
            self._inflight[info.mid] = seq
            self._cursor = seq
            self.stats.sent += 1

    def _send(self, topic: str, body: bytes, qos: int, retain: bool) -> bool:
        info = self._client.publish(topic, body, qos=qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return False
        self.stats.sent += 1
        return True

    def _shutdown(self) -> None:
        self._take_metrics()
        client = self._client
        if client is not None and self.stats.connected:
            info = client.publish(self.topic("status"), "offline", qos=1, retain=True)
            deadline = time.monotonic() + 2.0
            while (
                not info.is_published()
                and client.socket() is not None
                and time.monotonic() < deadline
            ):
                self._wait_and_io()
            if client.socket() is not None:
                client.disconnect()
        self.stats.connected = False
        self._client = None
        self._outbox.close()

    # -- paho callbacks (run in the worker thread, inside loop_read) --------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._refused(refusal_message(self.config, self.host, self.port, reason_code))
            return
        self.stats.connected = True
        if self._ever_connected:
            self.stats.reconnects += 1
        self._ever_connected = True
        self._refusal = None
        self._backoff_s = BACKOFF_FIRST_S
        self._inflight.clear()
        self._cursor = 0
        client.publish(self.topic("status"), "online", qos=1, retain=True)
        with self._retained_lock:
            retained = list(self._retained.items())
        for topic, (body, qos) in retained:
            client.publish(topic, body, qos=qos, retain=True)
        self._outcome.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.stats.connected = False
        self._inflight.clear()
        self._drop_client = True
        self._schedule_retry()

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        seq = self._inflight.pop(mid, None)
        if seq is not None:
            self._acked.append(seq)

    def _refused(self, message: str) -> None:
        if self._refusal is None and not self._outcome.is_set():
            self._refusal = message
        elif self._refusal is None:
            self._warn("refused", message)
        self._outcome.set()
