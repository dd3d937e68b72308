"""Scenario truths: calibration first, the person's IR range honoured, events where they belong."""

from __future__ import annotations

import numpy as np
import pytest

from hiprot import quat
from hiprot.sim import simulate

from sim_helpers import make_rig


def events_of(sim, name: str, side: str | None = None) -> np.ndarray:
    return np.array([e.time_s for e in sim.events if e.event == name and (side is None or e.side == side)])


def truth_at(sim, column: str, times: np.ndarray) -> np.ndarray:
    return sim.truth_deg[column][np.searchsorted(sim.time_s, times)]


@pytest.mark.parametrize("scenario", ["walk", "seated-ir", "prone-ir", "exercise", "lunge"])
def test_every_scenario_starts_standing_still_with_all_angles_zero(scenario):
    sim = simulate(make_rig(scenario, legs=("left", "right"), pelvis=True, still_s=3.5, seed=3), duration_s=12)
    assert events_of(sim, "calibration_start")[0] == 0.0
    assert events_of(sim, "calibration_end")[0] == pytest.approx(3.5)
    still = sim.time_s <= 3.5
    for column, values in sim.truth_deg.items():
        assert np.abs(values[still]).max() < 1e-6, column
    assert max(np.abs(values).max() for values in sim.truth_deg.values()) > 20, "moves after calibrating"
    for name, clean in sim.clean.items():
        assert np.abs(clean.gyr[still]).max() < 0.03, name  # sway, under rest thresholds of ~2 °/s


@pytest.mark.parametrize("scenario", ["seated-ir", "prone-ir"])
def test_rotation_tests_reach_the_persons_range_and_tell_restricted_from_normal(scenario):
    peaks = {}
    for ir_max in (15.0, 40.0):
        sim = simulate(make_rig(scenario, legs=("right",), pelvis=True, ir_max_deg=ir_max, er_max_deg=35.0,
                                trials=3, seed=9))
        ir_times, er_times = events_of(sim, "ir_peak", "right"), events_of(sim, "er_peak", "right")
        assert len(ir_times) == len(er_times) == 3 == len(events_of(sim, "trial_start", "right"))
        ir = truth_at(sim, "right_hip_ir_deg", ir_times)
        er = -truth_at(sim, "right_hip_ir_deg", er_times)
        assert np.all(ir <= ir_max + 1.5) and np.all(ir >= ir_max - 5.0), ir
        assert np.all(er <= 36.5) and np.all(er >= 30.0), er
        # The peak event sits on the true extreme of its trial.
        trials = zip(events_of(sim, "trial_start", "right"), events_of(sim, "trial_end", "right"))
        for (start, end), peak in zip(trials, ir):
            inside = (sim.time_s >= start) & (sim.time_s <= end)
            assert sim.truth_deg["right_hip_ir_deg"][inside].max() == pytest.approx(peak)
        peaks[ir_max] = ir
    assert peaks[15.0].max() < peaks[40.0].min() - 15


def test_seated_posture_is_hip_flexed_75_knee_90_and_adds_no_rotation():
    sim = simulate(make_rig("seated-ir", legs=("right",), pelvis=True, trials=1, seed=4))
    start = events_of(sim, "trial_start", "right")[0]
    seated = (sim.time_s > start - 2) & (sim.time_s < start + 1)
    assert np.median(sim.truth_deg["right_hip_flexion_deg"][seated]) == pytest.approx(75, abs=1)
    assert np.median(sim.truth_deg["right_knee_flexion_deg"][seated]) == pytest.approx(90, abs=1)
    assert np.abs(sim.truth_deg["right_hip_ir_deg"][seated]).max() < 2


def test_left_hip_can_differ_from_the_right():
    sim = simulate(make_rig("seated-ir", legs=("left", "right"), ir_max_deg=40.0, left_ir_max_deg=15.0,
                            trials=2, seed=6))
    left = truth_at(sim, "left_hip_ir_deg", events_of(sim, "ir_peak", "left"))
    right = truth_at(sim, "right_hip_ir_deg", events_of(sim, "ir_peak", "right"))
    assert left.max() < 16.5 and right.min() > 35


def test_walking_has_normal_cadence_variability_toe_off_and_turns():
    sim = simulate(make_rig("walk", legs=("left", "right"), cadence_spm=110, turn_every_m=8, seed=12),
                   duration_s=90)
    for side in ("left", "right"):
        strikes = events_of(sim, "heel_strike", side)
        strides = np.diff(strikes)
        assert np.median(strides) == pytest.approx(120 / 110, rel=0.03)
        cv = strides[2:-2].std() / strides[2:-2].mean()
        assert 0.01 < cv < 0.04
        toe_offs = events_of(sim, "toe_off", side)
        after = toe_offs[(toe_offs > strikes[0]) & (toe_offs < strikes[-1])]
        k = np.searchsorted(strikes, after) - 1
        stance = (after - strikes[k]) / (strikes[k + 1] - strikes[k])
        assert np.all(np.abs(stance - 0.60) < 0.03)
        knee = sim.truth_deg[f"{side}_knee_flexion_deg"]
        assert 50 < knee.max() < 75
    right, left = events_of(sim, "heel_strike", "right"), events_of(sim, "heel_strike", "left")
    following = left[np.searchsorted(left, right[5])]
    assert (following - right[5]) / (right[6] - right[5]) == pytest.approx(0.5, abs=0.06)
    assert len(events_of(sim, "turn_start")) >= 4
    assert len(events_of(sim, "turn_start")) == len(events_of(sim, "turn_end"))


