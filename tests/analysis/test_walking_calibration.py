"""A session without a standing phase is calibrated from steady walking (issue #16): its
angles are labelled as resting on an assumed zero, its per-stride hip-IR excursions agree
with a standing calibration's, and it is not compared with standing-calibrated sessions."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hiprot_testing import hiprot_in_process

from hiprot.evaluation.analysis import Scored
from hiprot.kinematics.walk_window import walk_window
from hiprot.processing import process_session
from hiprot.recording import Session
from hiprot.sim import simulate

from .conftest import sim_rig, write_sim


def _without_standing(session, after_s: float) -> None:
    imu = session / "imu.csv"
    lines = imu.read_text().splitlines(keepends=True)
    imu.write_text(lines[0] + "".join(r for r in lines[1:] if float(r.split(",")[0]) > after_s))


def _analyse(session) -> tuple[dict, str]:
    result = hiprot_in_process("analyze", "--no-charts", session)
    assert result.returncode == 0, result.stderr
    return json.loads((session / "analysis" / "report.json").read_text()), result.stdout


def test_a_walk_without_standing_is_calibrated_from_its_strides(tmp_path):
    """The same realistic walk with a pelvis sensor, analysed with its standing phase and
    without it: the second is calibrated from walking, says its zero is assumed, keeps no
    return-to-zero check, says its batch fusion had no still rest to anchor at, and measures
    each stride's hip-IR range as the first does."""
    rig = sim_rig("walk", 2, "both", True, 40.0, realism="realistic")
    standing = write_sim(rig, tmp_path / "standing")
    walking = tmp_path / "walking"
    shutil.copytree(standing, walking)
    _without_standing(walking, 6.0)
    (first, _), (second, summary) = _analyse(standing), _analyse(walking)
    assert "calibration (from walking: zeros assumed):" in summary
    assert first["calibration"]["method"] == "standing"
    assert second["calibration"]["method"] == "walking-only"
    assert second["calibration"]["quality"]["standing"]["duration_s"] == 0.0
    assert any("no still standing phase" in w and "assumed" in w for w in second["warnings"])
    anchored = [any("fusion is not anchored" in w for w in r["warnings"]) for r in (first, second)]
    assert anchored == [False, True]  # no still rest to anchor the batch fusion's bias at
    assert second["return_to_zero"]["rests"] == []
    for side in ("right", "left"):
        ranges = [
            [s["hip_ir_rom_deg"] for s in report["strides"][side] if not s["turning"]]
            for report in (first, second)
        ]
        assert min(len(r) for r in ranges) > 15, side
        assert abs(np.mean(ranges[1]) - np.mean(ranges[0])) < 1.5, side
    compared = hiprot_in_process("analyze", "--no-charts", "--compare", standing, walking)
    assert compared.returncode == 0, compared.stderr
    assert "not comparable" in compared.stdout and "walking-only" in compared.stdout
    over = hiprot_in_process("analyze", "--no-charts", "--history", tmp_path, "--out", tmp_path)
    assert over.returncode == 0, over.stderr
    series = json.loads((tmp_path / "history.json").read_text())["series"]
    by_reference = {}
    for one in series:
        by_reference.setdefault(one["reference"], []).extend(p["session"] for p in one["points"])
    assert set(by_reference) == {"pelvis sensor", "pelvis sensor, calibrated from walking"}
    assert {tuple(set(v)) for v in by_reference.values()} == {("standing",), ("walking",)}


@pytest.fixture(scope="module")
def walk_without_standing():
    """A realistic walk with turns, both legs, no pelvis sensor, its standing cut off (the
    seed whose right knee got the sum of the segments' angles while "up" came from early
    single support: knee flexion 35° RMSE)."""
    rig = sim_rig("walk", 1, "both", False, 40.0, realism="realistic")
    simulation = simulate(rig)
    samples = {name: s[s.time_s > 6.0] for name, s in simulation.samples.items()}
    processed = process_session(Session(Path("s"), rig, {"activity": "walk"}, samples))
    return Scored(simulation, processed, None)


def test_the_knee_from_walking_flexes_as_the_true_knee(walk_without_standing):
    """Its shape is right (a spread of a few degrees about an offset: the knee's flexion in
    late stance, where flexion is zeroed)."""
    scored = walk_without_standing
    angles, truth = scored.processed.angles, scored.sim
    assert scored.processed.calibration.method == "walking-only"
    for side in ("right", "left"):
        column = f"{side}_knee_flexion_deg"
        error = angles.columns[column] - np.interp(
            angles.time_s, truth.time_s, truth.truth_deg[column]
        )
        assert np.nanstd(error) < 5.0, side
        assert -15.0 < np.nanmedian(error) < 0.0, side


def test_the_walk_after_the_strides_calibrated_from_is_anchored_to_them(walk_without_standing):
    """The strides that stood in for standing are no rest: the walking reference is anchored
    to them (a correction fixed), and hip IR keeps the thigh's rotation against the walking
    direction within a few degrees."""
    scored = walk_without_standing
    angles = scored.processed.angles
    for side in ("right", "left"):
        assert len(angles.walk_corrections_deg[side]) == 1, side
        error = angles.columns[f"{side}_hip_ir_deg"] - np.interp(
            angles.time_s, scored.sim.time_s, scored.true_hip_ir(side)
        )
        assert np.sqrt(np.nanmean(error**2)) < 8.0, side


def test_the_strides_calibrated_from_are_straight_and_every_leg_has_its_shank(
    walk_without_standing,
):
    """The window lies between the walk's turns; a leg without its shank gives none (its
    thigh's late stance would be unknown)."""
    scored = walk_without_standing
    grid, rig = scored.processed.grid, scored.processed.rig
    window = walk_window(rig, grid)
    start, end = grid.time_s[window.start], grid.time_s[window.stop - 1]
    turns = zip(scored.true_events("both", "turn_start"), scored.true_events("both", "turn_end"))
    assert not any(start < b and end > a for a, b in turns)
    for late_stance in window.mid_stance.values():  # four or five stances, a fifth of each
        assert len(late_stance) >= 4 * 0.2 * 0.5 * grid.rate_hz
        assert window.start <= late_stance.min() and late_stance.max() < window.stop
    one_shank = replace(rig, sensors=tuple(s for s in rig.sensors if s.name != "left_shank"))
    assert walk_window(one_shank, grid) is None
