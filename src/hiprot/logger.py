"""The logger loop: a source through the pipeline into recording and MQTT.

``hiprot record`` and ``demo`` run it with a session writer; ``hiprot
replay`` runs it without one (the samples are already on disk).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hiprot.analysis.live import MetricStream
from hiprot.config import Rig
from hiprot.mqtt import Publisher
from hiprot.mqtt.live import LiveFeed
from hiprot.pipeline import Angles, Pipeline
from hiprot.recording import SessionWriter
from hiprot.samples import Chunk
from hiprot.sources import Source


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
    calibration_error: str | None = None  # why the live angles never started, if they did not


def run(
    rig: Rig,
    source: Iterable[Chunk],
    writer: SessionWriter | None,
    publisher: Publisher | None,
    stop: threading.Event | None = None,
    duration_s: float | None = None,
    session_path: Path | None = None,
    activity: str | None = None,
    mode: str | None = None,
    start_utc: str | None = None,
    on_iteration: Callable[[], None] | None = None,
    session_id: str | None = None,
    replay: bool = False,
) -> RunSummary:
    """Record (when given a writer) and publish until the source ends, ``stop`` is set,
    ``duration_s`` passes or the writer asks to stop (disk nearly full).

    A live :class:`~hiprot.sources.Source` may yield empty chunks (no sensor had
    new samples; health is still published on its clock); its ``health()`` goes into the
    session metadata as ``health``.
    ``session_path`` and ``start_utc`` name the session when there is no writer (replay);
    ``session_id`` (default: the session directory's name) goes into every metric, and
    ``replay`` marks a replay in them and in the ``session`` topic. Completed
    strides, repetitions or test trials (by ``activity``; strides when unknown) are
    published as metrics. ``on_iteration`` is called once per pass of the loop, empty
    chunks included (the systemd watchdog ping: a hung loop stops it).
    """
    pipeline = Pipeline(rig, activity=activity)
    path = writer.path if writer is not None else session_path
    summary = RunSummary(path)
    stop_reason = "error"
    feed = None
    if publisher is not None:
        start_utc = writer.meta["start_utc"] if writer is not None else start_utc
        publisher.begin_session(session_id or (path or Path.cwd()).name, replay)
        feed = LiveFeed(
            publisher,
            rig,
            path or Path.cwd(),
            start_utc,
            source.health if isinstance(source, Source) else None,
        )
        feed.start()
    metrics = (
        MetricStream(rig.sides, rig.sample_rate_hz, activity, mode) if feed is not None else None
    )
    first_time = None
    ranges: dict[str, list[float]] = {}
    try:
        for chunk in source:
            if on_iteration is not None:
                on_iteration()
            if stop is not None and stop.is_set():
                summary.stopped_early, stop_reason = True, "signal"
                break
            if writer is not None and writer.stop_requested.is_set():
                summary.stopped_early, stop_reason = True, writer.stop_reason
                break
            if not chunk:
                if feed is not None and isinstance(source, Source):
                    feed.idle(
                        source.elapsed_s(), writer.dropped_chunks if writer is not None else 0
                    )
                continue
            first_time = (
                min(s.time_s[0] for s in chunk.values()) if first_time is None else first_time
            )
            reached_end = False
            if duration_s is not None:
                end_s = first_time + duration_s - 0.5 / rig.sample_rate_hz
                chunk, reached_end = _before(chunk, end_s)
                if not chunk:
                    stop_reason = "duration"
                    break
            if writer is not None:
                writer.write(chunk)
            for name, s in chunk.items():
                summary.samples[name] = summary.samples.get(name, 0) + len(s)
            summary.duration_s = max(s.time_s[-1] for s in chunk.values()) - first_time
            angles = pipeline.process(chunk)
            _extend_ranges(ranges, angles)
            if feed is not None:
                feed.update(
                    chunk,
                    angles,
                    pipeline.calibrated,
                    writer.dropped_chunks if writer is not None else 0,
                    pipeline.verdicts,
                )
                _publish_metrics(publisher, metrics.update(angles), summary.metrics)
            if reached_end:
                stop_reason = "duration"
                break
        else:
            stop_reason = "source ended"
        angles = pipeline.finish()
        _extend_ranges(ranges, angles)
        if feed is not None:
            feed.update(
                {},
                angles,
                pipeline.calibrated,
                writer.dropped_chunks if writer is not None else 0,
                pipeline.verdicts,
            )
            _publish_metrics(publisher, metrics.update(angles) + metrics.finish(), summary.metrics)
    finally:
        try:
            if feed is not None:  # first, so session.json says what the broker acknowledged
                feed.close(summary.duration_s)
                publisher.stop()
                summary.published = publisher.sent
                summary.mqtt = publisher.outcome()
        finally:
            if writer is not None:
                extra = {"health": source.health()} if isinstance(source, Source) else {}
                if summary.mqtt is not None:
                    extra["metrics_produced"] = summary.metrics
                    extra["metrics_published"] = summary.mqtt["metrics_acknowledged"]
                    extra["mqtt"] = summary.mqtt
                calibration = (
                    pipeline.calibration.as_dict()
                    if pipeline.calibration is not None
                    else {"error": pipeline.calibration_error}
                )
                writer.close(
                    duration_s=summary.duration_s,
                    stop_reason=writer.stop_reason or stop_reason,
                    calibration=calibration,
                    **extra,
                )
    summary.angle_range_deg = {k: (lo, hi) for k, (lo, hi) in ranges.items()}
    if pipeline.calibration is None and pipeline.rig.sides:
        summary.calibration_error = (
            pipeline.calibration_error or "no standing phase and movement seen"
        )
    return summary


def _before(chunk: Chunk, end_s: float) -> tuple[Chunk, bool]:
    """The samples of ``chunk`` earlier than ``end_s``, and whether any sample reached it.

    The logger ends ``duration_s`` half a sample period early, so that a sensor's
    clock running a hair fast still gives exactly rate × duration samples.
    """
    reached = any(s.time_s[-1] >= end_s for s in chunk.values())
    if not reached:
        return chunk, False
    kept = {name: s[s.time_s < end_s] for name, s in chunk.items()}
    return {name: s for name, s in kept.items() if len(s)}, True


def _extend_ranges(ranges: dict[str, list[float]], angles: Angles) -> None:
    """Widen each angle's running [min, max] by the new values."""
    for name, values in angles.columns.items():
        valid = values[np.isfinite(values)]
        if len(valid):
            lo, hi = ranges.setdefault(name, [np.inf, -np.inf])
            ranges[name] = [min(lo, valid.min()), max(hi, valid.max())]


def _publish_metrics(
    publisher: Publisher, metrics: list[tuple[str, dict]], counts: dict[str, int]
) -> None:
    for kind, payload in metrics:
        publisher.publish_metric(kind, payload)
        counts[kind] = counts.get(kind, 0) + 1
