"""Where the run loop's chunks and angles go: one small object per destination.

Every sink has the same three methods (the idea of python-can's ``Listener`` handed
messages by a ``Notifier``): ``receive(chunk, angles)`` for each chunk with the angles the
pipeline made final from it, ``idle()`` when a pass of the loop brought no samples, and
``close()`` once at the end (again does nothing). The loop (:mod:`hiprot.run_loop`) knows
nothing else about them. A :class:`RunSummary` shared by the sinks collects what the run did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from hiprot.columns import rig_reference
from hiprot.live_angles import Angles
from hiprot.mqtt.live import LiveFeed
from hiprot.recording import SessionWriter
from hiprot.samples import Chunk
from hiprot.sources import Source

if TYPE_CHECKING:
    from hiprot.analysis.live import MetricStream
    from hiprot.pipeline import Pipeline


@dataclass
class RunSummary:
    """What a run did, for the printed summary."""

    session: Path | None
    duration_s: float = 0.0
    samples: dict[str, int] = field(default_factory=dict)
    angle_range_deg: dict[str, tuple[float, float]] = field(default_factory=dict)
    published: int = 0
    metrics: dict[str, int] = field(default_factory=dict)  # metric messages handed to MQTT, by kind
    mqtt: dict | None = None  # the publisher's outcome (acknowledged, waiting, lost, outbox...)
    stopped_early: bool = False
    stop_reason: str = "error"
    calibration_error: str | None = None  # why the live angles never started, if they did not


class Sink(Protocol):
    """A destination of the run loop."""

    def receive(self, chunk: Chunk, angles: Angles) -> None: ...

    def idle(self) -> None: ...

    def close(self) -> None: ...


class SummarySink:
    """Counts samples, the run's duration and each angle's range into the summary."""

    def __init__(self, summary: RunSummary):
        self.summary = summary
        self._first: float | None = None

    def receive(self, chunk: Chunk, angles: Angles) -> None:
        if chunk:
            first = min(s.time_s[0] for s in chunk.values())
            self._first = first if self._first is None else self._first
            for name, s in chunk.items():
                self.summary.samples[name] = self.summary.samples.get(name, 0) + len(s)
            self.summary.duration_s = max(s.time_s[-1] for s in chunk.values()) - self._first
        ranges = self.summary.angle_range_deg
        for name, values in angles.columns.items():
            valid = values[np.isfinite(values)]
            if len(valid):
                lo, hi = ranges.get(name, (np.inf, -np.inf))
                ranges[name] = (min(lo, float(valid.min())), max(hi, float(valid.max())))

    def idle(self) -> None:
        pass

    def close(self) -> None:
        pass


class LiveSink:
    """Publishes the session, angles, health and metrics over MQTT; closing stops the
    publisher and puts its outcome into the summary (before the recording closes, so that
    ``session.json`` says what the broker acknowledged).

    The metrics are those of ``activity`` (strides when None), or with ``segment_activity``
    (the open segment's labelled activity, or None) those of the segment being recorded; their
    stream starts with the first angles (its detectors import scipy, which the recording's
    first samples do not wait for)."""

    def __init__(
        self,
        feed: LiveFeed,
        pipeline: Pipeline,
        summary: RunSummary,
        source: object,
        writer: SessionWriter | None,
        activity: str | None = None,
        segment_activity: Callable[[], str | None] | None = None,
        mode: str | None = None,
    ):
        self.feed, self.pipeline, self.summary = feed, pipeline, summary
        self.mode = mode
        self.source, self.writer = source, writer
        self.default_activity, self.segment_activity = activity, segment_activity
        self.activity = activity
        self.metrics: MetricStream | None = None
        self._closed = False

    def _stream(self, activity: str | None) -> MetricStream:
        from hiprot.analysis.live import MetricStream

        rig = self.pipeline.rig
        reference = rig_reference(rig.find("pelvis") is not None)
        return MetricStream(rig.sides, rig.sample_rate_hz, activity, self.mode, reference)

    def _follow_segment(self) -> None:
        """Switch the live metrics to the open segment's activity (else the run's): a labelled
        seated test gets its trials live, not strides, and its angles the test's reference.
        What the old stream held back is published first; a stride or trial in progress at the
        switch is not."""
        if self.segment_activity is None:
            return
        wanted = self.segment_activity() or self.default_activity
        if wanted != self.activity:
            if self.metrics is not None:
                self._publish(self.metrics.finish())
                self.metrics = self._stream(wanted)
            self.activity = wanted
            self.pipeline.activity = wanted  # the rotation-test reference holds in a test only

    def _dropped(self) -> int:
        return self.writer.dropped_chunks if self.writer is not None else 0

    def receive(self, chunk: Chunk, angles: Angles) -> None:
        p = self.pipeline
        self.feed.update(chunk, angles, p.calibrated, self._dropped(), p.verdicts)
        self._follow_segment()
        if self.metrics is None and len(angles):
            self.metrics = self._stream(self.activity)
        if self.metrics is not None:
            self._publish(self.metrics.update(angles))

    def idle(self) -> None:
        if isinstance(self.source, Source):
            self.feed.idle(self.source.elapsed_s(), self._dropped())

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        publisher = self.feed.publisher
        try:
            if self.metrics is not None:  # what the stream held back until the end
                self._publish(self.metrics.finish())
            self.feed.close(self.summary.duration_s)
        finally:
            publisher.stop()
        self.summary.published = publisher.sent
        self.summary.mqtt = publisher.outcome()

    def _publish(self, metrics: list[tuple[str, dict]]) -> None:
        for kind, payload in metrics:
            self.feed.publisher.publish_metric(kind, payload)
            if kind == "test":
                self.feed.last_test(payload)
            self.summary.metrics[kind] = self.summary.metrics.get(kind, 0) + 1


class RecordingSink:
    """Writes every chunk into the session directory; closing writes the final
    ``session.json`` (health, MQTT outcome, calibration, why the run stopped)."""

    def __init__(
        self, writer: SessionWriter, pipeline: Pipeline, summary: RunSummary, source: object
    ):
        self.writer, self.pipeline, self.summary, self.source = writer, pipeline, summary, source
        self._closed = False

    def receive(self, chunk: Chunk, angles: Angles) -> None:
        if chunk:
            self.writer.write(chunk)

    def idle(self) -> None:
        pass

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        extra = {"health": self.source.health()} if isinstance(self.source, Source) else {}
        if self.summary.mqtt is not None:
            extra["metrics_produced"] = self.summary.metrics
            extra["metrics_published"] = self.summary.mqtt["metrics_acknowledged"]
            extra["mqtt"] = self.summary.mqtt
        p = self.pipeline
        calibration = (
            p.calibration.as_dict() if p.calibration is not None else {"error": p.calibration_error}
        )
        self.writer.close(
            duration_s=self.summary.duration_s,
            stop_reason=self.writer.stop_reason or self.summary.stop_reason,
            calibration=calibration,
            **extra,
        )
