"""Simulated sessions for accuracy tests: the target conditions of issue #5, cached per run."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from hiprot_testing import CONFIG

from hiprot.config import SimulationConfig, load_rig
from hiprot.processing import ProcessedSession, process_session
from hiprot.recording import Session
from hiprot.sim import Simulation, simulate


def target_rig(scenario: str, seed: int, pelvis: bool = False, **simulation):
    """The simulated right leg (and pelvis) with gyro bias 1°/s, scale errors 2 %, mountings ±30°.

    Technical realism unless ``realism`` is given: these tests hold the product to its
    technical accuracy on rigid bodies with a hinge knee; what to expect on people (skin,
    knees, individuals, compensation) is the realistic table of scripts/accuracy.py."""
    base = load_rig(CONFIG / "sim.toml")
    sensors = list(base.sensors)
    if pelvis:
        sensors.insert(
            0, replace(sensors[0], name="pelvis", segment="pelvis", side=None, address=0x6A)
        )
    config = SimulationConfig(
        scenario=scenario,
        seed=seed,
        gyro_bias_deg_s=1.0,
        scale_error_pct=2.0,
        **{"duration_s": None, "realism": "technical", **simulation},
    )
    return replace(base, sensors=tuple(sensors), simulation=config)


@lru_cache(maxsize=16)
def processed(
    scenario: str, seed: int, pelvis: bool = False, **simulation
) -> tuple[Simulation, ProcessedSession]:
    """Simulate and batch-process one session (cached: several tests score the same one)."""
    rig = target_rig(scenario, seed, pelvis, **simulation)
    truth = simulate(rig)
    return truth, process_session(Session(Path(f"{scenario}-{seed}"), rig, {}, truth.samples))
