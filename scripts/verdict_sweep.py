"""The calibration verdict's figures against the hip-IR error, on simulated sessions.

Simulates sessions with soft tissue from 0 to 20° (``soft_tissue_deg``: a leg sensor
turns on the bone with knee flexion) and mountings up to ±10° or ±30°, over several
seeds, with and without a pelvis sensor: walks with two pauses (standing rests, the
last at the end), hip-IR exercises and lunges (standing rests between sets), under the
target conditions of issue #5 (gyroscope bias up to 1 °/s, scale errors up to 2 %).
Both ``realism`` presets of the simulator are swept (``--realism``): ``technical``
(rigid bodies, hinge knee; where the thresholds were derived) and ``realistic`` (its
defaults: soft-tissue attenuation and wobble, screw-home knee, people who differ).
Prints per leg: each figure of :mod:`hiprot.analysis.verdict` and the candidates tried
as predictors (:func:`candidates`), the verdict the code gives, and the hip-IR RMSE
against the truth after the standing phase; then per figure the largest value in a leg
within 2° and 5° (McGinley et al. 2009's acceptable and reasonable classes), the smallest
in a leg beyond, and the AUC (how often a leg beyond has the larger figure) — where the
verdict's thresholds come from, and whether a figure separates the classes at all. Walks
without a pelvis sensor are printed but left out of that rule: their hip IR is relative
to the walking direction, whose truth is not what the simulator scores.

    python scripts/verdict_sweep.py [--seeds 1 2] [--soft 0 5 10 15 20] [--jobs 2]
        [--realism technical,realistic]
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from hiprot.analysis.batch import remeasure_inferred_exercise
from hiprot.analysis.verdict import leg_figures, verdict
from hiprot.cli.simulate import build_rig
from hiprot.config import load_rig
from hiprot.evaluation.angles import angle_errors
from hiprot.processing import process_session
from hiprot.recording import Session
from hiprot.sim import simulate

ROOT = Path(__file__).resolve().parents[1]
FIGURES = (
    "hinge_residual_pct",
    "knee_axis_halves_deg",
    "method_agreement_deg",
    "return_to_zero_deg",
    "knee_coupling_deg",
    "correction_spread_deg",
)
KNEE_RANGE_DEG = 60.0  # about the knee's range in walking (Perry & Burnfield 2010)
UNSCORED = {"walk-pauses-no-pelvis"}  # left out of the threshold rule (see above)
CASES = {  # name → (scenario, pelvis, duration, extra simulation keys)
    "walk-pauses": ("walk", True, 80.0, {"pauses": 2, "rest_s": 8.0}),
    "walk-pauses-no-pelvis": ("walk", False, 80.0, {"pauses": 2, "rest_s": 8.0}),
    "exercise": ("exercise", False, None, {"rest_s": 8.0}),
    "lunge": ("lunge", True, None, {"rest_s": 8.0}),
}


def run(case: str, seed: int, soft: float, mounting: float, realism: str) -> list[dict]:
    scenario, pelvis, duration, extra = CASES[case]
    rig = build_rig(
        load_rig(ROOT / "config" / "sim.toml"),
        scenario,
        seed,
        duration,
        "both",
        pelvis,
        None,
        None,
        None,
    )
    rig = replace(
        rig,
        simulation=replace(
            rig.simulation,
            realism=realism,
            gyro_bias_deg_s=1.0,
            scale_error_pct=2.0,
            soft_tissue_deg=soft,
            mounting_max_deg=mounting,
            **extra,
        ),
    )
    truth = simulate(rig)
    processed = process_session(Session(Path(f"{case}-{seed}"), rig, {}, truth.samples))
    remeasure_inferred_exercise(processed, None)  # no activity named: as `hiprot analyze` does
    if processed.angles is None:
        return [
            {
                "case": case,
                "realism": realism,
                "seed": seed,
                "soft": soft,
                "mounting": mounting,
                "failed": True,
            }
        ]
    errors = angle_errors(processed.angles.time_s, processed.angles.columns, truth)
    out = []
    for side in processed.angles.legs:
        figures = leg_figures(processed.calibration.quality, processed.angles, side)
        out.append(
            {
                "case": case,
                "realism": realism,
                "seed": seed,
                "soft": soft,
                "mounting": mounting,
                "side": side,
                "figures": figures | candidates(processed, side),
                "verdict": verdict(figures)["verdict"],
                "error": errors[f"{side}_hip_ir_deg"].rmse,
            }
        )
    return out


def candidates(processed, side: str) -> dict[str, float]:
    """Figures tried as predictors, not used by the verdict: ``knee_coupling_deg``, how much
    hip IR moves with knee flexion (least-squares slope after the standing phase, times
    ``KNEE_RANGE_DEG``: soft tissue turns the sensors with knee flexion); and
    ``correction_spread_deg``, how far the walking corrections after different rests differ."""
    angles, out = processed.angles, {}
    ir, knee = angles.columns[f"{side}_hip_ir_deg"], angles.columns.get(f"{side}_knee_flexion_deg")
    if knee is not None:
        ok = (angles.time_s > processed.calibration.standing_s[1]) & np.isfinite(ir + knee)
        if ok.sum() > 2:
            out["knee_coupling_deg"] = abs(np.polyfit(knee[ok], ir[ok], 1)[0]) * KNEE_RANGE_DEG
    corrections = angles.walk_corrections_deg.get(side) or []
    if len(corrections) >= 2:
        out["correction_spread_deg"] = float(np.ptp(corrections))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--soft", type=float, nargs="+", default=[0.0, 5.0, 10.0, 15.0, 20.0])
    parser.add_argument("--mounting", type=float, nargs="+", default=[10.0, 30.0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--realism", default="technical,realistic")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    jobs = [
        (case, seed, soft, mounting, realism)
        for realism in args.realism.split(",")
        for case in args.cases.split(",")
        for soft in args.soft
        for mounting in args.mounting
        for seed in args.seeds
    ]
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = [row for result in pool.map(run, *zip(*jobs)) for row in result]
    header = f"{'case':24} {'realism':10} {'seed':>4} {'soft':>5} {'mount':>5} {'side':6}"
    header += "".join(f" {name[:14]:>14}" for name in FIGURES) + f" {'verdict':>9} {'IR RMSE':>8}"
    print(header)
    for row in rows:
        where = (
            f"{row['case']:24} {row['realism']:10} {row['seed']:4} {row['soft']:5.0f} "
            f"{row['mounting']:5.0f}"
        )
        if row.get("failed"):
            print(f"{where} no angles")
            continue
        cells = "".join(f" {row['figures'].get(name, float('nan')):14.1f}" for name in FIGURES)
        print(f"{where} {row['side']:6}{cells} {row['verdict']:>9} {row['error']:8.2f}")
    rows = [r for r in rows if not r.get("failed")]
    for realism in args.realism.split(","):
        summarize(realism, [r for r in rows if r["realism"] == realism])


def summarize(realism: str, rows: list[dict]) -> None:
    """Per figure, the largest value within each error class and the smallest above it;
    the verdicts the code gives against the errors."""
    scored = [r for r in rows if r["case"] not in UNSCORED]
    print(
        f"\n{realism}: per figure, largest value among legs within each error class, smallest "
        f"above it (without {', '.join(sorted(UNSCORED))})"
    )
    for name in FIGURES:
        for limit in (2.0, 5.0):
            within = [
                r["figures"][name] for r in scored if name in r["figures"] and r["error"] <= limit
            ]
            beyond = [
                r["figures"][name] for r in scored if name in r["figures"] and r["error"] > limit
            ]
            print(
                f"  {name:22} error <= {limit:g}°: max {max(within, default=np.nan):6.1f} "
                f"({len(within)} legs); error > {limit:g}°: min {min(beyond, default=np.nan):6.1f} "
                f"({len(beyond)} legs); AUC {_auc(within, beyond):.2f}"
            )
    for label in ("good", "doubtful", "unusable"):
        errors = [r["error"] for r in scored if r["verdict"] == label]
        if errors:
            print(
                f"verdict {label:9}: {len(errors):3} legs, hip-IR RMSE median "
                f"{np.median(errors):5.2f}°, max {max(errors):5.2f}°"
            )
    good = [r for r in scored if r["verdict"] == "good"]
    refused = [r for r in scored if r["verdict"] == "unusable"]
    print(f"legs judged good with an error above 2°: {sum(r['error'] > 2 for r in good)}")
    print(f"legs judged unusable with an error within 5°: {sum(r['error'] <= 5 for r in refused)}")


def _auc(within: list[float], beyond: list[float]) -> float:
    """How often a leg beyond the class has the larger figure than a leg within it (1: the
    figure orders every pair; 0.5: no better than chance)."""
    if not within or not beyond:
        return float("nan")
    pairs = np.subtract.outer(np.array(beyond), np.array(within))
    return float(np.mean(pairs > 0) + 0.5 * np.mean(pairs == 0))


if __name__ == "__main__":
    main()
