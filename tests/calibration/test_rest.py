"""Rest detection: still is still even with a gyroscope bias; movement is not."""

import numpy as np

from hiprot.calibration.rest import first_rest_phase, rest_mask

RATE = 200.0


def test_a_still_sensor_with_a_gyro_bias_is_at_rest_and_turning_is_not():
    rng = np.random.default_rng(0)
    n = 1000
    acc = np.tile([0.3, 9.7, 1.2], (n, 1)) + rng.normal(0, 0.02, (n, 3))
    gyr = np.radians([1.0, -0.8, 0.5]) + rng.normal(0, 0.003, (n, 3))  # 1°/s bias
    gyr[600:] += [0.0, 0.0, 1.0]  # turning at 57°/s from 3 s on
    mask = rest_mask(acc, gyr, RATE)
    assert mask[50:500].all()  # the centred windows (2 × 0.25 s) reach the turn from 500 on
    assert not mask[650:].any()


def test_first_rest_phase_needs_the_minimum_length():
    mask = np.zeros(2000, bool)
    mask[100:400] = True  # 1.5 s
    mask[800:1500] = True  # 3.5 s
    assert first_rest_phase(mask, RATE, 3.0) == (800, 1500)
    assert first_rest_phase(mask, RATE, 1.0) == (100, 400)
    assert first_rest_phase(mask, RATE, 4.0) is None
