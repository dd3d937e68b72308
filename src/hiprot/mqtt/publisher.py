"""An MQTT publisher that never blocks the pipeline and never loses a metric.

Callers (the logger loop, any thread) only put messages into bounded queues;
one worker thread owns the paho client and does all the publishing (paho is
not thread-safe for that), driving paho's external-loop API over ``select``.

- **Metrics** (``stride``, ``rep``, ``test``) go through the session's on-disk
  :class:`~hiprot.mqtt.outbox.Outbox` and leave it only when the broker
  acknowledged them (QoS 1), so they survive a broker restart and a restart of
  the logger itself; they are (re)sent oldest first after every reconnect,
  after what earlier sessions left (each under its own session id).
  Each payload carries ``seq`` and ``stream``, which mark any re-sent copy, and
  ``session`` (``replay`` for a replayed session).
- **Live** messages (``angles``, ``health``, ``raw/...``) are sent while
  connected and dropped (counted) while offline: they would be stale.
- **Retained** messages (``session``, discovery configs) are remembered and
  re-published after every reconnect; ``status`` is ``online`` on connect and
  ``offline`` on a clean stop or, as the Last Will, when the logger dies.

A new paho client is made for every connection attempt (with back-off), so
re-sending is ours alone and always in outbox order.

Publishing is a side channel: nothing in it may stop or silence the recording.
A failing outbox carries on in memory, a message paho refuses is dropped and
counted, any other error resets the connection; each shows in :class:`PublisherStats`
(``outbox``, ``problem``), hence in ``health``, ``session.json`` and the CLI summary.
"""

from __future__ import annotations

import json
import logging
import queue
import select
import socket
import sqlite3
import ssl
import threading
import time
from collections.abc import Callable
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
from hiprot.mqtt.outbox import Outbox, OutboxBusy, leftover_paths, put_aside

METRIC_KINDS = ("stride", "rep", "test")
RESERVED_KEYS = {"seq", "stream", "session", "replay"}
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
    metrics_acknowledged: int = 0  # by the broker (PUBACK), leftovers of earlier sessions included
    metrics_dropped: int = 0  # outbox or queue full
    metrics_lost: int = 0  # held in memory when the publisher stopped, or refused by paho
    live_dropped: int = 0
    reconnects: int = 0
    outbox: str = "disk"  # "disk", or "memory" (by choice or after the file failed)
    problem: str | None = None  # the latest degradation, one line


