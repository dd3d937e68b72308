"""The direction of walking, stride by stride, from the shank's own motion, and straight
along a straight bout (:func:`straight_path`).

Between two mid-stances of the same leg the shank travels one stride along
the walking direction. At mid-stance the foot is flat and the ankle still, so
the sensor moves only by the shank pivoting about the ankle: v = ω × (L·Y),
with L the sensor's height above the ankle (a typical value serves: an error
in L changes the speed, not the direction). The earth-frame acceleration
(orientation applied, gravity removed) integrated from one mid-stance to the
next, corrected linearly to end at the second mid-stance velocity, and
integrated again gives the stride vector; its horizontal direction is the
walking direction in that leg's heading frame. Gravity leaking through small
inclination errors is nearly constant over a stride and drops out with the
velocity correction. A stride during which the shank sensor was at full scale has
no direction: a clipped acceleration integrates to a wrong displacement (0.1 s of
one axis at ±16 g turned a simulated stride's direction far enough to put the live hip
IR 85° off for two strides).
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import cumulative_trapezoid
from scipy.stats import theilslopes

from hiprot import quat
from hiprot.geometry import UP
from hiprot.kinematics.anchoring import MIN_STRIDES, walks_between
from hiprot.units import STANDARD_GRAVITY

ANKLE_LEVER_M = 0.25
LINE_STRIDES = 8  # design choice: fewer strides in a window give their median, not a line


def stride_direction(
    a_e: np.ndarray,
    rate_e: np.ndarray,
    long_axis_e: np.ndarray,
    dt: float,
    lever_m: float = ANKLE_LEVER_M,
) -> tuple[float, float]:
    """Horizontal direction (rad) and length (m) of one stride's displacement.

    ``a_e``: the shank sensor's acceleration in the earth frame, gravity removed, per sample;
    ``rate_e`` and ``long_axis_e``: its angular rate and the shank's long axis (segment Y) in
    the earth frame at the stride's first and last sample.
    """
    pivot = np.cross(rate_e, lever_m * long_axis_e)
    v = pivot[0] + cumulative_trapezoid(a_e, dx=dt, axis=0, initial=0)
    v -= np.outer(np.linspace(0.0, 1.0, len(v)), v[-1] - pivot[1])
    d = np.trapezoid(v, dx=dt, axis=0)
    return float(np.arctan2(d[1], d[0])), float(np.hypot(d[0], d[1]))


def mid_stances(
    long_axis_up: np.ndarray, heel_strike: np.ndarray, toe_off: np.ndarray
) -> np.ndarray:
    """Index of the most upright shank sample between each heel strike and the next toe off."""
    out = []
    for hs in heel_strike:
        later = toe_off[toe_off > hs]
        if len(later) == 0:
            continue
        start, stop = int(np.ceil(hs)), int(later[0])
        if stop - start > 2:
            out.append(start + int(np.argmax(long_axis_up[start:stop])))
    return np.array(out, int)


def walking_directions(
    q_es: np.ndarray,
    acc: np.ndarray,
    gyr: np.ndarray,
    long_axis_e: np.ndarray,
    rate_hz: float,
    stances: np.ndarray,
    clipped: np.ndarray,
    max_stride_s: float = 2.5,
) -> tuple[np.ndarray, np.ndarray]:
    """(time index of each stride's centre, walking direction in rad) between consecutive
    stances; strides with a ``clipped`` sample (at full scale) are left out. The acceleration
    is taken to the earth frame once for the whole track, not stride by stride."""
    centres, directions = [], []
    a_e = quat.rotate(q_es, acc) - STANDARD_GRAVITY * UP
    for a, b in zip(stances[:-1], stances[1:]):
        if (b - a) / rate_hz > max_stride_s or clipped[a : b + 1].any():
            continue
        ends = [a, b]
        direction, length = stride_direction(
            a_e[a : b + 1], quat.rotate(q_es[ends], gyr[ends]), long_axis_e[ends], 1.0 / rate_hz
        )
        if length > 0.2:
            centres.append((a + b) / 2)
            directions.append(direction)
    return np.array(centres), np.unwrap(np.array(directions)) if directions else np.empty(0)


def straight_path(
    time_s: np.ndarray,
    walk: np.ndarray,
    strides_s: np.ndarray,
    straight: np.ndarray,
    rests: list[tuple[int, int]],
    window_s: float,
) -> np.ndarray:
    """The walking direction ``walk`` (rad per sample, continuous — unwrapped — within a
    walk; measured at strides centred at ``strides_s``) taken as straight along each
    straight bout — a run of ``straight`` strides between turns, inside one walk between
    ``rests``: at each straight stride, a robust line (Theil-Sen, as in
    :mod:`hiprot.kinematics.anchoring`) through the bout's strides within ``window_s``
    around it; the difference to ``walk`` is carried between strides and through turns.

    Without a pelvis sensor the walking direction is the thigh's stride-mean heading less
    its offset from the strides' travel: it wobbles from stride to stride by the hip's
    own mean rotation, which the path does not — so hip IR would lose it, and the reference
    a rest inherits would be one stride's (on the simulator's straight walks with pauses,
    realistic, seeds 1-10: the return-to-zero check's RMS 1.05° → 0.69°,
    ``scripts/return_to_zero_sweep.py``). A line follows heading drift and a path of
    constant curvature. It needs strides to pin its slope: at a window's end its value
    varies about 4/n times one stride's, a median's π/2n, so a window of fewer than
    ``LINE_STRIDES`` strides gives their median (heading drift over so few strides is
    smaller than either), and one of fewer than ``MIN_STRIDES`` leaves ``walk`` as it is.
    """
    out = walk.copy()
    bout = np.cumsum(~straight)
    for begin, stop in walks_between(len(time_s), rests):
        inside = (strides_s >= time_s[begin]) & (strides_s <= time_s[stop - 1]) & straight
        runs = [strides_s[inside & (bout == run)] for run in np.unique(bout[inside])]
        if runs:
            at = np.concatenate(runs)
            delta = np.concatenate([_local_lines(r, time_s, walk, window_s) for r in runs])
            out[begin:stop] += np.interp(time_s[begin:stop], at, delta)
    return out


def _local_lines(
    at: np.ndarray, time_s: np.ndarray, walk: np.ndarray, window_s: float
) -> np.ndarray:
    """Per stride of one straight bout (centres ``at``): the robust line's value there (a
    median's with fewer than ``LINE_STRIDES`` of the bout within ``window_s`` around it) less
    ``walk``'s, 0 with fewer than ``MIN_STRIDES``."""
    values = np.interp(at, time_s, walk)
    delta = np.zeros(len(at))
    for k, t in enumerate(at):
        near = np.abs(at - t) <= window_s / 2.0
        if near.sum() >= LINE_STRIDES:
            slope, intercept, *_ = theilslopes(values[near], at[near])
            delta[k] = intercept + slope * t - values[k]
        elif near.sum() >= MIN_STRIDES:
            delta[k] = np.median(values[near]) - values[k]
    return delta
