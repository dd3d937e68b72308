"""Orientation accuracy and speed of every filter offered, on the BROAD trials.

``vqf-offline`` is VQF's offline variant over the whole trial, as batch analysis fuses
(:mod:`hiprot.fusion.offline`); its second pass, anchored at the trial's longest rest, needs
the chip's gyroscope drift bound, which BROAD's sensors do not publish: ``--drift-dps``
assumes one (without it, the first pass alone).

For each filter, 6D and 9D: total / heading / inclination RMSE in degrees
(averaged over the trials, errors as the BROAD README defines them) and speed
in samples per second as a ratio to a naive per-sample ``ahrs`` Madgwick loop
timed in the same run, interleaved trial by trial so that the load of a shared
machine hits both alike. ``--data DIR`` points at the full data set (the
README's figures); without it, the four-trial subset shipped in
``tests/data/broad/``. 6D heading has no absolute reference: its column
(marked *) is the heading drift left after removing one constant heading
offset per trial.

    .venv/bin/python scripts/broad_eval.py [--data DIR] [--filters vqf,madgwick]
    .venv/bin/python scripts/broad_eval.py --mahony-gains   # the study behind Mahony's gains
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from ahrs.filters import Madgwick

from hiprot.evaluation.broad import Trial, errors, load_trial, trial_paths
from hiprot.fusion import FILTER_CLASSES, MahonyFilter
from hiprot.fusion.frames import initial_orientation
from hiprot.fusion.offline import offline_orientation

OFFLINE = "vqf-offline"  # VQF's offline variant, which batch analysis uses
DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "broad"
BASELINE_SAMPLES = 5000
MAHONY_GAINS = [(k_p, 0.0) for k_p in (0.05, 0.1, 0.2, 0.5, 1.0, 2.0)] + [
    (0.2, 0.02),
    (0.2, 0.3),
    (1.0, 0.3),
]  # (k_P, k_I); ahrs's default is (1.0, 0.3)


def naive_madgwick_seconds(trial: Trial, use_mag: bool) -> tuple[float, int]:
    """Time of the plain per-sample ``ahrs`` Madgwick loop over the trial's first samples."""
    s = trial.samples[:BASELINE_SAMPLES]
    madgwick = Madgwick(frequency=trial.rate_hz)
    q = initial_orientation(s.acc[0])
    start = time.perf_counter()
    for gyr, acc, mag in zip(s.gyr, s.acc, s.mag):
        q = madgwick.updateMARG(q, gyr, acc, mag) if use_mag else madgwick.updateIMU(q, gyr, acc)
    return time.perf_counter() - start, len(s)


def evaluate(trials: list[Path], names: list[str], drift_dps: float | None = None) -> None:
    """Print the accuracy and speed table."""
    results: dict[tuple[str, bool], list] = {(n, m): [] for n in names for m in (False, True)}
    seconds = {key: 0.0 for key in results}
    baseline = {False: [0.0, 0], True: [0.0, 0]}
    total_samples = 0
    for path in trials:
        trial = load_trial(path)
        total_samples += len(trial.samples)
        print(f"  {trial.name} ({len(trial.samples)} samples)", file=sys.stderr, flush=True)
        for use_mag in (False, True):
            spent, count = naive_madgwick_seconds(trial, use_mag)
            baseline[use_mag][0] += spent
            baseline[use_mag][1] += count
        for (name, use_mag), found in results.items():
            start = time.perf_counter()
            if name == OFFLINE:
                q = offline_orientation(
                    trial.samples, trial.rate_hz, magnetometer=use_mag, max_drift_dps=drift_dps
                )
            else:
                q = FILTER_CLASSES[name](trial.rate_hz, magnetometer=use_mag).update(trial.samples)
            seconds[name, use_mag] += time.perf_counter() - start
            found.append(errors(q, trial, remove_heading_offset=not use_mag))
    naive = {m: count / spent for m, (spent, count) in baseline.items()}
    print(f"\nBROAD, {len(trials)} trials, {total_samples} samples; RMSE averaged over trials")
    print(
        f"naive per-sample ahrs Madgwick loop: 6D {naive[False]:,.0f} /s, 9D {naive[True]:,.0f} /s"
    )
    print(
        f"{'filter':11} {'axes':4} {'total°':>7} {'heading°':>9} {'inclin.°':>9} "
        f"{'samples/s':>12} {'× naive':>8}"
    )
    for (name, use_mag), errs in results.items():
        total = np.mean([e.total_deg for e in errs])
        heading = np.mean([e.heading_deg for e in errs])
        inclination = np.mean([e.inclination_deg for e in errs])
        speed = total_samples / seconds[name, use_mag]
        mark = " " if use_mag else "*"
        print(
            f"{name:11} {'9D' if use_mag else '6D':4} {total:7.2f} {heading:8.2f}{mark} "
            f"{inclination:9.2f} {speed:12,.0f} {speed / naive[use_mag]:8.1f}"
        )
    print("* 6D: heading drift after removing one constant heading offset per trial")


def mahony_gains(trials: list[Path]) -> None:
    """Mahony over a grid of (k_P, k_I) on every trial: mean and worst trial, 6D and 9D."""
    loaded = [load_trial(p) for p in trials]
    print(f"Mahony gains on {len(loaded)} BROAD trials (with the rest bias estimator)")
    print(
        f"{'k_P':>5} {'k_I':>5}  {'6D incl. mean/worst°':>21}  {'9D heading mean/worst°':>23}  "
        f"{'9D incl. mean°':>14}"
    )
    for k_p, k_i in MAHONY_GAINS:
        six, nine = [], []
        for trial in loaded:
            for use_mag, out in ((False, six), (True, nine)):
                mahony = MahonyFilter(trial.rate_hz, magnetometer=use_mag, k_p=k_p, k_i=k_i)
                out.append(errors(mahony.update(trial.samples), trial))
        inc6 = [e.inclination_deg for e in six]
        head9 = [e.heading_deg for e in nine]
        inc9 = [e.inclination_deg for e in nine]
        print(
            f"{k_p:5.2f} {k_i:5.2f}  {np.mean(inc6):10.2f} / {max(inc6):7.2f}  "
            f"{np.mean(head9):11.2f} / {max(head9):8.2f}  {np.mean(inc9):14.2f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=DATA,
        help="folder of BROAD .npz trials (default: the subset in tests/data/broad)",
    )
    parser.add_argument(
        "--filters",
        default=",".join([*FILTER_CLASSES, OFFLINE]),
        help=f"comma-separated filters (default: all offered, and {OFFLINE}, the batch path)",
    )
    parser.add_argument("--trials", type=int, default=None, help="only the first N trials")
    parser.add_argument(
        "--drift-dps",
        type=float,
        default=None,
        help=f"gyroscope drift bound (°/s) assumed for {OFFLINE}'s anchored pass",
    )
    parser.add_argument("--mahony-gains", action="store_true", help="the Mahony gain study instead")
    args = parser.parse_args()
    trials = trial_paths(args.data)[: args.trials]
    if args.mahony_gains:
        mahony_gains(trials)
        return
    names = [n for n in args.filters.split(",") if n]
    offered = [*FILTER_CLASSES, OFFLINE]
    unknown = [n for n in names if n not in offered]
    if unknown:
        parser.error(f"unknown filter {unknown[0]!r}; offered: {', '.join(offered)}")
    evaluate(trials, names, args.drift_dps)


if __name__ == "__main__":
    main()
