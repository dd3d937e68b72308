"""``hiprot simulate``: write a simulated session with its ground truth."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import click
import numpy as np

from hiprot.chip_catalogue import IMU_CHIPS
from hiprot.cli.common import (
    FiniteRange,
    load,
    mode_option,
    repeated_session,
    rig_option,
    subject_option,
)
from hiprot.config import (
    SCENARIOS,
    Rig,
    SensorConfig,
    SimulationConfig,
    parse_rig,
    rig_to_toml,
)
from hiprot.recording.segments import write_commands
from hiprot.sim import simulate as run_simulation
from hiprot.sim.session import scenario_commands, write_session

LEGS = {"right": ("right",), "left": ("left",), "both": ("left", "right")}


def _sensors(legs: tuple[str, ...], pelvis: bool, chip: str) -> tuple[SensorConfig, ...]:
    """Thigh and shank per leg (and a pelvis sensor): two on bus 1 at 0x68/0x69, more behind a TCA9548A."""
    places = ([("pelvis", None)] if pelvis else []) + [
        (seg, side) for side in legs for seg in ("thigh", "shank")
    ]
    muxed = len(places) > 2
    sensors = []
    for i, (segment, side) in enumerate(places):
        name = segment if side is None else f"{side}_{segment}"
        sensors.append(
            SensorConfig(
                name,
                segment,
                side,
                chip,
                1,
                0x68 if muxed else 0x68 + i,
                0x70 if muxed else None,
                i if muxed else None,
            )
        )
    return tuple(sensors)


def build_rig(
    base: Rig, scenario, seed, duration, legs, pelvis, ir_max, er_max, chip, session=None
) -> Rig:
    """The base rig with the command line's choices applied, validated like a rig file."""
    sim = base.simulation or SimulationConfig()
    if scenario is not None and scenario != sim.scenario:
        sim = replace(sim, duration_s=None)  # the base rig's length belongs to its own scenario
    changes = {
        "scenario": scenario,
        "seed": seed,
        "duration_s": duration,
        "ir_max_deg": ir_max,
        "er_max_deg": er_max,
        "session": session,
    }
    sim = replace(sim, **{k: v for k, v in changes.items() if v is not None})
    sensors = base.sensors
    if legs is not None or pelvis is not None or chip is not None:
        sides = LEGS[legs] if legs is not None else (base.sides or ("right",))
        with_pelvis = pelvis if pelvis is not None else base.find("pelvis") is not None
        sensors = _sensors(sides, with_pelvis, chip or base.sensors[0].chip)
    rig = replace(base, sensors=sensors, simulation=sim)
    return parse_rig(tomllib.loads(rig_to_toml(rig)), base.source or Path("rig.toml"))


@click.command()
@click.option(
    "--scenario",
    type=click.Choice(SCENARIOS),
    default=None,
    help="What the person does (default: the rig's scenario, else walk).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Session directory to write (created).",
)
@rig_option
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="Random seed (same seed, same session).",
)
@click.option(
    "--duration",
    type=FiniteRange(1, 36000),
    default=None,
    metavar="S",
    help="Length in seconds (default: the rig's duration_s for its own scenario, "
    "else the scenario's natural length; walking 60 s).",
)
@click.option(
    "--legs",
    type=click.Choice(tuple(LEGS)),
    default=None,
    help="Legs carrying thigh+shank sensors.",
)
@click.option(
    "--pelvis/--no-pelvis", default=None, help="With or without a pelvis (sacrum) sensor."
)
@click.option(
    "--ir-max",
    type=FiniteRange(-30, 90),
    default=None,
    metavar="DEG",
    help="The person's passive hip internal rotation range (e.g. 15 restricted, 40 normal; "
    "negative: the hip cannot rotate internally to neutral).",
)
@click.option(
    "--er-max",
    type=FiniteRange(0, 90),
    default=None,
    metavar="DEG",
    help="The person's passive hip external rotation range.",
)
@click.option(
    "--chip",
    type=click.Choice(IMU_CHIPS),
    default=None,
    help="Chip of every sensor (its noise model).",
)
@subject_option
@mode_option
@click.option(
    "--session",
    type=click.IntRange(0, 10000),
    default=None,
    help="Which day of the same person (seed): another session re-straps the modules and "
    "draws another posture and effort (realistic).",
)
@click.option(
    "--start-utc",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
    default=None,
    help="When the session started, UTC (default: now).",
)
@click.option(
    "--repeat-of",
    default=None,
    metavar="SESSION",
    help="Mark it as a same-day repeat of SESSION (a session beside --out), as hiprot record "
    "--repeat-of does.",
)
def simulate(
    scenario,
    out_dir,
    rig_path,
    seed,
    duration,
    legs,
    pelvis,
    ir_max,
    er_max,
    chip,
    subject,
    mode,
    session,
    start_utc,
    repeat_of,
) -> None:
    """Write a simulated session (rig.toml, imu.csv, session.json) with its ground truth
    (truth.csv, truth_events.csv, truth_mounting.json)."""
    rig = build_rig(
        load(rig_path, subject),
        scenario,
        seed,
        duration,
        legs,
        pelvis,
        ir_max,
        er_max,
        chip,
        session,
    )
    repeat_of = repeated_session(out_dir.parent, repeat_of)
    start = start_utc.replace(tzinfo=UTC) if start_utc is not None else datetime.now(UTC)
    simulation = run_simulation(rig)
    path = write_session(rig, simulation, out_dir, start, repeat_of, mode)
    sim = rig.simulation
    write_commands(path, scenario_commands(sim.scenario, simulation.events), start)
    click.echo(
        f"simulated {simulation.duration_s:g} s of '{sim.scenario}' (seed {sim.seed}) with "
        f"{len(rig.sensors)} sensors at {rig.sample_rate_hz:g} Hz: {', '.join(s.name for s in rig.sensors)}"
    )
    for column, values in simulation.truth_deg.items():
        click.echo(f"true {column}: {np.min(values):.1f} to {np.max(values):.1f}")
    counts: dict[str, int] = {}
    for event in simulation.events:
        counts[event.event] = counts.get(event.event, 0) + 1
    click.echo("true events: " + ", ".join(f"{n} {name}" for name, n in sorted(counts.items())))
    click.echo(f"session: {path}")
