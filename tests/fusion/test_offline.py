"""Batch fusion with VQF's offline variant: the rest after a movement corrects the bias during it."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation
from synthetic import heading_deg, samples_for

from hiprot.chip_catalogue import gyro_drift_bound_dps
from hiprot.fusion import make_filter
from hiprot.fusion.offline import OfflineFusion, offline_orientation, whole_body_rest
from hiprot.samples import ImuSamples

RATE = 200.0
TILT = Rotation.from_euler("XY", [80, 10], degrees=True)  # a thigh module on its side


def _turned(q: np.ndarray, at: np.ndarray, since: np.ndarray) -> float:
    """Mean heading over ``at`` less the mean over ``since`` (degrees)."""
    h = np.unwrap(np.radians(heading_deg(q)))
    return float(np.degrees(h[at].mean() - h[since].mean()))


def _rest_move_rest() -> tuple[ImuSamples, np.ndarray, np.ndarray]:
    """Still 15 s, 40 s of swinging (about the vertical and tilting) that ends where it
    began, still 15 s; the gyroscope bias drifts by 0.5 °/s per axis during the swinging,
    as a strapped sensor's does while it warms."""
    t = np.arange(0.0, 70.0, 1.0 / RATE)
    moving = (t >= 15.0) & (t < 55.0)
    phase = np.where(moving, 2.0 * np.pi * (t - 15.0) / 4.0, 0.0)
    yaw = 40.0 * np.sin(phase)
    pitch = 20.0 * np.sin(2.0 * phase)
    q = Rotation.from_euler("ZY", np.column_stack([yaw, pitch]), degrees=True) * TILT
    samples = samples_for(t, q, noise=0.001, seed=3)
    ramp = np.clip((t - 15.0) / 40.0, 0.0, 1.0)
    samples.gyr[:] += np.radians(0.5) * ramp[:, None]
    return samples, t < 15.0, t >= 57.0


def test_a_bias_that_moved_while_moving_turns_no_heading_offline():
    samples, before, after = _rest_move_rest()
    live = make_filter("vqf", RATE).update(samples)
    batch = offline_orientation(samples, RATE)
    live_turn, batch_turn = _turned(live, after, before), _turned(batch, after, before)
    assert abs(live_turn) > 2.0, live_turn  # the live filter cannot know the bias moved
    assert abs(batch_turn) < 0.5 * abs(live_turn) and abs(batch_turn) < 1.5, batch_turn


def test_a_long_gap_keeps_the_heading_and_the_bias():
    """A gap beyond the bridged 0.25 s splits the stream for the offline variant; the part
    after it starts from the heading the part before ended with (the sensor turned 90° in
    the first part: a part starting afresh would be 90° off) and with its gyroscope bias
    (the part after the gap swings without a rest: a bias it had to find afresh, 1 °/s,
    would turn it by degrees)."""
    rate = 1.0 / RATE
    t = np.concatenate([np.arange(0.0, 12.0, rate), np.arange(13.0, 25.0, rate)])
    turning = np.clip((t - 5.0) / 3.0, 0.0, 1.0) * 90.0  # 5-8 s: a 90° turn about the vertical
    after = t >= 13.0
    swing = np.where(after, 20.0 * np.sin(2.0 * np.pi * (t - 13.0) / 3.0), 0.0)
    q = Rotation.from_euler("ZY", np.column_stack([turning, swing]), degrees=True) * TILT
    samples = samples_for(t, q, gyr_bias=np.radians([1.0, -0.8, 1.0]), noise=0.001, seed=5)
    est = offline_orientation(samples, RATE)
    assert est.shape == (len(t), 4)
    truth = heading_deg(q.as_quat(scalar_first=True))
    error = np.unwrap(np.radians(heading_deg(est) - truth))
    error = np.degrees(error - error[t < 3.0].mean())
    assert np.abs(error[after]).max() < 1.5, np.abs(error[after]).max()


def test_a_slow_turn_while_another_sensor_moves_is_not_taken_for_a_bias():
    """Still 10 s; then for 20 s one sensor swings (as a tested leg) while the other turns
    slowly about the vertical by 10° (0.5 °/s, under the chip's bias bound: a compensating
    pelvis, rest to VQF, whose first pass learns the rate as bias and loses the turn); still
    8 s. The whole body rested only while both were still: the second pass, anchored there
    and accepting as rest only what stays within the chip's drift bound, keeps the turn."""
    t = np.arange(0.0, 38.0, 1.0 / RATE)  # the still after it shorter: the one before anchors
    moving = (t >= 10.0) & (t < 30.0)
    yaw = np.clip((t - 10.0) * 0.5, 0.0, 10.0)
    pelvis = Rotation.from_euler("Z", yaw[:, None], degrees=True) * TILT
    swing = np.where(moving, 30.0 * np.sin(2.0 * np.pi * (t - 10.0) / 2.0), 0.0)
    leg = Rotation.from_euler("X", swing[:, None], degrees=True) * TILT
    bias = np.radians([0.3, -0.2, 0.4])
    fusions = [
        OfflineFusion(samples_for(t, q, gyr_bias=bias, noise=0.001, seed=seed), RATE)
        for seed, q in ((7, pelvis), (8, leg))
    ]
    still = whole_body_rest(fusions)
    assert still is not None and still[1] <= 10.0, still
    before, after = t < 9.0, t >= 32.0
    first_pass = _turned(fusions[0].orientation(), after, before)
    anchored = _turned(
        fusions[0].orientation(still, gyro_drift_bound_dps("icm42688")), after, before
    )
    assert abs(first_pass - 10.0) > 3.0, first_pass  # the slow turn read as bias
    assert abs(anchored - 10.0) < 0.5, anchored


def test_a_rest_is_not_counted_across_a_gap():
    """A still sensor whose stream has a 1-s gap: its rests end at the gap, so the longest
    rest, and with it the anchor, lies after it (a span across the gap would count time in
    which nothing was measured)."""
    rate = 1.0 / RATE
    t = np.concatenate([np.arange(0.0, 5.0, rate), np.arange(6.0, 20.0, rate)])
    q = Rotation.from_euler("Z", np.zeros((len(t), 1)), degrees=True) * TILT
    fusion = OfflineFusion(samples_for(t, q, gyr_bias=np.radians([0.3, -0.2, 0.4]), seed=9), RATE)
    assert len(fusion.parts) == 2
    assert all(end < 5.0 or start >= 6.0 for start, end in fusion.rests()), fusion.rests()
    still = whole_body_rest([fusion])
    assert still is not None and still[0] >= 6.0, still


def test_without_a_shared_rest_the_first_pass_stands():
    """One sensor swings throughout: no span in which every sensor rested, no anchor, and the
    orientation is the first pass's."""
    t = np.arange(0.0, 20.0, 1.0 / RATE)
    swing = 30.0 * np.sin(2.0 * np.pi * t / 2.0)
    swinging = Rotation.from_euler("X", swing[:, None], degrees=True) * TILT
    still = Rotation.from_euler("Z", np.zeros((len(t), 1)), degrees=True) * TILT
    fusions = [
        OfflineFusion(samples_for(t, q, seed=seed), RATE) for seed, q in ((1, still), (2, swinging))
    ]
    assert whole_body_rest(fusions) is None
    drift = gyro_drift_bound_dps("icm42688")
    np.testing.assert_array_equal(fusions[0].orientation(None, drift), fusions[0].orientation())
