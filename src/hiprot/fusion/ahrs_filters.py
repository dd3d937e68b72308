"""The ``ahrs`` filters (Madgwick, Mahony, EKF) behind the common interface.

``ahrs`` assumes a bias-free gyroscope, so a :class:`RestBiasEstimator`
removes the bias before every step. ``ahrs`` has no compiled batch path (its
batch constructors are the same Python loop), so these filters step one
sample at a time in Python: fine for analysis, about a hundred times slower
than :class:`~hiprot.fusion.vqf_filter.VqfFilter`.

Each filter starts level from its first accelerometer sample (and pointing by
its first magnetometer sample in 9D), and reports in the common earth frame
of :mod:`.frames`. Madgwick and Mahony skip a step whose gyroscope sample is
exactly zero (an ``ahrs`` rule); after bias removal that hardly ever happens.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
from ahrs.filters import EKF, Madgwick, Mahony

from hiprot import quat
from hiprot.fusion.base import OrientationFilter
from hiprot.fusion.frames import Q_ENU_NWU, initial_orientation, relevel
from hiprot.fusion.rest_bias import RestBiasEstimator
from hiprot.fusion.timeline import MAX_GAP_S, Steps

# Mahony gains chosen on all eleven BROAD trials (scripts/broad_eval.py --mahony-gains):
# the integral term is off because the rest estimator already removes the gyro bias.
MAHONY_K_P = 0.2
MAHONY_K_I = 0.0


class AhrsFilter(OrientationFilter):
    """An ``ahrs`` filter stepped in Python, its gyroscope corrected by a rest bias estimator.

    ``q_earth_filter`` turns the filter's own 9D earth frame into ours.
    """

    q_earth_filter = quat.IDENTITY

    def __init__(
        self,
        rate_hz: float,
        magnetometer: bool = False,
        max_gap_s: float = MAX_GAP_S,
        rest_bias: RestBiasEstimator | None = None,
    ):
        self.rest_bias = rest_bias or RestBiasEstimator(1.0 / rate_hz)
        super().__init__(rate_hz, magnetometer, max_gap_s, max_bias=self.rest_bias.bias_clip)
        self._to_earth = self.q_earth_filter if magnetometer else quat.IDENTITY
        self._q_filter: np.ndarray | None = None

    @property
    def bias_(self) -> np.ndarray:
        return self.rest_bias.bias_.copy()

    def _seed_bias(self, bias: np.ndarray) -> None:
        self.rest_bias.seed(bias)

    def _start(self, acc: np.ndarray, mag: np.ndarray | None) -> np.ndarray:
        """The filter-frame orientation at the first sample."""
        q_es = initial_orientation(acc, mag)
        return quat.multiply(quat.conjugate(self._to_earth), q_es)

    @abstractmethod
    def _step(self, q: np.ndarray, gyr: np.ndarray, acc: np.ndarray, mag: np.ndarray | None):
        """One filter update of the filter-frame orientation ``q`` (6D when ``mag`` is None)."""

    def _run(self, steps: Steps) -> tuple[np.ndarray, np.ndarray]:
        bias, rest = self.rest_bias.update(steps.gyr, steps.acc)
        gyr = steps.gyr - bias
        mags = steps.mag if self.magnetometer and steps.mag is not None else [None] * len(steps)
        out = np.empty((len(steps), 4))
        q = self._q_filter
        for j, (g, a, m) in enumerate(zip(gyr, steps.acc, mags)):
            if q is None:
                q = self._start(a, m)
            else:
                if steps.restart[j]:
                    q_es = relevel(quat.multiply(self._to_earth, q), a)
                    q = quat.multiply(quat.conjugate(self._to_earth), q_es)
                q = self._step(q, g, a, m)
            out[j] = q
        self._q_filter = q
        return quat.multiply(self._to_earth, out), rest


class MadgwickFilter(AhrsFilter):
    """``ahrs`` Madgwick; its 9D earth frame is x north, z up (NWU).

    ``gain`` is β (rad/s); by default ``ahrs``'s: 0.033 in 6D, 0.041 in 9D.
    """

    name = "madgwick"
    q_earth_filter = Q_ENU_NWU

    def __init__(
        self,
        rate_hz: float,
        magnetometer: bool = False,
        max_gap_s: float = MAX_GAP_S,
        rest_bias: RestBiasEstimator | None = None,
        gain: float | None = None,
    ):
        super().__init__(rate_hz, magnetometer, max_gap_s, rest_bias)
        self.gain = gain if gain is not None else (0.041 if magnetometer else 0.033)
        self._filter = Madgwick(frequency=rate_hz, gain=self.gain)

    def _step(self, q, gyr, acc, mag):
        if mag is None:
            return self._filter.updateIMU(q, gyr, acc, dt=self.step_s)
        return self._filter.updateMARG(q, gyr, acc, mag, dt=self.step_s)


class MahonyFilter(AhrsFilter):
    """``ahrs`` Mahony with measured gains (its defaults k_P = 1, k_I = 0.3 are poor); ENU in 9D."""

    name = "mahony"

    def __init__(
        self,
        rate_hz: float,
        magnetometer: bool = False,
        max_gap_s: float = MAX_GAP_S,
        rest_bias: RestBiasEstimator | None = None,
        k_p: float = MAHONY_K_P,
        k_i: float = MAHONY_K_I,
    ):
        super().__init__(rate_hz, magnetometer, max_gap_s, rest_bias)
        self.k_p, self.k_i = k_p, k_i
        self._filter = Mahony(frequency=rate_hz, k_P=k_p, k_I=1.0)
        self._filter.k_I = k_i  # ahrs refuses 0 in the constructor, not in the update

    def _step(self, q, gyr, acc, mag):
        if mag is None:
            return self._filter.updateIMU(q, gyr, acc, dt=self.step_s)
        return self._filter.updateMARG(q, gyr, acc, mag, dt=self.step_s)


class EkfFilter(AhrsFilter):
    """``ahrs`` extended Kalman filter.

    Its 9D earth frame is that of its magnetic reference vector; ``ahrs``'s
    default (Munich's field, with the vertical sign opposite to its own gravity
    reference) pulls the inclination off by tens of degrees, so the reference
    is taken in ENU from the first sample.
    """

    name = "ekf"

    def __init__(
        self,
        rate_hz: float,
        magnetometer: bool = False,
        max_gap_s: float = MAX_GAP_S,
        rest_bias: RestBiasEstimator | None = None,
    ):
        super().__init__(rate_hz, magnetometer, max_gap_s, rest_bias)
        self._filter = EKF(frequency=rate_hz)
        self._has_reference = False

    def _step(self, q, gyr, acc, mag):
        if mag is not None and not self._has_reference:
            self._filter.m_ref = quat.rotate(q, mag) / np.linalg.norm(mag)
            self._has_reference = True
        # ahrs's EKF fuses the magnetometer when its ``mag`` attribute is set
        self._filter.mag = mag
        return self._filter.update(q, gyr, acc, mag, dt=self.step_s)
