"""Gyroscope bias estimated at rest: a still sensor with a 1°/s bias does not drift."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from synthetic import samples_for, still

from hiprot import quat
from hiprot.fusion import FILTER_CLASSES, RestBiasEstimator, make_filter

RATE = 200.0
BIAS = np.radians([1.0, -0.7, 1.0])  # rad/s; z is the axis no accelerometer can correct
POSE = Rotation.from_euler("ZYX", [40, 15, -25], degrees=True)


def _heading_change_deg(q: np.ndarray) -> float:
    """Change of heading between first and last orientation (about earth z)."""
    q_rel = quat.multiply(q[-1], quat.conjugate(q[0]))
    return float(np.degrees(2 * np.arctan2(abs(q_rel[3]), abs(q_rel[0]))))


@pytest.fixture(scope="module")
def still_sensor():
    t = np.arange(0, 30, 1 / RATE)
    return samples_for(t, still(t, POSE), gyr_bias=BIAS, noise=0.003, seed=4)


@pytest.mark.parametrize("name", list(FILTER_CLASSES))
def test_still_sensor_with_gyro_bias_does_not_drift(still_sensor, name):
    orientation = make_filter(name, RATE)
    q = orientation.update(still_sensor)
    assert np.degrees(np.linalg.norm(orientation.bias_ - BIAS)) < 0.05
    assert orientation.rest_[-1] and not orientation.rest_[0]
    # uncorrected, 30 s at 1°/s about a tilted z would turn the heading by tens of degrees
    assert _heading_change_deg(q) < 2.0
    late = slice(int(10 * RATE), None)
    assert _heading_change_deg(q[late]) < 0.3


def test_estimator_rest_flags_and_bias_on_still_then_moving_then_still():
    t = np.arange(0, 20, 1 / RATE)
    angle = np.radians(60) * np.sin(2 * np.pi * 0.5 * (t - 5)) * ((t > 5) & (t < 11))
    path = Rotation.from_rotvec(np.outer(angle, [1.0, 0.0, 0.0])) * POSE
    samples = samples_for(t, path, gyr_bias=BIAS, noise=0.003, seed=5)
    estimator = RestBiasEstimator(1 / RATE)
    bias, rest = estimator.update(samples.gyr, samples.acc)
    assert not rest[: int(1.4 * RATE)].any()  # needs 1.5 s of stillness first
    assert rest[int(2.0 * RATE) : int(5.0 * RATE)].all()
    assert not rest[int(5.5 * RATE) : int(11.0 * RATE)].any()
    assert rest[int(15.5 * RATE) :].all()  # the low-pass settles, then 1.5 s still
    assert np.allclose(bias[0], 0.0)  # nothing known before the first rest
    moving = slice(int(5.5 * RATE), int(11.0 * RATE))
    assert np.ptp(bias[moving], axis=0).max() == 0.0  # held while moving
    assert np.degrees(np.abs(bias[int(4.9 * RATE)] - BIAS)).max() < 0.05
    assert np.degrees(np.abs(estimator.bias_ - BIAS)).max() < 0.05


def test_slow_steady_rotation_is_not_taken_for_bias():
    """Turning at 5°/s about the vertical is motion, not bias (beyond the 2°/s clip)."""
    t = np.arange(0, 20, 1 / RATE)
    path = Rotation.from_rotvec(np.outer(np.radians(5.0) * t, [0, 0, 1])) * POSE
    samples = samples_for(t, path, noise=0.003, seed=6)
    estimator = RestBiasEstimator(1 / RATE)
    _, rest = estimator.update(samples.gyr, samples.acc)
    assert not rest.any()
    assert np.allclose(estimator.bias_, 0.0)
