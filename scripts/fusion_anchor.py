"""Batch fusion's heading error on people: one offline pass against the anchored two passes.

Every sensor of the simulator's realistic people (pelvis, thigh, shank; soft tissue, sway,
chip errors as ``scripts/accuracy.py`` draws them) is fused as batch analysis fuses it
(:class:`hiprot.fusion.offline.OfflineFusion`): the first pass, with rests anywhere within
the chip's bias bound (the batch fusion before the anchor), and the product's
(:func:`hiprot.processing.fuse`: the second pass, anchored at the whole body's longest rest
with rests held within the chip's drift bound). Printed per scenario
over the seeds: the sensors' heading error against the true sensor orientation (the largest
absolute departure from its value over the first second), mean and largest, and the time of
the product's fusion as a ratio to the first pass alone, measured in the same run.

    python scripts/fusion_anchor.py [--seeds 1-3] [--scenarios walk,guided,...]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from accuracy import rig_for
from scipy.spatial.transform import Rotation

from hiprot.chip_catalogue import gyro_bias_bound_dps
from hiprot.config import SCENARIOS
from hiprot.fusion.offline import OfflineFusion
from hiprot.processing import fuse
from hiprot.sim import simulate

VARIANTS = ("one pass", "anchored")


def heading_error_deg(q_fused: np.ndarray, q_true: np.ndarray, rate_hz: float) -> float:
    """The largest departure of the fused heading from the truth, from its first second's."""
    error = (
        Rotation.from_quat(q_fused, scalar_first=True)
        * Rotation.from_quat(q_true, scalar_first=True).inv()
    )
    yaw = np.degrees(error.as_rotvec()[:, 2])
    return float(np.abs(yaw - yaw[: int(rate_hz)].mean()).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1-3", help="first-last")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    args = parser.parse_args()
    first, last = (int(v) for v in args.seeds.split("-"))
    errors: dict[str, list[float]] = {v: [] for v in VARIANTS}
    seconds = dict.fromkeys(VARIANTS, 0.0)
    print(f"{'scenario':12} {'one pass: mean / max':>22} {'anchored: mean / max':>22}")
    for scenario in args.scenarios.split(","):
        row: dict[str, list[float]] = {v: [] for v in VARIANTS}
        for seed in range(first, last + 1):
            rig = rig_for(scenario, seed, True, "vqf", 60.0, "realistic", pauses=2)
            simulation = simulate(rig)
            n = len(simulation.time_s)
            start = time.perf_counter()
            first_pass = {
                name: OfflineFusion(
                    s, rig.sample_rate_hz, max_bias_dps=gyro_bias_bound_dps(rig.sensor(name).chip)
                ).orientation()
                for name, s in simulation.samples.items()
            }
            seconds["one pass"] += time.perf_counter() - start
            start = time.perf_counter()
            fused, _ = fuse(rig, simulation.samples)
            anchored = {name: o.q_es for name, o in fused.items()}
            seconds["anchored"] += time.perf_counter() - start
            for name in simulation.samples:
                truth = simulation.q_ES(name)[:n]
                for variant, q in zip(VARIANTS, (first_pass[name], anchored[name]), strict=True):
                    row[variant].append(heading_error_deg(q[:n], truth, rig.sample_rate_hz))
        cells = " ".join(f"{np.mean(row[v]):14.2f} / {np.max(row[v]):5.1f}" for v in VARIANTS)
        print(f"{scenario:12} {cells}", flush=True)
        for v in VARIANTS:
            errors[v] += row[v]
    cells = " ".join(f"{np.mean(errors[v]):14.2f} / {np.max(errors[v]):5.1f}" for v in VARIANTS)
    print(f"{'all':12} {cells}")
    ratio = seconds["anchored"] / seconds["one pass"]
    print(f"time of the product's fusion (both passes): {ratio:.2f}x the first pass alone")


if __name__ == "__main__":
    main()
