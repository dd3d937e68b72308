"""The accelerometer correction leaves an ideal accelerometer alone: one gravity value everywhere."""

from __future__ import annotations

import numpy as np

from hiprot.calibration import accelerometer
from hiprot.samples import ImuSamples
from hiprot.units import STANDARD_GRAVITY


def test_an_ideal_accelerometer_at_rest_in_six_poses_needs_no_correction():
    """Drivers and simulator report 1 g as standard gravity; the sphere fit must aim at the
    same value, or it rescales a perfect sensor (by 0.03 % when it assumed 9.81 m/s²)."""
    rate = 100.0
    poses = np.vstack([np.eye(3), -np.eye(3)]) * STANDARD_GRAVITY
    acc = np.repeat(poses, int(2 * rate), axis=0)
    samples = ImuSamples(np.arange(len(acc)) / rate, acc, np.zeros_like(acc))
    correction = accelerometer.estimate(samples, rate, max_bias_dps=2.0)
    assert correction.rests == 6
    np.testing.assert_allclose(correction.scale, 1.0, atol=1e-5)
    np.testing.assert_allclose(correction.offset_m_s2, 0.0, atol=1e-4)
