"""Samples at full scale: at the chip's set range, or on a flat maximum of data recorded
elsewhere; never in quantised data that is merely still."""

from __future__ import annotations

import numpy as np

from hiprot.samples import ImuSamples
from hiprot.saturation import DRIVER_FULL_SCALE, FullScale, saturation_counts

G = 9.80665


def test_at_the_chips_range():
    t = np.arange(0, 2, 0.01)
    acc = np.tile([0.0, 0.0, G], (len(t), 1))
    acc[50:60, 1] = -16 * G  # ten samples clipped at −16 g
    gyr = np.zeros((len(t), 3))
    gyr[100:105, 0] = np.radians(32767 / 16.4)  # an int16 gyroscope's last count at ±2000 °/s
    gyr[110:112, 0] = np.radians(1900)  # fast, not at full scale
    counts = saturation_counts(ImuSamples(t, acc, gyr), DRIVER_FULL_SCALE)
    assert counts == {"acc": 10, "gyr": 5}


def test_a_flat_maximum_counts_without_a_stated_range():
    """±2 g accelerometer counts as a dataset stores them: int16 / 16384 × g, clipped."""
    t = np.arange(0, 4, 1 / 58.8)
    swing = 3.5 * np.sin(2 * np.pi * t)  # g, beyond ±2 g twice a second
    counts = np.clip(np.round(swing * 16384), -32768, 32767)
    acc = np.column_stack([counts / 16384 * G, np.zeros_like(t), np.full_like(t, G)])
    clipped = int(np.sum(np.abs(swing) >= 32767 / 16384))
    found = saturation_counts(ImuSamples(t, acc, np.zeros((len(t), 3))), FullScale(None, None))
    assert found["acc"] >= clipped - 1 and found["acc"] > 20
    assert found["gyr"] == 0


def test_still_quantised_data_is_not_saturated():
    rng = np.random.default_rng(3)
    raw = np.round(rng.normal([0, 0, 16384], 2, (2000, 3)))  # a still ±2 g chip: a few counts
    acc = raw / 16384 * G
    gyr = np.round(rng.normal(0, 2, (2000, 3))) / 16.4
    samples = ImuSamples(np.arange(2000) / 100, acc, np.radians(gyr))
    assert saturation_counts(samples, FullScale(None, None)) == {"acc": 0, "gyr": 0}
