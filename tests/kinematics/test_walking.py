"""Walking: hip IR and knee flexion against the truth, and no drift over 10 minutes (issue #5)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from simulated import processed, target_rig

from hiprot.evaluation.angles import angle_errors
from hiprot.processing import process_session
from hiprot.recording import Session
from hiprot.samples import ImuSamples
from hiprot.sim import simulate


@pytest.mark.parametrize("seed", [1, 2])
def test_thigh_and_shank_only(seed):
    truth, result = processed("walk", seed, duration_s=120.0)
    errors = angle_errors(result.angles.time_s, result.angles.columns, truth)
    assert errors["right_hip_ir_deg"].rmse <= 5.0  # relative to the walking direction
    assert errors["right_knee_flexion_deg"].rmse <= 3.0
    assert any("relative to the direction of walking" in note for note in result.angles.notes)


@pytest.mark.parametrize("seed", [1, 2])
def test_with_a_pelvis_sensor(seed):
    truth, result = processed("walk", seed, pelvis=True, duration_s=120.0)
    errors = angle_errors(result.angles.time_s, result.angles.columns, truth)
    assert errors["right_hip_ir_deg"].rmse <= 3.0
    assert errors["right_knee_flexion_deg"].rmse <= 3.0
    assert errors["right_hip_flexion_deg"].rmse <= 5.0
    assert errors["right_hip_adduction_deg"].rmse <= 5.0


def test_ten_minutes_of_walking_do_not_drift():
    truth, result = processed("walk", 3, pelvis=True, duration_s=600.0)
    time_s = result.angles.time_s
    ir = result.angles.columns["right_hip_ir_deg"]
    error = ir - np.interp(time_s, truth.time_s, truth.truth_deg["right_hip_ir_deg"])
    minutes = [error[(time_s >= 60 * m) & (time_s < 60 * (m + 1))] for m in range(10)]
    rmse = [np.sqrt(np.mean(e**2)) for e in minutes]
    assert max(rmse) <= 3.0, rmse
    assert abs(np.mean(minutes[-1]) - np.mean(minutes[1])) <= 1.0, "the error must not grow"
    assert (
        abs(
            angle_errors(time_s, {"right_hip_ir_deg": ir}, truth)[
                "right_hip_ir_deg"
            ].trend_deg_per_min
        )
        < 0.1
    )


def test_a_cheap_chip_with_a_large_gyro_bias_is_calibrated_and_accurate():
    """MPU-6050s with their datasheet bias (up to ±20 °/s per axis), timed by their FIFO
    as acquisition times them: the standing phase is still found, the bias estimated."""
    rig = target_rig("walk", 2)
    rig = replace(
        rig,
        sensors=tuple(replace(s, chip="mpu6050") for s in rig.sensors),
        simulation=replace(rig.simulation, gyro_bias_deg_s=None, duration_s=60.0),
    )
    truth = simulate(rig)
    biases = [np.degrees(np.abs(e.gyro_bias_rad_s)).max() for e in truth.errors.values()]
    assert max(biases) > 10.0  # the test is about a bias far beyond the better chips'
    fifo_timed = {
        name: ImuSamples(truth.time_s, s.acc, s.gyr, s.mag) for name, s in truth.samples.items()
    }
    result = process_session(Session(Path("mpu6050"), rig, {}, fifo_timed))
    assert result.calibration is not None, result.warnings
    errors = angle_errors(result.angles.time_s, result.angles.columns, truth)
    assert errors["right_hip_ir_deg"].rmse <= 5.0
    assert errors["right_knee_flexion_deg"].rmse <= 3.0
