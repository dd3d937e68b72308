"""scripts/soak.py as a smoke test: a short soak through a wrong chip and a broker restart."""

from __future__ import annotations

import json
import subprocess
import sys

from hiprot_testing import ROOT


def test_a_short_soak_loses_no_sample_unexplained_and_delivers_every_metric(tmp_path):
    figures_path = tmp_path / "soak.json"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "soak.py"),
            "--minutes",
            "0.4",
            "--seed",
            "10",
            "--json",
            str(figures_path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(figures_path.read_text())
    assert figures["i2c_faults"]["swap"] == 1 and figures["broker_restarts"] == 1
    samples, metrics = figures["samples"], figures["metrics"]
    assert samples["lost_in_faults"] > 0 and samples["recorded"] > 0.9 * samples["expected"]
    assert abs(samples["unexplained"]) <= sum(1 + s["gaps"] for s in figures["sensors"].values())
    assert metrics["produced"] > 0 and metrics["delivered"] == metrics["produced"]
    for name, s in figures["sensors"].items():  # a gap outside a fault: only a late read's
        assert s["unexplained_gaps"] == [], name
        assert s["gaps_without_fault"] == s["gaps_logger_late"] == len(s["late_reads"]), name
    times = [t for t, _ in figures["memory_mb"]]
    assert times[0] < figures["warm_up_s"] <= times[-1]  # at start, after warm-up, at the end
    assert "samples: expected" in result.stdout and "growth after warm-up" in result.stdout
    assert "logger starved: " in result.stdout
