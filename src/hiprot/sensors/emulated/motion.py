"""The physical motion an emulated chip measures: an ``ImuSamples`` stream read at any time.

Values are SI in the sensor's axes (m/s² specific force, rad/s, µT); between
samples they are interpolated linearly, outside the stream the end values hold.
A shared :class:`Playback` says at which clock time the stream's time 0 plays,
so the motion starts when acquisition starts, not while chips are being set up.
"""

from __future__ import annotations

import numpy as np

from hiprot.samples import ImuSamples
from hiprot.units import STANDARD_GRAVITY


class Playback:
    """The clock time at which motion time 0 plays (set once acquisition has started)."""

    def __init__(self, start_s: float = 0.0):
        self.start_s = start_s
        self.started = False

    def start(self, start_s: float) -> None:
        """Acquisition started at clock time ``start_s``: motion and scheduled faults run from it."""
        self.start_s, self.started = start_s, True


class Motion:
    """Accelerometer, gyroscope and magnetometer truth of one sensor as functions of clock time."""

    def __init__(self, samples: ImuSamples, playback: Playback | None = None):
        if len(samples) == 0:
            raise ValueError("a motion needs at least one sample")
        self.playback = playback or Playback()
        self.time_s = samples.time_s
        mag = samples.mag if samples.mag is not None else np.zeros_like(samples.acc)
        self._values = np.hstack([samples.acc, samples.gyr, mag])

    @classmethod
    def stationary(cls) -> Motion:
        """Lying still, z up: 1 g on +z, no rotation, no field."""
        return cls(ImuSamples([0.0], [[0.0, 0.0, STANDARD_GRAVITY]], [[0.0, 0.0, 0.0]]))

    def at(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(acc, gyr, mag), each (n, 3), at ``times``."""
        times = np.asarray(times, dtype=float) - self.playback.start_s
        if len(self.time_s) == 1:
            values = np.repeat(self._values, len(times), axis=0)
        else:
            right = np.clip(np.searchsorted(self.time_s, times), 1, len(self.time_s) - 1)
            t0, t1 = self.time_s[right - 1], self.time_s[right]
            weight = np.clip((times - t0) / (t1 - t0), 0.0, 1.0)[:, None]
            values = self._values[right - 1] * (1 - weight) + self._values[right] * weight
        return values[:, 0:3], values[:, 3:6], values[:, 6:9]


def to_raw(values: np.ndarray, si_per_lsb: float) -> np.ndarray:
    """Quantise SI values to signed 16-bit counts, saturating at the full scale."""
    return np.clip(np.rint(np.asarray(values) / si_per_lsb), -32768, 32767).astype(np.int16)
