"""scripts/real_data.py on a generated file in HuGaDB's format (tab-separated int16 counts at
58.8 Hz): it finds a heel strike per foot swing, the true stance, and the clipped samples."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from hiprot_testing import ROOT

from .test_shank_events import STRIDE_S, walk

RATE_HZ = 58.8
G = 9.80665


def write_hugadb(path, strides: int = 14) -> tuple[np.ndarray, np.ndarray]:
    """Both legs' thigh, shank and foot modules as HuGaDB stores them (accelerometer ±2 g, so
    the impacts clip); returns the true heel strike and toe off times."""
    t, gyr, acc, heel, toe = walk(RATE_HZ, strides)
    acc_counts = np.clip(np.round(acc / G * 16384), -32768, 32767)
    gyr_counts = np.clip(np.round(np.degrees(gyr) * 16.4), -32768, 32767)
    header, columns = [], []
    for side in "RL":
        for module, scale in (("F", 1.0), ("S", 1.0), ("T", 0.5)):
            header += [f"{side}{module}_acc_{a}" for a in "xyz"]
            header += [f"{side}{module}_gyro_{a}" for a in "xyz"]
            columns += [acc_counts, np.round(gyr_counts * scale)]
    header += ["R_EMG", "L_EMG", "act"]
    rows = np.column_stack(columns + [np.zeros((len(t), 2)), np.ones((len(t), 1))]).astype(int)
    lines = ["#Activity\twalking", "#ActivityID\t1", "#Date 2016-10-20", "\t".join(header)]
    lines += ["\t".join(map(str, row)) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return heel, toe


def test_real_data_script_on_a_file_in_hugadb_format(tmp_path):
    heel, toe = write_hugadb(tmp_path / "HuGaDB_v1_walking_99_00.txt")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "real_data.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    true_stance = 100 * np.median((toe[1:] - heel[:-1]) / STRIDE_S)
    assert out.count(f"heel strikes {len(heel)}, foot swings {len(heel)} (difference +0)") == 2
    stances = [
        float(line.split("median stance ")[1].split(" %")[0])
        for line in out.splitlines()
        if line.strip().startswith("strides")
    ]
    assert len(stances) == 2 and np.allclose(stances, true_stance, atol=2.0)
    assert "no still standing phase found" in out  # HuGaDB has none
    assert "right_shank: 0 accelerometer" not in out  # the ±2 g accelerometer clips at impacts
