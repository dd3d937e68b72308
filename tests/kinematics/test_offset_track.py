"""The walking estimate's heading offset: per straight bout, never its end stride's own noise."""

from __future__ import annotations

import numpy as np

from hiprot.kinematics.angles import _offset_track

RATE = 10.0


def _track(
    offsets_deg: np.ndarray, straight: np.ndarray, rests=(), trend: bool = False
) -> np.ndarray:
    strides = np.arange(len(offsets_deg), dtype=float) + 0.5
    time_s = np.arange(0.0, len(offsets_deg) + 1.0, 1.0 / RATE)
    values = np.radians(offsets_deg)[straight]
    return np.degrees(
        _offset_track(time_s, strides, straight, values, 0.0, list(rests), trend=trend)
    )


def test_the_end_of_a_walk_is_a_median_of_its_last_strides_not_the_last_stride():
    """A window padded with copies of the last stride makes that stride's noise the estimate
    where a rest then reads the reference (the return-to-zero check)."""
    rng = np.random.default_rng(4)
    offsets = rng.normal(0.0, 1.0, 40)
    offsets[-1] = 5.0  # the last stride's direction is off
    track = _track(offsets, np.ones(40, bool))
    assert abs(track[-1]) < 0.6, track[-1]


def test_a_turn_starts_a_bout_of_its_own():
    """After a turn the sensors' scale errors may have moved the offset (3.6° here): the
    bout after it is estimated from its own strides, the bout before from its own."""
    offsets = np.r_[np.zeros(20), [40.0, 80.0], np.full(8, 3.6)]
    straight = np.r_[np.ones(20, bool), [False, False], np.ones(8, bool)]
    track = _track(offsets, straight)
    time_s = np.arange(len(track)) / RATE
    np.testing.assert_allclose(track[time_s <= 19.5], 0.0, atol=1e-9)
    np.testing.assert_allclose(track[time_s >= 22.5], 3.6, atol=1e-9)


def test_a_drifting_offset_is_followed_to_the_walks_end_and_wobble_is_not_a_trend():
    """The pelvis sensor's offset drifting 0.2 °/s through a 19-stride walk (the two modules'
    gyroscope scale errors): a window's median at the walk's end sits half a window back,
    about 1.5° short; the significant line reaches the end. Stride-to-stride wobble without
    drift stays a median."""
    rng = np.random.default_rng(7)
    drift = 0.2 * (np.arange(19) + 0.5) + rng.normal(0.0, 0.1, 19)
    straight = np.ones(19, bool)
    assert abs(_track(drift, straight)[-1] - 3.7) > 1.0
    assert abs(_track(drift, straight, trend=True)[-1] - 3.7) < 0.3
    wobble = rng.normal(0.0, 1.5, 19)
    np.testing.assert_array_equal(_track(wobble, straight, trend=True), _track(wobble, straight))
