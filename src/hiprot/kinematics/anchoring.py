"""The hip's heading reference over a session: set by standing, carried on by walking.

Six-axis fusion cannot observe heading, so the hip IR reference — the yaw turning
the pelvis sensor's frame into the thigh's (pelvis sensor), or the direction the
pelvis faces (thigh + shank only) — comes from two sources:

- **still standing**, feet forward, defines hip IR zero: at the calibration and in
  every later still standing rest the reference is measured there (the rests
  re-establish the zero);
- **walking** gives a per-stride estimate (see :mod:`hiprot.kinematics.walking`)
  that follows heading drift but carries the errors of the stride direction: a
  knee axis that is off, soft tissue turning the sensors, a shank sensor low on
  the leg (on a real walk with optical truth the walking estimate sat 17° from
  the standing zero). So walking only *changes* the reference: after each rest,
  a correction is fixed that makes the walking estimate continue from the rest's value, and
  subtracted until the next rest: the walking estimate at the straight strides over the
  first ``ANCHOR_WINDOW_S`` is fitted with a line (Theil-Sen: the median of pairwise slopes,
  robust to odd strides — Sen, J Am Stat Assoc 63:1379-1389, 1968), for heading drift goes
  on while walking (on the simulator with 1 °/s of gyroscope bias, up to 12° a minute
  between pelvis and thigh); the line's value at the first stride used, less the rest's
  value, is the correction. The first ``INITIATION_STRIDES`` of a walk are not used: gait
  reaches its steady state only after three steps (Miller & Verstraete, J Biomech
  29:1195-1199, 1996; Mann et al., J Bone Joint Surg Am 61:232-239, 1979), and on the
  simulator the first two strides' estimates sat 1.6° and 0.6-0.9° off the median of the
  walk's steady strides (a one-off measurement on the straight walks with pauses of
  ``scripts/return_to_zero_sweep.py``, realistic, 5 seeds, with and without a pelvis
  sensor; the third: 0.1-0.3°). Nor is the straight
  stride just before a turn (straightness is judged over ±1 s, so it has begun turning).
  A line needs ``MIN_STRIDES`` (a design choice: the fewest a robust line is fitted
  through; fewer before a turn give their median), and a walk with fewer straight strides
  in all (a flight of stairs) sets no correction: it leaves the reference as the rest set
  it.

The walking estimate is measured at strides: after a rest it is followed from the walk's
first stride, and before a rest up to its last; in starting and stopping, where a
stride-long window mixes walking with standing, the rest's value or the last stride's
is held — unless the estimate turned by more than ``STRAIGHT_DEG`` after the last stride
(a turn, then a stop within a stride): then it is followed up to the rest.

Without a pelvis sensor a walk that starts more than ``MAX_START_TURN_DEG`` away
from the direction stood in is taken to start with a turn: its walking estimate
is used as it is (the reference is then the direction of walking). That limit is
a design choice (a quarter of a 180° turn), not a published figure.

A rest whose heading drifts faster than ``MAX_REST_DRIFT_DEG_S`` — the gyroscope
bias the fusion is specified for (1 °/s, issue #5): the filter has not learnt the
bias yet, as with a cheap chip right after switching on — still sets the reference
while it lasts, but the walk after it is not anchored to it (its drift rate changes
when walking starts, so the two cannot be compared across the gap): the walking
estimate is then used as it is.

A rest moves the reference to its value at ``RAMP_DEG_S`` (1 °/s), not at once:
a step of several degrees in hip IR would look like a movement to the repetition
counter (:mod:`hiprot.analysis.excursions` starts an excursion at 4° from a 1-s
median), while a ramp this slow is followed as the resting value.

The reference each rest would have had without it — the value carried into it —
is kept per rest: the return-to-zero check compares the angles it gives there
with the first standing, independently of that rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.stats import theilslopes

from hiprot.geometry import wrap

MAX_START_TURN_DEG = 45.0
MAX_REST_DRIFT_DEG_S = 1.0
RAMP_DEG_S = 1.0
ANCHOR_WINDOW_S = 10.0  # about ten strides, and inside a live window (20 s) after the rest
INITIATION_STRIDES = 2  # a leg's first two strides span the three steps of gait initiation
MIN_STRIDES = 3  # design choice: the fewest straight strides a robust line is fitted through
STRAIGHT_DEG = 15.0  # design choice: a stride turning less than this over ±1 s walks straight


@dataclass
class Reference:
    """A reference angle (rad) per sample, and what set it.

    ``carried``: per rest, the value carried into it from before (its prediction
    without it, held through it); ``corrections``: each walking correction fixed (rad) — how far the
    walking estimate sat from the standing zero; ``correction``: the one in force at
    the end (None when none is), for live windows to carry on.
    """

    values: np.ndarray
    carried: list[float] = field(default_factory=list)
    corrections: list[float] = field(default_factory=list)
    correction: float | None = None


def anchored(
    time_s: np.ndarray,
    walk: np.ndarray,
    walking: np.ndarray,
    strides_s: np.ndarray,
    straight: np.ndarray,
    rests: list[tuple[int, int]],
    rest_values: list[np.ndarray],
    start: float,
    correction: float | None = None,
    max_start_turn: float | None = None,
    gaps: list[tuple[int, int]] = (),
    stride_s: float = 1.1,
) -> Reference:
    """The reference on ``time_s``: ``rest_values[k]`` (per sample) in rest ``k`` (index
    ranges), the
    walking estimate ``walk`` less a correction where ``walking``, else the last value held
    (``start`` before any).

    The correction is fixed after each rest from the strides (centre times ``strides_s``,
    ``straight`` or turning) so the walking estimate continues from the rest's value: from
    ``walk`` itself at those strides — the estimate it corrects, not the strides' raw
    directions, which the walking estimate smooths (a correction from a raw stride that the
    smoothing discounts would move the reference by their difference); ``correction`` is one already in force at ``time_s[0]``.
    ``max_start_turn`` (rad; for a walking direction, which turns with the walk): only the
    straight strides before the first turn count, and a larger correction means the walk
    started with a turn: the walking estimate is then used uncorrected.

    ``gaps`` (index ranges where a sensor delivered nothing for longer than the fusion
    bridges): the sensor came back turned by an unknown yaw, so the reference is unknown
    (NaN) from the gap until the first straight stride after it — from where that stride
    (``stride_s`` long) begins — or the next rest, which then sets it at once, not by a ramp.
    The walking estimate steps at the gap with the sensor (it is measured in its frame), the
    correction does not (it is the estimate's error, whatever the frame): one in force is
    kept; one still to be fixed comes from the strides before the gap only, and with none
    there the walking estimate is used uncorrected. So is it after an unknown ``start``.
    """
    n = len(time_s)
    out = np.empty(n)
    result = Reference(out, correction=correction)
    current = start
    edges = _edges(n, rests)
    for k in range(len(edges) - 1):
        begin, stop = edges[k][1], edges[k + 1][0]
        if k > 0:  # edges[k] is rest k - 1
            rest_begin, rest_end = edges[k]
            result.carried.append(current)
            values = rest_values[k - 1]
            step = wrap(current - float(values[0])) if np.isfinite(current) else 0.0
            out[rest_begin:rest_end] = values + _ramp(
                step, time_s[rest_begin:rest_end] - time_s[rest_begin]
            )
            current = float(values[-1])
            span = time_s[rest_end - 1] - time_s[rest_begin]
            drift = abs(values[-1] - values[0]) / span if span > 0 else 0.0
            result.correction = None if drift <= np.radians(MAX_REST_DRIFT_DEG_S) else 0.0
        if stop <= begin:
            continue
        piece = np.arange(begin, stop)
        inside = (strides_s >= time_s[begin]) & (strides_s <= time_s[stop - 1])
        moving = walking[begin:stop] & _between_strides(
            time_s[begin:stop], strides_s[inside], after_rest=k > 0, before_rest=stop < n
        )
        breaks = [(a, b) for a, b in gaps if begin <= a < stop]
        linked = inside & (strides_s < (time_s[breaks[0][0]] if breaks else np.inf))
        if result.correction is None and straight[inside].sum() >= MIN_STRIDES:
            use = _first_straight(strides_s[linked], straight[linked], max_start_turn is not None)
            if not np.isfinite(current) or (breaks and not use.any()):
                result.correction = 0.0  # nothing links these strides to the value held
            elif use.any():
                at = strides_s[linked][use]
                first = np.interp(at, time_s, walk)
                first = first[0] + np.angle(np.exp(1j * (first - first[0])))
                if len(first) >= MIN_STRIDES:
                    slope, intercept, *_ = theilslopes(first, at)
                    start_value = intercept + slope * at[0]
                else:  # a turn soon after the start: too few for a line
                    start_value = float(np.median(first))
                value = wrap(float(start_value) - current)
                if max_start_turn is not None and abs(value) > max_start_turn:
                    value = 0.0  # a walk that starts with a turn: nothing to compare
                else:
                    result.corrections.append(value)
                result.correction = value
        if result.correction is None:
            moving = np.zeros_like(moving)
        elif stop < n and moving.any() and _turned_after_last(walk[begin:stop], moving):
            moving[int(np.flatnonzero(moving)[-1]) :] = True
        values = walk[begin:stop] - (result.correction or 0.0)
        index = np.maximum.accumulate(np.where(moving, piece - begin, -1))
        out[begin:stop] = np.where(index >= 0, values[np.maximum(index, 0)], current)
        for a, b in breaks:
            after = strides_s[straight & (strides_s >= time_s[min(b, n - 1)])]
            end = stop
            if len(after):
                end = min(stop, int(np.searchsorted(time_s, after[0] - stride_s / 2.0)))
            out[a : max(end, b)] = np.nan
        current = float(out[stop - 1])
    return result


def _between_strides(
    time_s: np.ndarray, strides_s: np.ndarray, after_rest: bool, before_rest: bool
) -> np.ndarray:
    """Where the walking estimate is followed: from the first stride's centre after a rest,
    to the last stride's before one. It is measured at strides; in starting and stopping a
    stride-long window mixes walking with standing (the thigh's heading moves by the hip
    rotation people walk with), so the rest's value, or the last stride's, is held there.
    Where a walk runs on past the data (a live window) it is followed to the end."""
    out = np.ones(len(time_s), bool)
    if len(strides_s) == 0:
        return out & ~(after_rest or before_rest)
    if after_rest:
        out &= time_s >= strides_s.min()
    if before_rest:
        out &= time_s <= strides_s.max()
    return out


def _turned_after_last(walk: np.ndarray, moving: np.ndarray) -> bool:
    """Whether the walking estimate turned by more than ``STRAIGHT_DEG`` between the walk's
    last stride and the rest after it: a person who turns and stops within a stride. Then the
    reference follows the estimate up to the rest (held from the last stride it would carry
    the rest of the turn into the rest: 15-17° on the simulator); otherwise it is held, for
    stopping mixes walking and standing."""
    last = int(np.flatnonzero(moving)[-1])
    return bool(abs(walk[-1] - walk[last]) > np.radians(STRAIGHT_DEG))


def merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Index ranges joined where they overlap or touch, in time order."""
    out: list[tuple[int, int]] = []
    for begin, stop in sorted(spans):
        if out and begin <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], stop))
        else:
            out.append((begin, stop))
    return out


