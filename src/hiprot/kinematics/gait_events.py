"""Gait events from the shank's sagittal angular rate (the mid-swing peak method).

During swing the shank turns forward fast: a large positive peak of its rate
about the knee axis (segment Z, flexion positive forward). Toe off is the
deepest backward rotation before that peak (Aminian et al., J Biomech 35:689
(2002); Salarian et al., IEEE TBME 51:1434 (2004)). Heel strike follows the
end of the swing: the forward rotation ends where the rate falls back through
zero (the shank's most forward inclination), and the knee, extending through
terminal swing, reaches full extension and turns to flexion just before
initial contact (Perry & Burnfield 2010: 5° at contact after 7° at 95 % of
the cycle). With the knee angle given, heel strike is that end of knee
extension (the zero crossing of the knee flexion rate next to the shank's);
without it, the shank's zero crossing; either plus ``contact_delay_s`` (about
2 % of a stride at a normal cadence). The end of knee extension keeps its
timing when steps are shorter (starting and stopping), the shank's does not.
Gyroscope-based contact times differ from foot switches by 10-25 ms in
published comparisons (Aminian 2002; Catalfamo et al., Sensors 10:5683 (2010)).

Signals are low-pass filtered first; every threshold is absolute (rad/s, s),
so the same samples give the same events whether they are analysed whole or
in overlapping windows (:class:`StreamingGaitEvents`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.signal import butter, find_peaks, sosfiltfilt


@dataclass
class GaitEvents:
    """Sample indices of mid-swing and toe off, and fractional sample indices of heel strike,
    for one leg; ``heel_strike[k]`` and ``toe_off[k]`` belong to the swing ``mid_swing[k]``."""

    mid_swing: np.ndarray = field(default_factory=lambda: np.empty(0, int))
    heel_strike: np.ndarray = field(default_factory=lambda: np.empty(0, float))
    toe_off: np.ndarray = field(default_factory=lambda: np.empty(0, int))

    def times(self, time_s: np.ndarray) -> dict[str, np.ndarray]:
        """The events as times on the sample clock ``time_s`` (``heel_strike``, ``toe_off``)."""
        index = np.arange(len(time_s))
        return {
            "heel_strike": np.interp(self.heel_strike, index, time_s),
            "toe_off": np.interp(self.toe_off, index, time_s),
        }


class MidSwingDetector:
    """Find mid-swing peaks, then heel strike after and toe off before each.

    ``min_peak_rad_s``: smallest mid-swing rate (and prominence) taken as a step;
    ``min_stride_s``: two swings of one leg are at least this far apart;
    ``max_swing_s``: longest time from toe off to mid-swing and from mid-swing to
    the end of the forward rotation;
    ``cutoff_hz``: low-pass of the signals before searching;
    ``knee_window_s``: how far from the shank's zero crossing the end of knee extension is
    looked for;
    ``contact_delay_s``: from the end of knee extension (or of the shank's forward rotation)
    to heel strike.
    """

    def __init__(
        self,
        min_peak_rad_s: float = 1.5,
        min_stride_s: float = 0.6,
        max_swing_s: float = 0.8,
        cutoff_hz: float = 12.0,
        knee_window_s: float = 0.1,
        contact_delay_s: float = 0.02,
    ):
        self.min_peak_rad_s = min_peak_rad_s
        self.min_stride_s = min_stride_s
        self.max_swing_s = max_swing_s
        self.cutoff_hz = cutoff_hz
        self.knee_window_s = knee_window_s
        self.contact_delay_s = contact_delay_s
        self._filters: dict[float, np.ndarray] = {}

    def smooth(self, rate: np.ndarray, rate_hz: float) -> np.ndarray:
        """The low-passed signal the events are found in (zero phase)."""
        if len(rate) <= 30:
            return np.asarray(rate, float)
        if rate_hz not in self._filters:
            self._filters[rate_hz] = butter(4, self.cutoff_hz, fs=rate_hz, output="sos")
        return sosfiltfilt(self._filters[rate_hz], rate)

    def detect(
        self, rate: np.ndarray, rate_hz: float, knee_flexion_deg: np.ndarray | None = None
    ) -> GaitEvents:
        """Events in ``rate`` (n,), the shank's sagittal angular rate in rad/s; ``knee_flexion_deg``
        (n,), when given, times heel strike by the end of knee extension."""
        smooth = self.smooth(rate, rate_hz)
        knee_rate = (
            _knee_rate(self, knee_flexion_deg, rate_hz) if knee_flexion_deg is not None else None
        )
        peaks, _ = find_peaks(
            smooth,
            height=self.min_peak_rad_s,
            distance=max(1, int(self.min_stride_s * rate_hz)),
            prominence=self.min_peak_rad_s,
        )
        window = int(self.max_swing_s * rate_hz)
        delay = self.contact_delay_s * rate_hz
        heel, toe, mid = [], [], []
        for k, p in enumerate(peaks):
            after = np.flatnonzero(smooth[p : p + window] <= 0)
            start = max(0, p - window, peaks[k - 1] if k > 0 else 0)
            before = smooth[start:p]
            if len(after) == 0 or after[0] == 0 or len(before) == 0 or before.min() >= 0:
                continue
            crossing = p + after[0]
            end_of_swing = crossing - 1 + _zero_fraction(smooth[crossing - 1], smooth[crossing])
            if knee_rate is not None:
                end_of_swing = self._knee_extended(knee_rate, end_of_swing, p, rate_hz)
            mid.append(p)
            heel.append(end_of_swing + delay)
            toe.append(start + int(np.argmin(before)))
        return GaitEvents(np.array(mid, int), np.array(heel, float), np.array(toe, int))

    def _knee_extended(
        self, knee_rate: np.ndarray, near: float, peak: int, rate_hz: float
    ) -> float:
        """The knee's extension-to-flexion zero crossing after ``peak`` nearest to ``near``
        (fractional index); ``near`` itself when there is none within ``knee_window_s``."""
        reach = int(self.knee_window_s * rate_hz)
        lo, hi = max(peak, int(near) - reach), min(len(knee_rate) - 1, int(near) + reach + 1)
        segment = knee_rate[lo : hi + 1]
        turns = lo + np.flatnonzero((segment[:-1] < 0) & (segment[1:] >= 0))
        if len(turns) == 0:
            return near
        i = turns[np.argmin(np.abs(turns - near))]
        return i + _zero_fraction(knee_rate[i], knee_rate[i + 1])


def _knee_rate(
    detector: MidSwingDetector, knee_flexion_deg: np.ndarray, rate_hz: float
) -> np.ndarray | None:
    """Low-passed knee flexion rate (deg/s), gaps bridged linearly; None without any knee angle."""
    knee = np.asarray(knee_flexion_deg, float)
    ok = np.isfinite(knee)
    if ok.sum() < 2:
        return None
    index = np.arange(len(knee))
    knee = np.interp(index, index[ok], knee[ok])
    return detector.smooth(np.gradient(knee) * rate_hz, rate_hz)


class StreamingGaitEvents:
    """The same events from a rate that arrives in chunks, for the live pipeline.

    Keeps the last ``window_s`` of the rate and runs ``detector`` over it each
    time ``every_s`` of new samples have come; an event is released once
    ``settle_s`` of samples follow its heel strike (the zero-phase filter and
    the peak search no longer change it), and each swing is released once.
    ``update`` returns the new events as times on the sample clock:
    ``{"heel_strike": [...], "toe_off": [...]}``.
    """

    def __init__(
        self,
        rate_hz: float,
        detector: MidSwingDetector | None = None,
        window_s: float = 6.0,
        settle_s: float = 0.3,
        every_s: float = 0.2,
    ):
        self.rate_hz = rate_hz
        self.detector = detector or MidSwingDetector()
        self.window = int(window_s * rate_hz)
        self.settle = int(settle_s * rate_hz)
        self.every = max(1, int(every_s * rate_hz))
        self.time_s = np.empty(0)
        self.rate = np.empty(0)
        self.knee: np.ndarray | None = None
        self.fresh = 0
        self.last_swing_s = -np.inf

    def update(
        self, time_s: np.ndarray, rate: np.ndarray, knee_flexion_deg: np.ndarray | None = None
    ) -> dict[str, list[float]]:
        """Append a chunk (sample times, the sagittal rate in rad/s and, if measured, the knee
        flexion in degrees; give the knee always or never); events now certain."""
        self.time_s = np.concatenate([self.time_s, np.asarray(time_s, float)])[-self.window :]
        self.rate = np.concatenate([self.rate, np.asarray(rate, float)])[-self.window :]
        if knee_flexion_deg is not None:
            old = self.knee if self.knee is not None else np.empty(0)
            self.knee = np.concatenate([old, np.asarray(knee_flexion_deg, float)])[-self.window :]
        self.fresh += len(time_s)
        if self.fresh < self.every:
            return {"heel_strike": [], "toe_off": []}
        self.fresh = 0
        return self._release(final=False)

    def finish(self) -> dict[str, list[float]]:
        """Events still held back at the end of the stream."""
        return self._release(final=True)

    def _release(self, final: bool) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {"heel_strike": [], "toe_off": []}
        if len(self.rate) < 2:
            return out
        events = self.detector.detect(self.rate, self.rate_hz, self.knee)
        margin = int(self.detector.max_swing_s * self.rate_hz)
        times = events.times(self.time_s)
        for k, p in enumerate(events.mid_swing):
            swing_s = float(self.time_s[p])
            settled = final or events.heel_strike[k] + self.settle < len(self.rate)
            complete_context = p - margin > 0 or len(self.rate) < self.window
            if swing_s > self.last_swing_s and settled and complete_context:
                out["heel_strike"].append(float(times["heel_strike"][k]))
                out["toe_off"].append(float(times["toe_off"][k]))
                self.last_swing_s = swing_s
        return out


def _zero_fraction(a: float, b: float) -> float:
    """Where between two samples (0..1) a line from ``a`` to ``b`` crosses zero."""
    return a / (a - b) if a != b else 0.0
