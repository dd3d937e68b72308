"""Orientation per sensor: one stateful filter object per sensor.

``update(samples)`` takes any number of samples (a few live, a whole session
in batch) and returns ``q_ES`` (sensor → earth, z up) for each one.
"""

from __future__ import annotations

import numpy as np
from ahrs.common.orientation import acc2q
from ahrs.filters import EKF, Madgwick, Mahony

from hiprot.errors import ConfigError
from hiprot.samples import ImuSamples


class AhrsFilter:
    """An ``ahrs`` filter stepped per sample with the samples' own time steps."""

    def __init__(self, name: str, rate_hz: float):
        classes = {"madgwick": Madgwick, "mahony": Mahony, "ekf": EKF}
        if name not in classes:
            raise ConfigError(f"unknown fusion filter {name!r}; expected one of {', '.join(classes)}")
        self.name, self.rate_hz = name, rate_hz
        self._filter = classes[name](frequency=rate_hz)
        self._q: np.ndarray | None = None
        self._last_time: float | None = None

    def update(self, samples: ImuSamples) -> np.ndarray:
        """Orientation ``q_ES`` (n, 4) after each sample."""
        out = np.empty((len(samples), 4))
        for i in range(len(samples)):
            t, gyr, acc = samples.time_s[i], samples.gyr[i], samples.acc[i]
            if self._q is None:
                self._q = acc2q(acc)
            else:
                dt = t - self._last_time if self._last_time is not None else 1.0 / self.rate_hz
                if dt <= 0:
                    dt = 1.0 / self.rate_hz
                if self.name == "ekf":
                    self._q = self._filter.update(self._q, gyr, acc, dt=dt)
                else:
                    self._q = self._filter.updateIMU(self._q, gyr, acc, dt=dt)
            self._last_time = t
            out[i] = self._q
        return out


def make_filter(name: str, rate_hz: float) -> AhrsFilter:
    """The orientation filter named in the rig's ``[fusion]`` table."""
    return AhrsFilter(name, rate_hz)
