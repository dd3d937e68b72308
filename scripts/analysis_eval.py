"""Accuracy of the analysis against simulator ground truth, over several seeds and scenarios.

Prints, per scenario: heel-strike timing (share within 20 ms of the true heel
strike, false and missed detections; toe-off timing for information), per-stride
peak IR error (straight strides; with a pelvis sensor and, for information,
thigh + shank only against the IR relative to the walking direction),
repetition counts against the truth, per-trial test peak errors, and the
before/after change error (a seated test at ``--ir-max`` 15 then 40, and 40 then
40.5, same seed: the sensors stay on between the two assessments).

Usage: ``.venv/bin/python scripts/analysis_eval.py [--seeds 1 2 3 4 5] [--walk-s 60] [--jobs N]``
"""

from __future__ import annotations

import argparse
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from hiprot.analysis.compare import compare
from hiprot.analysis.report import build_report
from hiprot.cli.simulate import build_rig
from hiprot.config import load_rig
from hiprot.evaluation.analysis import (
    match_events,
    run,
    stride_peak_errors,
    true_rep_peaks,
    true_test_peaks,
)

# name → (scenario, legs, pelvis, ir_max)
CASES = {
    "walk, both legs + pelvis": ("walk", "both", True, None),
    "walk, right thigh + shank": ("walk", "right", False, None),
    "exercise (hip-IR activations), both legs": ("exercise", "both", False, None),
    "lunge, both legs + pelvis": ("lunge", "both", True, None),
    "seated-ir, both legs": ("seated-ir", "both", False, None),
    "prone-ir, both legs": ("prone-ir", "both", False, None),
}
PAIRS = {"seated-ir 15° → 40°": (15.0, 40.0), "seated-ir 40° → 40.5°": (40.0, 40.5)}


def evaluate(case: str, seed: int, walk_s: float) -> dict:
    scenario, legs, pelvis, ir_max = CASES[case]
    duration = walk_s if scenario == "walk" else None
    scored = run(build_rig(load_rig(), scenario, seed, duration, legs, pelvis, ir_max, None, None))
    out: dict = {
        "hs": [],
        "to": [],
        "false": 0,
        "missed": 0,
        "true": 0,
        "peak": [],
        "reps": [],
        "rep_peak": [],
        "trial_ir": [],
        "trial_er": [],
        "trials": [],
    }
    for side in scored.processed.session.rig.sides:
        if scenario == "walk":
            detected = [s.start_s for s in scored.analysis.strides if s.side == side]
            detected += [s.end_s for s in scored.analysis.strides if s.side == side]
            heel = match_events(np.unique(detected), scored.true_events(side, "heel_strike"))
            toe = match_events(
                [s.toe_off_s for s in scored.analysis.strides if s.side == side],
                scored.true_events(side, "toe_off"),
            )
            out["hs"] += heel["errors_s"].tolist()
            out["to"] += toe["errors_s"].tolist()
            out["false"] += heel["false"]
            out["true"] += heel["true"]
            out["missed"] += heel["missed"]
            out["peak"] += stride_peak_errors(scored, side).tolist()
        reps = [r for r in scored.analysis.reps if r.side == side]
        if scenario in ("exercise", "lunge"):
            true = true_rep_peaks(scored, side)
            out["reps"].append(len(reps) - len(true))
            if len(reps) == len(true):
                out["rep_peak"] += (np.array([r.hip_ir_max_deg for r in reps]) - true).tolist()
        if scenario.endswith("-ir"):
            trials = [t for t in scored.analysis.trials if t.side == side]
            true = true_test_peaks(scored, side)
            out["trials"].append(len(trials) - len(true["ir"]))
            if len(trials) == len(true["ir"]):
                out["trial_ir"] += (
                    np.array([t.hip_ir_max_deg for t in trials]) - true["ir"]
                ).tolist()
                out["trial_er"] += (
                    np.array([t.hip_er_max_deg for t in trials]) - true["er"]
                ).tolist()
    return out


