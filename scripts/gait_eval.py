"""Walking with a pelvis sensor against the simulator's truth (issue #17's gait targets).

Per seed (another person, other mountings and chip errors; realistic conditions, gyroscope
bias up to 1°/s, scale errors up to 2 %): RMSE of pelvic tilt, obliquity and rotation
relative to the walking direction over straight walking — as is, and with each walk's
constant offset taken out ("centred": pelvic rotation's constant part relative to the
direction of travel is not observable, see :func:`hiprot.kinematics.angles.pelvis_columns`)
— and per straight stride the error of the pelvic rotation range and of the hip IR range
(mean and largest absolute error, share within 2°). Baseline in the same run: the hip IR
range of the same person walking with thigh + shank only (thigh rotation relative to the
walking direction), against the true hip IR range.

    python scripts/gait_eval.py [--seeds 5] [--walk-s 40] [--realism realistic|technical]

``--realism technical`` (rigid bodies, hinge knee, the average person) is the product's own
technical error, labelled so.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import rig_for  # noqa: E402

from hiprot.columns import (  # noqa: E402
    HIP_IR_ROM,
    PELVIC_ROTATION_ROM,
    PELVIS_OBLIQUITY,
    PELVIS_ROTATION,
    PELVIS_TILT,
    hip_ir,
)
from hiprot.evaluation.analysis import run  # noqa: E402
from hiprot.evaluation.gait import pelvis_rmse, stride_range_errors  # noqa: E402


def _ranges(errors: np.ndarray) -> str:
    if not len(errors):
        return "—"
    a = np.abs(errors)
    return f"{errors.mean():+5.2f} {a.mean():5.2f} {a.max():5.2f} {100 * (a <= 2).mean():4.0f}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--walk-s", type=float, default=40.0)
    parser.add_argument("--realism", choices=("realistic", "technical"), default="realistic")
    args = parser.parse_args()
    print(f"{args.realism}: RMSE (deg) over straight walking; per-stride range errors: mean,")
    print("mean |e|, max |e|, share within 2°")
    print(
        f"{'seed':>4} {'tilt':>5} {'obliq':>5} {'rot':>5} {'rot c':>5}"
        f"  {'pelvic rotation range':>24}  {'hip IR range':>24}  {'baseline: thigh+shank':>24}"
    )
    totals: dict[str, list] = {
        "obl": [],
        "rot": [],
        "rotc": [],
        "prange": [],
        "hip": [],
        "base": [],
    }
    for seed in range(1, args.seeds + 1):
        scored = run(rig_for("walk", seed, True, "vqf", args.walk_s, args.realism))
        rmse, centred = pelvis_rmse(scored), pelvis_rmse(scored, centred=True)
        pelvic = stride_range_errors(scored, PELVIC_ROTATION_ROM, PELVIS_ROTATION)
        hip = stride_range_errors(scored, HIP_IR_ROM, hip_ir("right"))
        base = stride_range_errors(
            run(rig_for("walk", seed, False, "vqf", args.walk_s, args.realism)),
            HIP_IR_ROM,
            hip_ir("right"),
        )
        for key, value in (
            ("obl", rmse[PELVIS_OBLIQUITY]),
            ("rot", rmse[PELVIS_ROTATION]),
            ("rotc", centred[PELVIS_ROTATION]),
            ("prange", pelvic),
            ("hip", hip),
            ("base", base),
        ):
            totals[key].append(value)
        print(
            f"{seed:4d} {rmse[PELVIS_TILT]:5.2f} {rmse[PELVIS_OBLIQUITY]:5.2f}"
            f" {rmse[PELVIS_ROTATION]:5.2f} {centred[PELVIS_ROTATION]:5.2f}"
            f"  {_ranges(pelvic):>24}  {_ranges(hip):>24}  {_ranges(base):>24}"
        )
    print(
        f" all       {np.sqrt(np.mean(np.square(totals['obl']))):5.2f}"
        f" {np.sqrt(np.mean(np.square(totals['rot']))):5.2f}"
        f" {np.sqrt(np.mean(np.square(totals['rotc']))):5.2f}"
        f"  {_ranges(np.concatenate(totals['prange'])):>24}"
        f"  {_ranges(np.concatenate(totals['hip'])):>24}"
        f"  {_ranges(np.concatenate(totals['base'])):>24}"
    )
    hip_all, base_all = np.concatenate(totals["hip"]), np.concatenate(totals["base"])
    ratio = np.abs(hip_all).mean() / np.abs(base_all).mean()
    print(f"hip IR range |error|, pelvis sensor / thigh+shank baseline: {ratio:.2f}")


if __name__ == "__main__":
    main()
