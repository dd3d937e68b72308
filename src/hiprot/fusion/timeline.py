"""From timestamped samples to the fixed steps an orientation filter runs on.

Filters step at the rig's nominal period ``step_s`` (their time constants are
defined there), but real rigs jitter and drop samples, so the time between two
samples comes from their timestamps:

- a sample ``dt`` after the previous one becomes ``k = round(dt / step_s)``
  steps (at least one); the samples on either side of a gap are linearly
  interpolated across its steps, and the gyroscope's rate, less the bias known
  at the start (``bias``, from :mod:`.still_start`), is scaled by
  ``dt / (k·step_s)`` so that the integrated rotation spans exactly ``dt``. The
  bias is an offset of the rate the filter estimates and removes step by step;
  scaled with the interval, a timestamp's jitter would make it jitter too (a
  20 °/s bias scaled by read times off by 10 % of the interval jitters by 2 °/s,
  VQF's rest threshold: a cheap chip would never be found at rest);
- a sample not later than the previous one (a repeated or backward timestamp)
  makes no step: its orientation is the previous one;
- after a gap longer than ``max_gap_s`` nothing sensible can be interpolated:
  the sample makes one plain step flagged ``restart``, and the filter
  re-levels its orientation from the accelerometer there (heading and gyro
  bias are kept).

The planner keeps the last sample, so any chunking of a stream yields the same
steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hiprot.samples import ImuSamples

MAX_GAP_S = 0.25


@dataclass
class Steps:
    """Filter input for one chunk: ``m`` steps, and where each of its ``n`` samples ends.

    ``sample_end[i]`` counts the steps up to and including sample ``i``: the
    orientation after sample ``i`` is the one after step ``sample_end[i] - 1``
    (0 means no step yet in this chunk: the orientation before it).
    """

    gyr: np.ndarray
    acc: np.ndarray
    mag: np.ndarray | None
    restart: np.ndarray
    sample_end: np.ndarray
    gaps: int

    def __len__(self) -> int:
        return len(self.gyr)


class StepPlanner:
    """Turns each chunk of one sensor's samples into filter steps (stateful across chunks)."""

    def __init__(self, step_s: float, max_gap_s: float = MAX_GAP_S):
        self.step_s = step_s
        self.max_gap_s = max_gap_s
        self._last_time: float | None = None
        self._last: ImuSamples | None = None
        self.bias = np.zeros(3)

    def plan(self, samples: ImuSamples) -> Steps:
        """The steps for ``samples``, which continue the stream seen so far."""
        n = len(samples)
        if n == 0:
            empty = np.empty((0, 3))
            return Steps(empty, empty, None, np.empty(0, bool), np.empty(0, int), 0)
        t = samples.time_s
        first_ever = self._last_time is None
        before = t[0] if first_ever else self._last_time
        previous = samples[:1] if first_ever else self._last
        latest = np.maximum.accumulate(np.concatenate([[before], t]))
        dt = t - latest[:-1]
        bridged = (dt > 0) & (dt <= self.max_gap_s)
        restart = dt > self.max_gap_s
        repeats = np.zeros(n, dtype=int)
        repeats[bridged] = np.maximum(np.rint(dt[bridged] / self.step_s), 1)
        repeats[restart] = 1
        repeats[0] = 1 if first_ever else repeats[0]
        scale = np.ones(n)
        scale[bridged] = dt[bridged] / (repeats[bridged] * self.step_s)

        if (repeats == 1).all():  # one step per sample, as nearly always: the same, cheaper
            owner, ends, remaining = slice(None), np.arange(1, n + 1), np.zeros(n)
        else:
            owner = np.repeat(np.arange(n), repeats)
            ends = np.cumsum(repeats)
            position = np.arange(len(owner)) - np.repeat(ends - repeats, repeats) + 1
            remaining = 1.0 - position / np.repeat(repeats, repeats)

        def interpolate(now: np.ndarray, last: np.ndarray) -> np.ndarray:
            prev = np.concatenate([last[-1:], now[:-1]])
            step_back = (now - prev)[owner] * remaining[:, None]
            return now[owner] - step_back

        gyr = (interpolate(samples.gyr, previous.gyr) - self.bias) * scale[owner, None] + self.bias
        acc = interpolate(samples.acc, previous.acc)
        mag = None
        if samples.mag is not None:
            last_mag = previous.mag if previous.mag is not None else samples.mag[:1]
            mag = interpolate(samples.mag, last_mag)
        step_restart = np.zeros(ends[-1], dtype=bool)
        step_restart[ends[restart] - 1] = True
        self._last_time = float(latest[-1])
        self._last = samples[n - 1 : n]
        return Steps(
            np.ascontiguousarray(gyr),
            np.ascontiguousarray(acc),
            None if mag is None else np.ascontiguousarray(mag),
            step_restart,
            ends,
            int(restart.sum()),
        )
