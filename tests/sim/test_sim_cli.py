"""``hiprot simulate`` writes a session the product reads back, with its ground truth."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from hiprot_testing import hiprot_in_process

from hiprot.config import load_rig
from hiprot.csvio import read_angles_csv
from hiprot.recording import load_session
from hiprot.sim import simulate


def hiprot(*args: str) -> subprocess.CompletedProcess:
    return hiprot_in_process(*args)  # what the command writes, not how the process starts


def test_simulate_writes_a_session_that_load_session_reads(tmp_path):
    out = tmp_path / "walk"
    result = hiprot(
        "simulate",
        "--scenario",
        "walk",
        "--out",
        str(out),
        "--seed",
        "3",
        "--duration",
        "12",
        "--legs",
        "both",
        "--pelvis",
        "--ir-max",
        "20",
        "--chip",
        "lsm6dsox",
    )
    assert result.returncode == 0, result.stderr
    assert "session:" in result.stdout and "true right_hip_ir_deg" in result.stdout
    session = load_session(out)
    assert set(session.samples) == {
        "pelvis",
        "left_thigh",
        "left_shank",
        "right_thigh",
        "right_shank",
    }
    assert {len(s) for s in session.samples.values()} == {12 * 200}
    assert session.meta["activity"] == "walk" and session.meta["complete"]
    assert (
        session.meta["simulation"]["ir_max_deg"] == 20 and session.rig.sensors[0].chip == "lsm6dsox"
    )

    time_s, truth = read_angles_csv(out / "truth.csv")
    assert list(truth) == [
        "left_hip_ir_deg",
        "left_knee_flexion_deg",
        "left_hip_flexion_deg",
        "left_hip_adduction_deg",
        "right_hip_ir_deg",
        "right_knee_flexion_deg",
        "right_hip_flexion_deg",
        "right_hip_adduction_deg",
        "pelvis_tilt_deg",
        "pelvis_obliquity_deg",
        "pelvis_rotation_deg",
    ]
    assert len(time_s) == 12 * 200

    events = (out / "truth_events.csv").read_text().splitlines()
    assert events[0] == "time_s,side,event"
    rows = [line.split(",") for line in events[1:]]
    assert {side for _, side, _ in rows} <= {"left", "right", "both"}
    assert (
        sum(1 for _, _, name in rows if name == "heel_strike") >= 8
    )  # 6.5 s of walking, both legs

    mounting = json.loads((out / "truth_mounting.json").read_text())
    assert set(mounting) == set(session.samples)
    for entry in mounting.values():
        assert np.linalg.norm(entry["q_BS"]) == pytest.approx(1.0)
        assert len(entry["offset_B_m"]) == 3 and "gyro_bias_rad_s" in entry["errors"]

    # The rig file reproduces the session: same samples as written (to the CSV's 6 digits).
    again = simulate(load_rig(out / "rig.toml"))
    for name, samples in session.samples.items():
        np.testing.assert_allclose(samples.gyr, again.samples[name].gyr, rtol=1e-5, atol=1e-9)
        np.testing.assert_allclose(samples.time_s, again.samples[name].time_s, atol=1e-6)


def test_seated_test_defaults_to_the_whole_scenario_and_the_rigs_own_sensors(tmp_path):
    out = tmp_path / "seated"
    result = hiprot("simulate", "--scenario", "seated-ir", "--out", str(out), "--ir-max", "15")
    assert result.returncode == 0, result.stderr
    session = load_session(out)
    assert set(session.samples) == {"right_thigh", "right_shank"}
    assert session.meta["activity"] == "seated-test"
    assert session.meta["duration_s"] > 60, (
        "the default rig's 20 s belong to its walk, not to the test"
    )
    _, truth = read_angles_csv(out / "truth.csv")
    assert list(truth) == ["right_hip_ir_deg", "right_knee_flexion_deg"]
    assert 13 < truth["right_hip_ir_deg"].max() < 16.5


def test_refuses_to_overwrite_a_session(tmp_path):
    out = tmp_path / "once"
    assert hiprot("simulate", "--out", str(out), "--duration", "5").returncode == 0
    before = (out / "imu.csv").read_bytes()
    result = hiprot("simulate", "--out", str(out), "--duration", "6")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "already holds a session" in result.stderr
    assert (out / "imu.csv").read_bytes() == before


def test_bad_option_is_a_usage_error(tmp_path):
    result = hiprot("simulate", "--scenario", "dance", "--out", str(tmp_path / "x"))
    assert result.returncode == 2 and "dance" in result.stderr
    assert not (tmp_path / "x").exists()


def test_another_day_of_the_same_person_marked_as_a_same_day_repeat(tmp_path):
    first, again = tmp_path / "first", tmp_path / "again"
    day = ("--scenario", "seated-ir", "--seed", "3", "--duration", "8")
    assert hiprot("simulate", *day, "--out", str(first)).returncode == 0
    result = hiprot(
        "simulate", *day, "--session", "2", "--start-utc", "2026-01-05T09:30:00",
        "--repeat-of", "first", "--out", str(again),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    meta = json.loads((again / "session.json").read_text())
    assert meta["repeat_of"] == "first" and meta["start_utc"].startswith("2026-01-05T09:30:00")
    assert meta["simulation"]["session"] == 2
    mountings = [json.loads((d / "truth_mounting.json").read_text()) for d in (first, again)]
    assert mountings[0]["right_thigh"]["q_BS"] != mountings[1]["right_thigh"]["q_BS"]  # re-strapped
