"""The measurement model obeys physics: gravity at rest, gyro integrates to the true orientation,
the accelerometer is the mounting point's acceleration, mirror images measure mirror images."""

from __future__ import annotations

import numpy as np
import pytest
from sim_helpers import integrate_gyro, make_rig

from hiprot import quat
from hiprot.sim import simulate
from hiprot.sim.mounting import REFLECT_S
from hiprot.units import STANDARD_GRAVITY as GRAVITY


@pytest.fixture(scope="module")
def walk():
    """16 s: 5 s standing, then more than 10 s of walking, five sensors at 200 Hz."""
    return simulate(make_rig("walk", legs=("left", "right"), pelvis=True, seed=11, duration_s=16))


def test_sensor_at_rest_reads_plus_g_on_its_up_axis():
    rig = make_rig("seated-ir", pelvis=True, mounting_max_deg=0, seed=2)
    sim = simulate(rig, duration_s=4)
    for name, clean in sim.clean.items():
        # Mounted without an extra rotation, every sensor's x axis points up its segment;
        # quiet standing tilts the body by a few tenths of a degree (0.05 m/s² ~ 0.3°).
        np.testing.assert_allclose(clean.acc.mean(axis=0), [GRAVITY, 0, 0], atol=0.05, err_msg=name)


def test_at_rest_with_any_mounting_gravity_is_along_the_true_up_axis(walk):
    still = walk.time_s < 4.5
    for name, clean in walk.clean.items():
        up_s = quat.rotate(quat.conjugate(walk.q_ES(name)[still]), [0.0, 0.0, 1.0])
        # Quiet standing sways by a few millimetres: a few hundredths of m/s² beside gravity.
        np.testing.assert_allclose(clean.acc[still], GRAVITY * up_s, atol=0.1, err_msg=name)
        # Quiet standing sways by a fraction of a degree: ~1 °/s, under rest thresholds of ~2 °/s.
        assert 0 < np.abs(clean.gyr[still]).max() < 0.03, name


def test_integrating_the_gyro_reproduces_the_true_orientation_over_10_s_of_walking(walk):
    dt = 1.0 / walk.params["sample_rate_hz"]
    start = np.searchsorted(walk.time_s, 6.0)
    assert walk.time_s[-1] - walk.time_s[start] >= 9.99
    for name, clean in walk.clean.items():
        q_true = walk.q_ES(name)[start:]
        # Sample k is the mean rate over the interval ending at time_s[k].
        q_integrated = integrate_gyro(q_true[0], clean.gyr[start + 1 :], dt)
        error_deg = quat.angle_deg(quat.multiply(quat.conjugate(q_true), q_integrated))
        assert error_deg.max() < 0.5, name
        fastest = np.degrees(np.abs(clean.gyr[start:]).max())
        assert fastest > (20 if name == "pelvis" else 100), name


def test_accelerometer_is_the_second_derivative_of_the_mounting_point(walk):
    dt = 1.0 / walk.params["sample_rate_hz"]
    for name, clean in walk.clean.items():
        p = walk.position_E[name]
        accel_e = (p[2:] - 2 * p[1:-1] + p[:-2]) / dt**2  # at samples 1 .. n-2
        force_s = quat.rotate(quat.conjugate(walk.q_ES(name)[1:-1]), accel_e + [0.0, 0.0, GRAVITY])
        interval_mean = 0.5 * (
            force_s[1:] + force_s[:-1]
        )  # over the interval ending at samples 2 .. n-2
        error = clean.acc[2:-1] - interval_mean
        dynamic = np.linalg.norm(clean.acc - clean.acc.mean(axis=0), axis=1).max()
        assert dynamic > 3.0, name
        assert np.sqrt(np.mean(error**2)) < 0.03, name
        assert np.abs(error).max() < 0.4, name


