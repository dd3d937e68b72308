"""Timestamps for FIFO samples: the chip's nominal rate, held honest by the host's read times.

A FIFO delivers samples without usable times (the MPU-6050 has no timestamps,
and chip clocks differ between chips), so each sample gets the previous one's
time plus one period. Every read brackets the newest sample: it was taken no
later than the read and at most one period before the read began. A
prediction outside that bracket is pulled to its edge (the samples of that
read spaced evenly), and the period is re-estimated from the long-run ratio of
read time to samples, which follows a chip oscillator that runs fast or slow.
"""

from __future__ import annotations

import numpy as np

MIN_SPAN_S = 5.0  # read-time span before the period estimate replaces the nominal period
MAX_DRIFT = 0.05  # chip oscillators are within a few percent of nominal


class SampleTimer:
    """Gives each sample of one chip a monotonic timestamp (seconds on the acquisition clock)."""

    def __init__(self, nominal_period_s: float):
        self.nominal_period_s = self.period_s = nominal_period_s
        self.restart()

    def restart(self) -> None:
        """Forget the phase (after samples were lost); the next read anchors afresh."""
        self.last_s: float | None = None
        self._anchor: tuple[float, int] | None = None
        self._count = 0

    def stamp(self, n: int, read_start_s: float, read_end_s: float) -> np.ndarray:
        """Times of ``n`` new samples found by a read that ran from ``read_start_s`` to ``read_end_s``."""
        if n == 0:
            return np.empty(0)
        steps = np.arange(1, n + 1)
        if self.last_s is None:
            newest = (read_start_s + read_end_s) / 2 - self.period_s / 2
            times = newest - self.period_s * (n - steps)
        else:
            predicted = self.last_s + self.period_s * n
            newest = min(max(predicted, read_start_s - self.period_s), read_end_s)
            spacing = self.period_s if newest == predicted else (newest - self.last_s) / n
            times = self.last_s + spacing * steps
        self._count += n
        self.last_s = float(times[-1])
        self._estimate_period(read_end_s)
        return times

    def _estimate_period(self, read_s: float) -> None:
        if self._anchor is None:
            self._anchor = (read_s, self._count)
            return
        anchor_s, anchor_count = self._anchor
        if read_s - anchor_s >= MIN_SPAN_S and self._count > anchor_count:
            estimate = (read_s - anchor_s) / (self._count - anchor_count)
            low, high = self.nominal_period_s * (1 - MAX_DRIFT), self.nominal_period_s * (1 + MAX_DRIFT)
            self.period_s = min(max(estimate, low), high)
