"""Timing from timestamps: jitter, dropped samples, gaps, repeated stamps."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from synthetic import heading_deg, samples_for

from hiprot import quat
from hiprot.fusion import FILTER_CLASSES, make_filter
from hiprot.fusion.timeline import StepPlanner
from hiprot.samples import ImuSamples

RATE = 200.0
TILT = Rotation.from_euler("X", 20, degrees=True)


def _irregular_times(duration_s: float, seed: int) -> np.ndarray:
    """A 200 Hz clock that jitters by ±30 %, drops a fifth of its samples and stalls for 0.2 s."""
    rng = np.random.default_rng(seed)
    t = np.arange(0, duration_s, 1 / RATE)
    t = t + rng.uniform(-0.3, 0.3, len(t)) / RATE
    keep = rng.random(len(t)) > 0.2
    keep[(t > 2.3) & (t < 2.5)] = False
    keep[0] = True
    return np.sort(t[keep])


@pytest.mark.parametrize("name", list(FILTER_CLASSES))
def test_a_turn_on_an_irregular_clock_integrates_over_the_true_time(name):
    """Turning 90°/s about the vertical for 2 s on a jittery, dropping clock turns exactly 180°."""
    t = _irregular_times(4.0, seed=1)
    angle = np.radians(90.0) * np.clip(t - 1.0, 0.0, 2.0)
    path = Rotation.from_rotvec(np.outer(angle, [0, 0, 1])) * TILT
    samples = samples_for(t, path, noise=0.0005, seed=2)
    q = make_filter(name, RATE).update(samples)
    turned = (heading_deg(q[-1]) - heading_deg(q[0]) + 360.0) % 360.0
    assert turned == pytest.approx(180.0, abs=1.0)


def test_nominal_rate_alone_would_get_that_turn_wrong():
    """The same turn timed by sample count instead of timestamps misses by tens of degrees."""
    t = _irregular_times(4.0, seed=1)
    angle = np.radians(90.0) * np.clip(t - 1.0, 0.0, 2.0)
    path = Rotation.from_rotvec(np.outer(angle, [0, 0, 1])) * TILT
    samples = samples_for(t, path, noise=0.0005, seed=2)
    by_count = ImuSamples(np.arange(len(t)) / RATE, samples.acc, samples.gyr)
    q = make_filter("vqf", RATE).update(by_count)
    turned = (heading_deg(q[-1]) - heading_deg(q[0]) + 360.0) % 360.0
    assert abs(turned - 180.0) > 20.0


def test_dropped_samples_change_the_orientation_little():
    """A fifth of the samples dropped and a 0.1 s stall in smooth motion (up to 110°/s): the
    orientation at the kept timestamps stays within half a degree of the full stream's."""
    t_full = np.arange(0, 12, 1 / RATE)
    angle = np.radians(25) * (1 - np.cos(2 * np.pi * 0.7 * (t_full - 3))) * (t_full > 3)
    path = Rotation.from_rotvec(np.outer(angle, [0.6, 0.0, 0.8])) * TILT
    full = samples_for(t_full, path, noise=0.001, seed=3)
    rng = np.random.default_rng(4)
    keep = rng.random(len(t_full)) > 0.2
    keep[(t_full > 6.0) & (t_full < 6.1)] = False
    keep[0] = True
    q_full = make_filter("vqf", RATE).update(full)[keep]
    q_kept = make_filter("vqf", RATE).update(full[keep])
    error = quat.angle_deg(quat.multiply(q_kept, quat.conjugate(q_full)))
    assert error.max() < 0.5


@pytest.mark.parametrize("name", list(FILTER_CLASSES))
def test_after_a_long_gap_the_filter_relevels_at_once(name):
    """The sensor is tilted by 35° while no sample arrives for 3 s: the first sample after
    the gap already has the right inclination; the gap is counted."""
    t = np.concatenate([np.arange(0, 5, 1 / RATE), np.arange(8, 10, 1 / RATE)])
    tilt_after = Rotation.from_euler("Y", 35, degrees=True) * TILT
    path = Rotation.concatenate([TILT if ti < 6 else tilt_after for ti in t])
    samples = samples_for(t, path, noise=0.0005, seed=5)
    samples.gyr[t >= 8] = samples.gyr[t < 5][: np.sum(t >= 8)]  # no rotation is measured
    orientation = make_filter(name, RATE)
    q = orientation.update(samples)
    after = int(np.searchsorted(t, 8.0))
    up_true = tilt_after.apply([0, 0, 1], inverse=True)
    up_est = quat.rotate(quat.conjugate(q[after]), np.array([0.0, 0.0, 1.0]))
    assert np.degrees(np.arccos(np.clip(up_true @ up_est, -1, 1))) < 1.0
    assert orientation.gaps == 1


def test_repeated_and_backward_timestamps_make_no_step():
    t = np.arange(0, 2, 1 / RATE)
    samples = samples_for(t, Rotation.from_rotvec(np.outer(t, [0, 0, 1])), seed=6)
    stamps = samples.time_s.copy()
    stamps[100] = stamps[99]  # repeated
    stamps[200] = stamps[150]  # backwards
    jumbled = ImuSamples(stamps, samples.acc, samples.gyr)
    q = make_filter("vqf", RATE).update(jumbled)
    np.testing.assert_array_equal(q[100], q[99])
    np.testing.assert_array_equal(q[200], q[199])
    assert np.isfinite(q).all()


def test_planner_steps_for_jitter_and_gaps():
    """The plan: one step per sample on time, k interpolated steps over a gap, none for a repeat."""
    planner = StepPlanner(step_s=0.01, max_gap_s=0.25)
    t = np.array([0.0, 0.011, 0.02, 0.05, 0.05, 0.5])
    gyr = np.column_stack([np.arange(6.0), np.zeros(6), np.zeros(6)])
    steps = planner.plan(ImuSamples(t, np.tile([0, 0, 9.81], (6, 1)), gyr))
    assert steps.sample_end.tolist() == [1, 2, 3, 6, 6, 7]
    assert steps.restart.tolist() == [False] * 6 + [True]
    assert steps.gaps == 1
    # jitter: the gyro is scaled so that rate × step spans the true interval
    assert steps.gyr[1, 0] == pytest.approx(1.0 * 0.011 / 0.01)
    assert steps.gyr[2, 0] == pytest.approx(2.0 * 0.009 / 0.01)
    # the 30 ms gap before sample 3 becomes 3 steps interpolating from sample 2 to 3
    assert steps.gyr[3:6, 0] == pytest.approx([2 + 1 / 3, 2 + 2 / 3, 3.0])
    # a chunk boundary changes nothing
    again = StepPlanner(step_s=0.01, max_gap_s=0.25)
    samples = ImuSamples(t, np.tile([0, 0, 9.81], (6, 1)), gyr)
    parts = [again.plan(samples[i : i + 1]) for i in range(6)]
    np.testing.assert_array_equal(np.concatenate([p.gyr for p in parts]), steps.gyr)
