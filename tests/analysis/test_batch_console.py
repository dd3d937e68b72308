"""``hiprot analyze DIR`` over several sessions on a real terminal: the progress line never
glues to a result, no library warning leaks, a last line with the counts, and ``summary.csv``."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest

from hiprot import columns
from hiprot.cli.console import ERASE_LINE

from .conftest import sim_rig, write_sim

MEASURE_KEYS = (
    {
        value
        for name, value in vars(columns).items()
        if name.isupper() and isinstance(value, str) and value.endswith(("_deg", "_s", "_percent"))
    }
    | {columns.CADENCE}
    | set(columns.WALKING_RENAMES.values())
)


def run_in_terminal(*args) -> tuple[int, str]:
    """``hiprot analyze ARGS`` with stdout and stderr on one pseudo-terminal: its status and
    everything it wrote there."""
    controller, terminal = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "hiprot", "analyze", *map(str, args)],
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            data = os.read(controller, 65536)
        except OSError:  # EIO: the process closed its end
            break
        if not data:
            break
        chunks.append(data)
    os.close(controller)
    return process.wait(300), b"".join(chunks).decode()


def screen(output: str) -> list[str]:
    """The lines a terminal shows for ``output``: a carriage return goes back to the start of
    the line, ``ESC [ K`` erases to its end, other characters overwrite."""
    lines, line, column, i = [], [], 0, 0
    erase = ERASE_LINE[1:]
    while i < len(output):
        if output.startswith(erase, i):
            del line[column:]
            i += len(erase)
            continue
        char = output[i]
        if char == "\r":
            column = 0
        elif char == "\n":
            lines.append("".join(line))
            line, column = [], 0
        else:
            line[column : column + 1] = [char]
            column += 1
        i += 1
    return lines + (["".join(line)] if line else [])


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """A walk, a seated test of someone with hardly any internal rotation and a corrupt
    session, analysed by ``hiprot analyze DIR`` on a terminal."""
    root = tmp_path_factory.mktemp("batch") / "study"
    write_sim(sim_rig("walk", 41, duration=20.0), root / "walk")
    write_sim(sim_rig("seated-ir", 42, ir_max=2.0, trials=2), root / "seated")
    (root / "corrupt").mkdir()
    shutil.copy(root / "walk" / "rig.toml", root / "corrupt" / "rig.toml")
    (root / "corrupt" / "imu.csv").write_text("time_s,sensor,acc_x\n0.0,right_thigh,1.0\n")
    status, output = run_in_terminal(root)
    return root, status, output


def test_the_progress_line_never_glues_to_a_result_or_warning(batch):
    root, status, output = batch
    assert status == 2  # the corrupt session failed
    assert "analysing sessions 1/3" in output and "analysing sessions 3/3" in output
    lines = screen(output)
    assert not any("analysing sessions" in line for line in lines), lines
    starts = (f"{root}/", "  ", "hiprot: error: ", "hiprot: 1 of 3 sessions failed", "2 analysed")
    assert all(line.startswith(starts) for line in lines), lines
    assert [
        line for line in lines if line.endswith("results in " + str(root / "walk" / "analysis"))
    ]


def test_no_library_warning_leaks(batch):
    root, _, output = batch
    lines = screen(output)
    (error,) = [line for line in lines if line.startswith("hiprot: error: ")]
    assert str(root / "corrupt") in error
    assert not [line for line in lines if "warning" in line.lower() or "legend" in line]
    seated = json.loads((root / "seated" / "analysis" / "report.json").read_text())
    assert seated["tests"] and "tests.png" in seated["files"]  # drawn, with its legend


def test_a_trial_chart_without_internal_rotation_peaks_labels_its_legend(tmp_path):
    """A trial without a peak IR draws nothing in the IR group (the chart's legend once had no
    labelled artist then, and matplotlib warned)."""
    from hiprot.analysis import plots

    trials = [
        {
            "test": "seated-ir",
            "side": "right",
            "trial": k,
            "hip_ir_max_deg": None,
            "hip_er_max_deg": er,
        }
        for k, er in enumerate((20.0, 22.0), start=1)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plots.trial_bars(trials, {}, tmp_path / "tests.png", "s")
    assert (tmp_path / "tests.png").stat().st_size > 0


def test_the_last_line_counts_the_batch(batch):
    root, _, output = batch
    assert screen(output)[-1] == f"2 analysed, 1 failed, results in {root}"


def test_summary_csv_has_each_session_leg_and_measure(batch):
    root, _, _ = batch
    with open(root / "summary.csv", newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == columns.SUMMARY_COLUMNS
        rows = list(reader)
    assert {r["session"] for r in rows} == {"walk", "seated"}
    assert {r["results"] for r in rows} == {"walk/analysis", "seated/analysis"}
    assert {r["measure"] for r in rows} <= MEASURE_KEYS
    walk = json.loads((root / "walk" / "analysis" / "report.json").read_text())
    straight = [s for s in walk["strides"]["right"] if not s["turning"]]
    for metric in columns.STRIDE_METRICS:  # under the names of what the walk measured
        measure = columns.measured_names(metric, walk["angles"]["hip_ir_reference"])
        values = [s[measure] for s in straight if s[measure] is not None]
        found = [r for r in rows if r["session"] == "walk" and r["measure"] == measure]
        if metric.startswith("pelvic_"):  # no pelvis sensor, no pelvic measures
            assert not values and not found
            continue
        (row,) = found
        assert row["side"] == "right" and row["source"] == "strides"
        assert int(row["n"]) == len(values) > 5
        assert float(row["mean"]) == pytest.approx(np.mean(values), abs=0.01)
        assert float(row["max"]) == max(values) and float(row["min"]) == min(values)
    seated = [r for r in rows if r["session"] == "seated"]
    trial_keys = {columns.HIP_IR_MAX, columns.HIP_ER_MAX}
    gravity = {columns.HIP_IR_MAX_GRAVITY, columns.HIP_ER_MAX_GRAVITY}
    assert trial_keys <= {r["measure"] for r in seated} <= trial_keys | gravity
    assert seated[0]["activity"] == "seated-test" and int(seated[0]["n"]) == 2
