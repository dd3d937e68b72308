"""Ideal IMU signals of a sensor moving with its segment, and the magnetic field it sees.

The motion is evaluated on a grid ``OVERSAMPLE`` times finer than the sample
rate. A chip's output is low-pass filtered and decimated, so each sample is
modelled as the **mean over its sample interval** (the interval ending at the
sample's time), not an instantaneous value:

- gyroscope: the mean angular velocity in the sensor frame — the sum of the
  fine steps' rotation vectors over the interval divided by its length;
- accelerometer: the mean specific force in the sensor frame, ``R_SE (a - g)``,
  with ``a`` the second derivative of the mounting point's world position, so
  tangential and centripetal accelerations of the segment are included;
- magnetometer (instantaneous): the earth field (``EARTH_FIELD_UT``, magnitude
  50 µT and inclination 64°, central Europe; world x east, y north, z up) plus
  the scenario's disturbance: a hard-iron offset per sensor and a field that
  varies over a few metres as steel in a building does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hiprot import quat
from hiprot.units import STANDARD_GRAVITY as GRAVITY

OVERSAMPLE_HZ = 400.0
GRAVITY_E = np.array([0.0, 0.0, -GRAVITY])
_INCLINATION = np.radians(64.0)
EARTH_FIELD_UT = 50.0 * np.array([0.0, np.cos(_INCLINATION), -np.sin(_INCLINATION)])


@dataclass(frozen=True)
class FineGrid:
    """Sample times ``t_k = start + k / rate`` and the finer grid the motion is evaluated on.

    The fine grid starts one sample interval before the first sample (the first
    sample's interval) with one extra point at each end for second derivatives;
    sample ``k`` sits at fine index ``1 + (k + 1) * factor``.
    """

    rate_hz: float
    samples: int
    factor: int

    @classmethod
    def for_rate(cls, rate_hz: float, samples: int) -> FineGrid:
        return cls(rate_hz, samples, max(2, int(np.ceil(OVERSAMPLE_HZ / rate_hz))))

    @property
    def step_s(self) -> float:
        return 1.0 / (self.rate_hz * self.factor)

    @property
    def times(self) -> np.ndarray:
        j = np.arange(self.samples * self.factor + 3)
        return (j - 1 - self.factor) * self.step_s

    @property
    def sample_index(self) -> np.ndarray:
        return 1 + (np.arange(self.samples) + 1) * self.factor


def interval_means(
    grid: FineGrid, q_es: np.ndarray, p_e: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean gyroscope (rad/s) and accelerometer (m/s²) per sample interval, sensor frame."""
    m, n, h = grid.factor, grid.samples, grid.step_s
    inner = slice(1, n * m + 2)  # fine points from the first interval's start to the last sample
    q = q_es[inner]
    q_step = quat.multiply(quat.conjugate(q[:-1]), q[1:])
    rotvec = quat.to_rotation(q_step).as_rotvec()
    gyr = rotvec.reshape(n, m, 3).sum(axis=1) / (m * h)
    accel_e = (p_e[2:] - 2 * p_e[1:-1] + p_e[:-2]) / h**2  # at fine points 1 .. n*m+1
    force_s = quat.rotate(quat.conjugate(q), accel_e - GRAVITY_E)
    trapezoid = force_s[:-1] + force_s[1:]
    acc = trapezoid.reshape(n, m, 3).sum(axis=1) / (2 * m)
    return gyr, acc


class MagneticField:
    """Earth field plus a disturbance of amplitude ``disturbance_ut`` (0: the clean earth field)."""

    def __init__(self, disturbance_ut: float, rng: np.random.Generator, waves: int = 6):
        self.amplitude = disturbance_ut
        self.k = rng.normal(0, 1, (waves, 3)) * np.array([1.0, 1.0, 0.3])
        self.k *= (
            2
            * np.pi
            / rng.uniform(2.0, 6.0, (waves, 1))
            / np.linalg.norm(self.k, axis=1, keepdims=True)
        )
        self.phase = rng.uniform(0, 2 * np.pi, waves)
        self.direction = rng.normal(0, 1, (waves, 3))
        self.direction /= np.linalg.norm(self.direction, axis=1, keepdims=True) * np.sqrt(waves / 2)

    def hard_iron(self, rng: np.random.Generator) -> np.ndarray:
        """A sensor's constant offset (µT), half the disturbance amplitude at most per axis."""
        return rng.uniform(-0.5, 0.5, 3) * self.amplitude

    def at(self, p_e: np.ndarray) -> np.ndarray:
        """Field (µT, world) at positions ``p_e`` (n, 3)."""
        waves = np.sin(p_e @ self.k.T + self.phase) @ self.direction
        return EARTH_FIELD_UT + self.amplitude * waves