def walks_between(n: int, rests: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(start, stop) index ranges of ``n`` samples outside the ``rests``, in time order."""
    edges = _edges(n, rests)
    return [(a[1], b[0]) for a, b in zip(edges, edges[1:]) if b[0] > a[1]]


def _edges(n: int, rests: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(0, 0)] + list(rests) + [(n, n)]


def _ramp(step: float, since_s: np.ndarray) -> np.ndarray:
    """What is left of ``step`` (rad) ``since_s`` after a rest began, shrinking at
    ``RAMP_DEG_S``: a re-established zero is approached gradually, not jumped to."""
    return np.sign(step) * np.maximum(0.0, abs(step) - np.radians(RAMP_DEG_S) * since_s)


def _first_straight(at: np.ndarray, straight: np.ndarray, before_turn: bool) -> np.ndarray:
    """Which of these strides set the correction: the straight ones within ``ANCHOR_WINDOW_S``
    of the first straight stride after gait initiation (``before_turn``: and before the first
    turning stride after it). The first ``INITIATION_STRIDES`` are skipped when later ones
    remain."""
    steady = np.arange(len(at)) >= INITIATION_STRIDES
    if (straight & steady).any():
        straight = straight & steady
    if not straight.any():
        return straight
    first = int(np.argmax(straight))
    use = straight & (at <= at[first] + ANCHOR_WINDOW_S) & (np.arange(len(at)) >= first)
    if before_turn and not straight[first:].all():
        use &= np.arange(len(at)) < first + int(np.argmin(straight[first:])) - 1
    return use
