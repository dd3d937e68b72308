"""Live causal angles against batch, per simulated scenario (the simulator's realistic people).

Per scenario, rig (with or without a pelvis sensor) and seed, the session is fed to the live
pipeline in 50 ms chunks as ``hiprot record`` does; the causal angles it emits with each chunk
(what the ``angles`` topic carries) are compared with the batch analysis' angles at the same
instants: RMS of hip IR and knee flexion per leg, once calibrated (walking: straight walking
after the first 30 s, as issue #21 states the bound), and how many samples behind a chunk's
newest its causal angles end (0: the chunk's own samples are in the same call's answer). Batch's
own figure (``causal_rms``: its refined fits held as live holds them) is printed beside.

    python scripts/live_agreement.py [--seeds 1 2] [--jobs 2] [--realism technical]
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from hiprot.cli.simulate import build_rig
from hiprot.columns import hip_ir, knee_flexion
from hiprot.config import load_rig
from hiprot.pipeline import Pipeline
from hiprot.processing import process_session
from hiprot.recording import Session
from hiprot.samples import split_chunk
from hiprot.sim import simulate
from hiprot.sim.session import SCENARIO_ACTIVITY

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "seated-ir": ("seated-ir", False),
    "seated-ir + pelvis": ("seated-ir", True),
    "prone-ir + pelvis": ("prone-ir", True),
    "exercise + pelvis": ("exercise", True),
    "walk": ("walk", False),
    "walk + pelvis": ("walk", True),
}
WALK_S = 90.0
WALK_SETTLE_S = 30.0
STRAIGHT_DEG = 10.0  # the refined hip reference turns less than this within ±1 s: straight


def run(args) -> str:
    name, seed, realism = args
    scenario, pelvis = CASES[name]
    base = load_rig(ROOT / "config" / "sim.toml")
    base = replace(base, simulation=replace(base.simulation, realism=realism))
    duration = WALK_S if scenario == "walk" else None  # the rig file's walk is 20 s
    rig = build_rig(base, scenario, seed, duration, "right", pelvis, None, None, None)
    sim = simulate(rig)
    activity = SCENARIO_ACTIVITY[scenario]
    session = Session(Path(f"{scenario}-{seed}"), rig, {"activity": activity}, sim.samples)
    batch = process_session(session)
    pipeline = Pipeline(rig, activity=activity)
    times, columns, behind = [], {}, []
    emitted = []
    for chunk in split_chunk(sim.samples, 0.05):
        angles = pipeline.process(chunk)
        emitted.append(angles)
        causal = angles.causal
        if causal is None or not len(causal):
            continue
        newest = min(s.time_s[-1] for s in chunk.values())
        behind.append(round((newest - causal.time_s[-1]) * rig.sample_rate_hz))
        times.append(causal.time_s)
        for column, values in causal.columns.items():
            columns.setdefault(column, []).append(values)
    time_s = np.concatenate(times)
    refined = batch.angles
    keep = np.ones(len(time_s), bool)
    if scenario == "walk":
        heading = np.unwrap(refined.legs["right"].hip_heading)
        turn = np.degrees(
            np.abs(
                np.interp(refined.time_s + 1, refined.time_s, heading)
                - np.interp(refined.time_s - 1, refined.time_s, heading)
            )
        )
        straight = np.interp(time_s, refined.time_s, (turn < STRAIGHT_DEG).astype(float)) == 1
        keep = straight & (time_s > WALK_SETTLE_S)
    figures = []
    emitted = [a for a in [*emitted, pipeline.finish()] if len(a)]
    refined_s = np.concatenate([a.time_s for a in emitted])
    for column in (hip_ir("right"), knee_flexion("right")):
        live = np.concatenate(columns[column])
        difference = (live - np.interp(time_s, refined.time_s, refined.columns[column]))[keep]
        rms = np.sqrt(np.nanmean(difference**2))
        own = np.concatenate([a.columns[column] for a in emitted])
        against = own - np.interp(refined_s, refined.time_s, refined.columns[column])
        kept = np.interp(refined_s, time_s, keep.astype(float)) == 1
        figures.append(
            f"{column} {rms:4.2f}° (refined {np.sqrt(np.nanmean(against[kept] ** 2)):4.2f}°)"
        )
    own = batch.causal_rms.get(hip_ir("right"), float("nan"))
    return (
        f"{name:18s} {realism} seed {seed}: live causal - batch RMS {', '.join(figures)} "
        f"over {keep.sum() / rig.sample_rate_hz:5.1f} s; samples behind the chunk: "
        f"max {max(behind)}; batch's own causal_rms hip IR {own:4.2f}°"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--realism", default="realistic", help="the simulator's preset")
    args = parser.parse_args()
    jobs = [(name, seed, args.realism) for name in CASES for seed in args.seeds]
    with ProcessPoolExecutor(args.jobs) as pool:
        for line in pool.map(run, jobs):
            print(line, flush=True)


if __name__ == "__main__":
    main()
