"""Speed of the simulator and of writing its session, as ratios measured in one run.

For 10 minutes of walking with five sensors (pelvis, both thighs and shanks) at
200 Hz: how many times faster than real time the simulation runs, how long the
session takes to write, and the vectorised ``imu.csv`` writer against formatting
the same rows one by one (``csvio.format_imu_rows``, as the recorder does).

Usage: ``.venv/bin/python scripts/bench_sim.py [--minutes 10]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from hiprot.cli.simulate import build_rig
from hiprot.config import load_rig
from hiprot.csvio import format_imu_rows, write_imu_csv
from hiprot.sim import simulate
from hiprot.sim.session import write_session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    duration = 60 * args.minutes
    rig = build_rig(load_rig(), "walk", 1, duration, "both", True, None, None, None)

    start = time.perf_counter()
    sim = simulate(rig)
    simulate_s = time.perf_counter() - start
    rows = sum(len(s) for s in sim.samples.values())

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        write_session(rig, sim, Path(tmp) / "session")
        session_s = time.perf_counter() - start
        start = time.perf_counter()
        write_imu_csv(Path(tmp) / "fast.csv", sim.samples)
        fast_s = time.perf_counter() - start
        start = time.perf_counter()
        lines = sorted(format_imu_rows(sim.samples), key=lambda r: r[0])
        (Path(tmp) / "rows.csv").write_text("".join(line + "\n" for _, line in lines))
        per_row_s = time.perf_counter() - start

    print(f"walk, {args.minutes:g} min, {len(sim.samples)} sensors at 200 Hz ({rows} samples)")
    print(f"simulate:        {simulate_s:6.2f} s  = {duration / simulate_s:6.0f} x real time")
    print(f"write session:   {session_s:6.2f} s  (imu.csv, truth.csv, events, mounting, metadata)")
    print(
        f"imu.csv writer:  {fast_s:6.2f} s  vs per-row formatting {per_row_s:6.2f} s  "
        f"= {per_row_s / fast_s:4.1f} x faster"
    )


if __name__ == "__main__":
    main()
