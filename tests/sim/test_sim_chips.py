"""The chip error model: datasheet noise, bias within bounds, drift, scale, saturation, magnetometer, jitter."""

from __future__ import annotations

import numpy as np
import pytest
from sim_helpers import make_rig

from hiprot.samples import ImuSamples
from hiprot.sim import simulate
from hiprot.sim.chips import CHIPS, draw_errors, measure
from hiprot.sim.imu import EARTH_FIELD_UT
from hiprot.units import STANDARD_GRAVITY as GRAVITY


@pytest.mark.parametrize("chip", sorted(CHIPS))
def test_noise_and_bias_follow_the_datasheet(chip):
    spec = CHIPS[chip]
    sim = simulate(make_rig("seated-ir", chip=chip, seed=21, still_s=20), duration_s=20)
    for name, measured in sim.samples.items():
        errors = sim.errors[name]
        deviation_gyr = measured.gyr - sim.clean[name].gyr * errors.gyro_scale
        deviation_acc = measured.acc - sim.clean[name].acc * errors.acc_scale
        expected_gyr = np.radians(spec.gyro_noise_dps_rthz) * np.sqrt(100.0)
        expected_acc = spec.acc_noise_ug_rthz * 1e-6 * GRAVITY * np.sqrt(100.0)
        np.testing.assert_allclose(deviation_gyr.std(axis=0), expected_gyr, rtol=0.1)
        np.testing.assert_allclose(deviation_acc.std(axis=0), expected_acc, rtol=0.1)
        assert np.all(np.abs(np.degrees(errors.gyro_bias_rad_s)) <= spec.gyro_zro_dps)
        assert np.all(np.abs(errors.gyro_scale - 1) <= spec.gyro_sensitivity_pct / 100)
        assert np.all(np.abs(errors.acc_offset_m_s2) <= spec.acc_offset_mg * 1e-3 * GRAVITY)


def test_scenario_bounds_replace_the_datasheet_bounds():
    sim = simulate(
        make_rig(
            "walk",
            legs=("left", "right"),
            pelvis=True,
            chip="mpu6050",
            gyro_bias_deg_s=1.0,
            scale_error_pct=2.0,
            seed=3,
        ),
        duration_s=5,
    )
    biases = np.degrees(np.concatenate([e.gyro_bias_rad_s for e in sim.errors.values()]))
    scales = np.concatenate([e.gyro_scale for e in sim.errors.values()])
    assert np.abs(biases).max() <= 1.0 and np.abs(biases).max() > 0.3
    assert np.abs(scales - 1).max() <= 0.02 and np.abs(scales - 1).max() > 0.005


def test_gyro_bias_drifts_as_the_sensor_warms_up():
    spec = CHIPS["mpu6050"]
    errors = draw_errors(spec, np.random.default_rng(1), None, None)
    t = np.arange(0, 900, 0.5)
    still = ImuSamples(t, np.tile([0, 0, GRAVITY], (len(t), 1)), np.zeros((len(t), 3)))
    measured = measure(still, spec, errors, None, 2.0, np.random.default_rng(2))
    drift = measured.gyr[-200:].mean(axis=0) - measured.gyr[:20].mean(axis=0)
    expected = errors.gyro_bias_tempco_rad_s_c * 5.0 * (np.exp(-5 / 300) - np.exp(-900 / 300))
    np.testing.assert_allclose(drift, expected, atol=np.radians(0.02))


def test_outputs_saturate_at_full_scale():
    t = np.arange(3) / 100
    huge = ImuSamples(t, np.full((3, 3), 300.0), np.full((3, 3), -60.0))
    measured = measure(
        huge,
        CHIPS["icm42688"],
        draw_errors(CHIPS["icm42688"], np.random.default_rng(0), 0, 0),
        None,
        100.0,
        np.random.default_rng(0),
    )
    np.testing.assert_allclose(measured.acc, 16 * GRAVITY)
    np.testing.assert_allclose(measured.gyr, -np.radians(2000))


def test_magnetometer_sees_the_earth_field_and_the_configured_disturbance():
    clean = simulate(make_rig("walk", chip="icm20948", seed=4), duration_s=15)
    for samples in clean.clean.values():
        np.testing.assert_allclose(
            np.linalg.norm(samples.mag, axis=1), np.linalg.norm(EARTH_FIELD_UT), rtol=1e-9
        )
    assert simulate(make_rig("walk", seed=4), duration_s=5).samples["right_thigh"].mag is None
    disturbed = simulate(
        make_rig("walk", chip="lsm6dsox", mag_chip="lis3mdl", mag_disturbance_ut=20, seed=4),
        duration_s=15,
    )
    norms = np.linalg.norm(disturbed.clean["right_thigh"].mag, axis=1)
    assert norms.max() - norms.min() > 5
    assert disturbed.samples["right_thigh"].mag is not None


def test_timestamps_jitter_but_increase_and_stay_near_the_sample_instants():
    sim = simulate(
        make_rig("walk", legs=("left", "right"), timestamp_jitter_s=0.001, seed=5), duration_s=10
    )
    for samples in sim.samples.values():
        lag = samples.time_s - sim.time_s
        assert np.all(np.diff(samples.time_s) > 0)
        assert 0 <= lag.min() and lag.max() <= 0.8 / 200 and lag.std() > 1e-4
