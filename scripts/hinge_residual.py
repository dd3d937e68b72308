"""Knee-hinge fit residual: simulated walks (realistic and technical) next to real people.

The calibration fits one hinge axis per knee to the thigh and shank gyroscopes and
reports how much of the angular rate the hinge leaves unexplained
(``hinge_residual_pct``). On a rigid pure-hinge knee that is a few per cent; on
people, skin motion and a knee that also rotates and goes into varus raise it — on a
real optical-truth walk it was 34-37 %. This script checks, without tuning anything,
whether the simulator's realistic defaults land there:

- simulated walks of ``config/sim.toml``'s rig (seeds 1-N), through the product's
  calibration (``hinge_residual_pct`` of the calibration quality);
- the same fit on walking only, "up" taken as the mean accelerometer direction (no
  standing phase needed), on the simulated walks and on HuGaDB's clean walking files
  (Chereshnev & Kertész-Farkas, AIST 2017), if their directory is given.

    python scripts/hinge_residual.py [--seeds 5] [--hugadb DIR]
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

from hiprot.calibration.hinge import fit_hinge
from hiprot.config import SimulationConfig, load_rig
from hiprot.processing import process_session
from hiprot.recording import Session
from hiprot.sim import simulate

ROOT = Path(__file__).resolve().parents[1]
HUGADB_CLEAN = ("01_00", "06_00", "08_02-Test", "10_00-Test", "11_03-Test")
HUGADB_ACC = 9.80665 / 16384  # int16 -> m/s², ±2 g
HUGADB_GYR = np.pi / 180 / 16.4  # int16 -> rad/s, ±2000 °/s
MOVING_RAD_S = np.radians(20.0)


def walking_residual_pct(
    gyr_thigh: np.ndarray, gyr_shank: np.ndarray, acc_thigh: np.ndarray, acc_shank: np.ndarray
) -> float:
    """The calibration's hinge fit on moving samples, "up" = mean accelerometer direction."""
    moving = (np.linalg.norm(gyr_thigh, axis=1) > MOVING_RAD_S) | (
        np.linalg.norm(gyr_shank, axis=1) > MOVING_RAD_S
    )
    up = [a.mean(axis=0) / np.linalg.norm(a.mean(axis=0)) for a in (acc_thigh, acc_shank)]
    fit = fit_hinge(gyr_thigh[moving], gyr_shank[moving], *up)
    return 100 * fit.rms_residual / fit.rms_rate


def simulated(seeds: int, realism: str, rate_hz: float) -> tuple[list[float], list[float]]:
    """(calibration hinge_residual_pct, walking-only residual) of ``seeds`` simulated walks."""
    base = load_rig(ROOT / "config" / "sim.toml")
    calibrated, walking = [], []
    for seed in range(1, seeds + 1):
        config = SimulationConfig(scenario="walk", seed=seed, duration_s=60.0, realism=realism)
        rig = replace(base, simulation=config, sample_rate_hz=rate_hz)
        sim = simulate(rig)
        processed = process_session(Session(Path(f"sim-{seed}"), rig, {}, sim.samples))
        if processed.calibration is not None:
            quality = processed.calibration.quality.get("right", {})
            if "hinge_residual_pct" in quality:
                calibrated.append(quality["hinge_residual_pct"])
        after = sim.time_s > sim.params["still_s"] + 1.0
        thigh, shank = sim.samples["right_thigh"], sim.samples["right_shank"]
        walking.append(
            walking_residual_pct(
                thigh.gyr[after], shank.gyr[after], thigh.acc[after], shank.acc[after]
            )
        )
    return calibrated, walking


def hugadb(directory: Path) -> dict[str, float]:
    """Walking-only residual per clean HuGaDB file and leg."""
    out = {}
    for tag in HUGADB_CLEAN:
        path = directory / f"HuGaDB_v1_walking_{tag}.txt"
        if not path.exists():
            continue
        with path.open() as handle:
            lines = [line for line in handle if not line.startswith("#")]
        header = lines[0].split()
        data = np.array([line.split() for line in lines[1:]], dtype=float)
        column = {name: i for i, name in enumerate(header)}
        for leg in ("R", "L"):
            out[f"{tag} {leg}"] = walking_residual_pct(
                _block(data, column, f"{leg}T", "gyro") * HUGADB_GYR,
                _block(data, column, f"{leg}S", "gyro") * HUGADB_GYR,
                _block(data, column, f"{leg}T", "acc") * HUGADB_ACC,
                _block(data, column, f"{leg}S", "acc") * HUGADB_ACC,
            )
    return out


def _block(data: np.ndarray, column: dict[str, int], sensor: str, kind: str) -> np.ndarray:
    """Columns ``RT_gyro_x`` ... (most files) or ``gyro_rt_x`` ... (some files)."""
    names = [f"{sensor}_{kind}_{axis}" for axis in "xyz"]
    if names[0] not in column:
        names = [f"{kind}_{sensor.lower()}_{axis}" for axis in "xyz"]
    return data[:, [column[name] for name in names]]


def _summary(values: list[float]) -> str:
    if not values:
        return "—"
    return f"{np.mean(values):5.1f} % (range {min(values):.1f}-{max(values):.1f}, n={len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--hugadb", type=Path, help="directory of HuGaDB v1 walking files")
    args = parser.parse_args()
    print(f"{'source':44} {'calibration hinge_residual_pct':36} {'walking-only fit':36}")
    for realism in ("realistic", "technical"):
        for rate in (200.0, 60.0):
            calibrated, walking = simulated(args.seeds, realism, rate)
            name = f"simulated walk 60 s, {realism}, {rate:.0f} Hz"
            print(f"{name:44} {_summary(calibrated):36} {_summary(walking):36}")
    print(f"{'real optical-truth walk (reported)':44} {'34-37 %':36}")
    if args.hugadb is not None:
        per_file = hugadb(args.hugadb)
        for name, value in per_file.items():
            print(f"{'HuGaDB ' + name:44} {'—':36} {value:5.1f} %")
        print(f"{'HuGaDB clean files, all legs':44} {'—':36} {_summary(list(per_file.values()))}")


if __name__ == "__main__":
    main()
