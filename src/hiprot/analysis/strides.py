"""Strides: one leg's angles cut at successive heel strikes, with the metrics people ask for.

A stride runs from one heel strike of a leg to its next; its toe off splits it
into stance and swing. Per stride: time, cadence, stance share, hip IR at heel
strike, peak IR, peak ER (positive = external), the IR range over the stride,
in stance and in swing, peak knee flexion; hip IR after heel strike — the stance peak
of IR, its timing in % of the stride, the excursion from heel strike to it (the hip rotates
internally through loading response, 0-10 % of the cycle: Perry & Burnfield, Gait
Analysis, 2nd ed. 2010) and the mean IR over stance — where the stride's own stance lies
within :data:`STANCE_PLAUSIBLE_PERCENT` (else its toe off is wrong and so is its stance);
with a pelvis sensor the pelvic obliquity's range and mean and the pelvic rotation's range
and peak, in the leg's own convention (as Vicon's Plug-in Gait reports pelvic angles per
side: that side up, that side forward positive); and whether the walker was turning
(the thigh's heading changed by more than ``turn_deg`` over the stride), and
whether a sensor of the leg was at full scale during it (its angles are wrong).
A leg cycle in which the thigh never comes within :data:`WALKING_THIGH_DEG` of the
vertical is no stride: walking swings the thigh from about 10° of extension to 30° of
flexion (Perry & Burnfield 2010), while pedalling or kicking seated keeps it flexed
throughout (the full-body recording of the qmt toolbox, cycling seated: 40-100°); such
cycles are counted in ``not_walking``.
A leg without any hip angle (its session could not be calibrated) still gets
its strides' timing, the angle metrics left empty. Session summaries
(:func:`gait_summary`) use the straight strides only — turns change how the hip
rotates — while every stride stays listed; a leg whose median stance lies
outside :data:`STANCE_PLAUSIBLE_PERCENT` is marked implausible.

:class:`StrideSegmenter` takes samples and events as they come (any chunking,
events before or after their samples) and returns each stride once both its
heel strikes and all its samples are in, so live and batch strides are the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from hiprot.analysis.formatting import rounded, sample_sd
from hiprot.columns import (
    CADENCE,
    HIP_IR,
    KNEE_FLEXION,
    PELVIS_OBLIQUITY,
    PELVIS_ROTATION,
    PERCENT,
    SATURATED,
    STANCE_MEDIAN,
    STANCE_PLAUSIBLE,
    STRIDE_METRICS,
    STRIDE_TIME,
    STRIDE_TIME_CV,
    SYMMETRY_METRICS,
    mean_key,
    sd_key,
)
from hiprot.geometry import wrap
from hiprot.kinematics.gait_events import STANCE_PLAUSIBLE_PERCENT

CURVE_POINTS = 101  # 0, 1, ..., 100 % of the gait cycle
HEADING = "heading_deg"  # the segmenter's name of the thigh heading input
INCLINATION = "inclination_deg"  # the segmenter's name of the thigh's inclination input
# A stride's thigh comes within this of the vertical (its long axis' inclination from the
# calibrated standing): gait's largest hip flexion, 30° (Perry & Burnfield 2010)
WALKING_THIGH_DEG = 30.0
# per-leg inputs, without the side; SATURATED: True where a sensor of the leg was at full scale;
# the pelvis' obliquity and rotation in the leg's own convention (sign: that side up, forward)
LEG_COLUMNS = (
    HIP_IR,
    KNEE_FLEXION,
    HEADING,
    INCLINATION,
    SATURATED,
    PELVIS_OBLIQUITY,
    PELVIS_ROTATION,
)
METRICS = STRIDE_METRICS


@dataclass
class Stride:
    """One stride; all fields but ``curves`` are the ``stride`` metrics (report and MQTT)."""

    side: str
    index: int
    start_s: float
    end_s: float
    toe_off_s: float
    stride_time_s: float
    stance_percent: float
    cadence_steps_per_min: float
    hip_ir_at_heel_strike_deg: float | None
    hip_ir_max_deg: float | None
    hip_er_max_deg: float | None
    hip_ir_rom_deg: float | None
    hip_ir_rom_stance_deg: float | None
    hip_ir_rom_swing_deg: float | None
    knee_flexion_max_deg: float | None
    turning: bool | None
    saturated: bool | None  # a sensor of the leg at full scale during it: its angles are wrong
    hip_ir_stance_peak_deg: float | None = None
    hip_ir_stance_peak_percent: float | None = None
    hip_ir_loading_excursion_deg: float | None = None
    hip_ir_stance_mean_deg: float | None = None
    pelvic_obliquity_rom_deg: float | None = None
    pelvic_obliquity_mean_deg: float | None = None
    pelvic_rotation_rom_deg: float | None = None
    pelvic_rotation_max_deg: float | None = None
    curves: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def payload(self) -> dict:
        """JSON-ready metrics (rounded), without the normalised curves (never copied: a
        session has thousands of strides)."""
        return rounded({f.name: getattr(self, f.name) for f in fields(self) if f.name != "curves"})


class StrideSegmenter:
    """Cut one leg's angle stream into strides.

    ``min_stride_s``/``max_stride_s``: plausible stride times (a longer pause ends a walking
    bout, it is not a stride); ``turn_deg``: heading change over a stride that marks a turn;
    ``keep_s``: how long samples wait for a heel strike reported late.
    """

    def __init__(
        self,
        side: str,
        min_stride_s: float = 0.6,
        max_stride_s: float = 2.5,
        turn_deg: float = 10.0,
        keep_s: float = 4.0,
    ):
        self.side = side
        self.min_stride_s = min_stride_s
        self.max_stride_s = max_stride_s
        self.turn_deg = turn_deg
        self.keep_s = max_stride_s + keep_s
        self.time_s = np.empty(0)
        self.columns: dict[str, np.ndarray] = {}
        self.heel_strikes: list[float] = []
        self.toe_offs: list[float] = []
        self.count = 0
        self.skipped = 0  # strides with missing angles
        self.not_walking = 0  # leg cycles with the thigh flexed throughout (pedalling, kicking)

    def update(
        self, time_s: np.ndarray, columns: dict[str, np.ndarray], heel_strike_s=(), toe_off_s=()
    ) -> list[Stride]:
        """Add samples (times ascending; ``columns`` keyed by :data:`LEG_COLUMNS`; ``hip_ir_deg``
        required) and newly known events (times on the same clock); returns the strides now
        complete."""
        self.time_s = np.concatenate([self.time_s, np.asarray(time_s, float)])
        for name in LEG_COLUMNS:  # a column missing now or before (a sensor dropped out): NaN
            if name in columns or name in self.columns:
                old = self.columns.get(name, np.full(len(self.time_s) - len(time_s), np.nan))
                new = columns.get(name, np.full(len(time_s), np.nan))
                self.columns[name] = np.concatenate([old, np.asarray(new, float)])
        self.heel_strikes = sorted(self.heel_strikes + [float(t) for t in heel_strike_s])
        self.toe_offs = sorted(self.toe_offs + [float(t) for t in toe_off_s])
        done = []
        while (
            len(self.heel_strikes) >= 2
            and len(self.time_s)
            and self.time_s[-1] >= self.heel_strikes[1]
        ):
            start, end = self.heel_strikes.pop(0), self.heel_strikes[0]
            toe = [t for t in self.toe_offs if start < t < end]
            self.toe_offs = [t for t in self.toe_offs if t > start]
            if self.min_stride_s <= end - start <= self.max_stride_s and len(toe) == 1:
                if not self._walking(start, end):
                    self.not_walking += 1
                    continue
                stride = self._stride(start, end, toe[0])
                if stride is None:
                    self.skipped += 1
                else:
                    done.append(stride)
        self._trim()
        return done

    def _trim(self) -> None:
        if not len(self.time_s):
            return
        keep_from = self.time_s[-1] - self.keep_s
        if self.heel_strikes:
            keep_from = min(keep_from, self.heel_strikes[0])
        first = max(0, int(np.searchsorted(self.time_s, keep_from)) - 1)
        if first:
            self.time_s = self.time_s[first:]
            self.columns = {k: v[first:] for k, v in self.columns.items()}

    def _stride(self, start: float, end: float, toe: float) -> Stride | None:
        inside = self._between(start, end, closed=False)
        if HIP_IR not in self.columns:
            return self._timing(start, end, toe)
        ir = self._extended(HIP_IR, start, end, inside)
        if ir is None or not np.all(np.isfinite(ir[1])):
            return None
        times, values = ir
        stance, swing = times <= toe, times >= toe
        stance_ir = np.append(values[stance], np.interp(toe, times, values))
        swing_ir = np.append(values[swing], np.interp(toe, times, values))
        knee = self._extended(KNEE_FLEXION, start, end, inside)
        knee_ok = knee is not None and np.all(np.isfinite(knee[1]))
        grid = np.linspace(start, end, CURVE_POINTS)
        curves = {HIP_IR: np.interp(grid, times, values)}
        if knee_ok:
            curves[KNEE_FLEXION] = np.interp(grid, *knee)
        duration = end - start
        self.count += 1
        return Stride(
            self.side,
            self.count,
            start,
            end,
            toe,
            duration,
            100 * (toe - start) / duration,
            120.0 / duration,
            float(values[0]),
            float(values.max()),
            float(-values.min()),
            float(np.ptp(values)),
            float(np.ptp(stance_ir)),
            float(np.ptp(swing_ir)),
            float(knee[1].max()) if knee_ok else None,
            self._turning(start, end),
            self._saturated(start, end),
            **_after_heel_strike(times, values, start, end, toe),
            **self._pelvis(start, end, inside),
            curves=curves,
        )

    def _pelvis(self, start: float, end: float, inside: slice) -> dict:
        """The pelvis' obliquity range and mean and rotation range and peak over the stride."""
        out = {}
        for name, rom, extra, how in (
            (PELVIS_OBLIQUITY, "pelvic_obliquity_rom_deg", "pelvic_obliquity_mean_deg", np.mean),
            (PELVIS_ROTATION, "pelvic_rotation_rom_deg", "pelvic_rotation_max_deg", np.max),
        ):
            found = self._extended(name, start, end, inside)
            if found is not None and np.all(np.isfinite(found[1])):
                out[rom], out[extra] = float(np.ptp(found[1])), float(how(found[1]))
        return out

    def _timing(self, start: float, end: float, toe: float) -> Stride:
        """A stride of a leg without angles: its timing only."""
        duration = end - start
        self.count += 1
        return Stride(
            self.side,
            self.count,
            start,
            end,
            toe,
            duration,
            100 * (toe - start) / duration,
            120.0 / duration,
            *[None] * 7,
            self._turning(start, end),
            self._saturated(start, end),
        )

    def _between(self, start: float, end: float, closed: bool) -> slice:
        """The samples from ``start`` to ``end`` (their ends included when ``closed``), found by
        bisection in the ascending sample times: a stride never scans the whole session."""
        lo, hi = ("left", "right") if closed else ("right", "left")
        t = self.time_s
        return slice(int(np.searchsorted(t, start, lo)), int(np.searchsorted(t, end, hi)))

    def _extended(self, name: str, start: float, end: float, inside: slice):
        """(times, values) of column ``name`` over the stride, its ends interpolated."""
        values = self.columns.get(name)
        if values is None:
            return None
        ends = np.interp([start, end], self.time_s, values)
        return (
            np.concatenate([[start], self.time_s[inside], [end]]),
            np.concatenate([[ends[0]], values[inside], [ends[1]]]),
        )

    def _saturated(self, start: float, end: float) -> bool | None:
        flags = self.columns.get(SATURATED)
        if flags is None:
            return None
        return bool(np.nan_to_num(flags[self._between(start, end, closed=True)]).any())

    def _walking(self, start: float, end: float) -> bool:
        """False when the thigh stayed flexed beyond :data:`WALKING_THIGH_DEG` all through."""
        inclination = self.columns.get(INCLINATION)
        if inclination is None:
            return True
        inside = inclination[self._between(start, end, closed=True)]
        inside = inside[np.isfinite(inside)]
        return not len(inside) or bool(inside.min() <= WALKING_THIGH_DEG)

    def _turning(self, start: float, end: float) -> bool | None:
        heading = self.columns.get(HEADING)
        if heading is None:
            return None
        at = np.clip(np.searchsorted(self.time_s, [start, end]), 0, len(self.time_s) - 1)
        change = heading[at[1]] - heading[at[0]]
        if not np.isfinite(change):
            return None
        return bool(abs(np.degrees(wrap(np.radians(change)))) > self.turn_deg)


