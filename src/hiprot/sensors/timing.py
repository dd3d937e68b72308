"""Timestamps for FIFO samples: the chip's nominal rate, pinned down by the host's read times.

A FIFO delivers samples without usable times (the MPU-6050 has no timestamps,
and chip clocks differ between chips), so samples are spaced one period apart
and only their phase must be found. Every read brackets the newest sample: it
was taken before the read ended, and the sample after it was not yet taken
when the read began, so it lies in (read start − period, read end]. Carried
forward by the samples since, the brackets of successive reads intersect to an
ever narrower interval (a set-membership estimate); the newest sample is put
at its middle. When the brackets stop intersecting (the chip's oscillator runs
fast or slow) the interval starts afresh and, once reads span a few seconds,
the period is re-estimated from the ratio of read time to samples since the
first read. A chip on time never contradicts its brackets and keeps its
nominal period, so its samples stay evenly spaced (a phase correction slewed over them, below).

While the brackets intersect, the new samples are consistent with following the
previous ones without a loss, so a change of the estimated phase (a first read
after a restart that was descheduled has a wide bracket, and a later narrow one
moves the middle by a period or more) is spread over the new samples, each step
within ``MAX_SLEW`` of a period, and what is left is caught up at the next
reads: a step of two periods would be a lost sample that never was. Only
brackets that contradict each other (a loss, or a drifting oscillator) may leave
a longer step.
"""

from __future__ import annotations

import numpy as np

MIN_SPAN_S = 5.0  # read-time span before the period estimate replaces the nominal period
MAX_DRIFT = 0.05  # chip oscillators are within a few percent of nominal
MAX_SLEW = 0.25  # a phase correction changes each step between contiguous samples by at most this


class SampleTimer:
    """Gives each sample of one chip a monotonic timestamp (seconds on the acquisition clock)."""

    def __init__(self, nominal_period_s: float):
        self.nominal_period_s = self.period_s = nominal_period_s
        self.restart()

    def restart(self) -> None:
        """Forget the phase (after samples were lost); the next read anchors afresh."""
        self.last_s: float | None = None
        self._bounds: tuple[float, float] | None = None
        self._anchor: tuple[float, int] | None = None
        self._count = 0

    def stamp(self, n: int, read_start_s: float, read_end_s: float) -> np.ndarray:
        """Times of ``n`` new samples found by a read from ``read_start_s`` to ``read_end_s``."""
        period = self.period_s
        fresh = (read_start_s - period, read_end_s)
        contiguous = False  # the brackets agree: no sample was lost since the previous read
        if self._bounds is None:
            if n == 0:
                return np.empty(0)
            low, high = fresh
        else:
            low = max(self._bounds[0] + n * period, fresh[0])
            high = min(self._bounds[1] + n * period, fresh[1])
            contiguous = low <= high
            if not contiguous:
                low, high = fresh
                self._estimate_period(read_end_s)
        self._bounds = (low, high)
        if n == 0:
            return np.empty(0)
        newest = (low + high) / 2
        steps = np.arange(1, n + 1)
        if self.last_s is not None and contiguous:  # a phase correction, spread (see above)
            span = n * period
            newest = min(
                max(newest, self.last_s + span * (1 - MAX_SLEW)),
                self.last_s + span * (1 + MAX_SLEW),
            )
            times = self.last_s + (newest - self.last_s) * steps / n
        else:
            if self.last_s is not None and newest <= self.last_s:
                newest = self.last_s + n * period
            times = newest - period * (n - steps)
            if self.last_s is not None and times[0] <= self.last_s + period / 2:
                times = self.last_s + (newest - self.last_s) * steps / n
        self._count += n
        self.last_s = float(times[-1])
        if self._anchor is None:
            self._anchor = (read_end_s, self._count)
        return times

    def _estimate_period(self, read_s: float) -> None:
        if self._anchor is None:
            return
        anchor_s, anchor_count = self._anchor
        if read_s - anchor_s >= MIN_SPAN_S and self._count > anchor_count:
            estimate = (read_s - anchor_s) / (self._count - anchor_count)
            low, high = (
                self.nominal_period_s * (1 - MAX_DRIFT),
                self.nominal_period_s * (1 + MAX_DRIFT),
            )
            self.period_s = min(max(estimate, low), high)
