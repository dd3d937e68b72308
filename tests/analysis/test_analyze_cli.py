"""``hiprot analyze`` end to end: many sessions with a corrupt one, report.json, tables, charts,
``--compare`` and ``--history``."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from hiprot.analysis.outputs import read_report
from hiprot.analysis.report import read_table
from hiprot.analysis.session_files import is_session
from hiprot.columns import HIP_IR_MAX, WALKING_RENAMES
from hiprot.csvio import read_angles_csv
from hiprot.errors import EmptySessionError
from hiprot.recording import load_session
from hiprot.sim import simulate
from hiprot.sim.session import write_session

from .conftest import sim_rig, write_sim

REPORT_KEYS = {
    "format_version",
    "software_version",
    "generated_utc",
    "session",
    "recording",
    "calibration",
    "return_to_zero",
    "angles",
    "strides",
    "reps",
    "tests",
    "summaries",
    "warnings",
    "files",
    "input",
    "run_id",
    "outputs",
}


def hiprot(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hiprot", "analyze", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def assert_png(path, min_width=500):
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width = matplotlib.image.imread(path).shape[:2]
    assert width >= min_width and height >= 300


def drop_samples(session, sensor, start_s, end_s):
    """Remove one sensor's samples in a time span and say so in session.json (as a recorder)."""
    imu = session / "imu.csv"
    lines = imu.read_text().splitlines(keepends=True)
    kept = [lines[0]] + [
        row
        for row in lines[1:]
        if not (row.split(",")[1] == sensor and start_s < float(row.split(",")[0]) < end_s)
    ]
    imu.write_text("".join(kept))
    meta = json.loads((session / "session.json").read_text())
    meta["health"] = {sensor: {"dropped": len(lines) - len(kept), "gaps": [[start_s, end_s]]}}
    (session / "session.json").write_text(json.dumps(meta))


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    root = tmp_path_factory.mktemp("sessions")
    write_sim(sim_rig("walk", 31, duration=30.0), root / "walk")
    drop_samples(root / "walk", "right_shank", 20.0, 20.4)
    write_sim(sim_rig("seated-ir", 32, trials=2), root / "seated")
    (root / "corrupt").mkdir()
    shutil.copy(root / "walk" / "rig.toml", root / "corrupt" / "rig.toml")
    (root / "corrupt" / "imu.csv").write_text("time_s,sensor,acc_x\n0.0,right_thigh,1.0\n")
    return root


