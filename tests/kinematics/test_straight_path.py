"""The walking direction without a pelvis sensor: straight along a straight bout."""

from __future__ import annotations

import numpy as np

from hiprot.kinematics.walking import straight_path

RATE = 10.0


def _path(walk_deg: np.ndarray, straight: np.ndarray, rests=()) -> np.ndarray:
    """``walk_deg`` per stride (one a second), held through each stride, through
    :func:`straight_path` with a 30-s window; per stride again."""
    strides = np.arange(len(walk_deg), dtype=float) + 0.5
    time_s = np.arange(0.0, len(walk_deg), 1.0 / RATE)
    walk = np.radians(walk_deg)[(time_s).astype(int)]
    out = straight_path(time_s, walk, strides, straight, list(rests), 30.0)
    return np.degrees(np.interp(strides, time_s, out))


def test_a_stride_s_wobble_is_the_hip_s_and_a_drift_is_followed():
    """Stride-mean headings wobbling ±1° about a line drifting 0.05°/s: the path is the line,
    at the walk's last stride too (where a rest inherits it)."""
    rng = np.random.default_rng(3)
    line = 0.05 * (np.arange(20) + 0.5)
    walk = line + rng.normal(0.0, 1.0, 20)
    path = _path(walk, np.ones(20, bool))
    assert np.abs(path - line).max() < 0.6, np.abs(path - line).max()
    assert np.abs(walk - line).max() > 1.5  # the wobble it removed


def test_a_turn_is_followed_and_each_bout_is_its_own_line():
    """Two straight bouts 90° apart, joined by turning strides: each bout stays at its own
    heading and the turn's strides are not flattened."""
    walk = np.r_[np.zeros(10), [30.0, 60.0], np.full(10, 90.0)]
    straight = np.r_[np.ones(10, bool), [False, False], np.ones(10, bool)]
    path = _path(walk, straight)
    np.testing.assert_allclose(path, walk, atol=1e-9)


def test_a_bout_too_short_for_a_line_and_one_across_a_rest_are_left_alone():
    """Two strides between turns are too few for a line; a rest splits a walk in two."""
    walk = np.r_[[0.0, 3.0], [40.0], [80.0, 81.0, 79.0, 80.0]]
    straight = np.r_[[True, True], [False], [True, True, True, True]]
    path = _path(walk, straight)
    np.testing.assert_allclose(path[:2], walk[:2], atol=1e-9)
    rests = [(25, 35)]  # samples 2.5-3.5 s: the walk stops there
    walk = np.r_[[0.0, 0.0, 0.0], np.full(3, 10.0)]
    path = _path(walk, np.ones(6, bool), rests)
    np.testing.assert_allclose(path, walk, atol=1e-9)
