"""The logger loop: a source through the pipeline into recording and MQTT."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hiprot.config import Rig
from hiprot.mqtt import Publisher
from hiprot.mqtt.live import LiveFeed
from hiprot.pipeline import Pipeline
from hiprot.recording import SessionWriter
from hiprot.samples import Chunk
from hiprot.sources import Source


@dataclass
class RunSummary:
    """What a run did, for the printed summary."""

    session: Path
    duration_s: float = 0.0
    samples: dict[str, int] = field(default_factory=dict)
    hip_ir_range_deg: dict[str, tuple[float, float]] = field(default_factory=dict)
    published: int = 0
    stopped_early: bool = False


def run(rig: Rig, source: Iterable[Chunk], writer: SessionWriter, publisher: Publisher | None,
        stop: threading.Event | None = None, duration_s: float | None = None) -> RunSummary:
    """Record and publish until the source ends, ``stop`` is set or ``duration_s`` passes.

    A live :class:`~hiprot.sources.Source` may yield empty chunks (no sensor had
    new samples); its ``health()`` goes into the session metadata as ``sensor_health``.
    """
    pipeline = Pipeline(rig)
    summary = RunSummary(writer.path)
    feed = LiveFeed(publisher, rig, writer.path, writer.meta["start_utc"]) if publisher is not None else None
    if feed is not None:
        feed.start()
    first_time = None
    ranges: dict[str, list[float]] = {}
    try:
        for chunk in source:
            if stop is not None and stop.is_set():
                summary.stopped_early = True
                break
            if not chunk:
                continue
            writer.write(chunk)
            for name, s in chunk.items():
                summary.samples[name] = summary.samples.get(name, 0) + len(s)
            last = max(s.time_s[-1] for s in chunk.values())
            first_time = min(s.time_s[0] for s in chunk.values()) if first_time is None else first_time
            summary.duration_s = last - first_time
            angles = pipeline.process(chunk)
            for name, values in angles.columns.items():
                valid = values[np.isfinite(values)]
                if len(valid):
                    lo, hi = ranges.setdefault(name, [np.inf, -np.inf])
                    ranges[name] = [min(lo, valid.min()), max(hi, valid.max())]
            if feed is not None:
                calibrated = {side: hip.calibrated for side, hip in pipeline.hips.items()}
                feed.update(chunk, angles, calibrated, writer.meta["dropped_chunks"])
            if duration_s is not None and summary.duration_s >= duration_s:
                break
    finally:
        health = {"sensor_health": source.health()} if isinstance(source, Source) else {}
        writer.close(duration_s=summary.duration_s, **health)
        if feed is not None:
            feed.close(summary.duration_s)
            publisher.stop()
            summary.published = publisher.sent
    summary.hip_ir_range_deg = {k: (lo, hi) for k, (lo, hi) in ranges.items()}
    return summary