@pytest.fixture(scope="module")
def analysed(sessions, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return hiprot(sessions, "--out", out), out


def test_a_corrupt_session_is_reported_and_the_others_finish(analysed, sessions):
    result, out = analysed
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and str(sessions / "corrupt") in errors[0] and "imu.csv" in errors[0]
    assert "1 of 3 sessions failed" in result.stderr
    assert "Traceback" not in result.stderr
    assert (out / "walk" / "report.json").exists() and (out / "seated" / "report.json").exists()
    assert not (out / "corrupt").exists()


def test_walk_report_tables_and_charts(analysed):
    _, out = analysed
    report = json.loads((out / "walk" / "report.json").read_text())
    assert set(report) == REPORT_KEYS
    assert (
        report["session"]["activity"] == "walk"
        and report["session"]["activity_source"] == "session.json"
    )
    assert report["calibration"]["quality"]["right"]["moving_s"] > 0
    strides = report["strides"]["right"]
    assert len(strides) > 15
    # thigh + shank: the walking measures are the thigh's rotation to the walking direction
    assert {
        "thigh_rotation_at_heel_strike_deg",
        "thigh_rotation_max_deg",
        "thigh_external_rotation_max_deg",
        "thigh_rotation_rom_stance_deg",
        "thigh_rotation_rom_swing_deg",
        "thigh_rotation_loading_excursion_deg",
        "cadence_steps_per_min",
        "turning",
    } <= set(strides[0])
    assert not any(k.startswith(("hip_ir", "hip_er")) for k in strides[0])
    leg = report["summaries"]["gait"]["legs"]["right"]
    assert leg["strides"] == len(strides) and len(leg["curves"]["thigh_rotation_mean_deg"]) == 101
    assert not any(k.startswith(("hip_ir", "hip_er")) for k in leg)
    warnings = " | ".join(report["warnings"])
    assert "right_shank" in warnings and "dropped" in warnings and "angles missing" in warnings
    assert report["recording"]["angles_missing_s"] > 0.3
    # 0.4 s of the shank lost: the hip reference is measured again within a few strides
    assert 0 < report["recording"]["hip_ir_withheld_after_gaps_s"]["right"] < 5.0
    assert "right hip IR withheld for" in warnings
    with open(out / "walk" / "strides.csv") as f:
        rows = list(csv.DictReader(f))
    assert (
        len(rows) == len(strides)
        and float(rows[0]["thigh_rotation_max_deg"]) == strides[0]["thigh_rotation_max_deg"]
    )
    assert read_report(out / "walk") == report  # today's names read as written
    assert read_table(out / "walk" / "strides.csv", report["angles"]["hip_ir_reference"]) == rows
    for name in ("hip_ir.png", "gait_cycle.png", "strides.png"):
        assert_png(out / "walk" / name)
    assert sorted(report["files"]) == sorted(p.name for p in (out / "walk").iterdir())


def test_test_report_lists_trials(analysed):
    _, out = analysed
    report = json.loads((out / "seated" / "report.json").read_text())
    assert report["session"]["activity"] == "seated-test" and len(report["tests"]) == 2
    assert report["summaries"]["tests"]["right"]["trials"] == 2
    with open(out / "seated" / "tests.csv") as f:
        assert len(list(csv.DictReader(f))) == 2
    assert_png(out / "seated" / "tests.png")


def test_compare_states_the_change_and_the_verdict(tmp_path):
    before = write_sim(sim_rig("seated-ir", 33, ir_max=15.0, trials=2), tmp_path / "before")
    after = write_sim(sim_rig("seated-ir", 33, ir_max=40.0, trials=2), tmp_path / "after")
    result = hiprot("--compare", before, after, "--out", tmp_path / "cmp")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any("right internal rotation" in line and "probable change" in line for line in lines)
    assert any(
        "right external rotation" in line and "within measurement error" in line for line in lines
    )
    comparison = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    (ir,) = [c for c in comparison["changes"] if c["key"] == "hip_ir_max_deg"]
    assert 20 < ir["change_deg"] < 30 and ir["verdict"] == "probable change"
    assert_png(tmp_path / "cmp" / "compare.png")


def test_history_over_a_directory_skips_the_corrupt_session(sessions, tmp_path):
    result = hiprot("--history", sessions, "--out", tmp_path, "--no-charts")
    assert result.returncode == 2
    history = json.loads((tmp_path / "history.json").read_text())
    assert sorted(s["name"] for s in history["sessions"]) == ["seated", "walk"]
    seated = next(s for s in history["sessions"] if s["name"] == "seated")
    assert seated["legs"]["right"]["hip_ir_max_deg"]["n"] == 2
    with open(tmp_path / "history.csv") as f:
        assert len(list(csv.DictReader(f))) == 4  # seated IR and ER, walk IR range and peak


def test_one_mode_at_a_time(sessions):
    result = hiprot(sessions / "walk", "--history", sessions)
    assert result.returncode == 2 and "one of them" in result.stderr


def _killed_while_starting(sessions: Path, delay_s: float) -> None:
    """Start ``hiprot record`` into ``sessions`` and SIGKILL it ``delay_s`` after its session
    directory appears: long before the first write (0.25 s), so no sample is on disk."""
    before = set(sessions.iterdir())
    recorder = subprocess.Popen(
        [sys.executable, "-m", "hiprot", "record", "--no-mqtt", "--out", str(sessions)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while set(sessions.iterdir()) == before:
        assert recorder.poll() is None and time.monotonic() < deadline
        time.sleep(0.001)
    time.sleep(delay_s)
    recorder.kill()
    recorder.wait(10)


def test_sessions_killed_while_starting_are_skipped_not_failed(tmp_path):
    sessions = tmp_path / "sessions"
    sessions.mkdir()
    for delay_s in (0.0, 0.002, 0.01, 0.05):
        _killed_while_starting(sessions, delay_s)
    empty = sorted(p for p in sessions.iterdir() if is_session(p))
    assert empty, "a kill left no session directory with a session file"
    for path in empty:
        with pytest.raises(EmptySessionError):
            load_session(path)
    write_sim(sim_rig("walk", 35, duration=20.0), sessions / "walk")
    result = hiprot(sessions, "--no-charts", "--jobs", "1")
    assert result.returncode == 0, result.stderr
    assert f"{sessions / 'walk'}: results in" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if "warning:" in line]
    assert len(warnings) == len(empty) and all("skipped" in w for w in warnings)
    assert f"{len(empty)} of {len(empty) + 1} sessions skipped" in result.stderr
    assert "error" not in result.stderr and "Traceback" not in result.stderr

    shutil.rmtree(sessions / "walk")  # nothing left to analyse: that is a failure
    if len(empty) > 1:
        assert hiprot(sessions, "--no-charts", "--jobs", "1").returncode == 2
    result = hiprot(empty[0], "--no-charts")  # named alone, an empty session is an error
    assert result.returncode == 2 and result.stderr.startswith("hiprot: error: ")


def test_no_activity_and_no_angles_is_said_plainly(tmp_path):
    session = write_sim(sim_rig("walk", 36, duration=20.0), tmp_path / "walk")
    imu = session / "imu.csv"
    lines = imu.read_text().splitlines(keepends=True)
    kept = (r for r in lines[1:] if 6.0 < float(r.split(",")[0]) < 7.0)  # less than a stride
    imu.write_text(lines[0] + "".join(kept))
    (session / "session.json").unlink()  # no activity recorded, no standing phase, no stride
    result = hiprot(session, "--no-charts")
    assert result.returncode == 2, result.stderr  # written what it could, then: no joint angles
    (why,) = result.stderr.splitlines()
    assert why.startswith(f"hiprot: error: {session}: no joint angles: ")
    (line,) = [line for line in result.stdout.splitlines() if "activity:" in line]
    assert "None" not in line and "command line" not in line
    assert line.strip() == "activity: unknown (not given, and no joint angles to infer it from)"


def test_a_walk_without_standing_still_gets_its_stride_timing(sessions, tmp_path):
    """No standing phase: no calibration, no angles, but strides.csv times every stride but
    the one across the shank's gap (20.0-20.4 s)."""
    walk = tmp_path / "walk-no-standing"
    shutil.copytree(sessions / "walk", walk)
    lines = (walk / "imu.csv").read_text().splitlines(keepends=True)
    kept = [lines[0]] + [row for row in lines[1:] if 8.0 < float(row.split(",")[0]) < 26.0]
    (walk / "imu.csv").write_text("".join(kept))
    result = hiprot(walk, "--out", tmp_path / "out", "--no-charts")
    assert result.returncode == 2  # stride timing written and listed, yet no joint angles
    (why,) = result.stderr.splitlines()
    assert "no joint angles" in why and "strides.csv" in why
    out = tmp_path / "out"  # one session: its results straight into --out
    report = json.loads((out / "report.json").read_text())
    assert report["calibration"] is None and report["angles"]["columns"] == []
    with open(out / "strides.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 12
    assert all(50 < float(r["stance_percent"]) < 65 for r in rows)
    assert all(r[WALKING_RENAMES[HIP_IR_MAX]] == "" for r in rows)
    assert not any(float(r["start_s"]) < 20.4 and float(r["end_s"]) > 20.0 for r in rows)
    assert "1 strides skipped: a sensor had a gap in its samples" in report["warnings"]
    assert report["summaries"]["gait"]["legs"]["right"]["stance_plausible"] is True
    assert "stance" in result.stdout and "stride timing only" in result.stdout
    assert "nan" not in result.stdout and "peak IR" not in result.stdout


def test_the_summary_marks_an_implausible_stance():
    from hiprot.cli.analyze import _summary_lines

    leg = {"strides": 20, "turning_strides": 0, "cadence_steps_per_min": {"mean": 110.0}}
    gait = {
        "legs": {
            "right": {**leg, "stance_median_percent": 59.0, "stance_plausible": True},
            "left": {**leg, "stance_median_percent": 21.0, "stance_plausible": False},
        }
    }
    report = {
        "session": {"activity": "walk", "activity_source": "session.json"},
        "summaries": {"gait": gait, "reps": None, "tests": None},
        "warnings": [],
    }
    right, left = _summary_lines(report)[1:3]
    assert right.endswith("stance 59 %") and "peak IR" not in right
    assert left.endswith("stance 21 % (implausible: events doubtful)")


def test_compare_refuses_other_kinds_before_analysing(sessions, tmp_path):
    result = hiprot("--compare", sessions / "seated", sessions / "walk", "--out", tmp_path / "c")
    assert result.returncode == 2 and "same kind" in result.stderr
    assert not list(tmp_path.rglob("report.json"))  # refused before any analysis


def test_other_references_are_not_comparable_without_analysing(tmp_path):
    plain = write_sim(sim_rig("seated-ir", 34, trials=1, duration=20.0), tmp_path / "plain")
    pelvis = write_sim(
        sim_rig("seated-ir", 34, pelvis=True, trials=1, duration=20.0), tmp_path / "p"
    )
    result = hiprot("--compare", plain, pelvis, "--out", tmp_path / "c", "--no-charts")
    assert result.returncode == 0, result.stderr
    assert "not comparable" in result.stdout and "different references" in result.stdout
    assert json.loads((tmp_path / "c" / "compare.json").read_text())["verdict"] == "not comparable"
    assert not list(tmp_path.rglob("report.json"))


def test_history_over_weeks_has_a_trend_and_reuses_unchanged_results(tmp_path):
    root = tmp_path / "sessions"
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    for week in range(3):
        rig = sim_rig("seated-ir", 35, ir_max=30.0 + 4 * week, trials=2)
        write_session(rig, simulate(rig), root / f"week{week}", start + timedelta(days=7 * week))
    repeat = sim_rig("seated-ir", 35, ir_max=30.0, trials=2, mounting_max_deg=10.0)
    write_session(repeat, simulate(repeat), root / "again", start + timedelta(minutes=30), "week0")
    result = hiprot("--history", root, "--no-charts")
    assert result.returncode == 0, result.stderr
    (line,) = [s for s in result.stdout.splitlines() if "right internal rotation" in s]
    assert "from week0 to week2" in line and "probable change" in line and "°/week" in line
    assert "1 same-day repeat" in json.dumps(
        json.loads((root / "history" / "history.json").read_text())
    )
    with open(root / "history" / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["measure"] for r in rows} == {"hip_ir_max_deg", "hip_er_max_deg"}
    assert {r["repeat_of"] for r in rows if r["session"] == "again"} == {"week0"}
    again = hiprot("--history", root, "--no-charts")
    assert "reused the results of 4 unchanged sessions" in again.stdout
    assert again.stdout.splitlines()[-2:] == result.stdout.splitlines()[-2:]
    meta = json.loads((root / "week2" / "session.json").read_text())
    (root / "week2" / "session.json").write_text(json.dumps({**meta, "note": "edited"}))
    edited = hiprot("--history", root, "--no-charts")
    assert "reused the results of 3 unchanged sessions" in edited.stdout
    assert "week2: results in" in edited.stdout  # the changed one analysed again


def test_standing_activations_nobody_named_are_measured_as_an_exercise(tmp_path):
    """`hiprot record` without --activity, then standing hip-IR activations (hip and knee at
    90°): the analysis infers an exercise and measures the working leg as one (the test
    reference), not on the hinge's thigh frame — about 9° RMSE off on this realistic person
    before (seed 2, `hiprot simulate`'s defaults)."""
    session = tmp_path / "activations"
    made = subprocess.run(
        [sys.executable, "-m", "hiprot", "simulate", "--scenario", "exercise", "--seed", "2"]
        + ["--out", str(session)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    meta = json.loads((session / "session.json").read_text())
    (session / "session.json").write_text(json.dumps({**meta, "activity": None}))
    result = subprocess.run(
        [sys.executable, "-m", "hiprot", "analyze", str(session), "--no-charts"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "activity: exercise (inferred from the data)" in result.stdout
    time_s, angles = read_angles_csv(session / "analysis" / "angles.csv")
    true_time_s, truth = read_angles_csv(session / "truth.csv")
    error = angles["right_hip_ir_deg"] - np.interp(time_s, true_time_s, truth["right_hip_ir_deg"])
    assert np.sqrt(np.nanmean(error**2)) < 2.0
    # an activity given is never second-guessed: a walk keeps the walking reference
    named = subprocess.run(
        [sys.executable, "-m", "hiprot", "analyze", str(session), "--no-charts"]
        + ["--activity", "walk", "--out", str(tmp_path / "as-walk")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert named.returncode == 0, named.stderr
    report = read_report(tmp_path / "as-walk")
    assert report["session"]["activity_source"] == "command line"
    assert report["angles"]["test_reference_s"]["right"] == []
