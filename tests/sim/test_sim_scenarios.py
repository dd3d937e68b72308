"""Scenario truths: calibration first, the person's IR range honoured, events where they belong."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import find_peaks
from sim_helpers import ankle_of, heading_components, make_rig, segment_origin

from hiprot import quat
from hiprot.columns import PELVIS_SEGMENT
from hiprot.sim import simulate

SWAY_DEG = 1.0  # the pelvis' angles in standing sway (the joints stay at zero)


def events_of(sim, name: str, side: str | None = None) -> np.ndarray:
    return np.array(
        [e.time_s for e in sim.events if e.event == name and (side is None or e.side == side)]
    )


def truth_at(sim, column: str, times: np.ndarray) -> np.ndarray:
    return sim.truth_deg[column][np.searchsorted(sim.time_s, times)]


@pytest.mark.parametrize("scenario", ["walk", "seated-ir", "prone-ir", "exercise", "lunge"])
def test_every_scenario_starts_standing_still_with_all_angles_zero(scenario):
    sim = simulate(
        make_rig(scenario, legs=("left", "right"), pelvis=True, still_s=3.5, seed=3), duration_s=12
    )
    assert events_of(sim, "calibration_start")[0] == 0.0
    assert events_of(sim, "calibration_end")[0] == pytest.approx(3.5)
    still = sim.time_s <= 3.5
    for column, values in sim.truth_deg.items():
        # joints exactly at zero; the pelvis' angles against the vertical and the walking
        # direction follow the standing sway of the whole body (well under a degree)
        limit = SWAY_DEG if column in PELVIS_SEGMENT else 1e-6
        assert np.abs(values[still]).max() < limit, column
    assert max(np.abs(values).max() for values in sim.truth_deg.values()) > 20, (
        "moves after calibrating"
    )
    for name, clean in sim.clean.items():
        assert np.abs(clean.gyr[still]).max() < 0.03, name  # sway, under rest thresholds of ~2 °/s


@pytest.mark.parametrize("scenario", ["seated-ir", "prone-ir", "exercise", "lunge"])
def test_after_standing_three_knee_bends_define_the_knee_axes(scenario):
    sim = simulate(
        make_rig(scenario, legs=("left", "right"), pelvis=True, still_s=4, seed=3), duration_s=16
    )
    start, end = events_of(sim, "calibration_move_start"), events_of(sim, "calibration_move_end")
    assert list(start) == [4.0] and list(end) == [pytest.approx(4.0 + 3 * 2 * 1.2)]
    assert [e.side for e in sim.events if e.event.startswith("calibration_move")] == [
        "both",
        "both",
    ]
    bends = (sim.time_s >= start[0]) & (sim.time_s <= end[0])
    for side in ("left", "right"):
        knee, hip = (
            sim.truth_deg[f"{side}_knee_flexion_deg"],
            sim.truth_deg[f"{side}_hip_flexion_deg"],
        )
        peaks, _ = find_peaks(knee[bends], height=60)
        assert len(peaks) == 3 and np.all(np.abs(knee[bends][peaks] - 70) < 3)
        assert np.all(np.abs(hip[bends][peaks] - 40) < 3)
        assert np.ptp(ankle_of(sim, side)[bends], axis=0).max() < 0.01, "feet planted"
        for segment in ("thigh", "shank"):
            rate = np.linalg.norm(sim.clean[f"{side}_{segment}"].gyr[bends], axis=1)
            assert rate.max() > np.radians(40), "a clear rotation of each segment"
    after = (sim.time_s > end[0] + 0.6) & (sim.time_s < end[0] + 2.0)
    joints = [v for k, v in sim.truth_deg.items() if k not in PELVIS_SEGMENT]
    assert max(np.abs(v[after]).max() for v in joints) < 1e-6, "standing again"
    pelvis = [v for k, v in sim.truth_deg.items() if k in PELVIS_SEGMENT]
    assert max(np.abs(v[after]).max() for v in pelvis) < SWAY_DEG, "standing again, swaying"


@pytest.mark.parametrize("scenario", ["walk", "seated-ir"])
def test_calibration_moves_can_be_left_out_and_walking_needs_none(scenario):
    plain = simulate(
        make_rig(scenario, legs=("right",), calibration_moves="none", seed=3), duration_s=14
    )
    bending = simulate(make_rig(scenario, legs=("right",), seed=3), duration_s=14)
    assert not any(e.event.startswith("calibration_move") for e in plain.events)
    if scenario == "walk":
        assert plain.events == bending.events  # walking defines the knee axes by itself
        np.testing.assert_array_equal(
            plain.samples["right_shank"].gyr, bending.samples["right_shank"].gyr
        )
    else:
        # Without them the person sits down (knees to 90°) right after standing still.
        soon = (plain.time_s > 5.0) & (plain.time_s < 9.0)
        assert plain.truth_deg["right_knee_flexion_deg"][soon].max() > 80
        end = events_of(bending, "calibration_move_end")[0]
        assert bending.truth_deg["right_knee_flexion_deg"][bending.time_s <= end].max() < 75


@pytest.mark.parametrize("scenario", ["seated-ir", "prone-ir"])
def test_rotation_tests_reach_the_persons_range_and_tell_restricted_from_normal(scenario):
    peaks = {}
    for ir_max in (15.0, 40.0):
        sim = simulate(
            make_rig(
                scenario,
                legs=("right",),
                pelvis=True,
                ir_max_deg=ir_max,
                er_max_deg=35.0,
                trials=3,
                seed=9,
            )
        )
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
    sim = simulate(
        make_rig(
            "seated-ir",
            legs=("left", "right"),
            ir_max_deg=40.0,
            left_ir_max_deg=15.0,
            trials=2,
            seed=6,
        )
    )
    left = truth_at(sim, "left_hip_ir_deg", events_of(sim, "ir_peak", "left"))
    right = truth_at(sim, "right_hip_ir_deg", events_of(sim, "ir_peak", "right"))
    assert left.max() < 16.5 and right.min() > 35


def test_walking_has_normal_cadence_variability_toe_off_and_turns():
    sim = simulate(
        make_rig("walk", legs=("left", "right"), cadence_spm=110, turn_every_m=8, seed=12),
        duration_s=90,
    )
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


def in_turns(sim) -> np.ndarray:
    """Which samples lie inside a turn."""
    inside = np.zeros(len(sim.time_s), dtype=bool)
    for start, end in zip(events_of(sim, "turn_start"), events_of(sim, "turn_end")):
        inside |= (sim.time_s >= start) & (sim.time_s <= end)
    return inside


def test_restricted_hip_walks_with_less_internal_rotation():
    peaks = {}
    for ir_max in (15.0, 40.0):
        sim = simulate(
            make_rig("walk", legs=("right",), pelvis=True, ir_max_deg=ir_max, seed=2), duration_s=40
        )
        straight = ~in_turns(sim)  # turning rotates the stance hip further (see the turn test)
        peaks[ir_max] = np.percentile(sim.truth_deg["right_hip_ir_deg"][straight], 99)
    assert 3 < peaks[15.0] < peaks[40.0] - 0.5
    assert peaks[40.0] < 12, "gait uses a small part of the hip's rotation range"


def foot_flat(sim, side: str, start: float = 0.10, end: float = 0.45) -> list[np.ndarray]:
    """Sample indices of each foot-flat span of ``side`` (by default 10-45 % of its gait cycle)."""
    strikes = events_of(sim, "heel_strike", side)
    return [
        np.flatnonzero((sim.time_s >= a + start * (b - a)) & (sim.time_s <= a + end * (b - a)))
        for a, b in zip(strikes[:-1], strikes[1:])
    ]


@pytest.fixture(scope="module")
def long_walk():
    """40 s of walking with two turns, both legs and a pelvis sensor."""
    return simulate(make_rig("walk", legs=("left", "right"), pelvis=True, seed=1), duration_s=40)


def test_the_stance_ankle_stays_where_it_landed_from_foot_flat_to_heel_off(long_walk):
    sim = long_walk
    assert len(events_of(sim, "turn_start")) == 2
    dt = 1.0 / sim.params["sample_rate_hz"]
    for side in ("left", "right"):
        ankle = ankle_of(sim, side)
        velocity = heading_components(sim, np.gradient(ankle, dt, axis=0))  # forward, sideways, up
        spans = foot_flat(sim, side)
        assert len(spans) >= 25
        for span in spans:
            assert np.abs(velocity[span]).max() < 0.05, (side, sim.time_s[span[0]])
            assert np.ptp(ankle[span], axis=0).max() < 0.015, (side, sim.time_s[span[0]])
        swing = foot_flat(sim, side, 0.70, 0.85)
        assert min(np.abs(velocity[span, 0]).max() for span in swing) > 1.5, (
            "the same ankle swings through"
        )


def test_the_pelvis_sways_over_the_stance_foot_and_rises_at_mid_stance(long_walk):
    sim = long_walk
    straight = ~in_turns(sim)
    pelvis = segment_origin(sim, "pelvis")
    ankles = {side: ankle_of(sim, side) for side in ("left", "right")}
    dt = 1.0 / sim.params["sample_rate_hz"]
    strikes = events_of(sim, "heel_strike", "right")
    sway, rise, width = [], [], []
    for a, b in zip(strikes[2:-3], strikes[3:-2]):
        stride = np.flatnonzero((sim.time_s >= a) & (sim.time_s < b))
        if not np.all(straight[stride]):
            continue
        direction = (pelvis[stride[-1]] - pelvis[stride[0]])[:2]
        forward = np.append(direction / np.linalg.norm(direction), 0.0)
        left = np.array([-forward[1], forward[0], 0.0])
        lateral = (pelvis[stride] - pelvis[stride[0]]) @ left
        speed = np.gradient(pelvis[stride], dt, axis=0) @ forward
        mid_stance = np.searchsorted(sim.time_s[stride], a + 0.3 * (b - a))
        sway.append(np.ptp(lateral))
        rise.append(np.ptp(pelvis[stride, 2]))
        width.append(
            (ankles["left"][stride[mid_stance]] - ankles["right"][stride[mid_stance]]) @ left
        )
        assert pelvis[stride[mid_stance], 2] - pelvis[stride[0], 2] > 0.015, (
            "up from heel strike to mid-stance"
        )
        assert lateral[mid_stance] < np.percentile(lateral, 20), (
            "over the right foot at its mid-stance"
        )
        assert 0.75 < speed.min() and speed.max() < 1.45
    assert len(sway) >= 10
    # Orendurff et al. (2004) at ~1.1 m/s: ~5.5 cm of sway, ~3.5 cm of rise and fall.
    assert 0.04 < np.median(sway) < 0.07 and 0.025 < np.median(rise) < 0.05
    assert 0.04 < np.median(width) < 0.12, "step width between the ankle centres"


def test_the_stance_hip_rotates_when_the_body_turns_over_the_planted_foot():
    # The turn model alone (technical realism): a person's own rotation offset and pelvic
    # rotation would move the hip beyond the half range checked below.
    sim = simulate(
        make_rig("walk", legs=("left", "right"), pelvis=True, seed=1, realism="technical"),
        duration_s=40,
    )
    dt = 1.0 / sim.params["sample_rate_hz"]
    forward = quat.rotate(sim.q_E_segment["pelvis"], [1.0, 0.0, 0.0])
    heading = np.degrees(np.unwrap(np.arctan2(forward[:, 1], forward[:, 0])))
    turning = in_turns(sim)
    checked = 0
    for side, sign in (("left", 1.0), ("right", -1.0)):
        rotation = sim.truth_deg[f"{side}_hip_ir_deg"]
        for span in foot_flat(sim, side):
            turned = heading[span[-1]] - heading[span[0]]
            if not np.all(turning[span]) or abs(turned) < 20:
                continue
            # Turning toward the planted leg (left turn on the left foot) rotates its hip internally.
            assert (
                sign * np.sign(turned) * (rotation[span[-1]] - rotation[span[0]])
                > 0.15 * abs(turned) - 2.5
            )
            checked += 1
        assert np.abs(rotation).max() < 20, "within half of the passive range of 40°"
    assert checked >= 4
    assert np.abs(np.diff(heading)).max() / dt > 60, "turns of 180° in 2.5 s"


@pytest.mark.parametrize("scenario", ["exercise", "lunge"])
def test_exercises_have_the_configured_reps_sets_and_range(scenario):
    sim = simulate(
        make_rig(
            scenario,
            legs=("right",),
            pelvis=True,
            reps=5,
            sets=2,
            rest_s=5,
            rep_range_deg=25.0,
            seed=8,
        )
    )
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
    longer = simulate(
        make_rig("seated-ir", legs=("right",), trials=1, seed=1), duration_s=full.duration_s + 10
    )
    assert len(longer.events) == len(full.events)
    assert np.abs(longer.truth_deg["right_hip_ir_deg"][-1000:]).max() < 2


@pytest.mark.parametrize("scenario", ["seated-ir", "prone-ir"])
def test_the_foot_swings_outward_in_internal_rotation(scenario):
    # A pure-hinge knee (technical realism): the knee's varus with flexion moves the foot too.
    sim = simulate(
        make_rig(scenario, legs=("left", "right"), trials=1, seed=2, realism="technical")
    )
    lateral_world = {
        "right": np.array([0.0, -1.0, 0.0]),
        "left": np.array([0.0, 1.0, 0.0]),
    }  # facing +x
    for side in ("left", "right"):
        for event, outward in (("ir_peak", 1.0), ("er_peak", -1.0)):
            k = np.searchsorted(sim.time_s, events_of(sim, event, side)[0])
            knee_to_ankle = quat.rotate(sim.q_E_segment[f"{side}_shank"][k], [0.0, -1.0, 0.0])
            rotation = sim.truth_deg[f"{side}_hip_ir_deg"][k]
            assert outward * rotation > 25
            assert knee_to_ankle @ lateral_world[side] == pytest.approx(
                np.sin(np.radians(rotation)), abs=0.03
            )


def test_walking_direction_truth_differs_from_the_hip_by_the_pelvis_rotation():
    # The normative pelvis alone (technical realism); a person's constant pelvic rotation is
    # tested in test_sim_realism.py.
    sim = simulate(
        make_rig("walk", legs=("right",), pelvis=True, seed=5, realism="technical"), duration_s=30
    )
    walking = sim.time_s > 8
    hip = sim.joint_deg["right_hip"][walking, 2]
    heading = sim.joint_deg["right_thigh_heading"][walking, 2]
    difference = heading - hip
    assert 2 < np.abs(difference).max() < 8, "the pelvis rotates ±4° in gait"


def test_the_guided_session_waits_for_each_prompt_holding_still():
    """Test, exercises, re-test, standing up: four prompts, each followed by a still wait; the
    blocks' trials and repetitions in between; standing at the end as at the start."""
    from hiprot.sim.scenarios import PROMPT_WAIT_S

    rig = make_rig("guided", legs=("left", "right"), rate_hz=100, trials=1, sets=1, reps=2)
    sim = simulate(rig)
    prompts = events_of(sim, "prompt")
    assert len(prompts) == 4
    assert len(events_of(sim, "trial_start")) == 2 * 2  # both legs, test and re-test
    assert len(events_of(sim, "rep_start")) == 2 * 2  # both legs, two reps
    trials, reps = events_of(sim, "trial_start"), events_of(sim, "rep_start")
    assert prompts[0] < trials[:2].min() and trials[:2].max() < prompts[1] < reps.min()
    assert reps.max() < prompts[2] < trials[2:].min() and trials[2:].max() < prompts[3]
    for prompt in prompts:  # the wait: no event, no movement beyond a standing person's sway
        inside = [e for e in sim.events if prompt < e.time_s < prompt + PROMPT_WAIT_S]
        assert not inside, inside
        wait = (sim.time_s >= prompt) & (sim.time_s <= prompt + PROMPT_WAIT_S)
        for column, values in sim.truth_deg.items():
            assert np.ptp(values[wait]) < 3.0, (prompt, column)
    end = sim.time_s >= sim.time_s[-1] - 1.0
    for column, values in sim.truth_deg.items():
        assert np.abs(values[end]).max() < 1.0, column  # standing again