def evaluate_pair(pair: str, seed: int) -> dict:
    before_ir, after_ir = PAIRS[pair]
    runs = [
        run(build_rig(load_rig(), "seated-ir", seed, None, "right", False, ir, None, None))
        for ir in (before_ir, after_ir)
    ]
    result = compare(*(build_report(s.processed, s.analysis) for s in runs))
    out = {}
    for change in result["changes"]:
        key = "ir" if change["key"] == "hip_ir_max_deg" else "er"
        true = [true_test_peaks(s, "right")[key].mean() for s in runs]
        out[key] = (
            change["change_deg"] - (true[1] - true[0]),
            true[1] - true[0],
            change["verdict"],
            change["detectable_change_deg"],
        )
    return out


def _share(errors, limit) -> str:
    errors = np.abs(np.asarray(errors))
    return f"{100 * np.mean(errors <= limit):5.1f} %" if len(errors) else "    -  "


def _stats(errors, unit="°", scale=1.0) -> str:
    e = np.asarray(errors) * scale
    if not len(e):
        return "-"
    return f"mean {e.mean():+6.2f}{unit} SD {e.std():5.2f}{unit} max|{np.abs(e).max():6.2f}|{unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--walk-s", type=float, default=60.0, help="length of each walk (s)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    args = parser.parse_args()
    with ProcessPoolExecutor(args.jobs) as pool:
        cases = {
            (c, s): pool.submit(evaluate, c, s, args.walk_s) for c in CASES for s in args.seeds
        }
        pairs = {(p, s): pool.submit(evaluate_pair, p, s) for p in PAIRS for s in args.seeds}
        results = {k: f.result() for k, f in cases.items()}
        compared = {k: f.result() for k, f in pairs.items()}
    print(
        f"seeds {args.seeds}; walks of {args.walk_s:g} s with turns every 10 m; "
        "errors = measured − true\n"
    )
    for case in CASES:
        rs = [results[(case, s)] for s in args.seeds]
        merged = {
            k: sum((r[k] for r in rs), [] if isinstance(rs[0][k], list) else 0) for k in rs[0]
        }
        print(case)
        if merged["true"]:
            print(
                f"  heel strike: {len(merged['hs'])} of {merged['true']} true found, "
                f"within 20 ms {_share(merged['hs'], 0.02)}, false {merged['false']}, "
                f"missed {merged['missed']}; {_stats(merged['hs'], ' ms', 1000)}"
            )
            print(f"  toe off (information): {_stats(merged['to'], ' ms', 1000)}")
            print(
                f"  per-stride peak IR, {len(merged['peak'])} straight strides: within 3° "
                f"{_share(merged['peak'], 3.0)}; {_stats(merged['peak'])}"
            )
            per_seed = [f"{np.mean(r['peak']):+.1f}" for r in rs if r["peak"]]
            print(f"    mean error per seed: {', '.join(per_seed)}°")
        if merged["reps"]:
            print(
                f"  rep count error per leg and seed: {merged['reps']} (exact in "
                f"{sum(1 for e in merged['reps'] if e == 0)} of {len(merged['reps'])})"
            )
            print(f"  per-rep peak IR: {_stats(merged['rep_peak'])}")
        if merged["trials"]:
            print(f"  trial count error per leg and seed: {merged['trials']}")
            for key, name in (("trial_ir", "IR"), ("trial_er", "ER")):
                print(
                    f"  per-trial peak {name}: {_stats(merged[key])}; "
                    f"within 2° {_share(merged[key], 2.0)}"
                )
    print("\nbefore/after (right leg, seated-ir, same seed: sensors stay on)")
    for pair in PAIRS:
        for key, name in (("ir", "IR"), ("er", "ER")):
            rows = [compared[(pair, s)][key] for s in args.seeds if key in compared[(pair, s)]]
            if not rows:  # no trial of any seed had that swing
                print(f"  {pair}, {name}: not measured in both sessions of any seed")
                continue
            errors = [r[0] for r in rows]
            verdicts = [r[2] for r in rows]
            true = np.mean([r[1] for r in rows])
            limits = f"{min(r[3] for r in rows):.1f}-{max(r[3] for r in rows):.1f}°"
            print(
                f"  {pair}, {name}: true change {true:+.2f}°, change error {_stats(errors)}; "
                f"within 2° {_share(errors, 2.0)}; threshold {limits}; verdicts {verdicts}"
            )


if __name__ == "__main__":
    main()
