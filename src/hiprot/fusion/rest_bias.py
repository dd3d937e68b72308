"""Rest detection and gyroscope bias estimation, composable with any filter.

A sensor is at rest when, for ``rest_min_s``, its gyroscope and accelerometer
stay close to their own low-pass filtered values (``rest_filter_tau_s``) and
the low-passed rate is below ``bias_clip``: the same criteria as VQF (Laidig &
Seel 2023), with its default thresholds. At rest the gyroscope measures only
its bias, so the bias estimate follows the low-passed rate: it jumps to it at
the first rest (normally the still start of a session) and afterwards follows
it with time constant ``bias_tau_s``. Between rests the estimate is held.

Everything is vectorised over a chunk with filter states carried between
chunks, so any chunking gives the same flags and estimates.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, lfilter, lfilter_zi

REST_GYR_THRESHOLD = np.radians(2.0)
REST_ACC_THRESHOLD = 0.5
REST_MIN_S = 1.5
REST_FILTER_TAU_S = 0.5
BIAS_CLIP = np.radians(2.0)
BIAS_TAU_S = 5.0


class _LowPass:
    """Second-order Butterworth low-pass over (n, 3) signals, started at the first value."""

    def __init__(self, tau_s: float, step_s: float):
        cutoff_hz = np.sqrt(2.0) / (2.0 * np.pi * tau_s)
        self.b, self.a = butter(2, cutoff_hz, fs=1.0 / step_s)
        self.state: np.ndarray | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.state is None:
            self.state = np.outer(lfilter_zi(self.b, self.a), x[0])
        y, self.state = lfilter(self.b, self.a, x, axis=0, zi=self.state)
        return y


class RestBiasEstimator:
    """Per-step rest flags and gyroscope bias (rad/s) for one sensor, step by step in time.

    ``update(gyr, acc)`` takes the filter steps of a chunk (nominal period
    ``step_s``) and returns ``(bias, rest)``: the bias estimate to subtract
    from each step's rate, ``(m, 3)``, and whether each step is at rest.
    ``bias_`` is the current estimate.
    """

    def __init__(
        self,
        step_s: float,
        rest_gyr_threshold: float = REST_GYR_THRESHOLD,
        rest_acc_threshold: float = REST_ACC_THRESHOLD,
        rest_min_s: float = REST_MIN_S,
        rest_filter_tau_s: float = REST_FILTER_TAU_S,
        bias_clip: float = BIAS_CLIP,
        bias_tau_s: float = BIAS_TAU_S,
    ):
        self.step_s = step_s
        self.rest_gyr_threshold = rest_gyr_threshold
        self.rest_acc_threshold = rest_acc_threshold
        self.rest_min_steps = int(np.ceil(rest_min_s / step_s))
        self.bias_clip = bias_clip
        self.bias_gain = min(1.0, step_s / bias_tau_s)
        self._gyr_lp = _LowPass(rest_filter_tau_s, step_s)
        self._acc_lp = _LowPass(rest_filter_tau_s, step_s)
        self._still_steps = 0
        self.bias_ = np.zeros(3)
        self._bias_known = False

    def seed(self, bias: np.ndarray) -> None:
        """Start from ``bias`` (a still start's, :mod:`.still_start`): later rests follow it."""
        self.bias_ = np.asarray(bias, float).copy()
        self._bias_known = True

    def update(self, gyr: np.ndarray, acc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bias to subtract from each step ``(m, 3)`` and rest flags ``(m,)``."""
        m = len(gyr)
        if m == 0:
            return np.empty((0, 3)), np.empty(0, dtype=bool)
        gyr_lp, acc_lp = self._gyr_lp(gyr), self._acc_lp(acc)
        still = (
            (np.sum((gyr - gyr_lp) ** 2, axis=1) < self.rest_gyr_threshold**2)
            & (np.sum((acc - acc_lp) ** 2, axis=1) < self.rest_acc_threshold**2)
            & (np.max(np.abs(gyr_lp), axis=1) < self.bias_clip)
        )
        index = np.arange(m)
        last_moving = np.maximum.accumulate(np.where(still, -1, index))
        run = np.where(last_moving >= 0, index - last_moving, self._still_steps + index + 1)
        self._still_steps = int(run[-1])
        rest = run >= self.rest_min_steps
        return self._follow_bias(gyr_lp[rest], rest), rest

    def _follow_bias(self, rate_at_rest: np.ndarray, rest: np.ndarray) -> np.ndarray:
        """Bias per step: exponential average of the low-passed rate over rest steps, held between."""
        held_before = self.bias_
        if len(rate_at_rest):
            start = self.bias_ if self._bias_known else rate_at_rest[0]
            self._bias_known = True
            g = self.bias_gain
            estimates, _ = lfilter(
                [g], [1.0, g - 1.0], rate_at_rest, axis=0, zi=((1.0 - g) * start)[None, :]
            )
        else:
            estimates = np.empty((0, 3))
        held = np.vstack([held_before[None, :], estimates])
        per_step = held[np.cumsum(rest)]
        self.bias_ = held[-1].copy()
        return per_step
