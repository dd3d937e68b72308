"""Cost of orientation fusion live and in batch, on real BROAD samples replayed at 200 Hz.

Live: five sensors at 200 Hz fed in 50 ms chunks (as the logger does) and,
as the worst case, one sample at a time; printed as the share of one core
that keeping up needs (CPU seconds per second of data). The issue's budget is
10 % of one core for the default filter.
Batch: samples per second of one whole recording per filter, next to a naive
per-sample ``ahrs`` Madgwick loop timed in the same run.

    .venv/bin/python scripts/bench_fusion.py [--data DIR] [--seconds 60] [--filters vqf,madgwick]

The samples come from the fast combined-motion trial in ``--data`` (default:
the subset shipped in ``tests/data/broad/``), from 6 s before its first movement.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from ahrs.filters import Madgwick

from hiprot.config import FusionConfig
from hiprot.evaluation.broad import Trial, load_trial, trial_paths
from hiprot.fusion import FILTER_CLASSES, make_filter
from hiprot.fusion.frames import initial_orientation
from hiprot.samples import ImuSamples

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "broad"
TRIAL = "fast_combined"
LEAD_S = 6.0
RATE_HZ = 200.0
SENSORS = 5
LIVE_CHUNK_S = 0.05
BUDGET = 0.10


def combined_trial(data: Path) -> Trial:
    """The fast combined-motion trial of the BROAD folder ``data``."""
    paths = [p for p in trial_paths(data) if TRIAL in p.stem]
    if not paths:
        raise SystemExit(f"{data}: no BROAD trial named *{TRIAL}*")
    return load_trial(paths[0])


def recording(trial: Trial, seconds: float, offset: int) -> ImuSamples:
    """Real IMU samples (the trial from just before its motion) retimed to a 200 Hz clock."""
    n = int(seconds * RATE_HZ)
    start = int(np.flatnonzero(trial.movement)[0] - LEAD_S * trial.rate_hz) + offset
    if start + n > len(trial.samples):
        raise SystemExit(f"{trial.name}: too short for {seconds:g} s of samples")
    s = trial.samples[start : start + n]
    return ImuSamples(s.time_s - s.time_s[0], s.acc, s.gyr, s.mag)


def live_core_share(fusion: FusionConfig, streams: list[ImuSamples], chunk: int) -> float:
    """CPU seconds spent per second of data when every sensor is fed ``chunk`` samples at a time."""
    filters = [make_filter(fusion, RATE_HZ, magnetometer=True) for _ in streams]
    n = len(streams[0])
    start = time.process_time()
    for i in range(0, n, chunk):
        for orientation, samples in zip(filters, streams):
            orientation.update(samples[i : i + chunk])
    return (time.process_time() - start) / (n / RATE_HZ)


def naive_madgwick_rate(samples: ImuSamples, use_mag: bool) -> float:
    """Samples per second of the plain per-sample ``ahrs`` Madgwick loop."""
    madgwick = Madgwick(frequency=RATE_HZ)
    q = initial_orientation(samples.acc[0])
    start = time.perf_counter()
    for gyr, acc, mag in zip(samples.gyr, samples.acc, samples.mag):
        q = madgwick.updateMARG(q, gyr, acc, mag) if use_mag else madgwick.updateIMU(q, gyr, acc)
    return len(samples) / (time.perf_counter() - start)


def batch_rate(fusion: FusionConfig, samples: ImuSamples) -> float:
    """Samples per second of one ``update`` over the whole recording."""
    orientation = make_filter(fusion, RATE_HZ, magnetometer=True)
    start = time.perf_counter()
    orientation.update(samples)
    return len(samples) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder of BROAD .npz trials")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the recording")
    parser.add_argument("--filters", default=",".join(FILTER_CLASSES))
    args = parser.parse_args()
    names = [n for n in args.filters.split(",") if n]
    trial = combined_trial(args.data)
    streams = [recording(trial, args.seconds, offset=97 * k) for k in range(SENSORS)]
    short = streams[0][: int(10 * RATE_HZ)]
    live_chunk = int(LIVE_CHUNK_S * RATE_HZ)

    print(f"{SENSORS} sensors at {RATE_HZ:.0f} Hz, {args.seconds:.0f} s of real samples")
    print(
        f"{'filter':9} {'axes':4} {'live 50 ms chunks':>18} {'live 1 sample':>14} "
        f"{'batch samples/s':>16} {'× naive Madgwick':>17}"
    )
    for use_mag in (False, True):
        naive = naive_madgwick_rate(short, use_mag)
        for name in names:
            fusion = FusionConfig(name, use_mag)
            quick = name == "vqf"  # the ahrs filters are timed on 10 s only
            live_streams = streams if quick else [s[: int(10 * RATE_HZ)] for s in streams]
            chunked = live_core_share(fusion, live_streams, live_chunk)
            single = live_core_share(fusion, live_streams, 1)
            rate = batch_rate(fusion, streams[0] if quick else short)
            axes = "9D" if use_mag else "6D"
            print(
                f"{name:9} {axes:4} {chunked:17.1%}{'' if chunked < BUDGET else '!'} "
                f"{single:13.1%}{'' if single < BUDGET else '!'} {rate:16,.0f} {rate / naive:17.1f}"
            )
        print(
            f"{'naive':9} {'9D' if use_mag else '6D':4} {'':18} {'':14} {naive:16,.0f} {1.0:17.1f}"
        )
    print(f"live: CPU share of one core needed to keep up ('!' = over the {BUDGET:.0%} budget)")


if __name__ == "__main__":
    main()
