"""The default filter meets the targets on real BROAD data: the subset in ``tests/data/broad/``
(four trials, one per kind of motion and disturbance; its README gives the figures on the full
set beside those on the subset)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from synthetic import BROAD, broad_trials

from hiprot.config import FusionConfig
from hiprot.evaluation.broad import errors, load_trial
from hiprot.fusion import make_filter


@pytest.fixture(scope="module")
def trials():
    return [load_trial(p) for p in broad_trials()]


def _mean_errors(trials, use_mag: bool):
    fusion = FusionConfig(use_magnetometer=use_mag)
    found = []
    for trial in trials:
        orientation = make_filter(fusion, trial.rate_hz, magnetometer=True)
        found.append(errors(orientation.update(trial.samples), trial))
    return (np.mean([e.inclination_deg for e in found]), np.mean([e.heading_deg for e in found]))


# The subset's trials and where each crop starts in the original trial (scripts/broad_subset.py).
SUBSET = {
    "01_undisturbed_slow_rotation_A": 5370,
    "10_undisturbed_slow_translation_A": 6229,
    "21_undisturbed_fast_combined": 6093,
    "33_disturbed_attached_magnet_2cm": 8893,
}
RATE_HZ = 285.714
REST_BEFORE_S, LENGTH_S = 15.0, 75.0


def test_the_subset_holds_the_documented_trials_cropped_around_their_first_movement(trials):
    assert [t.name for t in trials] == list(SUBSET)
    readme = (BROAD / "README.md").read_text()
    for trial, path in zip(trials, broad_trials()):
        assert f"`{trial.name}`" in readme
        with np.load(path) as data:
            assert int(data["source_first_sample"]) == SUBSET[trial.name]
            assert {data[k].dtype for k in ("imu_acc", "imu_gyr", "imu_mag", "opt_quat")} == {
                np.dtype(np.float64)
            }
        assert trial.rate_hz == pytest.approx(RATE_HZ, abs=1e-3)
        assert len(trial.samples) == round(LENGTH_S * trial.rate_hz)
        assert np.flatnonzero(trial.movement)[0] == round(REST_BEFORE_S * trial.rate_hz)
        assert trial.q_opt.shape == (len(trial.samples), 4)
        known = ~np.isnan(trial.q_opt).any(axis=1)
        assert known.mean() > 0.9
        np.testing.assert_allclose(np.linalg.norm(trial.q_opt[known], axis=1), 1.0, atol=1e-6)


def test_default_filter_6d_inclination_within_one_degree(trials):
    inclination, _ = _mean_errors(trials, use_mag=False)
    assert inclination <= 1.0


def test_default_filter_9d_heading_within_three_degrees(trials):
    inclination, heading = _mean_errors(trials, use_mag=True)
    assert heading <= 3.0
    assert inclination <= 1.0


@pytest.mark.parametrize("name", ["madgwick", "mahony", "ekf"])
def test_ahrs_filters_are_usable_on_a_real_trial(trials, name):
    """Every offered filter stays within a few degrees over 5 s of rest and 20 s of motion."""
    trial = trials[0]
    start = int(np.flatnonzero(trial.movement)[0] - 5 * trial.rate_hz)
    part = slice(start, start + int(25 * trial.rate_hz))
    part = dataclasses.replace(
        trial, samples=trial.samples[part], q_opt=trial.q_opt[part], movement=trial.movement[part]
    )
    six = errors(make_filter(name, part.rate_hz).update(part.samples), part)
    nine = errors(
        make_filter(FusionConfig(name, True), part.rate_hz, True).update(part.samples), part
    )
    assert six.inclination_deg < 2.0
    assert nine.inclination_deg < 2.0 and nine.heading_deg < 6.0