def _after_heel_strike(
    times: np.ndarray, values: np.ndarray, start: float, end: float, toe: float
) -> dict:
    """Hip IR after heel strike, for a stride whose stance share is plausible: the stance
    peak, its timing (% of the stride), the excursion to it from heel strike (loading
    response) and the mean over stance (time-weighted)."""
    low, high = STANCE_PLAUSIBLE_PERCENT
    if not low <= 100 * (toe - start) / (end - start) <= high:
        return {}
    stance = times <= toe
    t, v = np.append(times[stance], toe), np.append(values[stance], np.interp(toe, times, values))
    peak = int(np.argmax(v))
    return {
        "hip_ir_stance_peak_deg": float(v[peak]),
        "hip_ir_stance_peak_percent": 100 * float(t[peak] - start) / (end - start),
        "hip_ir_loading_excursion_deg": float(v[peak] - v[0]),
        "hip_ir_stance_mean_deg": float(np.trapezoid(v, t) / (t[-1] - t[0])),
    }


def gait_summary(strides: list[Stride]) -> dict:
    """Per leg mean ± SD of every metric over straight strides, stride-time variability, the
    normalised curves (mean ± SD), and left/right asymmetry when both legs are there."""
    legs = {}
    for side in sorted({s.side for s in strides}):
        mine = [s for s in strides if s.side == side]
        straight = [s for s in mine if not s.turning]
        leg = {
            "strides": len(mine),
            "straight_strides": len(straight),
            "turning_strides": sum(1 for s in mine if s.turning),
        }
        legs[side] = _leg_summary(straight, leg)
        stance = [s.stance_percent for s in mine]
        legs[side][STANCE_MEDIAN] = float(np.median(stance))
        low, high = STANCE_PLAUSIBLE_PERCENT
        legs[side][STANCE_PLAUSIBLE] = bool(low <= np.median(stance) <= high)
    out: dict = {"legs": legs}
    if {"left", "right"} <= set(legs):
        out["asymmetry"] = _asymmetry(legs["right"], legs["left"])
    both = [s.stride_time_s for s in strides if not s.turning]
    if both:
        out[CADENCE] = 120.0 / float(np.mean(both))
    return rounded(out)


