"""Each realism claim of hiprot.sim.realism shows in what the modules measure, never in the truth."""

from __future__ import annotations

import numpy as np
import pytest
from sim_helpers import integrate_gyro, make_rig

from hiprot import quat
from hiprot.anatomy import joint_angles
from hiprot.config import SimulationConfig
from hiprot.sim import realism, simulate
from hiprot.sim.realism import REALISTIC, draw_day, effort_sd_deg, realism_of
from hiprot.sim.scenarios import reach_deg


def _sensor_hip_rotation(sim, side: str) -> np.ndarray:
    """Hip IR as the pelvis and thigh modules see it (their true orientations, mounting removed)."""
    q_pelvis = quat.multiply(sim.q_ES("pelvis"), quat.conjugate(sim.mounting["pelvis"].q_BS))
    q_thigh = quat.multiply(
        sim.q_ES(f"{side}_thigh"), quat.conjugate(sim.mounting[f"{side}_thigh"].q_BS)
    )
    return joint_angles(quat.multiply(quat.conjugate(q_pelvis), q_thigh), side)[:, 2]


def test_realistic_is_the_default_and_technical_turns_everything_off():
    assert SimulationConfig().realism == "realistic"
    assert realism_of(SimulationConfig()) == REALISTIC
    technical = realism_of(SimulationConfig(realism="technical", knee_varus_deg=2.0))
    assert technical.soft_tissue_attenuation == 0 and not technical.person_variation
    assert technical.knee_varus_deg == 2.0, "a key set explicitly overrides the preset"


def test_the_thigh_module_misses_part_of_the_femurs_axial_rotation_but_the_truth_does_not():
    rig = make_rig("seated-ir", pelvis=True, trials=1, seed=3, compensation=False)
    sim = simulate(rig)
    truth = sim.truth_deg["right_hip_ir_deg"]
    seen = _sensor_hip_rotation(sim, "right")
    peak = np.argmax(truth)
    start = np.searchsorted(
        sim.time_s, [e.time_s for e in sim.events if e.event == "trial_start"][0]
    )
    assert truth[peak] > 35, "the truth is the bones' full rotation"
    # 30 % attenuation (Fiorentino et al. 2017), seated from the start of the trial.
    attenuated = (truth[peak] - truth[start]) * (1 - realism.STA_ATTENUATION)
    assert seen[peak] - seen[start] == pytest.approx(attenuated, abs=1.0)


def test_the_skin_wobbles_after_heel_strike_and_the_gyro_still_integrates_to_it():
    sim = simulate(make_rig("walk", seed=4, duration_s=14))
    rigid = simulate(make_rig("walk", seed=4, duration_s=14, soft_tissue_wobble_deg=0.0))
    on_skin = quat.multiply(quat.conjugate(rigid.q_ES("right_thigh")), sim.q_ES("right_thigh"))
    wobble = quat.angle_deg(on_skin)
    strike = [e.time_s for e in sim.events if e.event == "heel_strike" and e.side == "right"][3]
    after = (sim.time_s > strike) & (sim.time_s < strike + 0.1)
    later = (sim.time_s > strike + 0.3) & (sim.time_s < strike + 0.4)
    assert wobble[after].max() > 0.5 and wobble[later].max() < 0.05
    q_integrated = integrate_gyro(
        sim.q_ES("right_thigh")[0], sim.clean["right_thigh"].gyr[1:], 0.005
    )
    error = quat.angle_deg(quat.multiply(quat.conjugate(sim.q_ES("right_thigh")), q_integrated))
    assert error.max() < 0.5


def test_the_knee_screws_home_and_goes_into_varus_as_it_flexes():
    sim = simulate(make_rig("walk", seed=2, duration_s=14))
    knee = sim.joint_deg["right_knee"]
    flexed = knee[:, 0] > 50
    straight = np.abs(knee[:, 0]) < 3
    assert np.all(knee[flexed, 2] > 8) and np.all(np.abs(knee[straight, 2]) < 1.5)
    assert np.all(knee[flexed, 1] > 2.5)


def test_people_differ_in_their_gait_rotation_and_pelvis_but_not_within_a_person():
    drawn = [realism.draw_individual(seed, REALISTIC) for seed in range(2000)]
    anteversion = [person.hip_rotation_offset_deg["right"] for person in drawn]
    assert np.std(anteversion) == pytest.approx(realism.ANTEVERSION_SD_DEG, rel=0.1)
    expected, walked = [], []
    for seed in range(1, 7):
        sim = simulate(make_rig("walk", legs=("right",), pelvis=True, seed=seed, duration_s=20))
        person = sim.params["person"]
        walking = sim.time_s > 9
        walked.append(np.mean(sim.joint_deg["right_hip"][walking, 2]))
        expected.append(
            person["hip_rotation_offset_deg_by_side"]["right"]
            - person["pelvis_rotation_offset_deg"]
        )
        again = simulate(make_rig("walk", legs=("right",), seed=seed, duration_s=8, session=3))
        assert again.params["person"] == person, "the same person on another day"
    assert np.corrcoef(expected, walked)[0, 1] > 0.95


