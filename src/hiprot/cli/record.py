"""``hiprot record``: log a rig's sensors to a session directory and publish live."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from hiprot import run_loop
from hiprot.cli.common import (
    FiniteRange,
    broker_option,
    echo_calibration,
    echo_mqtt,
    load,
    mode_option,
    no_mqtt_option,
    parse_broker,
    repeated_session,
    rig_option,
    stop_on_signals,
    subject_option,
    warn_lost,
)
from hiprot.columns import ACTIVITIES
from hiprot.errors import HiprotError
from hiprot.mqtt import Publisher
from hiprot.mqtt.commands import CommandListener
from hiprot.recording import DiskPolicy, SessionWriter
from hiprot.recording.disk import MB
from hiprot.recording.segments import SegmentLog
from hiprot.recording.writer import STOP_DISK_LOW
from hiprot.sensors.acquisition import health_lines
from hiprot.service import ServiceNotifier
from hiprot.sources import open_source
from hiprot.state import DeviceLock, adopt_legacy_outbox, outbox_dir


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


@contextmanager
def stopped_on_failure(publisher: Publisher | None) -> Iterator[None]:
    """Stop ``publisher`` (status ``offline``) when what runs inside fails before the logger owns it."""
    try:
        yield
    except BaseException:
        if publisher is not None:
            publisher.stop()
        raise


@contextmanager
def _commands(rig, writer, source, publisher, host, port) -> Iterator[SegmentLog | None]:
    """Segment commands from the MQTT command topic into the session's ``segments.jsonl``, on
    paho's thread beside the run loop (a command never stops the recording); yields the
    segment log, or None without MQTT or when its file cannot be made."""
    if publisher is None:
        yield None
        return
    try:
        segments = SegmentLog(writer.path, source.elapsed_s)
    except (OSError, HiprotError) as exc:
        warn(f"segment commands are off for this session: {exc}")
        yield None
        return
    with segments:
        state = segments.state
        with CommandListener(rig.mqtt, rig.device_id, segments.apply, host, port, state=state):
            yield segments


@click.command()
@rig_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("sessions"),
    show_default=True,
    help="Directory for session directories.",
)
@click.option(
    "--duration",
    type=FiniteRange(min=0, min_open=True),
    default=None,
    metavar="S",
    help="Stop after S seconds (default: until Ctrl-C or SIGTERM).",
)
@click.option(
    "--activity", type=click.Choice(ACTIVITIES), default=None, help="What the session is."
)
@subject_option
@click.option("--note", default=None, help="Free text stored in session.json (no names).")
@mode_option
@click.option(
    "--repeat-of",
    default=None,
    metavar="SESSION",
    help="This session repeats SESSION (a session in --out) the same day: sensors re-strapped, "
    "re-calibrated, the test done again within the hour. Such repeats measure your own "
    "test-retest error, which compare and history pool with the published one.",
)
@click.option(
    "--min-free-mb",
    type=FiniteRange(min=0),
    default=DiskPolicy.stop_free_bytes / MB,
    show_default=True,
    help="Refuse to start, or stop cleanly, below this much free disk.",
)
@click.option(
    "--warn-free-mb",
    type=FiniteRange(min=0),
    default=DiskPolicy.warn_free_bytes / MB,
    show_default=True,
    help="Warn (with the recording time left) below this much free disk.",
)
@broker_option
@no_mqtt_option
def record(
    rig_path,
    out_dir,
    duration,
    activity,
    subject,
    note,
    mode,
    repeat_of,
    min_free_mb,
    warn_free_mb,
    broker,
    no_mqtt,
) -> None:
    """Record a session until --duration, Ctrl-C or SIGTERM ends it cleanly.

    Also stops cleanly, metadata closed, when the disk is nearly full. Under
    systemd (firmware/hiprot.service) it reports ready, pings the watchdog and
    reports stopping.
    """
    rig = load(rig_path, subject)
    repeat_of = repeated_session(out_dir, repeat_of)
    host, port = parse_broker(broker)
    disk = DiskPolicy(warn_free_bytes=int(warn_free_mb * MB), stop_free_bytes=int(min_free_mb * MB))
    stop = stop_on_signals()
    lock = DeviceLock(rig.device_id, "record").acquire()
    try:
        _record(
            rig,
            lock,
            out_dir,
            duration,
            (activity, mode, repeat_of),
            note,
            disk,
            host,
            port,
            no_mqtt,
            stop,
        )
    finally:
        lock.release()


def _record(rig, lock, out_dir, duration, kind, note, disk, host, port, no_mqtt, stop) -> None:
    """The recording itself, with the device locked (or ``lock.problem`` said why not);
    ``kind``: (activity, mode, the session it repeats)."""
    activity, mode, repeat_of = kind
    if lock.problem is not None:
        warn(f"{lock.problem}; recording anyway")
    warn_lost(lock.previous)
    source_duration = None if duration is None else duration + 1.0
    publisher = None
    if rig.mqtt.enabled and not no_mqtt:
        # connect before the sensors start, so that waiting for a broker cannot overflow their FIFOs
        adopt_legacy_outbox(rig.device_id)
        publisher = Publisher(
            rig.mqtt,
            rig.device_id,
            host,
            port,
            outbox_dir=outbox_dir(rig.device_id),
            on_memory_only=lock.note_memory_only,
        )
        publisher.start()
    with stopped_on_failure(publisher):
        source = open_source(rig, duration_s=source_duration, on_event=warn)
    try:
        with stopped_on_failure(publisher):
            writer = SessionWriter(
                rig,
                out_dir,
                activity=activity,
                note=note,
                disk=disk,
                start=source.start_utc,
                mode=mode,
                repeat_of=repeat_of,
            )
        simulated = " SIMULATED" if rig.simulation is not None else ""
        status = (
            f"recording {len(rig.sensors)}{simulated} sensors at {rig.sample_rate_hz:g} Hz "
            f"to {writer.path}"
        )
        click.echo(status)
        service = ServiceNotifier()
        with _commands(rig, writer, source, publisher, host, port) as segments:
            service.ready(status)
            summary = run_loop.run(
                rig,
                source,
                writer,
                publisher,
                stop,
                duration,
                activity=activity,
                mode=mode,
                on_iteration=service.watchdog,
                segment_activity=segments.open_activity if segments is not None else None,
            )
        service.stopping(f"recorded {summary.duration_s:.1f} s to {summary.session}")
        health = source.health()
    finally:
        source.close()
    ended = f" (stopped early: {STOP_DISK_LOW})" if writer.stop_reason == STOP_DISK_LOW else ""
    click.echo(
        f"recorded {summary.duration_s:.1f} s, "
        f"{sum(summary.samples.values())} samples to {summary.session}{ended}"
    )
    echo_calibration(summary)
    for line in health_lines(health):
        click.echo(f"sensor {line}")
    echo_mqtt(summary.mqtt)
