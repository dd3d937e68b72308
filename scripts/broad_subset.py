"""Make the BROAD subset the tests ship with (``tests/data/broad/``) from the full data set.

Four trials, one of each kind of motion and disturbance: slow rotation, slow
translation, fast combined motion, a magnet attached 2 cm from the sensor. Each
is cropped to the 15 s of rest before its first movement sample and the 60 s
after it (75 s, 21 429 samples at 285.714 Hz); every array keeps its float64
values, the file its keys. ``source_first_sample`` records where the crop
starts in the original trial. The four were chosen, among the trials of each
kind, as the set whose mean errors (default filter, cropped) lie nearest the
full set's (see tests/data/broad/README.md).

    .venv/bin/python scripts/broad_subset.py --data DIR [--out tests/data/broad]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

TRIALS = (
    "01_undisturbed_slow_rotation_A",
    "10_undisturbed_slow_translation_A",
    "21_undisturbed_fast_combined",
    "33_disturbed_attached_magnet_2cm",
)
REST_BEFORE_S = 15.0
LENGTH_S = 75.0
PER_SAMPLE = ("imu_acc", "imu_gyr", "imu_mag", "opt_quat", "movement")
OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "broad"


def crop(source: Path, out: Path) -> tuple[int, int]:
    """Write the cropped trial; its first sample and length in the source."""
    with np.load(source) as data:
        rate = float(data["sampling_rate"])
        first = int(np.flatnonzero(data["movement"])[0] - round(REST_BEFORE_S * rate))
        n = round(LENGTH_S * rate)
        if first < 0 or first + n > len(data["movement"]):
            raise SystemExit(f"{source}: too short for a {LENGTH_S:.0f} s crop")
        part = {key: data[key][first : first + n] for key in PER_SAMPLE}
        np.savez_compressed(
            out,
            **part,
            sampling_rate=data["sampling_rate"],
            source_first_sample=np.int64(first),
        )
    return first, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of the full BROAD .npz")
    parser.add_argument("--out", type=Path, default=OUT, help="where the subset goes")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in TRIALS:
        first, n = crop(args.data / f"{name}.npz", args.out / f"{name}.npz")
        print(f"{name}: samples {first}..{first + n - 1}")


if __name__ == "__main__":
    main()
