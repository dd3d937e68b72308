"""Live against batch rotation-test trials on people (the simulator's realistic defaults).

Per case and seed: the trials batch analysis finds, those the live pipeline finds when the
session is fed in 50 ms chunks (as ``hiprot replay`` and ``record`` do), and the largest
difference of peak IR and ER between paired trials — primary figure and gravity figure.

    python scripts/live_trials.py [--seeds 1 2 3] [--jobs 2]
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from hiprot.analysis.live import MetricStream
from hiprot.analysis.session import analyze_session
from hiprot.cli.simulate import build_rig
from hiprot.config import load_rig
from hiprot.pipeline import Pipeline
from hiprot.processing import process_session
from hiprot.recording import Session
from hiprot.samples import split_chunk
from hiprot.sim import simulate
from hiprot.sim.session import SCENARIO_ACTIVITY

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "seated, no pelvis": ("seated-ir", False),
    "seated, pelvis": ("seated-ir", True),
    "prone, pelvis": ("prone-ir", True),
}
PAIRS = (
    ("hip_ir_max_deg", "hip_er_max_deg"),
    ("hip_ir_max_gravity_deg", "hip_er_max_gravity_deg"),
)


def live_trials(rig, samples, activity: str) -> list[dict]:
    """The trials the live pipeline publishes."""
    pipeline = Pipeline(rig, activity=activity)
    stream = MetricStream(rig.sides, rig.sample_rate_hz, activity)
    found = []
    for chunk in split_chunk(samples, 0.05):
        found += stream.update(pipeline.process(chunk))
    found += stream.update(pipeline.finish()) + stream.finish()
    return [payload for kind, payload in found if kind == "test"]


def run(args) -> str:
    name, seed = args
    scenario, pelvis = CASES[name]
    base = load_rig(ROOT / "config" / "sim.toml")
    rig = build_rig(base, scenario, seed, None, "right", pelvis, None, None, None)
    sim = simulate(rig)
    activity = SCENARIO_ACTIVITY[scenario]
    session = Session(Path(f"{scenario}-{seed}"), rig, {"activity": activity}, sim.samples)
    batch = analyze_session(process_session(session), activity).trials
    live = live_trials(rig, sim.samples, activity)
    paired = [(b, lv) for b in batch for lv in live if abs(lv["start_s"] - b.start_s) < 0.5]
    worst = [
        max(
            (abs(lv[key] - getattr(b, key)) for b, lv in paired for key in keys),
            default=float("nan"),
        )
        for keys in PAIRS
    ]
    return (
        f"{name:18s} seed {seed}: batch {len(batch)} trials, live {len(live)}, paired "
        f"{len(paired)}; max |live - batch| IR/ER {worst[0]:4.1f}° (gravity {worst[1]:4.1f}°)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    jobs = [(name, seed) for name in CASES for seed in args.seeds]
    with ProcessPoolExecutor(args.jobs) as pool:
        for line in pool.map(run, jobs):
            print(line, flush=True)


if __name__ == "__main__":
    main()