def stance_warnings(strides: list[Stride]) -> list[str]:
    """A warning per leg whose median stance is implausible: its gait events are wrong."""
    low, high = STANCE_PLAUSIBLE_PERCENT
    out = []
    for side in sorted({s.side for s in strides}):
        median = float(np.median([s.stance_percent for s in strides if s.side == side]))
        if not low <= median <= high:
            out.append(
                f"{side} leg: median stance {median:.0f} % of the stride, outside the "
                f"{low:.0f}-{high:.0f} % of walking: its heel strikes and toe offs are doubtful"
            )
    return out


def _leg_summary(straight: list[Stride], leg: dict) -> dict:
    for metric in METRICS:
        values = np.array(
            [getattr(s, metric) for s in straight if getattr(s, metric) is not None], float
        )
        if len(values):
            leg[metric] = {"mean": float(values.mean()), "sd": sample_sd(values)}
    if STRIDE_TIME in leg and leg[STRIDE_TIME]["sd"] is not None:
        leg[STRIDE_TIME_CV] = 100 * leg[STRIDE_TIME]["sd"] / leg[STRIDE_TIME]["mean"]
    curves = {PERCENT: np.linspace(0, 100, CURVE_POINTS)}
    for name in (HIP_IR, KNEE_FLEXION):
        stack = np.array([s.curves[name] for s in straight if name in s.curves])
        if len(stack):
            curves[mean_key(name)] = stack.mean(axis=0)
            curves[sd_key(name)] = (
                stack.std(axis=0, ddof=1) if len(stack) > 1 else np.zeros(CURVE_POINTS)
            )
    if len(curves) > 1:
        leg["curves"] = curves
    return leg


def _asymmetry(right: dict, left: dict) -> dict:
    """Right minus left of each mean, and for ranges and timings (:data:`SYMMETRY_METRICS`,
    never signed angles) where both are positive the symmetry index, % of the two legs' mean
    (Robinson et al., J Manipulative Physiol Ther 10:172-176, 1987; an index of signed angles
    near zero is meaningless: Błażkiewicz et al., Acta Bioeng Biomech 16(1):29-35, 2014)."""
    out = {}
    for metric in METRICS:
        if metric in right and metric in left:
            rv, lv = right[metric]["mean"], left[metric]["mean"]
            entry = {"right_minus_left": rv - lv}
            if metric in SYMMETRY_METRICS and rv > 0 and lv > 0:
                entry["symmetry_index_percent"] = 100 * (rv - lv) / (0.5 * (rv + lv))
            out[metric] = entry
    return out
