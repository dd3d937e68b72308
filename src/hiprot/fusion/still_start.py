"""The gyroscope bias a stream starts with, from its first half second when that is still.

A filter that starts with a zero bias integrates the whole bias until its rest
detector first confirms rest (VQF: ``restMinT`` = 1.5 s of stillness, Laidig &
Seel 2023): an MPU-6050 (zero-rate offset up to ±20 °/s) turns its heading by
up to 30° while the person stands for the calibration, and the standing
heading reference absorbs that turn. Every session starts standing still, so
the first ``START_S`` of a stream is held back: if it is still by VQF's rest
criteria (each rate within ``REST_GYR`` of the held mean, each specific force
within ``REST_ACC`` of its mean; VQF's default ``restThGyr``/``restThAcc``) and
its mean rate is within the chip's bias bound, that mean rate is the starting
bias. ``START_S`` is VQF's rest low-pass time constant (``restFilterTau``,
0.5 s), the span over which VQF itself judges a rate steady. Sway while
standing (under 1 °/s) leaves the estimate within half a degree per second of
the bias (0.48 °/s at most on 30 simulated sensors, docs/methods.md); the
filter's own rest detection refines it afterwards.
A stream that starts moving gets no starting bias (the filter starts as before).

While held, a sample has no orientation of its own yet: it gets the levelled
orientation of the stream's first sample (its heading fixed there, as every
filter starts), which a still sensor keeps. Chunk boundaries change nothing.
"""

from __future__ import annotations

import numpy as np

from hiprot.fusion.frames import initial_orientation
from hiprot.samples import ImuSamples

START_S = 0.5
REST_GYR = np.radians(2.0)
REST_ACC = 0.5


class StillStart:
    """Collects a stream's first ``START_S`` and decides its starting bias (rad/s, or None).

    ``max_bias``: the largest bias per axis (rad/s) the chip may have.
    """

    def __init__(self, max_bias: float, start_s: float = START_S):
        self.max_bias = max_bias
        self.start_s = start_s
        self.held: list[ImuSamples] = []
        self.placeholder: np.ndarray | None = None
        self.done = False
        self.bias: np.ndarray | None = None

    def take(self, samples: ImuSamples) -> int:
        """How many of ``samples`` (the stream's next chunk) the start holds; sets ``done``
        and ``bias`` once the held samples span ``start_s``."""
        if self.done or not len(samples):
            return 0
        if self.placeholder is None:
            mag = None if samples.mag is None else samples.mag[0]
            self.placeholder = initial_orientation(samples.acc[0], mag)
        t0 = self.held[0].time_s[0] if self.held else samples.time_s[0]
        closing = np.flatnonzero(samples.time_s - t0 >= self.start_s)
        count = int(closing[0]) + 1 if len(closing) else len(samples)
        self.held.append(samples[:count])
        if len(closing):
            self.done = True
            self.bias = self._still_bias(ImuSamples.concat(self.held))
        return count

    def _still_bias(self, held: ImuSamples) -> np.ndarray | None:
        rate = held.gyr.mean(axis=0)
        force = held.acc.mean(axis=0)
        still = (
            np.all(np.linalg.norm(held.gyr - rate, axis=1) < REST_GYR)
            and np.all(np.linalg.norm(held.acc - force, axis=1) < REST_ACC)
            and np.all(np.abs(rate) <= self.max_bias)
        )
        return rate if still else None
