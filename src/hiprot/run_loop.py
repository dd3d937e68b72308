"""The run loop: a source → the pipeline → sinks (recording, MQTT, the run's summary).

``hiprot record`` and ``demo`` run it with a session writer; ``hiprot replay`` runs it
without one (the samples are already on disk). The loop itself only moves chunks: each
destination is a sink of :mod:`hiprot.sinks`, handed every chunk with the angles the pipeline
made final from it, and closed once at the end, the MQTT sink before the recording.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from hiprot.config import Rig
from hiprot.deferred_pipeline import DeferredPipeline
from hiprot.mqtt import Publisher
from hiprot.mqtt.live import LiveFeed
from hiprot.recording import SessionWriter
from hiprot.samples import Chunk
from hiprot.sinks import LiveSink, RecordingSink, RunSummary, Sink, SummarySink
from hiprot.sources import Source

if TYPE_CHECKING:
    from hiprot.pipeline import Pipeline

__all__ = ["RunSummary", "run", "run_sinks"]


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
    segment_activity: Callable[[], str | None] | None = None,
) -> RunSummary:
    """Record (when given a writer) and publish until the source ends, ``stop`` is set,
    ``duration_s`` passes or the writer asks to stop (disk nearly full).

    A live :class:`~hiprot.sources.Source` may yield empty chunks (no sensor had
    new samples; health is still published on its clock); its ``health()`` goes into the
    session metadata as ``health``.
    ``session_path`` and ``start_utc`` name the session when there is no writer (replay);
    ``session_id`` (default: the session directory's name) goes into every metric, and
    ``replay`` marks a replay in them and in the ``session`` topic. Completed
    strides, repetitions or test trials (by ``activity``; strides when unknown; trials carry ``mode``, active or passive) are
    published as metrics; with ``segment_activity`` (the open segment's labelled activity,
    or None) they follow the segment being recorded. ``on_iteration`` is called once per pass
    of the loop, empty chunks included (the systemd watchdog ping: a hung loop stops it).
    While recording, the pipeline is imported and built beside the loop once the first chunk
    is with the sinks (:mod:`hiprot.deferred_pipeline`): the sensors and the recording never
    wait for scipy. A replay's source waits for the loop, so its pipeline runs in step.
    """
    live_metrics = ("hiprot.analysis.live",) if publisher is not None else ()
    if not replay:
        pipeline = DeferredPipeline(rig, activity, also_import=live_metrics)
    else:  # a replay waits for the loop (no FIFO to drain): angles keep pace with its chunks
        from hiprot.pipeline import Pipeline

        pipeline = Pipeline(rig, activity=activity)
    path = writer.path if writer is not None else session_path
    summary = RunSummary(path)
    recording: list[Sink] = []
    if writer is not None:
        recording.append(RecordingSink(writer, pipeline, summary, source))
    live: list[Sink] = []
    try:
        if publisher is not None:
            start_utc = writer.meta["start_utc"] if writer is not None else start_utc
            publisher.begin_session(session_id or (path or Path.cwd()).name, replay)
            health = source.health if isinstance(source, Source) else None
            feed = LiveFeed(publisher, rig, path or Path.cwd(), start_utc, health)
            feed.start()
            sink = LiveSink(
                feed, pipeline, summary, source, writer, activity, segment_activity, mode
            )
            live.append(sink)
    except BaseException:
        _close_all(recording)  # the session is closed even when MQTT failed to start
        raise
    # MQTT closes before the recording, so that session.json says what the broker acknowledged
    sinks: list[Sink] = [SummarySink(summary), *live, *recording]

    def stop_reason() -> str | None:
        if stop is not None and stop.is_set():
            return "signal"
        if writer is not None and writer.stop_requested.is_set():
            return writer.stop_reason
        return None

    run_sinks(
        source, pipeline, sinks, summary, stop_reason, duration_s, rig.sample_rate_hz, on_iteration
    )
    if pipeline.calibration is None and pipeline.rig.sides:
        summary.calibration_error = (
            pipeline.calibration_error or "no standing phase and movement seen"
        )
    return summary


def run_sinks(
    source: Iterable[Chunk],
    pipeline: Pipeline | DeferredPipeline,
    sinks: list[Sink],
    summary: RunSummary,
    stop_reason: Callable[[], str | None],
    duration_s: float | None,
    rate_hz: float,
    on_iteration: Callable[[], None] | None = None,
) -> None:
    """Hand each chunk of ``source`` and its angles to every sink until the source ends,
    ``stop_reason()`` gives a reason or ``duration_s`` of samples passed; then the angles
    held back (with an empty chunk; a deferred pipeline's emissions still to come one by one),
    and close every sink in order (each, whatever the others did)."""
    first_time = None
    try:
        for chunk in source:
            if on_iteration is not None:
                on_iteration()
            reason = stop_reason()
            if reason is not None:
                summary.stopped_early, summary.stop_reason = True, reason
                break
            if not chunk:
                for sink in sinks:
                    sink.idle()
                continue
            first_time = (
                min(s.time_s[0] for s in chunk.values()) if first_time is None else first_time
            )
            reached_end = False
            if duration_s is not None:
                end_s = first_time + duration_s - 0.5 / rate_hz
                chunk, reached_end = _before(chunk, end_s)
                if not chunk:
                    summary.stop_reason = "duration"
                    break
            angles = pipeline.process(chunk)
            for sink in sinks:
                sink.receive(chunk, angles)
            if reached_end:
                summary.stop_reason = "duration"
                break
        else:
            summary.stop_reason = "source ended"
        final = pipeline.finish()  # a deferred pipeline's: each emission still to come
        for angles in final if isinstance(final, list) else [final]:
            for sink in sinks:
                sink.receive({}, angles)
    finally:
        _close_all(sinks)


def _close_all(sinks: list[Sink]) -> None:
    """Close every sink in order; the first error is raised after all were closed."""
    if not sinks:
        return
    try:
        sinks[0].close()
    finally:
        _close_all(sinks[1:])


def _before(chunk: Chunk, end_s: float) -> tuple[Chunk, bool]:
    """The samples of ``chunk`` earlier than ``end_s``, and whether any sample reached it.

    The loop ends ``duration_s`` half a sample period early, so that a sensor's
    clock running a hair fast still gives exactly rate × duration samples.
    """
    reached = any(s.time_s[-1] >= end_s for s in chunk.values())
    if not reached:
        return chunk, False
    kept = {name: s[s.time_s < end_s] for name, s in chunk.items()}
    return {name: s for name, s in kept.items() if len(s)}, True
