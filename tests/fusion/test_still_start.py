"""A cheap gyroscope's large bias: known from the still start, not hidden by timestamp jitter."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from synthetic import heading_deg, samples_for, still

from hiprot.fusion import FILTER_CLASSES, make_filter
from hiprot.fusion.still_start import StillStart
from hiprot.fusion.timeline import StepPlanner
from hiprot.samples import ImuSamples

RATE = 200.0
TILT = Rotation.from_euler("XY", [80, 10], degrees=True)  # a thigh module on its side
BIAS_DPS = np.array([18.0, -15.0, 12.0])  # within the MPU-6050's ±20 °/s
MPU6050_BOUND_DPS = 30.0


def _standing(duration_s: float, seed: int) -> ImuSamples:
    t = np.arange(0, duration_s, 1 / RATE)
    return samples_for(t, still(t, TILT), gyr_bias=np.radians(BIAS_DPS), noise=0.001, seed=seed)


@pytest.mark.parametrize("name", list(FILTER_CLASSES))
def test_a_large_bias_turns_no_heading_while_standing(name):
    """Standing 3 s with an MPU-6050's bias: the heading stays within half a degree (a zero
    starting bias would turn it by the bias until the first rest is confirmed, 1.5 s: 20°)."""
    orientation = make_filter(name, RATE, max_bias_dps=MPU6050_BOUND_DPS)
    q = orientation.update(_standing(3.0, seed=1))
    turned = (heading_deg(q) - heading_deg(q[0]) + 180.0) % 360.0 - 180.0
    assert np.abs(turned).max() < 0.5
    np.testing.assert_allclose(np.degrees(orientation.bias_), BIAS_DPS, atol=0.2)


def test_jittered_timestamps_do_not_hide_rest():
    """Read times late by |N(0, 0.5 ms)| (the simulator's default, 10 % of a sample interval)
    on a chip with a bias of 20 °/s: VQF still finds the standing sensor at rest."""
    samples = _standing(5.0, seed=2)
    rng = np.random.default_rng(3)
    samples.time_s = samples.time_s + np.abs(rng.normal(0, 0.0005, len(samples)))
    orientation = make_filter("vqf", RATE, max_bias_dps=MPU6050_BOUND_DPS)
    orientation.update(samples)
    assert orientation.rest_[-int(2 * RATE) :].all()


def test_a_moving_start_gives_no_starting_bias():
    """A stream that starts turning (30 °/s) is not taken for a bias."""
    t = np.arange(0, 1.0, 1 / RATE)
    turning = Rotation.from_rotvec(np.outer(np.radians(30) * t**2, [0, 0, 1])) * TILT
    start = StillStart(np.radians(MPU6050_BOUND_DPS))
    taken = start.take(samples_for(t, turning, seed=4))
    assert start.done and taken == int(0.5 * RATE) + 1
    assert start.bias is None


def test_the_known_bias_is_not_scaled_with_the_interval():
    """A late sample stretches its step's rate, but not the bias within it."""
    planner = StepPlanner(step_s=0.01)
    planner.bias = np.array([0.3, 0.0, 0.0])
    t = np.array([0.0, 0.012, 0.02])
    gyr = np.array([[0.3, 0.0, 0.0], [0.3, 0.0, 0.0], [1.3, 0.0, 0.0]])
    steps = planner.plan(ImuSamples(t, np.tile([0, 0, 9.81], (3, 1)), gyr))
    assert steps.gyr[:, 0] == pytest.approx([0.3, 0.3, 0.3 + 1.0 * 0.8])