class Publisher:
    """Publish JSON payloads for one device under ``<topic_prefix>/<device_id>/``.

    Metrics wait in one outbox per session in ``outbox_dir`` (None: in memory);
    ``on_memory_only(session, n)`` is told whenever the number of metrics that
    exist only in memory changes, so a caller can leave a note a later start
    reads if this process is killed (the loss is then reported, not silent).
    """

    def __init__(
        self,
        config: MqttConfig,
        device_id: str,
        host: str | None = None,
        port: int | None = None,
        *,
        client_id: str | None = None,
        outbox_dir: Path | str | None = None,
        queue_size: int = 10_000,
        outbox_size: int = 100_000,
        on_memory_only: Callable[[str, int], None] | None = None,
    ):
        self.config = config
        self.host, self.port = host or config.host, port or config.port
        self.base = f"{config.topic_prefix}/{device_id}"
        self.client_id = client_id or f"hiprot-{device_id}"
        self.outbox_dir = Path(outbox_dir) if outbox_dir is not None else None
        self.outbox_size = outbox_size
        self.on_memory_only = on_memory_only
        self.session: str | None = None
        self.replay = False
        self.acknowledged: dict[str, int] = {}  # this session's metrics the broker acknowledged
        self.stats = PublisherStats(outbox="disk" if self.outbox_dir is not None else "memory")
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
        self._current: Outbox | None = None  # this session's
        self._leftovers: list[Outbox] = []  # earlier sessions', oldest first
        self._noted_memory_only = 0
        self._lost_counted: dict[Outbox, int] = {}
        self._client: mqtt.Client | None = None
        self._drop_client = False
        self._connack_deadline = 0.0
        self._next_attempt = 0.0
        self._backoff_s = BACKOFF_FIRST_S
        self._inflight: dict[int, tuple[Outbox, int, str]] = {}  # mid -> (outbox, seq, kind)
        self._acked: list[tuple[Outbox, int, str]] = []
        self._cursors: dict[Outbox, int] = {}
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
        """Take up the outboxes earlier sessions left and connect in the background.

        Waits up to ``CONNECT_WAIT_S`` for the broker: True when connected; when
        it does not answer, one warning line and False (publishing starts when
        it appears). A refusal (wrong password, failed TLS) raises
        :class:`BrokerError`, a configuration error.
        """
        self._leftovers = self._open_leftovers()
        self.stats.queue_depth = sum(box.pending for box in self._leftovers)
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

    def begin_session(self, session: str, replay: bool = False) -> None:
        """Open the outbox of ``session`` (its id goes into every metric); once, before metrics.

        A file that cannot be made (full or read-only file system...) gives one
        warning and an outbox in memory: publishing goes on.
        """
        if self._current is not None:
            raise RuntimeError("one session per publisher")
        box = Outbox(self.outbox_dir, session, replay, self.outbox_size)
        if box.problem is not None:
            self._degraded("outbox", f"{box.problem}; metrics held in memory (lost if killed)")
        self.session, self.replay = session, replay
        self._current = box

    def outcome(self) -> dict:
        """This session's delivery once stopped, for ``session.json`` and the run summary."""
        out = {
            "metrics_acknowledged": dict(self.acknowledged),
            "metrics_waiting": self._waiting,
            "metrics_dropped": self.stats.metrics_dropped,
            "metrics_lost": self.stats.metrics_lost,
            "outbox": self.stats.outbox,
        }
        if self.stats.problem is not None:
            out["problem"] = self.stats.problem
        return out

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
        ``seq``, ``stream`` and ``session`` are added. The message is retained so a new
        dashboard shows the last one at once. Never blocks: a full queue drops
        the message and counts it in ``stats.metrics_dropped``.
        """
        if kind not in METRIC_KINDS:
            raise ValueError(f"metric kind must be one of {METRIC_KINDS}, not {kind!r}")
        if RESERVED_KEYS & payload.keys():
            raise ValueError(f"metric keys {sorted(RESERVED_KEYS)} are set by the publisher")
        if self._current is None:
            raise RuntimeError("begin_session() before publishing metrics")
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

        Metrics still unacknowledged stay in the outbox file for the next start;
        those held in memory only are lost and counted in ``stats.metrics_lost``.
        """
        if self._thread is not None:
            self._flush_deadline = time.monotonic() + flush_timeout
            self._stopping.set()
            self._wake()
            self._thread.join()
            self._thread = None
        self._wake_r.close()
        self._wake_w.close()

    def close(self) -> None:
        """:meth:`stop`; again does nothing."""
        self.stop()

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def _waiting(self) -> int:
        """This session's metrics left in its outbox file for the next start."""
        box = self._current
        return 0 if box is None else box.pending - box.memory_only

    def _open_leftovers(self) -> list[Outbox]:
        """Outboxes earlier runs left, oldest first; a damaged one is put aside with a warning."""
        found = []
        for path in leftover_paths(self.outbox_dir):
            try:
                box = Outbox.leftover(path)
            except OutboxBusy:
                continue  # a live publisher's
            except (OSError, sqlite3.Error) as exc:
                aside = put_aside(path)
                kept = f"kept as {aside}" if aside else "left in place"
                self._warn(
                    f"damaged {path}",
                    f"MQTT outbox {path} of an earlier session is damaged ({exc}); "
                    f"its metrics are lost ({kept})",
                )
                continue
            if box.pending == 0:
                box.close()
            else:
                found.append(box)
        return found

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

    def _degraded(self, kind: str, problem: str) -> None:
        """Note a degradation: one warning per ``kind`` of problem, and the latest in the stats."""
        self.stats.problem = problem
        self._warn(kind, problem)

    # -- the worker's side: the only code that touches paho and the outboxes --

    def _boxes(self) -> list[Outbox]:
        current = self._current
        return self._leftovers + ([current] if current is not None else [])

    def _run(self) -> None:
        try:
            while True:
                try:
                    self._pass()
                except Exception as exc:  # noqa: BLE001 - a side channel never stops the recording
                    self._failed(exc)
                if self._stopping.is_set() and self._flushed():
                    break
        finally:
            if not self._stopping.is_set():
                self.stats.problem = "MQTT publisher stopped unexpectedly"
            self._shutdown()

    def _pass(self) -> None:
        """One round: connect when due, network I/O, take new metrics, send."""
        self._connect_if_due()
        self._wait_and_io()
        self._take_metrics()
        if self.stats.connected:
            self._send_retained_and_live()
            self._send_metrics()
        else:
            self._drop_live()
        self._note_outbox()

    def _failed(self, exc: Exception) -> None:
        """Survive an unexpected error: say it, drop the connection, retry after a back-off."""
        self._degraded("error", f"MQTT publisher error: {type(exc).__name__}: {exc}"[:300])
        self._drop_connection()
        self._stopping.wait(TICK_S)

    def _drop_connection(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            sock = client.socket()
            if sock is not None:
                sock.close()
        self.stats.connected = False
        self._inflight.clear()
        self._schedule_retry()

    def _connect_if_due(self) -> None:
        now = time.monotonic()
        if self._client is not None:
            if not self.stats.connected and now > self._connack_deadline:
                self._drop_connection()
            return
        if now < self._next_attempt or self._stopping.is_set():
            return
        self._next_attempt = now + self._backoff_s  # also if making the client fails
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
        self._forget_acked()

    def _forget_acked(self) -> None:
        """Remove acknowledged metrics from their outboxes; close drained leftovers."""
        if not self._acked:
            return
        acked, self._acked = self._acked, []
        by_box: dict[Outbox, list[int]] = {}
        for box, seq, kind in acked:
            by_box.setdefault(box, []).append(seq)
            if box is self._current:
                self.acknowledged[kind] = self.acknowledged.get(kind, 0) + 1
        self.stats.metrics_acknowledged += len(acked)
        for box, seqs in by_box.items():
            box.remove(seqs)
            if box is not self._current and box.pending == 0 and box in self._leftovers:
                self._leftovers.remove(box)
                self._cursors.pop(box, None)
                box.close()

    def _take_metrics(self) -> None:
        box = self._current
        if box is None:
            return
        batch = []
        while True:
            try:
                batch.append(self._metrics.get_nowait())
            except queue.Empty:
                break
        if batch:
            self._count_drop("metrics_dropped", box.add(batch))
            self._metrics_taken += len(batch)

    def _note_outbox(self) -> None:
        """Bring queue depth, outbox state and the memory-only note up to date."""
        boxes = self._boxes()
        self.stats.queue_depth = sum(box.pending for box in boxes)
        for box in boxes:
            if box.lost != self._lost_counted.get(box, 0):
                self.stats.metrics_lost += box.lost - self._lost_counted.get(box, 0)
                self._lost_counted[box] = box.lost
        box = self._current
        if box is None:
            return
        if box.in_memory and self.stats.outbox == "disk":
            self.stats.outbox = "memory"
            self._degraded("outbox", f"{box.problem} (lost if the logger is killed)")
        if self.on_memory_only is not None and box.memory_only != self._noted_memory_only:
            self._noted_memory_only = box.memory_only
            self.on_memory_only(box.session, box.memory_only)

    def _flushed(self) -> bool:
        """Stop once everything was acknowledged, the broker is away or the wait is over.

        A metric published just before :meth:`stop` may still be in the caller's queue, not yet
        in an outbox: it is not flushed until taken and acknowledged too.
        """
        if not self.stats.connected:
            return True
        if self._metrics.empty() and all(box.pending == 0 for box in self._boxes()):
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
        for box in self._boxes():
            if room <= 0:
                return
            if box.pending == 0:
                continue
            for seq, topic, payload in box.after(self._cursors.get(box, 0), room):
                try:
                    info = self._client.publish(topic, payload, qos=1, retain=True)
                except ValueError as exc:  # paho refuses it (e.g. topic too long): never sendable
                    box.remove([seq])
                    self._cursors[box] = seq
                    self.stats.metrics_lost += 1
                    self._degraded("refused", f"MQTT refused a metric (counted as lost): {exc}")
                    continue
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    return
                self._inflight[info.mid] = (box, seq, topic.rsplit("/", 1)[-1])
                self._cursors[box] = seq
                self.stats.sent += 1
                room -= 1

    def _send(self, topic: str, body: bytes, qos: int, retain: bool) -> bool:
        try:
            info = self._client.publish(topic, body, qos=qos, retain=retain)
        except ValueError as exc:  # paho refuses it (e.g. topic too long): never sendable
            self._count_drop("live_dropped", 1)
            self._degraded("refused", f"MQTT refused a message (dropped): {exc}")
            return True
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return False
        self.stats.sent += 1
        return True

    def _shutdown(self) -> None:
        try:
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
        except Exception as exc:  # noqa: BLE001 - closing the outboxes below matters more
            self._failed(exc)
        finally:
            self.stats.connected = False
            self._client = None
            self._close_outboxes()

    def _close_outboxes(self) -> None:
        """What only memory held is lost now: counted, and the memory-only note cleared."""
        self._note_outbox()
        box = self._current
        if box is not None:
            self.stats.metrics_lost += box.memory_only
            if self.on_memory_only is not None and self._noted_memory_only:
                self.on_memory_only(box.session, 0)
        for box in self._boxes():
            box.close()

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
        self._cursors.clear()
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
        sent = self._inflight.pop(mid, None)
        if sent is not None:
            self._acked.append(sent)

    def _refused(self, message: str) -> None:
        if self._refusal is None and not self._outcome.is_set():
            self._refusal = message
        elif self._refusal is None:
            self._warn("refused", message)
        self._outcome.set()
