"""Scoring the analysis against the simulator's ground truth (for the tests and
``scripts/analysis_eval.py``).

A simulation knows when every heel strike, repetition and test peak really
happened and what the true hip angle was; these helpers run a simulation
through the product (fusion → calibration → angles → analysis, in memory) and
line the results up with that truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hiprot.analysis.session import SessionAnalysis, analyze_session
from hiprot.columns import hip_ir, knee_flexion
from hiprot.config import Rig
from hiprot.processing import ProcessedSession, process_session
from hiprot.recording import Session
from hiprot.recording.segments import Timeline, validate
from hiprot.sim import Simulation, simulate
from hiprot.sim.session import SCENARIO_ACTIVITY, scenario_commands

FALSE_EVENT_S = 0.1  # a detected event further than this from every true one is false


@dataclass
class Scored:
    """A simulation and what the product made of it."""

    sim: Simulation
    processed: ProcessedSession
    analysis: SessionAnalysis

    def true_events(self, side: str, name: str) -> np.ndarray:
        """Times of the true events ``name`` of ``side``."""
        return np.array([e.time_s for e in self.sim.events if e.side == side and e.event == name])

    def true_hip_ir(self, side: str) -> np.ndarray:
        """The true hip IR the rig can measure: pelvis → femur with a pelvis sensor, else the
        femur relative to the walking direction."""
        if self.processed.rig.find("pelvis") is not None:
            return self.sim.truth_deg[hip_ir(side)]
        return self.sim.joint_deg[f"{side}_thigh_heading"][:, 2]


def run(rig: Rig) -> Scored:
    """Simulate ``rig`` and analyse it in memory, with the activity its scenario records."""
    sim = simulate(rig)
    scenario = rig.simulation.scenario
    meta = {"activity": SCENARIO_ACTIVITY[scenario], "complete": True}
    session = Session(Path(f"sim-{scenario}-{rig.simulation.seed}"), rig, meta, sim.samples)
    session.timeline = simulated_timeline(scenario, sim)
    processed = process_session(session)
    return Scored(sim, processed, analyze_session(processed))


def simulated_timeline(scenario: str, simulation: Simulation) -> Timeline:
    """The segments `hiprot simulate` writes for ``scenario`` (those the dashboard's guided
    session labels), in memory."""
    timeline = Timeline()
    for time_s, command in scenario_commands(scenario, simulation.events):
        timeline.apply({**validate(command), "time_s": time_s})
    return timeline


def straight_strides(scored: Scored) -> tuple[int, int]:
    """(strides that overlap no true turn, how many of them the analysis marked turning)."""
    turns = list(
        zip(scored.true_events("both", "turn_start"), scored.true_events("both", "turn_end"))
    )
    straight = [
        s
        for s in scored.analysis.strides
        if not any(s.start_s < end and s.end_s > start for start, end in turns)
    ]
    return len(straight), sum(1 for s in straight if s.turning)


def walking_errors(scored: Scored) -> dict[str, np.ndarray]:
    """Hip IR (against :meth:`Scored.true_hip_ir`) and knee flexion errors (degrees) of
    every leg after the standing calibration, keyed ``hip_ir`` and ``knee_flexion``."""
    angles = scored.processed.angles
    out: dict[str, list[np.ndarray]] = {"hip_ir": [], "knee_flexion": []}
    if angles is None:
        return {k: np.empty(0) for k in out}
    t, sim = angles.time_s, scored.sim
    after = t > max(scored.true_events("both", "calibration_end"), default=0.0)
    for side in angles.legs:
        out["hip_ir"].append(
            angles.columns[hip_ir(side)] - np.interp(t, sim.time_s, scored.true_hip_ir(side))
        )
        if knee_flexion(side) in angles.columns:
            truth = np.interp(t, sim.time_s, sim.truth_deg[knee_flexion(side)])
            out["knee_flexion"].append(angles.columns[knee_flexion(side)] - truth)
    return {
        k: np.concatenate(v)[np.tile(after, len(v))] if v else np.empty(0) for k, v in out.items()
    }


def match_events(detected: np.ndarray, true: np.ndarray) -> dict:
    """Timing errors (s) of detected events against the nearest true one; ``false``: detections
    with no true event within FALSE_EVENT_S; ``missed``: true events with no detection there."""
    detected, true = np.asarray(detected, float), np.asarray(true, float)
    if not len(true) or not len(detected):
        return {
            "errors_s": np.empty(0),
            "false": len(detected),
            "missed": len(true),
            "true": len(true),
        }
    nearest = true[np.abs(detected[:, None] - true[None, :]).argmin(axis=1)]
    errors = detected - nearest
    real = np.abs(errors) <= FALSE_EVENT_S
    found = np.abs(true[:, None] - detected[None, :]).min(axis=1) <= FALSE_EVENT_S
    return {
        "errors_s": errors[real],
        "false": int((~real).sum()),
        "missed": int((~found).sum()),
        "true": len(true),
    }


def stride_peak_errors(scored: Scored, side: str, straight_only: bool = True) -> np.ndarray:
    """Per stride: measured peak IR minus the true peak IR over the same stride (degrees)."""
    truth, t = scored.true_hip_ir(side), scored.sim.time_s
    out = []
    for stride in scored.analysis.strides:
        if stride.side != side or (straight_only and stride.turning):
            continue
        inside = (t >= stride.start_s) & (t <= stride.end_s)
        out.append(stride.hip_ir_max_deg - truth[inside].max())
    return np.array(out)


def true_test_peaks(scored: Scored, side: str) -> dict[str, np.ndarray]:
    """The true peak IR and peak ER (positive) of each trial of ``side``."""
    truth, t = scored.true_hip_ir(side), scored.sim.time_s
    return {
        "ir": np.interp(scored.true_events(side, "ir_peak"), t, truth),
        "er": -np.interp(scored.true_events(side, "er_peak"), t, truth),
    }


def true_rep_peaks(scored: Scored, side: str) -> np.ndarray:
    """The true peak hip IR of each repetition of ``side``."""
    truth, t = scored.true_hip_ir(side), scored.sim.time_s
    spans = zip(scored.true_events(side, "rep_start"), scored.true_events(side, "rep_end"))
    return np.array([truth[(t >= a) & (t <= b)].max() for a, b in spans])
