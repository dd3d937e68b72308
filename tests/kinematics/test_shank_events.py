"""Gait events from a shank's own signals: a generated walk with known events, in a sensor
mounted any way round, at the rates of hiprot's chips and of a real dataset (58.8 Hz)."""

from __future__ import annotations

import numpy as np
import pytest

from hiprot.kinematics.shank_events import ShankEventDetector, shank_events, swing_axis

STRIDE_S = 1.1
TOE_OFF = 0.6  # toe off at 60 % of the stride, heel strike at 0 %
AXIS = np.array([0.3, -0.9, 0.3]) / np.linalg.norm([0.3, -0.9, 0.3])  # swing positive about it
OTHER = np.array([0.9, 0.3, 0.0]) / np.linalg.norm([0.9, 0.3, 0.0])  # a smaller rotation
G = 9.81


def bump(phase: np.ndarray, centre: float, width: float) -> np.ndarray:
    d = (phase - centre + 0.5) % 1.0 - 0.5
    return np.exp(-0.5 * (d / width) ** 2)


def walk(rate_hz: float, strides: int = 12, impact: bool = True, flip: bool = True):
    """Shank gyroscope (rad/s) and accelerometer (m/s²) of ``strides`` strides after 2 s of
    standing, and the true heel strike and toe off times. Swing is a forward peak between toe
    off and heel strike; toe off is the deepest backward rotation before it; heel strike an
    impact (a jolt of the acceleration) where the forward rotation ends (a real
    shank's impact comes within a sample of it at 58.8 Hz in HuGaDB)."""
    t = np.arange(0, 2.0 + strides * STRIDE_S + 1.0, 1 / rate_hz)
    walking = (t >= 2.0) & (t < 2.0 + (strides + 0.3) * STRIDE_S)  # stops in a stance
    phase = np.where(walking, (t - 2.0) / STRIDE_S % 1.0, 0.0)
    rate = (
        5.0 * bump(phase, 0.80, 0.07)  # mid-swing
        - 2.0 * bump(phase, TOE_OFF, 0.025)  # push-off, deepest at toe off
        - 0.8 * bump(phase, 0.30, 0.12)  # the shank rolling over the foot in stance
        - 1.0 * bump(phase, 0.03, 0.02)  # loading response
    )
    rate[~walking] = 0.0
    # the swing ends where its forward rotation stops: the one fall through zero per stride
    i = np.flatnonzero((rate[:-1] > 0) & (rate[1:] <= 0))
    heel = t[i] + rate[i] / (rate[i] - rate[i + 1]) / rate_hz
    stride = np.where(walking, (t - 2.0) // STRIDE_S, -1)
    toe = np.array(
        [
            t[i][np.argmin(rate[i])]
            for i in (
                np.flatnonzero((stride == k) & (np.abs(phase - TOE_OFF) < 0.1))
                for k in range(strides)
            )
        ]
    )
    side_rate = 0.8 * np.sin(4 * np.pi * phase) * bump(phase, 0.3, 0.12) * walking  # in stance
    gyr = np.outer(rate, AXIS) + np.outer(side_rate, OTHER)
    gyr = (-gyr if flip else gyr) + np.random.default_rng(1).normal(0, 0.02, gyr.shape)
    acc = np.tile([0.0, 0.0, G], (len(t), 1)) + np.outer(np.sin(2 * np.pi * phase), [2, 1, 0])
    if impact:  # a sudden jolt decaying within about 50 ms
        for h in heel:
            after = t >= h
            acc[after, 2] += 40.0 * np.exp(-(t[after] - h) / 0.02)
    return t, gyr, acc, heel, toe


@pytest.mark.parametrize("rate_hz", [58.8, 100.0, 200.0])
def test_swing_axis_found_and_signed_however_the_sensor_sits(rate_hz):
    _, gyr, *_ = walk(rate_hz)  # swing is negative about the sensor's own axes here
    axis = swing_axis(gyr)
    assert axis @ AXIS < -0.99  # the flipped axis: swing positive about it
    assert np.percentile(gyr @ axis, 99) > 4.0


def test_no_axis_when_the_shank_never_turns_fast():
    assert swing_axis(np.random.default_rng(2).normal(0, 0.05, (2000, 3))) is None


@pytest.mark.parametrize("rate_hz", [58.8, 200.0])
def test_heel_strike_at_the_impact_and_toe_off_at_the_minimum_before_the_swing(rate_hz):
    t, gyr, acc, heel, toe = walk(rate_hz)
    rate, events = shank_events(gyr, acc, rate_hz, ShankEventDetector())
    found = events.times(t)
    assert len(heel) == len(toe) == 12
    sample = 1 / rate_hz
    # within a sample, or the 10 ms a 20 Hz low-pass spreads an impact over
    assert np.abs(found["heel_strike"] - heel).max() <= max(sample, 0.010) + 1e-9
    assert np.abs(found["toe_off"] - toe).max() <= sample + 1e-9
    stance = (found["toe_off"][1:] - found["heel_strike"][:-1]) / STRIDE_S
    assert np.allclose(stance, (toe[1:] - heel[:-1]) / STRIDE_S, atol=2 * sample / STRIDE_S)


def test_without_an_impact_heel_strike_follows_the_end_of_the_swing_by_20_ms():
    t, gyr, acc, heel, _ = walk(200.0, impact=False)
    events = shank_events(gyr, acc, 200.0, ShankEventDetector())[1].times(t)
    assert np.allclose(events["heel_strike"], heel + 0.02, atol=0.006)
    no_acc = shank_events(gyr, None, 200.0, ShankEventDetector())[1].times(t)
    assert np.allclose(no_acc["heel_strike"], events["heel_strike"])
