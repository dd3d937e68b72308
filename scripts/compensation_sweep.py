"""Rotation tests under the simulator's realistic defaults: compensation, stiff hips, no-tests.

Prints, over several seeds (issue 17's targets):

- seated tests with a pelvis sensor whose pelvis tilts sideways with the hip
  (``compensation_per_deg`` 0.15 and 0.05: about 6° and 2° of obliquity at 40° of
  rotation): per trial the error of peak IR and ER against the true pelvis → femur
  angles, the pelvic compensation found against the true one, and whether the trial
  was flagged as compensated;
- stiff hips: 3° of passive IR (IR within 2° in every trial) and −3° (cannot reach
  neutral: IR reads negative), with and without a pelvis sensor;
- a two-minute seated session of fidgeting without a test: trials (as a seated
  test) and repetitions (as an exercise) — both should be none;
- stairs and squats, with their activity and with none given: how many samples used
  the rotation-test reference (should be none).

    python scripts/compensation_sweep.py [--seeds 1 2 3] [--jobs 2]
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from hiprot.analysis.rotation_tests import COMPENSATION_LIMIT_DEG
from hiprot.analysis.session import analyze_session
from hiprot.cli.simulate import build_rig
from hiprot.config import load_rig
from hiprot.evaluation.analysis import Scored
from hiprot.evaluation.rotation_tests import largest, score_trials, true_trial_count
from hiprot.processing import process_session
from hiprot.recording import Session
from hiprot.sim import simulate
from hiprot.sim.session import SCENARIO_ACTIVITY

ROOT = Path(__file__).resolve().parents[1]
TEST_CASES = {
    "seated, pelvis, ~6° obliquity": ("seated-ir", True, 40.0, 0.15),
    "seated, pelvis, ~2° obliquity": ("seated-ir", True, 40.0, 0.05),
    "seated, pelvis, realism's 0.1°/°": ("seated-ir", True, 40.0, None),
    "prone, pelvis, realism's 0.1°/°": ("prone-ir", True, 40.0, None),
    "seated, no pelvis": ("seated-ir", False, 40.0, None),
    "seated, pelvis, IR 3°": ("seated-ir", True, 3.0, None),
    "seated, no pelvis, IR 3°": ("seated-ir", False, 3.0, None),
    "seated, pelvis, IR -3°": ("seated-ir", True, -3.0, None),
    "seated, no pelvis, IR -3°": ("seated-ir", False, -3.0, None),
}


def scored(scenario, seed, pelvis, ir_max=None, per_deg=None, activity="auto", duration=None):
    """Simulate (realistic defaults) and analyse one session; ``activity`` "auto": the one
    the scenario records, None: none given."""
    base = load_rig(ROOT / "config" / "sim.toml")
    rig = build_rig(base, scenario, seed, duration, "right", pelvis, ir_max, None, None)
    rig = replace(rig, simulation=replace(rig.simulation, compensation_per_deg=per_deg))
    sim = simulate(rig)
    if activity == "auto":
        activity = SCENARIO_ACTIVITY[scenario]
    meta = {"activity": activity} if activity else {}
    processed = process_session(Session(Path(f"{scenario}-{seed}"), rig, meta, sim.samples))
    return Scored(sim, processed, analyze_session(processed, activity))


def test_case(args) -> str:
    name, seed = args
    scenario, pelvis, ir_max, per_deg = TEST_CASES[name]
    result = scored(scenario, seed, pelvis, ir_max, per_deg)
    scores = score_trials(result)
    lines = [
        f"{name}, seed {seed}: {len(result.analysis.trials)} trials found of "
        f"{true_trial_count(result, 'right')}"
    ]
    for s in scores:
        t = s.trial
        compensation = (
            "—"
            if t.pelvic_compensation_deg is None
            else f"{t.pelvic_compensation_deg:4.1f}° (true {s.true_compensation_deg:4.1f}°)"
        )
        lines.append(
            f"  trial {t.trial}: IR {t.hip_ir_max_deg:6.1f}° (true {s.true_ir_deg:6.1f}°, "
            f"{s.ir_error:+5.1f}) ER {t.hip_er_max_deg:6.1f}° (true {s.true_er_deg:6.1f}°, "
            f"{s.er_error:+5.1f}) gravity {t.hip_ir_max_gravity_deg:5.1f}/"
            f"{t.hip_er_max_gravity_deg:5.1f}  compensation {compensation} "
            f"flagged {t.compensated}  protocol {t.protocol_ok}"
        )
    lines.append(
        f"  largest error: IR {largest(s.ir_error for s in scores):.1f}°, "
        f"ER {largest(s.er_error for s in scores):.1f}°, "
        f"compensation {largest(s.compensation_error for s in scores):.1f}°"
    )
    return "\n".join(lines)


def no_test_case(args) -> str:
    scenario, seed, activity = args
    duration = 120.0 if scenario == "fidget" else None
    result = scored(scenario, seed, False, activity=activity, duration=duration)
    test = result.processed.angles.legs["right"].test_posture
    line = (
        f"{scenario}, seed {seed}, activity {activity or 'none given'} "
        f"({result.analysis.activity}): {int(test.sum())} samples on the test reference, "
        f"{len(result.analysis.trials)} trials, {len(result.analysis.reps)} repetitions"
    )
    if scenario == "fidget":
        reps = scored(scenario, seed, False, activity="exercise", duration=duration)
        line += f"; as an exercise: {len(reps.analysis.reps)} repetitions"
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    print(
        f"compensation limit {COMPENSATION_LIMIT_DEG:.2f}° (derived: Krause et al.'s MDC95 / 1.96)"
    )
    with ProcessPoolExecutor(args.jobs) as pool:
        for line in pool.map(test_case, [(n, s) for n in TEST_CASES for s in args.seeds]):
            print(line)
        cases = [
            (scenario, seed, activity)
            for scenario in ("fidget", "stairs", "squat")
            for activity in ("auto", None)
            for seed in args.seeds
        ]
        for line in pool.map(no_test_case, cases):
            print(line)


if __name__ == "__main__":
    main()
