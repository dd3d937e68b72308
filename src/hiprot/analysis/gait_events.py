"""Gait events from the shank's sagittal angular rate (the mid-swing peak method).

During swing the shank turns forward fast: a large positive peak of its rate
about the knee axis (segment Z, flexion positive forward). Heel strike ends
that swing where the rate falls back through zero, toe off is the deepest
backward rotation before it (Aminian et al. 2002; Salarian et al. 2004).
The rate is low-pass filtered first; thresholds adapt to the walking speed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.signal import butter, find_peaks, sosfiltfilt


@dataclass
class GaitEvents:
    """Sample indices of mid-swing, heel strike and toe off for one leg."""

    mid_swing: np.ndarray = field(default_factory=lambda: np.empty(0, int))
    heel_strike: np.ndarray = field(default_factory=lambda: np.empty(0, int))
    toe_off: np.ndarray = field(default_factory=lambda: np.empty(0, int))


class MidSwingDetector:
    """Find mid-swing peaks, then heel strike after and toe off before each.

    ``min_peak_rad_s``: smallest mid-swing rate taken as a step;
    ``min_stride_s``/``max_stride_s``: plausible stride durations;
    ``cutoff_hz``: low-pass of the rate before searching.
    """

    def __init__(self, min_peak_rad_s: float = 1.5, min_stride_s: float = 0.6,
                 max_stride_s: float = 2.5, cutoff_hz: float = 12.0):
        self.min_peak_rad_s = min_peak_rad_s
        self.min_stride_s = min_stride_s
        self.max_stride_s = max_stride_s
        self.cutoff_hz = cutoff_hz

    def detect(self, rate: np.ndarray, rate_hz: float) -> GaitEvents:
        """Events in ``rate`` (n,), the shank's sagittal angular rate in rad/s."""
        sos = butter(4, self.cutoff_hz, fs=rate_hz, output="sos")
        smooth = sosfiltfilt(sos, rate) if len(rate) > 30 else rate
        peaks, _ = find_peaks(smooth, height=self.min_peak_rad_s,
                              distance=max(1, int(self.min_stride_s * rate_hz)),
                              prominence=self.min_peak_rad_s)
        if len(peaks) == 0:
            return GaitEvents()
        typical = np.median(smooth[peaks])
        peaks = peaks[smooth[peaks] > 0.4 * typical]
        heel, toe, mid = [], [], []
        longest = int(self.max_stride_s * rate_hz)
        for k, p in enumerate(peaks):
            after = np.flatnonzero(smooth[p: p + longest // 2] <= 0)
            if len(after) == 0:
                continue
            hs = p + after[0]
            hs = hs - 1 + _zero_fraction(smooth[hs - 1], smooth[hs])
            start = peaks[k - 1] if k > 0 else max(0, p - longest)
            before = smooth[start:p]
            if len(before) == 0 or before.min() >= 0:
                continue
            mid.append(p)
            heel.append(hs)
            toe.append(start + int(np.argmin(before)))
        return GaitEvents(np.array(mid, int), np.array(heel, float), np.array(toe, int))


def _zero_fraction(a: float, b: float) -> float:
    """Where between two samples (0..1) a line from ``a`` to ``b`` crosses zero."""
    return a / (a - b) if a != b else 0.0