def test_restricted_hip_walks_with_less_internal_rotation():
    peaks = {}
    for ir_max in (15.0, 40.0):
        sim = simulate(make_rig("walk", legs=("right",), pelvis=True, ir_max_deg=ir_max, seed=2), duration_s=40)
        peaks[ir_max] = np.percentile(sim.truth_deg["right_hip_ir_deg"], 99)
    assert 3 < peaks[15.0] < peaks[40.0] - 0.5
    assert peaks[40.0] < 12, "gait uses a small part of the hip's rotation range"


@pytest.mark.parametrize("scenario", ["exercise", "lunge"])
def test_exercises_have_the_configured_reps_sets_and_range(scenario):
    sim = simulate(make_rig(scenario, legs=("right",), pelvis=True, reps=5, sets=2, rest_s=5,
                            rep_range_deg=25.0, seed=8))
    starts, ends = events_of(sim, "rep_start", "right"), events_of(sim, "rep_end", "right")
    assert len(starts) == len(ends) == 10
    assert np.all(starts < ends) and np.all(ends[:-1] < starts[1:])
    assert len(events_of(sim, "set_start", "right")) == 2
    for start, end in zip(starts, ends):
        inside = (sim.time_s >= start) & (sim.time_s <= end)
        assert sim.truth_deg["right_hip_ir_deg"][inside].max() == pytest.approx(25.0, abs=5.0)
    between = (sim.time_s > ends[4]) & (sim.time_s < starts[5])
    assert np.abs(sim.truth_deg["right_hip_ir_deg"][between]).max() < 3, "a rest between the sets"


def test_lunge_bends_the_front_hip_and_knee_and_turns_the_pelvis():
    sim = simulate(make_rig("lunge", legs=("left", "right"), pelvis=True, reps=2, sets=1, seed=1))
    front = sim.truth_deg["right_hip_flexion_deg"]
    assert 80 < front.max() < 95 and 85 < sim.truth_deg["right_knee_flexion_deg"].max() < 100
    assert sim.truth_deg["left_hip_flexion_deg"].min() < -5, "the rear hip extends"


def test_duration_cuts_or_extends_a_scenario():
    short = simulate(make_rig("seated-ir", legs=("right",), trials=3, seed=1), duration_s=30)
    assert len(short.time_s) == 30 * 200
    assert all(e.time_s <= 30 for e in short.events)
    full = simulate(make_rig("seated-ir", legs=("right",), trials=1, seed=1))
    longer = simulate(make_rig("seated-ir", legs=("right",), trials=1, seed=1), duration_s=full.duration_s + 10)
    assert len(longer.events) == len(full.events)
    assert np.abs(longer.truth_deg["right_hip_ir_deg"][-1000:]).max() < 2


@pytest.mark.parametrize("scenario", ["seated-ir", "prone-ir"])
def test_the_foot_swings_outward_in_internal_rotation(scenario):
    sim = simulate(make_rig(scenario, legs=("left", "right"), trials=1, seed=2))
    lateral_world = {"right": np.array([0.0, -1.0, 0.0]), "left": np.array([0.0, 1.0, 0.0])}  # facing +x
    for side in ("left", "right"):
        for event, outward in (("ir_peak", 1.0), ("er_peak", -1.0)):
            k = np.searchsorted(sim.time_s, events_of(sim, event, side)[0])
            knee_to_ankle = quat.rotate(sim.q_E_segment[f"{side}_shank"][k], [0.0, -1.0, 0.0])
            rotation = sim.truth_deg[f"{side}_hip_ir_deg"][k]
            assert outward * rotation > 25
            assert knee_to_ankle @ lateral_world[side] == pytest.approx(np.sin(np.radians(rotation)), abs=0.03)


def test_walking_direction_truth_differs_from_the_hip_by_the_pelvis_rotation():
    sim = simulate(make_rig("walk", legs=("right",), pelvis=True, seed=5), duration_s=30)
    walking = sim.time_s > 8
    hip = sim.joint_deg["right_hip"][walking, 2]
    heading = sim.joint_deg["right_thigh_heading"][walking, 2]
    difference = heading - hip
    assert 2 < np.abs(difference).max() < 8, "the pelvis rotates ±4° in gait"
