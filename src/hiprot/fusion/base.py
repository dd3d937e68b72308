"""The interface every orientation filter offers, live and batch alike.

One object per sensor. ``update(samples)`` takes the next chunk of that
sensor's samples (one sample live, a whole session in batch; any split gives
the same result) and returns ``q_ES`` per sample: sensor → earth, z up,
scalar-first, x east when a magnetometer is used (see :mod:`.frames`).
After each call ``rest_`` holds the per-sample rest flags and ``bias_`` the
current gyroscope bias estimate (rad/s, sensor frame).

Timing comes from the samples' timestamps (:mod:`.timeline`); a backend only
implements ``_run`` over fixed steps, and ``_seed_bias`` to start from the bias
of a still start (:mod:`.still_start`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from hiprot.fusion.rest_bias import BIAS_CLIP
from hiprot.fusion.still_start import StillStart
from hiprot.fusion.timeline import MAX_GAP_S, StepPlanner, Steps
from hiprot.samples import ImuSamples


class OrientationFilter(ABC):
    """Stateful orientation estimate of one sensor.

    ``rate_hz`` is the rig's nominal rate: the filter's step, at which its time
    constants are defined; ``magnetometer`` asks for 9-axis fusion (chunks
    without magnetometer data are then fused 6-axis, keeping the heading
    reference); ``max_gap_s`` is the longest gap bridged by interpolation;
    ``max_bias`` the largest gyroscope bias per axis (rad/s) the chip may have.
    """

    name = ""

    def __init__(
        self,
        rate_hz: float,
        magnetometer: bool = False,
        max_gap_s: float = MAX_GAP_S,
        max_bias: float = BIAS_CLIP,
    ):
        self.rate_hz = rate_hz
        self.step_s = 1.0 / rate_hz
        self.magnetometer = magnetometer
        self.gaps = 0
        self.rest_ = np.empty(0, dtype=bool)
        self._planner = StepPlanner(self.step_s, max_gap_s)
        self._q = np.array([1.0, 0.0, 0.0, 0.0])
        self._rest = False
        self._still_start = StillStart(max_bias)

    @property
    @abstractmethod
    def bias_(self) -> np.ndarray:
        """Current gyroscope bias estimate (3,), rad/s in the sensor frame."""

    @abstractmethod
    def _run(self, steps: Steps) -> tuple[np.ndarray, np.ndarray]:
        """Orientation ``q_ES`` (m, 4) and rest flags (m,) after each step."""

    @abstractmethod
    def _seed_bias(self, bias: np.ndarray) -> None:
        """Start from gyroscope bias ``bias`` (rad/s), before the first step."""

    def update(self, samples: ImuSamples) -> np.ndarray:
        """``q_ES`` (n, 4) after each sample of ``samples``, the stream's next chunk."""
        if not self.magnetometer and samples.mag is not None:
            samples = ImuSamples(samples.time_s, samples.acc, samples.gyr)
        held = self._still_start.take(samples)
        if not held:
            return self._fuse(samples)
        placeholder = np.tile(self._still_start.placeholder, (held, 1))
        if not self._still_start.done:
            self._q = self._still_start.placeholder.copy()
            self.rest_ = np.zeros(held, dtype=bool)
            return placeholder
        if self._still_start.bias is not None:
            self._seed_bias(self._still_start.bias)
            self._planner.bias = self._still_start.bias
        self._fuse(ImuSamples.concat(self._still_start.held))
        self._still_start.held = []
        q = np.vstack([placeholder, self._fuse(samples[held:])])
        self.rest_ = np.concatenate([np.zeros(held, dtype=bool), self.rest_])
        return q

    def _fuse(self, samples: ImuSamples) -> np.ndarray:
        """``q_ES`` after each of ``samples`` (and their rest flags in ``rest_``)."""
        steps = self._planner.plan(samples)
        self.gaps += steps.gaps
        q, rest = self._run(steps) if len(steps) else (np.empty((0, 4)), np.empty(0, bool))
        q = np.vstack([self._q[None, :], q])
        rest = np.concatenate([[self._rest], rest])
        self._q, self._rest = q[-1], bool(rest[-1])
        self.rest_ = rest[steps.sample_end]
        return q[steps.sample_end]

    @property
    def quaternion(self) -> np.ndarray:
        """The latest ``q_ES`` (4,)."""
        return self._q.copy()
