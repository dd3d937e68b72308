"""``hiprot export`` and ``analyze`` killed (SIGKILL) at random moments while they
write: no file is ever left truncated under its name, and no reader trusts a half-written or
mixed set of outputs.

Each command first runs to the end once (the reference, and how long its writing lasts); then
it is started again over that finished output and killed at a random moment of its writing,
several times (seeded), and once more the moment a temporary file appears (a kill that certainly
lands mid-write, whatever the machine's load did to the reference's timing). After each kill the output directory holds either the complete previous
result, the complete new one, or something every reader refuses in one line.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hiprot.analysis.outputs import AnalysisOutputError, read_report
from hiprot.errors import HiprotError
from hiprot.files import TEMP_PREFIX
from hiprot.recording import load_session

KILLS = 6
RNG = random.Random(19)


def hiprot(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hiprot", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _entries(directory: Path) -> dict[str, int]:
    if not directory.is_dir():
        return {}
    found = {}
    for entry in os.scandir(directory):
        try:  # the writer may replace a file (atomic rename) between listing and stat
            if entry.is_file():
                found[entry.name] = entry.stat().st_mtime_ns
        except FileNotFoundError:
            continue
    return found


def _run_watching(
    args: list,
    watched: Path,
    kill_after: float | None,
    began_when: Callable[[dict[str, int], dict[str, int]], bool] | None = None,
) -> float:
    """Run ``hiprot ARGS``; once ``began_when(before, now)`` holds for the entries of
    ``watched`` (default: anything changed, i.e. the writing began), wait ``kill_after`` seconds
    and SIGKILL it (None: let it finish). Returns how long the writing lasted: from the first
    change in ``watched`` to the last one seen."""
    began_when = began_when or (lambda before, now: now != before)
    before = seen = _entries(watched)
    process = subprocess.Popen(
        [sys.executable, "-m", "hiprot", *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    first = last = triggered = None
    while process.poll() is None:
        now = _entries(watched)
        if now != seen:
            seen, last = now, time.monotonic()
            first = first or last
        if triggered is None and began_when(before, now):
            triggered = time.monotonic()
        if triggered is not None and kill_after is not None:
            if time.monotonic() - triggered >= kill_after:
                process.kill()
                break
        time.sleep(0.001)
    process.wait(60)
    assert kill_after is not None or process.returncode == 0
    if _entries(watched) != seen:
        last = time.monotonic()
    return (last - first) if first is not None else 0.0


def _writing_a_temporary(suffix: str) -> Callable[[dict[str, int], dict[str, int]], bool]:
    """True once a new temporary file ending in ``suffix`` exists (one a killed run left
    earlier does not count): a write is under way."""
    return lambda before, now: any(
        n.startswith(TEMP_PREFIX) and n.endswith(suffix) and n not in before for n in now
    )


def _kill_moments(writing_s: float) -> list[float]:
    return sorted(RNG.uniform(0.0, writing_s) for _ in range(KILLS))


@pytest.fixture(scope="module")
def walk(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("walk")
    result = hiprot("simulate", "--out", root / "walk", "--duration", "60", "--seed", "3")
    assert result.returncode == 0, result.stderr
    return root / "walk"


def test_a_killed_export_never_leaves_a_truncated_session(walk, tmp_path):
    out = tmp_path / "export"
    writing_s = _run_watching(["export", walk, "--format", "csv", "--out", out], out, None)
    reference = {name: (out / name).read_bytes() for name in ("imu.csv", "rig.toml")}
    samples = {name: len(s) for name, s in load_session(out).samples.items()}
    outcomes = []
    mid_csv = (0.0, _writing_a_temporary(".csv"))  # killed while imu.csv is being written
    for moment, began_when in [(m, None) for m in _kill_moments(writing_s)] + [mid_csv]:
        args = ["export", walk, "--format", "csv", "--out", out]
        _run_watching(args, out, moment, began_when)
        if (out / "imu.csv").exists():
            assert (out / "imu.csv").read_bytes() == reference["imu.csv"], f"killed at {moment}"
            assert (out / "rig.toml").read_bytes() == reference["rig.toml"]
            loaded = load_session(out)
            assert {n: len(s) for n, s in loaded.samples.items()} == samples
            outcomes.append("whole")
        else:
            with pytest.raises(HiprotError, match="no samples file"):
                load_session(out)
            outcomes.append("absent")
    assert outcomes[-1] == "absent", outcomes  # the kill while imu.csv was being written
    result = hiprot("export", walk, "--format", "csv", "--out", out)
    assert result.returncode == 0 and (out / "imu.csv").read_bytes() == reference["imu.csv"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "left-overs not cleaned"


def _listed_files_are_the_references(out: Path, reference: dict[str, bytes]) -> bool:
    """Whatever report.json there is lists only files whose content is a finished run's (the
    outputs are reproducible byte for byte: the PNGs carry no timestamp)."""
    report = json.loads((out / "report.json").read_text())
    for name in report["files"]:
        if name == "report.json":
            continue
        if not (out / name).exists() or (out / name).read_bytes() != reference[name]:
            return False
    return True


def test_a_killed_analysis_never_mixes_runs_and_readers_refuse_it(walk, tmp_path):
    out = tmp_path / "analysis"
    args = ["analyze", walk, "--out", out]
    writing_s = _run_watching(args, out, None)
    reference = {p.name: p.read_bytes() for p in out.iterdir() if p.name != "report.json"}
    assert {"orientations.csv", "angles.csv", "strides.csv", "hip_ir.png"} <= set(reference)
    refused = []
    mid_write = (0.0, _writing_a_temporary(""))  # killed while an output is being written
    for moment, began_when in [(m, None) for m in _kill_moments(writing_s)] + [mid_write]:
        _run_watching(args, out, moment, began_when)
        if (out / "report.json").exists():
            assert _listed_files_are_the_references(out, reference), f"killed at {moment}"
            read_report(out)
        else:
            with pytest.raises(AnalysisOutputError, match="never finished"):
                read_report(out)
            refused.append(moment)
    assert refused and refused[-1] == 0.0, "the kill while an output was being written"
    result = hiprot(*args)
    assert result.returncode == 0, result.stderr
    report = read_report(out)
    assert sorted(report["files"]) == sorted(p.name for p in out.iterdir())
    assert _listed_files_are_the_references(out, reference)  # the outputs are reproducible


def test_read_report_refuses_a_changed_or_foreign_output(walk, tmp_path):
    out = tmp_path / "analysis"
    assert hiprot("analyze", walk, "--out", out, "--no-charts").returncode == 0
    strides = (out / "strides.csv").read_text().splitlines(keepends=True)
    (out / "strides.csv").write_text("".join(strides[:-3]))  # as a killed writer would leave it
    with pytest.raises(AnalysisOutputError, match="strides.csv: differs"):
        read_report(out)
    (out / "angles.csv").unlink()
    (out / "strides.csv").write_text("".join(strides))
    with pytest.raises(AnalysisOutputError, match="angles.csv: listed in report.json but missing"):
        read_report(out)
