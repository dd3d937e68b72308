"""Accuracy of the joint angles against the simulator's ground truth.

Runs every scenario over several seeds (each seed: another person's motion,
other mounting rotations up to ±30°, other chip errors), with and without a
pelvis sensor, for each fusion filter, under the target conditions of issue
#5 (gyroscope bias up to 1°/s, scale errors up to 2 %), through the batch
path (fusion → calibration → kinematics). Prints, per scenario, rig and
filter: RMSE, max and drift of each joint angle, the return-to-zero check (the
largest discrepancy of a later still standing rest against the first standing,
computed without that rest; "-" when the session has no later rest), and for
rotation tests the peak IR/ER errors. ``--pauses N`` gives the walks N standing
rests (the last at the end), so that they have rests to check.

    python scripts/accuracy.py [--seeds 3] [--filters vqf,madgwick] [--walk-s 120] [--pauses 2]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from hiprot.config import FusionConfig, SimulationConfig, load_rig
from hiprot.evaluation.angles import angle_errors, peak_errors
from hiprot.processing import process_session
from hiprot.recording import Session
from hiprot.sim import simulate

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("walk", "seated-ir", "prone-ir", "exercise", "lunge")


def rig_for(
    scenario: str, seed: int, pelvis: bool, filter_name: str, walk_s: float, pauses: int = 0
):
    base = load_rig(ROOT / "config" / "sim.toml")
    sensors = list(base.sensors)
    if pelvis:
        sensors.insert(
            0, replace(sensors[0], name="pelvis", segment="pelvis", side=None, address=0x6A)
        )
    simulation = SimulationConfig(
        scenario=scenario,
        seed=seed,
        gyro_bias_deg_s=1.0,
        scale_error_pct=2.0,
        duration_s=walk_s if scenario == "walk" else None,
        pauses=pauses if scenario == "walk" else 0,
    )
    return replace(
        base, sensors=tuple(sensors), simulation=simulation, fusion=FusionConfig(filter=filter_name)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--filters", default="vqf,madgwick,mahony,ekf")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument(
        "--walk-s", type=float, default=120.0, help="length of the walking scenario"
    )
    parser.add_argument("--pauses", type=int, default=0, help="standing rests in the walks")
    args = parser.parse_args()
    print(
        f"{'scenario':10} {'rig':12} {'filter':9} {'angle':24} {'RMSE':>6} {'max':>6} {'drift/min':>9}"
        f" {'to zero':>7}  {'peak err (mean abs / max)':>26}"
    )
    for scenario in args.scenarios.split(","):
        for pelvis in (False, True):
            for filter_name in args.filters.split(","):
                errors: dict[str, list] = {}
                to_zero: dict[str, list] = {}
                peaks = []
                failures = 0
                started = time.perf_counter()
                for seed in range(1, args.seeds + 1):
                    rig = rig_for(scenario, seed, pelvis, filter_name, args.walk_s, args.pauses)
                    simulation = simulate(rig)
                    processed = process_session(
                        Session(Path(f"sim-{seed}"), rig, {}, simulation.samples)
                    )
                    if processed.angles is None:
                        failures += 1
                        continue
                    angles = processed.angles
                    for name, e in angle_errors(angles.time_s, angles.columns, simulation).items():
                        errors.setdefault(name, []).append(e)
                    peaks += peak_errors(angles.time_s, angles.columns, simulation)
                    for rest in angles.rests:
                        for name, value in rest.angles_deg.items():
                            to_zero.setdefault(name, []).append(abs(value))
                rig_name = "pelvis+legs" if pelvis else "thigh+shank"
                peak_text = ""
                if peaks:
                    abs_err = np.abs([p.error for p in peaks])
                    peak_text = f"{abs_err.mean():5.2f} / {abs_err.max():5.2f} ({len(peaks)} peaks)"
                for name, values in errors.items():
                    rmse = np.sqrt(np.mean([v.rmse**2 for v in values]))
                    worst = max(v.max_abs for v in values)
                    drift = max(abs(v.trend_deg_per_min) for v in values)
                    zero_text = f"{max(to_zero[name]):7.2f}" if name in to_zero else "-"
                    print(
                        f"{scenario:10} {rig_name:12} {filter_name:9} {name:24} {rmse:6.2f} {worst:6.2f}"
                        f" {drift:9.2f} {zero_text:>7}  {peak_text if 'hip_ir' in name else '':>26}"
                    )
                if failures:
                    print(
                        f"{scenario:10} {rig_name:12} {filter_name:9} calibration failed in {failures} seed(s)"
                    )
                print(f"{'':10} {'':12} {'':9} ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
