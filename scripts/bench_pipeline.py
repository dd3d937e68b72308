"""Speed of the pipeline (fusion → calibration → joint angles), batch and live.

Batch: samples per second through ``process_session`` for a 3-sensor 200 Hz
recording (pelvis, thigh, shank), next to a naive per-sample ``ahrs``
Madgwick loop over the same samples measured in the same run (fusion only,
so the comparison flatters the naive loop). Live: CPU share of one core that
``Pipeline.process`` needs for a five-sensor two-leg rig at 200 Hz, fed in the
logger's 50 ms chunks.

    python scripts/bench_pipeline.py [--seconds 120]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

from ahrs.filters import Madgwick

from hiprot.config import SensorConfig, SimulationConfig, load_rig
from hiprot.pipeline import Pipeline
from hiprot.processing import process_session
from hiprot.recording import Session
from hiprot.samples import split_chunk
from hiprot.sim import simulate

ROOT = Path(__file__).resolve().parents[1]


def rig_with(places: list[tuple[str, str | None]], seconds: float):
    base = load_rig(ROOT / "config" / "sim.toml")
    sensors = tuple(
        SensorConfig(
            segment if side is None else f"{side}_{segment}",
            segment,
            side,
            "icm42688",
            1,
            0x68,
            0x70,
            i,
        )
        for i, (segment, side) in enumerate(places)
    )
    return replace(
        base,
        sensors=sensors,
        simulation=SimulationConfig(scenario="walk", seed=1, duration_s=seconds),
    )


def naive_madgwick(samples) -> None:
    for s in samples.values():
        f = Madgwick(frequency=200.0)
        q = [1.0, 0.0, 0.0, 0.0]
        for gyr, acc in zip(s.gyr, s.acc):
            q = f.updateIMU(q, gyr, acc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="length of the simulated walk")
    args = parser.parse_args()

    rig = rig_with([("pelvis", None), ("thigh", "right"), ("shank", "right")], args.seconds)
    samples = simulate(rig).samples
    n = sum(len(s) for s in samples.values())
    start = time.process_time()
    result = process_session(Session(Path("bench"), rig, {}, samples))
    batch_s = time.process_time() - start
    assert result.angles is not None, result.warnings
    naive_samples = {k: s[: min(len(s), 6000)] for k, s in samples.items()}
    naive_n = sum(len(s) for s in naive_samples.values())
    start = time.process_time()
    naive_madgwick(naive_samples)
    naive_s = time.process_time() - start
    batch_rate, naive_rate = n / batch_s, naive_n / naive_s
    print(f"batch, 3 sensors at 200 Hz, {args.seconds:g} s walk ({n} samples):")
    print(f"  full batch path (fusion + calibration + angles): {batch_rate:12,.0f} samples/s")
    print(f"  naive per-sample ahrs Madgwick loop (fusion only): {naive_rate:10,.0f} samples/s")
    print(f"  ratio: {batch_rate / naive_rate:.1f}x (target >= 10x)")

    rig5 = rig_with(
        [
            ("pelvis", None),
            ("thigh", "right"),
            ("shank", "right"),
            ("thigh", "left"),
            ("shank", "left"),
        ],
        args.seconds,
    )
    samples5 = simulate(rig5).samples
    chunks = split_chunk(samples5, 0.05)
    pipeline = Pipeline(rig5)
    start = time.process_time()
    emitted = sum(len(pipeline.process(chunk)) for chunk in chunks)
    live_s = time.process_time() - start
    print(
        f"live, 5 sensors at 200 Hz, {args.seconds:g} s in 50 ms chunks: {live_s:.2f} s CPU "
        f"= {100 * live_s / args.seconds:.1f} % of one core (target ≤ 5 %); {emitted} angle samples; "
        f"calibrated: {pipeline.calibration is not None}"
    )


if __name__ == "__main__":
    main()
