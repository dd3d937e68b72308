"""Gait events from the shank's own gyroscope and accelerometer, independent of the calibration.

The shank turns mainly about one axis while walking — the knee's flexion axis
— so that axis is found from the data: the principal axis of the gyroscope's
fast rotations (:func:`swing_axis`), signed so that swing, the shank's fastest
rotation, is positive. No mounting calibration, standing phase or knee angle
enters, so stride timing holds where the calibration fails.

On that rate the mid-swing peak method (Aminian et al., J Biomech 35:689
(2002); Salarian et al., IEEE TBME 51:1434 (2004)): each swing is a large
positive peak; **toe off** is the deepest backward rotation (the minimum)
before it. The swing ends where the forward rotation stops (the rate falls back
through zero); **heel strike** is the impact that stops it, the heel-strike
transient shank accelerometers see (Selles et al., IEEE TNSRE 13:81 (2005)): the
largest jerk of the low-passed acceleration from 20 ms before to 100 ms after
that zero crossing, when it exceeds ``impact_jerk_m_s3``, timed in the raw
acceleration. On HuGaDB's real walks (Chereshnev & Kertész-Farkas, AIST 2017)
the impact falls on the published rule's negative minimum after mid-swing (median
offset half a sample, ±8.5 ms, on every leg), and 98 % of impacts exceed 600 m/s³; the
simulator, which models no impact, never reaches 480 m/s³ — its negative minimum
is the loading response, 55–60 ms after contact. Without an impact heel strike
is the end of knee extension when the knee angle is known — the knee, extending
through terminal swing, turns to flexion just before initial contact (Perry &
Burnfield 2010: 5° at contact after 7° at 95 % of the cycle), a timing that
holds in the short steps of starting and stopping — else the shank's zero
crossing; either plus ``contact_delay_s`` (about 2 % of a stride).

Every threshold is absolute (rad/s, m/s³, s), so the same samples give the same
events whether they are analysed whole or in overlapping windows
(:class:`~hiprot.kinematics.gait_events.StreamingGaitEvents`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.signal import butter, find_peaks, sosfiltfilt

from hiprot.kinematics.gait_events import GaitEvents, zero_fraction

MIN_FAST_SAMPLES = 10  # fewer fast samples than this: no axis can be told


def swing_axis(gyr: np.ndarray, fast_rad_s: float = 1.5) -> np.ndarray | None:
    """The shank's swing axis in its sensor frame (unit vector), from its gyroscope ``gyr``
    (n, 3) in rad/s: the principal axis of the samples turning faster than ``fast_rad_s``,
    signed so that the larger extreme of the rate about it (the swing) is positive. None
    when the shank hardly turned fast."""
    gyr = np.asarray(gyr, float)
    gyr = gyr[np.all(np.isfinite(gyr), axis=1)]
    fast = gyr[np.linalg.norm(gyr, axis=1) > fast_rad_s]
    if len(fast) < MIN_FAST_SAMPLES:
        return None
    _, vectors = np.linalg.eigh(fast.T @ fast)
    axis = vectors[:, -1]
    low, high = np.percentile(gyr @ axis, [1.0, 99.0])
    return axis if high >= -low else -axis


@lru_cache(maxsize=16)
def _low_pass(cutoff_hz: float, rate_hz: float) -> np.ndarray:
    """The 4th-order Butterworth low-pass (second-order sections) that
    :meth:`ShankEventDetector.smooth` runs: designed once per cutoff, not in every live
    window (scipy's design costs more than the filtering). Shared: never modified (scipy's filter needs it writable)."""
    return butter(4, cutoff_hz, fs=rate_hz, output="sos")


class ShankEventDetector:
    """Mid-swing peaks in the shank's swing-axis rate; toe off before each, heel strike after.

    ``min_peak_rad_s``: smallest mid-swing rate (and prominence) taken as a step;
    ``min_stride_s``: two swings of one leg are at least this far apart;
    ``max_swing_s``: longest time from toe off to mid-swing and from mid-swing to the end of
    the forward rotation;
    ``cutoff_hz``: low-pass of the rate before searching;
    ``impact_lead_s``, ``impact_window_s``, ``impact_jerk_m_s3``, ``impact_cutoff_hz``: an
    impact is looked for from ``impact_lead_s`` before to ``impact_window_s`` after the end of
    the swing (the low-passed rate may cross zero a sample late), how sharp it must be, the
    low-pass of the acceleration before differentiating (kept below the Nyquist frequency);
    ``knee_window_s``: how far from the shank's zero crossing the end of knee extension is
    looked for;
    ``contact_delay_s``: from the end of knee extension (or of the shank's forward rotation) to
    heel strike, without an impact.
    """

    def __init__(
        self,
        min_peak_rad_s: float = 1.5,
        min_stride_s: float = 0.6,
        max_swing_s: float = 0.8,
        cutoff_hz: float = 12.0,
        impact_window_s: float = 0.1,
        impact_lead_s: float = 0.02,
        impact_jerk_m_s3: float = 600.0,
        impact_cutoff_hz: float = 20.0,
        knee_window_s: float = 0.1,
        contact_delay_s: float = 0.02,
    ):
        self.min_peak_rad_s = min_peak_rad_s
        self.min_stride_s = min_stride_s
        self.max_swing_s = max_swing_s
        self.cutoff_hz = cutoff_hz
        self.impact_window_s = impact_window_s
        self.impact_lead_s = impact_lead_s
        self.impact_jerk_m_s3 = impact_jerk_m_s3
        self.impact_cutoff_hz = impact_cutoff_hz
        self.knee_window_s = knee_window_s
        self.contact_delay_s = contact_delay_s

    def smooth(self, values: np.ndarray, rate_hz: float, cutoff_hz: float | None = None):
        """``values`` low-passed along their first axis (zero phase)."""
        values = np.asarray(values, float)
        if len(values) <= 30:
            return values
        cutoff = min(cutoff_hz or self.cutoff_hz, 0.45 * rate_hz)
        return sosfiltfilt(_low_pass(cutoff, rate_hz), values, axis=0)

    def jerk(self, acc: np.ndarray, rate_hz: float, smooth: bool = True) -> np.ndarray:
        """Magnitude of the rate of change of the (low-passed) acceleration (m/s³), from each
        sample to the next: an impact shows at the first sample that has it."""
        if not smooth:
            size = np.linalg.norm(acc, axis=1)
            return np.diff(size, prepend=size[:1]) * rate_hz
        acc = self.smooth(acc, rate_hz, self.impact_cutoff_hz)
        return np.linalg.norm(np.diff(acc, axis=0, prepend=acc[:1]), axis=1) * rate_hz

    def detect(
        self,
        rate: np.ndarray,
        rate_hz: float,
        acc: np.ndarray | None = None,
        knee_flexion_deg: np.ndarray | None = None,
    ) -> GaitEvents:
        """Events in ``rate`` (n,), the shank's rate about its swing axis in rad/s (swing
        positive); ``acc`` (n, 3), the shank's acceleration in m/s², times heel strike by its
        impact, ``knee_flexion_deg`` (n,) by the end of knee extension where there is none."""
        smooth = self.smooth(rate, rate_hz)
        jerks = (
            (self.jerk(acc, rate_hz), self.jerk(acc, rate_hz, smooth=False))
            if acc is not None and len(acc) > 30
            else None
        )
        knee_rate = self._knee_rate(knee_flexion_deg, rate_hz)
        peaks, _ = find_peaks(
            smooth,
            height=self.min_peak_rad_s,
            distance=max(1, int(self.min_stride_s * rate_hz)),
            prominence=self.min_peak_rad_s,
        )
        window = int(self.max_swing_s * rate_hz)
        heel, toe, mid = [], [], []
        for k, p in enumerate(peaks):
            after = np.flatnonzero(smooth[p : p + window] <= 0)
            start = max(0, p - window, peaks[k - 1] if k > 0 else 0)
            before = smooth[start:p]
            if len(after) == 0 or after[0] == 0 or len(before) == 0 or before.min() >= 0:
                continue
            crossing = p + after[0]
            end_of_swing = crossing - 1 + zero_fraction(smooth[crossing - 1], smooth[crossing])
            mid.append(p)
            heel.append(self._contact(end_of_swing, p, jerks, knee_rate, rate_hz))
            toe.append(start + int(np.argmin(before)))
        return GaitEvents(np.array(mid, int), np.array(heel, float), np.array(toe, int))

    def _contact(
        self,
        end_of_swing: float,
        peak: int,
        jerks: tuple[np.ndarray, np.ndarray] | None,
        knee_rate: np.ndarray | None,
        rate_hz: float,
    ) -> float:
        """Heel strike (fractional index): the impact at ``end_of_swing`` when there is one,
        else ``contact_delay_s`` after the end of knee extension or of the swing.

        The impact is found in the low-passed jerk (a threshold independent of the sample
        rate) and timed in the raw one, whose largest step within the low-pass' spread
        (half a period of ``impact_cutoff_hz``) lies between the last sample before the
        impact and the first with it: heel strike is half a sample before that one."""
        if jerks is not None:
            jerk, raw = jerks
            lo = max(0, int(np.ceil(end_of_swing - self.impact_lead_s * rate_hz)))
            hi = min(len(jerk), int(end_of_swing + self.impact_window_s * rate_hz) + 1)
            if hi > lo:
                i = lo + int(np.argmax(jerk[lo:hi]))
                if jerk[i] >= self.impact_jerk_m_s3:
                    spread = max(1, int(np.ceil(0.5 / self.impact_cutoff_hz * rate_hz)))
                    near = slice(max(1, i - spread), min(len(raw), i + spread + 1))
                    return near.start + float(np.argmax(raw[near])) - 0.5
        if knee_rate is not None:
            end_of_swing = self._knee_extended(knee_rate, end_of_swing, peak, rate_hz)
        return end_of_swing + self.contact_delay_s * rate_hz

    def _knee_rate(self, knee_flexion_deg: np.ndarray | None, rate_hz: float):
        """Low-passed knee flexion rate (deg/s), gaps bridged linearly; None without any knee
        angle."""
        if knee_flexion_deg is None:
            return None
        knee = np.asarray(knee_flexion_deg, float)
        ok = np.isfinite(knee)
        if ok.sum() < 2:
            return None
        index = np.arange(len(knee))
        knee = np.interp(index, index[ok], knee[ok])
        return self.smooth(np.gradient(knee) * rate_hz, rate_hz)

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
        return i + zero_fraction(knee_rate[i], knee_rate[i + 1])


def shank_events(
    gyr: np.ndarray,
    acc: np.ndarray | None,
    rate_hz: float,
    detector: ShankEventDetector,
    knee_flexion_deg: np.ndarray | None = None,
) -> tuple[np.ndarray, GaitEvents]:
    """One shank's rate about its swing axis (rad/s; zero when it never turned fast) and its
    gait events, from its gyroscope (n, 3) and accelerometer samples (and the knee angle, when
    known) on one clock."""
    axis = swing_axis(gyr, detector.min_peak_rad_s)
    if axis is None:
        return np.zeros(len(gyr)), GaitEvents()
    rate = np.asarray(gyr, float) @ axis
    return rate, detector.detect(rate, rate_hz, acc, knee_flexion_deg)