def test_a_constant_pelvic_rotation_turns_the_hips_while_the_femurs_walk_straight():
    sim = simulate(make_rig("walk", legs=("right",), pelvis=True, seed=6, duration_s=30))
    offset = sim.params["person"]["pelvis_rotation_offset_deg"]
    walking = sim.time_s > 10
    pelvis = np.mean(sim.joint_deg["pelvis"][walking, 2])
    thigh_vs_hip = np.mean(
        sim.joint_deg["right_thigh_heading"][walking, 2] - sim.joint_deg["right_hip"][walking, 2]
    )
    assert abs(offset) > 1
    assert pelvis == pytest.approx(offset, abs=0.5)
    assert thigh_vs_hip == pytest.approx(offset, abs=1.0)


def test_the_pelvis_compensates_in_the_seated_and_prone_tests():
    for scenario in ("seated-ir", "prone-ir"):
        sim = simulate(make_rig(scenario, legs=("right",), pelvis=True, trials=1, seed=3))
        truth = sim.truth_deg["right_hip_ir_deg"]
        thigh = sim.joint_deg["right_thigh_heading"][:, 2]
        peak = np.argmax(truth)
        assert thigh[peak] - truth[peak] > 0.05 * truth[peak], scenario


def test_a_hip_short_of_ir_in_gait_turns_the_pelvis():
    free = simulate(make_rig("walk", pelvis=True, seed=7, duration_s=20, ir_max_deg=40))
    stiff = simulate(make_rig("walk", pelvis=True, seed=7, duration_s=20, ir_max_deg=4))
    walking = free.time_s > 9
    assert (
        np.ptp(stiff.joint_deg["pelvis"][walking, 2])
        > np.ptp(free.joint_deg["pelvis"][walking, 2]) + 1.0
    )


def test_session_to_session_the_seated_ir_result_varies_with_the_published_sem():
    # The session-variation model alone: mean of 3 trial peaks, many sessions of one hip.
    rng = np.random.default_rng(0)
    results = []
    for session in range(4000):
        day = draw_day(1, session, REALISTIC)
        results.append(np.mean([reach_deg(40.0, day.effort_deg["right"], rng) for _ in range(3)]))
    assert effort_sd_deg() > 1.5
    assert np.std(results) == pytest.approx(5.4 / (1.96 * np.sqrt(2)), abs=0.1)


def test_a_new_session_restraps_the_modules_and_changes_the_day():
    first = simulate(make_rig("seated-ir", seed=2, trials=1, session=1), duration_s=12)
    second = simulate(make_rig("seated-ir", seed=2, trials=1, session=2), duration_s=12)
    assert not np.allclose(first.mounting["right_thigh"].q_BS, second.mounting["right_thigh"].q_BS)
    assert first.params["day"] != second.params["day"]


@pytest.mark.parametrize("scenario", ["squat", "stairs", "fidget", "walk-pauses"])
def test_new_scenarios_run_and_keep_the_hip_unrotated_where_no_test_is_done(scenario):
    sim = simulate(make_rig(scenario, legs=("right",), pelvis=True, seed=1, reps=2, sets=1))
    assert sim.duration_s > 20
    if scenario != "walk-pauses":
        assert np.abs(sim.truth_deg["right_hip_ir_deg"]).max() < 3
    events = {e.event for e in sim.events}
    expected = {
        "squat": "rep_start",
        "stairs": "foot_on_step",
        "fidget": "fidget_start",
        "walk-pauses": "stand_start",
    }[scenario]
    assert expected in events


def test_a_hip_restricted_to_zero_reaches_no_ir_in_the_test_and_compensates_in_gait():
    seated = simulate(
        make_rig("seated-ir", legs=("right",), seed=5, trials=2, ir_max_deg=0, er_max_deg=30)
    )
    effort = abs(seated.params["day"]["effort_deg_by_side"]["right"])
    assert seated.truth_deg["right_hip_ir_deg"].max() < effort + 1.5
    walk = simulate(make_rig("walk", pelvis=True, seed=5, duration_s=16, ir_max_deg=0))
    walking = walk.time_s > 8
    assert walk.truth_deg["right_hip_ir_deg"][walking].max() < 3.0
