"""The walking direction without a pelvis sensor: straight along a straight bout."""

from __future__ import annotations

import numpy as np

from hiprot.kinematics.walking import straight_path

RATE = 10.0
WOBBLE = np.array([1.2, -0.8, 0.3, -1.4, 0.9, -0.2, 1.3, -0.9, 1.0, -1.2])  # a hip's, ±1.4°


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


def test_each_bout_between_turns_is_its_own_line():
    """Two wobbling straight bouts 90° apart, joined by two turning strides: each bout is
    straightened at its own heading, and the turn is followed, not flattened."""
    walk = np.r_[WOBBLE, [30.0, 60.0], 90.0 + WOBBLE]
    straight = np.r_[np.ones(10, bool), [False, False], np.ones(10, bool)]
    path = _path(walk, straight)
    np.testing.assert_allclose(path[:10], 0.0, atol=0.6)
    np.testing.assert_allclose(path[12:], 90.0, atol=0.6)
    assert 25.0 < path[10] < path[11] < 65.0


def test_a_rest_splits_the_lines_and_a_bout_too_short_for_one_is_left_alone():
    """Walks at 0° and 10° with a rest between (samples 5.5-6.5 s): neither line leans
    towards the other walk. Two straight strides between turns are too few for a line."""
    walk = np.r_[WOBBLE[:6], 10.0 + WOBBLE[:6]]
    rests = [(55, 65)]
    path = _path(walk, np.ones(12, bool), rests)
    np.testing.assert_allclose(path[:5], 0.0, atol=0.8)
    np.testing.assert_allclose(path[7:], 10.0, atol=0.8)
    walk = np.r_[[0.0, 3.0], [40.0], 80.0 + WOBBLE[:4]]
    straight = np.r_[[True, True], [False], np.ones(4, bool)]
    path = _path(walk, straight)
    np.testing.assert_allclose(path[:2], walk[:2], atol=1e-9)
    np.testing.assert_allclose(path[3:], 80.0, atol=1.0)
