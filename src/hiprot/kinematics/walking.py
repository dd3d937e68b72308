"""The direction of walking, stride by stride, from the shank's own motion.

Between two mid-stances of the same leg the shank travels one stride along
the walking direction. Its earth-frame acceleration (orientation applied,
gravity removed) integrated twice over that stride, with the velocity made
equal at both mid-stances (where the shank only pivots about the ankle),
gives the stride vector; its horizontal direction is the walking direction
in that leg's heading frame. Gravity leaking through small inclination errors
is constant over a stride and drops out with the velocity correction.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import cumulative_trapezoid

from hiprot import quat

GRAVITY = np.array([0.0, 0.0, 9.81])


def stride_direction(q_es: np.ndarray, acc: np.ndarray, dt: float) -> tuple[float, float]:
    """Horizontal direction (rad) and length (m) of one stride's displacement."""
    a_e = quat.rotate(q_es, acc) - GRAVITY
    v = cumulative_trapezoid(a_e, dx=dt, axis=0, initial=0)
    v -= np.outer(np.linspace(0.0, 1.0, len(v)), v[-1])
    d = np.trapezoid(v, dx=dt, axis=0)
    return float(np.arctan2(d[1], d[0])), float(np.hypot(d[0], d[1]))


def mid_stances(gyr_norm: np.ndarray, heel_strike: np.ndarray, toe_off: np.ndarray) -> np.ndarray:
    """Index of the stillest shank sample between each heel strike and the next toe off."""
    out = []
    for hs in heel_strike:
        later = toe_off[toe_off > hs]
        if len(later) == 0:
            continue
        start, stop = int(np.ceil(hs)), int(later[0])
        if stop - start > 2:
            out.append(start + int(np.argmin(gyr_norm[start:stop])))
    return np.array(out, int)


def walking_directions(q_es: np.ndarray, acc: np.ndarray, gyr: np.ndarray, rate_hz: float,
                       stances: np.ndarray, max_stride_s: float = 2.5) -> tuple[np.ndarray, np.ndarray]:
    """(time index of each stride's centre, walking direction in rad) between consecutive stances."""
    centres, directions = [], []
    for a, b in zip(stances[:-1], stances[1:]):
        if (b - a) / rate_hz > max_stride_s:
            continue
        direction, length = stride_direction(q_es[a: b + 1], acc[a: b + 1], 1.0 / rate_hz)
        if length > 0.2:
            centres.append((a + b) / 2)
            directions.append(direction)
    return np.array(centres), np.unwrap(np.array(directions)) if directions else np.empty(0)
