"""``hiprot record``: log a rig's sensors to a session directory and publish live."""

from __future__ import annotations

from pathlib import Path

import click

from hiprot import logger
from hiprot.cli.common import (
    broker_option,
    load,
    no_mqtt_option,
    parse_broker,
    rig_option,
    stop_on_signals,
)
from hiprot.mqtt import Publisher
from hiprot.recording import SessionWriter
from hiprot.sensors.acquisition import health_lines
from hiprot.sources import open_source


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)

ACTIVITIES = ("walk", "exercise", "seated-test", "prone-test")


@click.command()
@rig_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("sessions"), show_default=True, help="Directory for session directories.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="S", help="Stop after S seconds (default: until Ctrl-C or SIGTERM).")
@click.option("--activity", type=click.Choice(ACTIVITIES), default=None, help="What the session is.")
@click.option("--note", default=None, help="Free text stored in session.json.")
@broker_option
@no_mqtt_option
def record(rig_path, out_dir, duration, activity, note, broker, no_mqtt) -> None:
    """Record a session until --duration, Ctrl-C or SIGTERM ends it cleanly."""
    rig = load(rig_path)
    host, port = parse_broker(broker)
    source_duration = None if duration is None else duration + 1.0
    source = open_source(rig, duration_s=source_duration, on_event=warn)
    try:
        stop = stop_on_signals()
        publisher = None
        if rig.mqtt.enabled and not no_mqtt:
            publisher = Publisher(rig.mqtt, rig.device_id, host, port)
            publisher.start()
        writer = SessionWriter(rig, out_dir, activity=activity, note=note)
        click.echo(f"recording {len(rig.sensors)} sensors at {rig.sample_rate_hz:g} Hz "
                   f"to {writer.path}")
        summary = logger.run(rig, source, writer, publisher, stop, duration)
        health = source.health()
    finally:
        source.close()
    click.echo(f"recorded {summary.duration_s:.1f} s, "
               f"{sum(summary.samples.values())} samples to {summary.session}")
    for line in health_lines(health):
        click.echo(f"sensor {line}")
