"""Calibration from walking against calibration from standing, on the same simulated walks.

Each walk (the simulator's realistic defaults, issue #5's target conditions: gyroscope
bias up to 1 °/s, scale errors up to 2 %) is analysed twice: as recorded, calibrated from
its standing phase, and with its first ``--cut-s`` seconds removed — no standing phase, so
the product calibrates from steady walking (:mod:`hiprot.kinematics.walk_window`). Prints
per seed and rig (with and without a pelvis sensor), for both: hip-IR error against the
truth the rig can measure after the cut (RMSE, mean — the zero's offset —, and the spread
about it), knee-flexion error (mean and spread), and the per-stride hip-IR range's mean
error on straight strides (an excursion: no zero enters it).

    python scripts/walking_calibration_sweep.py [--seeds 1 2 3 4 5] [--jobs 2]
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from accuracy import rig_for

from hiprot.analysis.session import analyze_session
from hiprot.columns import HIP_IR_ROM, hip_ir, knee_flexion
from hiprot.evaluation.analysis import Scored
from hiprot.evaluation.gait import stride_range_errors
from hiprot.processing import process_session
from hiprot.recording import Session
from hiprot.sim import simulate

WALK_S = 60.0


def run(seed: int, pelvis: bool, cut_s: float) -> list[str]:
    """Both calibrations of one walk, one line each."""
    rig = rig_for("walk", seed, pelvis, "vqf", WALK_S, "realistic")
    sim = simulate(rig)
    cut = {name: s[s.time_s > cut_s] for name, s in sim.samples.items()}
    lines = []
    for samples in (sim.samples, cut):
        processed = process_session(Session(Path("s"), rig, {"activity": "walk"}, samples))
        label = f"seed {seed:2d} {'pelvis' if pelvis else 'thigh+shank':11s}"
        if processed.angles is None:
            lines.append(f"{label} no angles: {processed.warnings}")
            continue
        scored = Scored(sim, processed, analyze_session(processed))
        t = processed.angles.time_s
        after = t > cut_s
        ir, knee, ranges = [], [], []
        for side in processed.angles.legs:
            truth = np.interp(t, sim.time_s, scored.true_hip_ir(side))
            ir.append((processed.angles.columns[hip_ir(side)] - truth)[after])
            true_knee = np.interp(t, sim.time_s, sim.truth_deg[knee_flexion(side)])
            knee.append((processed.angles.columns[knee_flexion(side)] - true_knee)[after])
            if pelvis:
                ranges.append(stride_range_errors(scored, HIP_IR_ROM, hip_ir(side)))
        ir_e, knee_e = (np.concatenate(v) for v in (ir, knee))
        ir_e, knee_e = ir_e[np.isfinite(ir_e)], knee_e[np.isfinite(knee_e)]
        rom = f" | stride IR range error {np.mean(np.concatenate(ranges)):+5.2f}" if pelvis else ""
        lines.append(
            f"{label} {processed.calibration.method:12s} hip IR RMSE {np.sqrt(np.mean(ir_e**2)):5.1f}"
            f" mean {np.mean(ir_e):+5.1f} spread {np.std(ir_e):4.1f} | knee mean"
            f" {np.mean(knee_e):+5.1f} spread {np.std(knee_e):4.1f}{rom}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--cut-s", type=float, default=6.0, help="seconds removed (standing)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    cases = [(seed, pelvis, args.cut_s) for seed in args.seeds for pelvis in (False, True)]
    with ProcessPoolExecutor(args.jobs) as pool:
        for lines in pool.map(run, *zip(*cases)):
            print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
