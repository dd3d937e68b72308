"""What a running logger publishes: session, decimated angles, health, state and optional raw samples.

The logger hands every chunk and its angles to :class:`LiveFeed`; the feed
decides what goes out and when (the causal angles, :attr:`Angles.causal`, at
``angles_rate_hz`` of sample time,
health and the ``state`` once a second), so the logger loop stays about recording.
Metrics (strides, reps, tests) go straight through :meth:`Publisher.publish_metric`;
each leg's last test trial is also kept retained on ``test/<side>`` (:meth:`LiveFeed.last_test`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from hiprot import __version__
from hiprot.columns import SUBJECT, TIME, hip_ir
from hiprot.config import Rig
from hiprot.live_angles import Angles
from hiprot.mqtt.discovery import STATE_TOPIC, discovery_messages, last_test_topic
from hiprot.mqtt.health import BATTERY, DISK_FREE, HealthMonitor, battery_percent
from hiprot.mqtt.publisher import Publisher
from hiprot.samples import Chunk


class AngleDecimator:
    """Picks about ``rate_hz`` samples per second of sample time, the freshest ones.

    Each chunk owes as many messages as grid points (``1/rate_hz`` apart) it
    passed; they are taken backwards from its last sample, so what goes out is
    as recent as the chunk allows instead of up to a chunk old.
    """

    def __init__(self, rate_hz: float):
        self.period_s = 1.0 / rate_hz
        self._next_s: float | None = None

    def indices(self, time_s: np.ndarray) -> list[int]:
        """Indices of ``time_s`` (ascending, one chunk) to publish."""
        if not len(time_s):
            return []
        last = time_s[-1]
        if self._next_s is None:
            self._next_s = time_s[0]
        due = 0
        while self._next_s <= last + 1e-6:
            due += 1
            self._next_s += self.period_s
        if due == 0:
            return []
        targets = last - self.period_s * np.arange(due)[::-1]
        picked = np.searchsorted(time_s, targets - 1e-6).clip(0, len(time_s) - 1)
        return np.unique(picked).tolist()


class RecentMean:
    """The mean of one leg's hip IR over its latest ``span_s`` of sample time (the ``state``
    topic's figure: a 1 s mean follows a held test position and smooths the stride's swing,
    which a 1 Hz pick of single samples would alias). Over the latest samples, not those that
    arrived last: after calibration the pipeline hands over its backlog at once."""

    def __init__(self, span_s: float = 1.0):
        self.span_s = span_s
        self.time_s, self.values = np.empty(0), np.empty(0)
        self.fresh = False

    def add(self, time_s: np.ndarray, values: np.ndarray | None) -> None:
        if values is None:
            return
        finite = np.isfinite(values)
        if not finite.any():
            return
        times = np.concatenate([self.time_s, time_s[finite]])
        values = np.concatenate([self.values, values[finite]])
        recent = times > times[-1] - self.span_s
        self.time_s, self.values, self.fresh = times[recent], values[recent], True

    def take(self) -> float | None:
        """The mean, if samples came since the last call (else None: not calibrated yet, or
        nothing new)."""
        if not self.fresh:
            return None
        self.fresh = False
        return round(float(self.values.mean()), 2)


class LiveFeed:
    """Publishes one session of a logger run through ``publisher``."""

    def __init__(
        self,
        publisher: Publisher,
        rig: Rig,
        session_dir: Path,
        start_utc: str | None = None,
        source_health: Callable[[], dict] | None = None,
    ):
        self.publisher, self.rig = publisher, rig
        self.source_health = source_health
        self.decimator = AngleDecimator(rig.mqtt.angles_rate_hz)
        self.health = HealthMonitor({s.name: rig.sample_rate_hz for s in rig.sensors}, session_dir)
        self.hip_ir = {side: RecentMean() for side in rig.sides}
        self.session = {
            "session": publisher.session or session_dir.name,
            SUBJECT: rig.subject,
            "state": "recording",
            "simulated": rig.simulation is not None,
            "replay": publisher.replay,
            "start_utc": start_utc,
            "software_version": __version__,
            "sample_rate_hz": rig.sample_rate_hz,
            "angles_rate_hz": rig.mqtt.angles_rate_hz,
            "fusion_filter": rig.fusion.filter,
            "sensors": [
                {"name": s.name, "segment": s.segment, "side": s.side, "chip": s.chip}
                for s in rig.sensors
            ],
            "sides": list(rig.sides),
            "calibration": {side: "standing" for side in rig.sides},
            "calibration_verdict": {},
        }
        if publisher.replay:
            self.session["replay_of"] = session_dir.name

    def start(self) -> None:
        """Announce the device to Home Assistant (if enabled) and the session (retained)."""
        if self.rig.mqtt.homeassistant_discovery:
            messages = discovery_messages(
                self.rig.device_id,
                self.publisher.base,
                self.rig.sides,
                pelvis=self.rig.find("pelvis") is not None,
                battery=battery_percent() is not None,
                dashboard_url=self.rig.mqtt.dashboard_link(),
            )
            for topic, body in messages:
                self.publisher.publish_to(topic, body, qos=1, retain=True)
        self._publish_session()

    def update(
        self,
        chunk: Chunk,
        angles: Angles,
        calibrated: dict[str, bool],
        recording_dropped_chunks: int,
        verdicts: dict[str, dict] | None = None,
    ) -> None:
        """Publish what this chunk brings: angles, calibration changes (and the calibration
        verdict per leg), health, raw samples."""
        calibration = {side: "calibrated" if ok else "standing" for side, ok in calibrated.items()}
        verdicts = verdicts or {}
        if (
            calibration != self.session["calibration"]
            or verdicts != self.session["calibration_verdict"]
        ):
            self.session["calibration"] = calibration
            self.session["calibration_verdict"] = verdicts
            self._publish_session()
        live = angles.causal  # the refined angles come seconds later: the metrics' business
        if live is not None:
            for i in self.decimator.indices(live.time_s):
                values = {
                    k: round(float(v[i]), 2) for k, v in live.columns.items() if math.isfinite(v[i])
                }
                time_s = round(float(live.time_s[i]), 4)
                self.publisher.publish("angles", {TIME: time_s, **values})
            for side, mean in self.hip_ir.items():
                mean.add(live.time_s, live.columns.get(hip_ir(side)))
        if not chunk:
            return
        self.health.add(chunk)
        if self.rig.mqtt.raw_topics:
            for name, s in chunk.items():
                raw = {
                    TIME: s.time_s.round(5).tolist(),
                    "acc_m_s2": s.acc.round(4).tolist(),
                    "gyr_rad_s": s.gyr.round(5).tolist(),
                }
                if s.mag is not None:
                    raw["mag_ut"] = s.mag.round(3).tolist()
                self.publisher.publish(f"raw/{name}", raw)
        self.idle(max(s.time_s[-1] for s in chunk.values() if len(s)), recording_dropped_chunks)

    def idle(self, time_s: float, recording_dropped_chunks: int) -> None:
        """Publish health if it is due at ``time_s`` (also while no sensor delivers)."""
        if self.health.due(time_s):
            stats = self.publisher.stats
            mqtt = {
                "connected": stats.connected,
                "queue_depth": stats.queue_depth,
                "metrics_acknowledged": stats.metrics_acknowledged,
                "metrics_dropped": stats.metrics_dropped,
                "metrics_lost": stats.metrics_lost,
                "live_dropped": stats.live_dropped,
                "reconnects": stats.reconnects,
                "outbox": stats.outbox,
            }
            if stats.problem is not None:
                mqtt["problem"] = stats.problem
            source = self.source_health() if self.source_health is not None else None
            report = self.health.report(time_s, recording_dropped_chunks, mqtt, source)
            self.publisher.publish("health", report)
            state = {TIME: report[TIME]}
            state.update({hip_ir(side): mean.take() for side, mean in self.hip_ir.items()})
            state.update({key: report[key] for key in (BATTERY, DISK_FREE) if key in report})
            self.publisher.publish(STATE_TOPIC, state)

    def last_test(self, trial: dict) -> None:
        """Keep ``trial`` (a ``test`` metric) retained as its leg's last test (``test/<side>``);
        a replay's is marked ``replay``, as its metrics are."""
        payload = {**trial, "replay": True} if self.publisher.replay else trial
        self.publisher.publish(last_test_topic(trial["side"]), payload, qos=1, retain=True)

    def close(self, duration_s: float) -> None:
        """Mark the session ended (retained)."""
        self.session.update(state="ended", duration_s=round(duration_s, 3))
        self._publish_session()

    def _publish_session(self) -> None:
        self.publisher.publish("session", self.session, qos=1, retain=True)
