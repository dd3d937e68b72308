"""The shared geometry helpers: wrapping, yaw rotations and circular means."""

from __future__ import annotations

import numpy as np
import pytest

from hiprot import quat
from hiprot.geometry import UP, X_AXIS, Y_AXIS, circular_mean, wrap, yaw


def test_wrap_keeps_angles_within_half_a_turn_and_the_same_direction():
    angle = np.array([0.0, 3.5, -3.5, 7.0, 2 * np.pi, -np.pi / 2])
    wrapped = wrap(angle)
    assert np.all((wrapped > -np.pi) & (wrapped <= np.pi))
    np.testing.assert_allclose(np.exp(1j * wrapped), np.exp(1j * angle))
    np.testing.assert_allclose(wrap([3.5, -np.pi / 2]), [3.5 - 2 * np.pi, -np.pi / 2])


def test_yaw_turns_about_the_vertical_counter_clockwise():
    q = yaw(np.array([np.pi / 2, 0.0]))
    np.testing.assert_allclose(quat.rotate(q[0], X_AXIS), Y_AXIS, atol=1e-12)
    np.testing.assert_allclose(quat.rotate(q, UP), [UP, UP], atol=1e-12)
    np.testing.assert_allclose(q[1], quat.IDENTITY)


def test_circular_mean_crosses_the_wrap_and_follows_the_weights():
    mean = circular_mean(np.array([np.pi - 0.1, -np.pi + 0.1]))
    assert abs(wrap(mean - np.pi)) < 1e-9  # not 0, as the arithmetic mean would say
    assert circular_mean(np.array([0.0, 1.0]), np.array([1.0, 0.0])) == pytest.approx(0.0)
    assert circular_mean(np.array([0.2, 0.4])) == pytest.approx(0.3)


def test_shared_axes_cannot_be_changed_by_accident():
    with pytest.raises(ValueError):
        UP[0] = 1.0
