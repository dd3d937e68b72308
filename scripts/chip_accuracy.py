"""Walking accuracy per chip: every supported chip against the ICM-42688-P, on people.

Each seed is another person, other mounting rotations and other chip errors drawn
from the chip's datasheet figures (:mod:`hiprot.sim.chips`: the full ±ZRO, its
temperature coefficient with the skin warm-up, the sensitivity tolerance); the
simulator's realistic defaults (soft tissue, a knee that is not a hinge, people who
differ). Every sensor of the rig carries the chip; the walk has 180° turns every
``turn_every_m`` and starts with the standing calibration. Per chip, over all seeds:

- hip IR RMSE against the truth the rig can measure (thigh + shank: the femur relative to
  the walking direction; with ``--pelvis``: pelvis → femur), knee flexion RMSE;
- straight strides flagged as turning: strides that overlap no true turn, and of
  them those the analysis marked ``turning`` (left out of the gait summaries);
- the hip IR RMSE's ratio to the ICM-42688-P's, measured in the same run.

    python scripts/chip_accuracy.py [--seeds 5] [--walk-s 120] [--pelvis]
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

from hiprot.chip_catalogue import IMU_CHIPS
from hiprot.config import SimulationConfig, load_rig
from hiprot.evaluation.analysis import run, straight_strides, walking_errors

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "icm42688"


def rig_for(chip: str, seed: int, walk_s: float, pelvis: bool):
    base = load_rig(ROOT / "config" / "sim.toml")
    sensors = [replace(s, chip=chip) for s in base.sensors]
    if pelvis:
        sensors.insert(
            0, replace(sensors[0], name="pelvis", segment="pelvis", side=None, address=0x6A)
        )
    simulation = SimulationConfig(scenario="walk", seed=seed, duration_s=walk_s)
    return replace(base, sensors=tuple(sensors), simulation=simulation)


def rmse(values: np.ndarray) -> float:
    return float(np.sqrt(np.nanmean(np.square(values))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--walk-s", type=float, default=120.0)
    parser.add_argument("--pelvis", action="store_true", help="add a pelvis sensor")
    parser.add_argument("--chips", default=",".join(IMU_CHIPS))
    args = parser.parse_args()
    chips = args.chips.split(",")
    if BASELINE not in chips:
        chips.insert(0, BASELINE)
    rows = {}
    for chip in chips:
        hip, knee, straight, flagged, per_seed = [], [], 0, 0, []
        for seed in range(1, args.seeds + 1):
            scored = run(rig_for(chip, seed, args.walk_s, args.pelvis))
            found = walking_errors(scored)
            h, k = found["hip_ir"], found["knee_flexion"]
            s, f = straight_strides(scored)
            hip.append(h)
            knee.append(k)
            straight, flagged = straight + s, flagged + f
            per_seed.append(rmse(h))
        rows[chip] = (
            rmse(np.concatenate(hip)),
            rmse(np.concatenate(knee)),
            straight,
            flagged,
            per_seed,
        )
    base = rows[BASELINE][0]
    rig = "pelvis + thigh + shank" if args.pelvis else "thigh + shank"
    print(f"walking, {rig}, realistic, {args.seeds} seeds x {args.walk_s:.0f} s")
    print(
        f"{'chip':9} {'hip IR':>7} {'knee':>6} {'straight':>9} {'turning':>8} {'share':>6} {'ratio':>6}  hip IR per seed"
    )
    for chip, (h, k, s, f, per_seed) in rows.items():
        seeds = " ".join(f"{v:.1f}" for v in per_seed)
        print(
            f"{chip:9} {h:7.2f} {k:6.2f} {s:9d} {f:8d} {f / max(s, 1):6.0%} {h / base:6.2f}  {seeds}"
        )


if __name__ == "__main__":
    main()
