"""``hiprot record``: log a rig's sensors to a session directory and publish live."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from hiprot import logger
from hiprot.analysis.live import ACTIVITIES
from hiprot.cli.common import (
    FiniteRange,
    broker_option,
    echo_calibration,
    echo_mqtt,
    load,
    no_mqtt_option,
    parse_broker,
    repeated_session,
    rig_option,
    stop_on_signals,
    warn_lost,
)
from hiprot.mqtt import Publisher
from hiprot.recording import DiskPolicy, SessionWriter
from hiprot.recording.disk import MB
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
@click.option("--note", default=None, help="Free text stored in session.json.")
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
    note,
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
    rig = load(rig_path)
    repeat_of = repeated_session(out_dir, repeat_of)
    host, port = parse_broker(broker)
    disk = DiskPolicy(warn_free_bytes=int(warn_free_mb * MB), stop_free_bytes=int(min_free_mb * MB))
    stop = stop_on_signals()
    lock = DeviceLock(rig.device_id, "record").acquire()
    try:
        _record(
            rig, lock, out_dir, duration, activity, note, disk, host, port, no_mqtt, stop, repeat_of
        )
    finally:
        lock.release()


def _record(
    rig, lock, out_dir, duration, activity, note, disk, host, port, no_mqtt, stop, repeat_of
) -> None:
    """The recording itself, with the device locked (or ``lock.problem`` said why not)."""
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
                repeat_of=repeat_of,
            )
        simulated = " SIMULATED" if rig.simulation is not None else ""
        status = (
            f"recording {len(rig.sensors)}{simulated} sensors at {rig.sample_rate_hz:g} Hz "
            f"to {writer.path}"
        )
        click.echo(status)
        service = ServiceNotifier()
        service.ready(status)
        summary = logger.run(
            rig,
            source,
            writer,
            publisher,
            stop,
            duration,
            activity=activity,
            on_iteration=service.watchdog,
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