@pytest.mark.parametrize("scenario", ["walk", "seated-ir", "lunge"])
def test_mirrored_scenarios_give_mirrored_signals(scenario):
    right = simulate(
        make_rig(scenario, legs=("right",), pelvis=True, seed=5, reps=2, sets=1, trials=1),
        duration_s=30,
    )
    left = simulate(
        make_rig(
            scenario, legs=("left",), pelvis=True, seed=5, reps=2, sets=1, trials=1, mirror=True
        ),
        duration_s=30,
    )
    for column in ("hip_ir", "knee_flexion", "hip_flexion", "hip_adduction"):
        np.testing.assert_allclose(
            left.truth_deg[f"left_{column}_deg"], right.truth_deg[f"right_{column}_deg"], atol=1e-9
        )
    for r_name, l_name in (
        ("right_thigh", "left_thigh"),
        ("right_shank", "left_shank"),
        ("pelvis", "pelvis"),
    ):
        r, m = right.clean[r_name], left.clean[l_name]
        # Reflecting the world reflects the sensor: its y axis flips; rates are axial vectors.
        np.testing.assert_allclose(m.acc, r.acc @ REFLECT_S, atol=1e-8, err_msg=l_name)
        np.testing.assert_allclose(m.gyr, -r.gyr @ REFLECT_S, atol=1e-8, err_msg=l_name)
        assert np.abs(r.gyr).max() > 0.2
    assert [(e.time_s, e.event) for e in left.events] == [(e.time_s, e.event) for e in right.events]
    assert {e.side for e in left.events} <= {"left", "both"}


def test_same_seed_same_session_other_seed_other_session():
    rig = make_rig("walk", legs=("right",), pelvis=True, seed=7, duration_s=10)
    first, again = simulate(rig), simulate(rig)
    other = simulate(make_rig("walk", legs=("right",), pelvis=True, seed=8, duration_s=10))
    for name in first.samples:
        for field in ("time_s", "acc", "gyr"):
            np.testing.assert_array_equal(
                getattr(first.samples[name], field), getattr(again.samples[name], field)
            )
        assert not np.allclose(first.samples[name].gyr, other.samples[name].gyr)
    np.testing.assert_array_equal(
        first.truth_deg["right_hip_ir_deg"], again.truth_deg["right_hip_ir_deg"]
    )
    assert first.events == again.events
    assert not np.allclose(first.mounting["right_thigh"].q_BS, other.mounting["right_thigh"].q_BS)


def test_adding_a_sensor_leaves_the_others_unchanged():
    alone = simulate(make_rig("walk", legs=("right",), seed=4, duration_s=8))
    more = simulate(make_rig("walk", legs=("left", "right"), pelvis=True, seed=4, duration_s=8))
    for name in alone.samples:
        np.testing.assert_array_equal(alone.samples[name].gyr, more.samples[name].gyr)


def test_soft_tissue_turns_the_thigh_sensor_on_the_bone_without_changing_the_truth():
    rigid = simulate(make_rig("walk", legs=("right",), seed=13, duration_s=14))
    skin = simulate(make_rig("walk", legs=("right",), seed=13, duration_s=14, soft_tissue_deg=8))
    np.testing.assert_array_equal(
        rigid.truth_deg["right_hip_ir_deg"], skin.truth_deg["right_hip_ir_deg"]
    )
    on_bone = quat.multiply(quat.conjugate(rigid.q_ES("right_thigh")), skin.q_ES("right_thigh"))
    assert 4 < quat.angle_deg(on_bone).max() < 9
    dt = 1.0 / 200
    q_integrated = integrate_gyro(
        skin.q_ES("right_thigh")[0], skin.clean["right_thigh"].gyr[1:], dt
    )
    error = quat.angle_deg(quat.multiply(quat.conjugate(skin.q_ES("right_thigh")), q_integrated))
    assert error.max() < 0.5


@pytest.mark.parametrize("rate_hz", [50, 100])
def test_gyro_integration_holds_at_lower_rates(rate_hz):
    sim = simulate(make_rig("walk", legs=("right",), rate_hz=rate_hz, seed=11, duration_s=16))
    start = np.searchsorted(sim.time_s, 6.0)
    q_true = sim.q_ES("right_shank")[start:]
    q_integrated = integrate_gyro(
        q_true[0], sim.clean["right_shank"].gyr[start + 1 :], 1.0 / rate_hz
    )
    assert quat.angle_deg(quat.multiply(quat.conjugate(q_true), q_integrated)).max() < 0.5
