"""Simulated sessions for the analysis tests, made once per test run (in memory or on disk)."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from hiprot.cli.simulate import build_rig
from hiprot.config import Rig, load_rig, parse_rig, rig_to_toml
from hiprot.evaluation.analysis import Scored, run
from hiprot.sim import simulate
from hiprot.sim.session import write_session


def sim_rig(
    scenario: str,
    seed: int,
    legs: str = "right",
    pelvis: bool = False,
    duration: float | None = None,
    ir_max: float | None = None,
    **simulation,
) -> Rig:
    """The default simulated rig set up for ``scenario``; ``simulation`` overrides more keys."""
    rig = build_rig(load_rig(), scenario, seed, duration, legs, pelvis, ir_max, None, None)
    rig = replace(rig, simulation=replace(rig.simulation, **simulation))
    return parse_rig(tomllib.loads(rig_to_toml(rig)), Path("rig.toml"))


def write_sim(rig: Rig, path: Path) -> Path:
    """Simulate ``rig`` and write the session directory ``path``."""
    return write_session(rig, simulate(rig), path)


@pytest.fixture(scope="session")
def walk_with_pelvis() -> Scored:
    """60 s of walking with turns, both legs and a pelvis sensor."""
    return run(sim_rig("walk", 21, "both", True, 60.0))


@pytest.fixture(scope="session")
def walk_without_pelvis() -> Scored:
    """60 s of walking with turns, thigh and shank of the right leg."""
    return run(sim_rig("walk", 22, "right", False, 60.0))


@pytest.fixture(scope="session")
def exercise() -> Scored:
    """Standing hip-IR activations, both legs: 2 sets of 5 reps each."""
    return run(sim_rig("exercise", 23, "both", False, reps=5, rest_s=6.0))


@pytest.fixture(scope="session")
def lunge() -> Scored:
    """Lunges with rotation, both legs and a pelvis sensor: 2 sets of 4 reps each."""
    return run(sim_rig("lunge", 24, "both", True, reps=4, rest_s=6.0))


@pytest.fixture(scope="session")
def prone() -> Scored:
    """Prone rotation test, both legs, 2 trials each."""
    return run(sim_rig("prone-ir", 25, "both", False, trials=2))
