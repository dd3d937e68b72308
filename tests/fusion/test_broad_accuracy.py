"""The default filter meets the issue's targets on the real BROAD data (all eleven trials)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from synthetic import broad_trials

from hiprot.config import FusionConfig
from hiprot.fusion import make_filter
from hiprot.fusion.broad import errors, load_trial


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


def test_there_are_eleven_trials(trials):
    assert len(trials) == 11


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
