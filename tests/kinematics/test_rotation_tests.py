"""Seated and prone hip-rotation tests: peak IR and ER within 2° of the truth (issue #5)."""

from __future__ import annotations

import numpy as np
import pytest
from simulated import processed

from hiprot.evaluation.angles import peak_errors

PEAK_TOLERANCE_DEG = 2.0


@pytest.mark.parametrize("scenario", ["seated-ir", "prone-ir"])
@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("pelvis", [False, True])
def test_peak_rotation_of_every_trial_is_within_two_degrees(scenario, seed, pelvis):
    truth, result = processed(scenario, seed, pelvis)
    peaks = peak_errors(result.angles.time_s, result.angles.columns, truth)
    assert len(peaks) == 6  # three trials, IR and ER each
    for peak in peaks:
        assert abs(peak.error) <= PEAK_TOLERANCE_DEG, peak


@pytest.mark.parametrize("scenario", ["seated-ir", "prone-ir"])
@pytest.mark.parametrize("seed", [3, 4])
def test_a_restricted_hip_is_told_apart_from_a_normal_one(scenario, seed):
    best = {}
    for ir_max in (15.0, 40.0):
        truth, result = processed(scenario, seed, ir_max_deg=ir_max)
        peaks = peak_errors(result.angles.time_s, result.angles.columns, truth)
        best[ir_max] = max(p.estimated_deg for p in peaks if p.event == "ir_peak")
        assert (
            abs(best[ir_max] - max(p.true_deg for p in peaks if p.event == "ir_peak"))
            <= PEAK_TOLERANCE_DEG
        )
    assert best[40.0] - best[15.0] > 15.0


def test_outside_the_test_posture_the_angles_follow_the_truth():
    truth, result = processed("exercise", 1)
    ir = result.angles.columns["right_hip_ir_deg"]
    true = np.interp(result.angles.time_s, truth.time_s, truth.truth_deg["right_hip_ir_deg"])
    after = result.angles.time_s > 6.0
    assert np.sqrt(np.mean((ir[after] - true[after]) ** 2)) < 2.0
