"""``hiprot demo``: the whole path on a simulated rig, no hardware needed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
import numpy as np

from hiprot import run_loop
from hiprot.cli.common import (
    broker_option,
    echo_calibration,
    load,
    no_mqtt_option,
    parse_broker,
    rig_option,
    subject_option,
)
from hiprot.evaluation.angles import angle_errors
from hiprot.mqtt import Publisher
from hiprot.processing import process_session
from hiprot.recording import SessionWriter, load_session
from hiprot.recording.segments import write_commands
from hiprot.sensors.acquisition import health_lines
from hiprot.sim.session import SCENARIO_ACTIVITY, scenario_commands
from hiprot.sources import open_source
from hiprot.state import DeviceLock


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


@click.command()
@rig_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("sessions"),
    show_default=True,
    help="Where the demo session is written.",
)
@subject_option
@broker_option
@no_mqtt_option
def demo(rig_path, out_dir, subject, broker, no_mqtt) -> None:
    """Simulate a walk, estimate hip rotation, record it and publish it over MQTT.

    The simulated motion is played through register-level emulated chips and
    read by the real drivers, faster than real time.
    """
    rig = load(rig_path, subject)
    if rig.simulation is None:
        raise click.BadParameter(
            "the demo needs a simulated rig (with a [simulation] table)", param_hint="--rig"
        )
    host, port = parse_broker(broker)
    publishing = rig.mqtt.enabled and not no_mqtt
    # the device's topics and client id are one process's at a time
    lock = DeviceLock(rig.device_id, "demo").acquire() if publishing else None
    try:
        _demo(rig, out_dir, host, port, publishing)
    finally:
        if lock is not None:
            lock.release()


def _demo(rig, out_dir, host, port, publishing) -> None:
    """The demo itself, with the device locked when it publishes."""
    source = open_source(rig, realtime=False, on_event=warn)
    click.echo(
        f"simulated {source.simulation.duration_s:g} s of '{rig.simulation.scenario}' "
        f"with {len(rig.sensors)} sensors at {rig.sample_rate_hz:g} Hz, "
        "read through emulated chips"
    )
    try:
        publisher = None
        if publishing:
            publisher = Publisher(rig.mqtt, rig.device_id, host, port)
            publisher.start()
        activity = SCENARIO_ACTIVITY[rig.simulation.scenario]
        writer = SessionWriter(rig, out_dir, activity=activity, note="hiprot demo")
        summary = run_loop.run(rig, source, writer, publisher, activity=activity)
        health = source.health()
    finally:
        source.close()
    echo_calibration(summary)
    click.echo(f"session: {summary.session}")
    click.echo("samples: " + ", ".join(f"{n} {c}" for n, c in summary.samples.items()))
    for line in health_lines(health):
        click.echo(f"sensor {line}")
    for name, (lo, hi) in summary.angle_range_deg.items():
        true = source.simulation.truth_deg.get(name)
        truth = f" (true {np.min(true):.1f} to {np.max(true):.1f})" if true is not None else ""
        click.echo(f"live {name}: {lo:.1f} to {hi:.1f} deg{truth}")
    recorded = load_session(summary.session)
    commands = scenario_commands(rig.simulation.scenario, source.simulation.events)
    if commands:  # the segments the phone labels (the guided session), then read with it
        write_commands(
            summary.session, commands, datetime.fromisoformat(recorded.meta["start_utc"])
        )
        recorded = load_session(summary.session)
    processed = process_session(recorded)
    if processed.angles is None:
        click.echo("batch analysis: " + "; ".join(processed.warnings))
    else:
        errors = angle_errors(processed.angles.time_s, processed.angles.columns, source.simulation)
        click.echo(
            "batch analysis of the recording against the simulated truth: "
            + ", ".join(f"{name} RMSE {e.rmse:.1f} deg" for name, e in errors.items())
        )
    if publisher is not None:
        click.echo(f"mqtt: {summary.published} messages to {publisher.base}/")
