"""``hiprot demo``: the whole path on a simulated rig, no hardware needed."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from hiprot import logger
from hiprot.cli.common import broker_option, load, no_mqtt_option, parse_broker, rig_option
from hiprot.mqtt import Publisher
from hiprot.recording import SessionWriter
from hiprot.samples import split_chunk
from hiprot.sim import simulate
from hiprot.sources import CHUNK_S


@click.command()
@rig_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("sessions"), show_default=True, help="Where the demo session is written.")
@broker_option
@no_mqtt_option
def demo(rig_path, out_dir, broker, no_mqtt) -> None:
    """Simulate a walk, estimate hip rotation, record it and publish it over MQTT."""
    rig = load(rig_path)
    if rig.simulation is None:
        raise click.BadParameter("the demo needs a simulated rig (with a [simulation] table)",
                                 param_hint="--rig")
    host, port = parse_broker(broker)
    simulation = simulate(rig)
    click.echo(f"simulated {simulation.duration_s:g} s of '{rig.simulation.scenario}' "
               f"with {len(rig.sensors)} sensors at {rig.sample_rate_hz:g} Hz")
    writer = SessionWriter(rig, out_dir, activity="walk", note="hiprot demo")
    publisher = None
    if rig.mqtt.enabled and not no_mqtt:
        publisher = Publisher(rig.mqtt, rig.device_id, host, port)
        publisher.start()
    chunks = iter(split_chunk(simulation.samples, CHUNK_S))
    summary = logger.run(rig, chunks, writer, publisher)
    click.echo(f"session: {summary.session}")
    click.echo(f"samples: " + ", ".join(f"{n} {c}" for n, c in summary.samples.items()))
    for name, (lo, hi) in summary.hip_ir_range_deg.items():
        true = simulation.truth_deg.get(name)
        truth = f" (true {np.min(true):.1f} to {np.max(true):.1f})" if true is not None else ""
        click.echo(f"{name}: {lo:.1f} to {hi:.1f} deg{truth}")
    if publisher is not None:
        click.echo(f"mqtt: {summary.published} messages to {publisher.base}/")
