"""Sensor-to-segment calibration on simulated sessions: mountings found, bad data refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from simulated import processed, target_rig

from hiprot import quat
from hiprot.calibration import calibrate
from hiprot.calibration.accelerometer import rest_means
from hiprot.calibration.leg import gait_sign_score
from hiprot.chip_catalogue import gyro_bias_bound_dps
from hiprot.errors import CalibrationError
from hiprot.processing import process_session
from hiprot.recording import Session
from hiprot.sim import simulate
from hiprot.units import STANDARD_GRAVITY as GRAVITY

# Standing gives the long axis to within the accelerometer offsets (±20 mg: up to ~1.6°), the
# knee axis comes from the hinge fit (~1-1.5° with 2 % gyro scale errors): about 3° at most.
MAX_MOUNTING_ERROR_DEG = 3.5


@pytest.mark.parametrize("scenario", ["walk", "seated-ir", "prone-ir", "exercise"])
@pytest.mark.parametrize("seed", [1, 2])
def test_mounting_rotations_are_found_within_a_few_degrees(scenario, seed):
    truth, result = processed(scenario, seed)
    for name, q_sb in result.calibration.q_sb.items():
        true_q_sb = quat.conjugate(truth.mounting[name].q_BS)
        error = quat.angle_deg(quat.multiply(quat.conjugate(true_q_sb), q_sb))
        assert error < MAX_MOUNTING_ERROR_DEG, f"{name}: {error:.1f}°"
    quality = result.calibration.as_dict()["quality"]
    assert quality["standing"]["duration_s"] >= 2.5
    assert quality["right"]["knee_flexion_range_deg"][1] > 40


def _session(rig, samples):
    return Session(Path("s"), rig, {}, samples)


def test_no_still_standing_phase_nor_steady_walking_is_refused():
    """Without standing and with too few strides to calibrate from walking instead (the last
    5 s of a walk), processing says both; calibration alone asks for standing."""
    rig = target_rig("walk", 3)
    samples = {name: s[s.time_s > 15.0] for name, s in simulate(rig, 20.0).samples.items()}
    result = process_session(_session(rig, samples))
    assert result.angles is None
    assert "no still standing phase" in result.warnings[0]
    assert "steady strides" in result.warnings[0]
    with pytest.raises(CalibrationError, match="stand still with feet forward for at least 3 s"):
        calibrate(rig, result.grid)


def test_no_knee_movement_is_refused():
    rig = target_rig("walk", 3)
    samples = {name: s[s.time_s < 4.5] for name, s in simulate(rig, 20.0).samples.items()}
    result = process_session(_session(rig, samples))
    assert result.angles is None
    assert "walk a few steps or do a few knee bends" in result.warnings[0]
    assert set(result.orientations) == {"right_thigh", "right_shank"}, "orientations are kept"


def test_accelerometer_offsets_come_from_rests_in_several_orientations():
    truth, result = processed("prone-ir", 1)
    for name, correction in result.accelerometer.items():
        assert correction.rests >= 3
        rests = rest_means(
            truth.samples[name],
            truth.params["sample_rate_hz"],
            gyro_bias_bound_dps(target_rig("prone-ir", 1).sensor(name).chip),
        )
        before = np.abs(np.linalg.norm(rests, axis=1) - GRAVITY)
        after = np.abs(
            np.linalg.norm((rests - correction.offset_m_s2) / correction.scale, axis=1) - GRAVITY
        )
        assert after.max() < 0.5 * before.max()
    # the shank is seen upright (standing) and upside down (prone): its offset is well defined
    shank = result.accelerometer["right_shank"]
    true_offset = truth.errors["right_shank"].acc_offset_m_s2
    assert np.linalg.norm(shank.offset_m_s2 - true_offset) < 0.5 * np.linalg.norm(true_offset)


@pytest.mark.parametrize("zero", [0.15, 0.35])
def test_walking_signs_pick_the_knee_where_the_mean_rule_picks_the_sum(zero):
    """A gait cycle's thigh and knee angles (thigh 30° at heel strike, 10° of extension at
    half the cycle; the knee 15° at loading, 60° in swing) zeroed at a stance instant, as a
    calibration from walking zeroes them: the mean-flexion rule standing uses picks a wrong
    pair of signs; the knee-span rule picks the knee, flexing positive."""
    cycle = np.linspace(0, 5, 2000, endpoint=False) % 1.0
    thigh = 10 + 20 * np.cos(2 * np.pi * cycle)
    knee = 5 + 15 * np.exp(-(((cycle - 0.15) / 0.06) ** 2))
    knee += 55 * np.exp(-(((cycle - 0.72) / 0.1) ** 2))
    shank = thigh - knee
    at = int(np.argmin(np.abs(cycle[:400] - zero)))
    right = (thigh - thigh[at]) - (shank - shank[at])
    candidates = {"knee": right, "flipped": -right}
    candidates["sum"] = (thigh - thigh[at]) + (shank - shank[at])
    candidates["flipped sum"] = -candidates["sum"]
    by_mean = max(candidates, key=lambda name: np.mean(candidates[name]))
    assert by_mean != "knee"
    assert max(candidates, key=lambda name: gait_sign_score(candidates[name])) == "knee"
