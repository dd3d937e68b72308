"""Feet that stay where they land: the stance hip's adduction and the pelvis path of walking.

A real foot is planted from foot flat to heel off: its ankle joint centre does not
move. The walking curves give joint angles only; this module places the body so
that the stance ankle stands still:

- **Foot flat** lasts from 10 % of the foot's own gait cycle (the end of loading
  response, Perry & Burnfield 2010) to heel off, taken at 45 %. The other foot is
  then in the air (60-100 % of its cycle), so one ankle carries the body.
- **Sideways**, the pelvis sways over the stance foot (``sway``, a target path
  relative to the walking direction); the stance hip's adduction is corrected by
  the few degrees that keep the stance ankle where it landed while the pelvis
  follows that sway. The correction rises from zero at heel strike and returns to
  zero at toe off along quintic bridges (matching value, rate and acceleration),
  so the swing leg moves on the normative curve.
- **Forward and up**, the pelvis is wherever the stance leg puts it above the
  planted ankle (the ankle at its standing height above the floor). Between two
  foot-flat spans — heel off, the other foot's heel strike and loading — the
  pelvis follows the quintic bridge that matches position, velocity and
  acceleration at both ends, its length such that its velocity is the cubic
  between the two ends' velocities; there the ankles move as a foot rolling over
  heel and forefoot does (this model has no foot segment).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import BPoly, CubicSpline

from hiprot.sim.body import Body, ankle_positions
from hiprot.sim.curves import TOE_OFF
from hiprot.sim.motion import CH, minimum_jerk

FOOT_FLAT = (0.10, 0.45)  # fraction of the foot's own gait cycle: foot flat .. heel off
LAGS = {"right": 0.0, "left": 0.5}  # where each leg's cycle starts, in strides of the right leg
ADDUCTION_GRID_HZ = 100.0

# Postures (n, channels) at times t with the pelvis at the world origin, the stance hips'
# adduction corrected by ``fix`` (side -> degrees at t; None: the correction already solved).
Postures = Callable[[np.ndarray, "dict[str, np.ndarray] | None"], np.ndarray]


@dataclass(frozen=True)
class FootFlat:
    """One foot-flat span of ``side``, with the heel strike before it and the toe off after it."""

    side: str
    strike_s: float
    start_s: float
    end_s: float
    toe_off_s: float


def contact(own_phase: np.ndarray) -> np.ndarray:
    """How much a foot carries the body at its own gait phase (cycles): 0 in swing, 1 in foot
    flat, minimum-jerk ramps from heel strike and to toe off (C2 throughout)."""
    cycle = np.mod(own_phase, 1.0)
    flat, heel_off = FOOT_FLAT
    rise = minimum_jerk(cycle / flat)
    fall = 1.0 - minimum_jerk((cycle - heel_off) / (TOE_OFF - heel_off))
    return np.where(cycle < heel_off, rise, fall)


def foot_flat_spans(t: np.ndarray, phase: np.ndarray, strides: int) -> list[FootFlat]:
    """Every foot-flat span of both feet inside ``strides`` gait cycles, in time order; ``phase``
    is the right leg's gait phase (cycles) at the increasing times ``t``."""
    spans = []
    for side, lag in LAGS.items():
        for stride in range(-1, strides + 1):
            strike, start, end, toe_off = (stride + lag + at for at in (0.0, *FOOT_FLAT, TOE_OFF))
            if strike >= 0 and toe_off <= strides:
                spans.append(FootFlat(side, *np.interp([strike, start, end, toe_off], phase, t)))
    return sorted(spans, key=lambda span: span.start_s)


def _bridge(before: tuple, after: tuple) -> BPoly:
    """The quintic from ``before`` to ``after``, each (time, value, rate, acceleration)."""
    return BPoly.from_derivatives(
        [before[0], after[0]], [np.array(before[1:]), np.array(after[1:])]
    )


def _lateral(body: Body, postures: np.ndarray, side: str) -> np.ndarray:
    """How far the ``side`` ankle lies to the right of the pelvis origin, across the walking direction."""
    heading = np.radians(postures[:, CH["heading"]])
    right = np.column_stack([np.sin(heading), -np.cos(heading), np.zeros_like(heading)])
    return np.sum(ankle_positions(body, postures, (side,))[side] * right, axis=1)


def solve_adduction(
    body: Body,
    spans: list[FootFlat],
    postures: Postures,
    sway: Callable,
    start_s: float,
    stop_s: float,
) -> dict[str, CubicSpline]:
    """Per side, the correction of hip adduction (degrees, a spline over time) that holds each
    stance ankle still across the walking direction while the pelvis sways by ``sway(t)`` (m,
    to the right)."""
    grid = np.linspace(start_s, stop_s, int((stop_s - start_s) * ADDUCTION_GRID_HZ) + 2)
    fixes = {}
    for side in LAGS:
        mine = [span for span in spans if span.side == side]
        inner = [grid[_between(grid, s.start_s, s.end_s)] for s in mine]
        times = [
            np.concatenate([[s.start_s], x[(x > s.start_s) & (x < s.end_s)], [s.end_s]])
            for s, x in zip(mine, inner)
        ]
        solved = np.split(
            _hold_ankle(
                body, side, np.concatenate(times), np.array([len(x) for x in times]), postures, sway
            ),
            np.cumsum([len(x) for x in times])[:-1],
        )
        values = np.zeros_like(grid)
        for span, time, fix in zip(mine, times, solved):
            flat = CubicSpline(time, fix)
            at_start = (
                span.start_s,
                0.0,
                float(flat(span.start_s, 1)),
                float(flat(span.start_s, 2)),
            )
            at_end = (
                span.end_s,
                float(fix[-1]),
                float(flat(span.end_s, 1)),
                float(flat(span.end_s, 2)),
            )
            pieces = (
                (span.strike_s, span.start_s, _bridge((span.strike_s, 0.0, 0.0, 0.0), at_start)),
                (span.start_s, span.end_s, flat),
                (span.end_s, span.toe_off_s, _bridge(at_end, (span.toe_off_s, 0.0, 0.0, 0.0))),
            )
            for begin, end, piece in pieces:
                inside = _between(grid, begin, end)
                values[inside] = piece(grid[inside])
        fixes[side] = CubicSpline(grid, values)
    return fixes


def _hold_ankle(
    body: Body, side: str, t: np.ndarray, counts: np.ndarray, postures: Postures, sway: Callable
) -> np.ndarray:
    """Adduction corrections at ``t`` (consecutive spans of ``counts`` samples, each starting at
    its foot flat with no correction) by a Newton step on the ankle's lateral place: the
    ankle is held exactly by the pelvis path anyway, so a millimetre of sway matters little."""
    first = np.repeat(np.cumsum(counts) - counts, counts)
    landed = _lateral(body, postures(t, {side: np.zeros_like(t)}), side)
    target = landed[first] - (sway(t) - sway(t[first]))
    slope = _lateral(body, postures(t, {side: np.ones_like(t)}), side) - landed  # metres per degree
    return (target - landed) / slope


def solve_path(
    body: Body,
    spans: list[FootFlat],
    postures: Postures,
    t: np.ndarray,
    start_xyz: np.ndarray,
    stop_s: float,
) -> CubicSpline:
    """The pelvis position (a spline over time, metres) for a walk from standing at ``start_xyz``
    (time ``t[0]``) to standing at ``stop_s``: each foot-flat ankle still on the floor, quintic
    bridges between."""
    ankles = ankle_positions(body, postures(t, None))
    floor = (
        start_xyz[2] - body.thigh_m - body.shank_m
    )  # the ankle's height when its foot is on the floor
    path = np.empty((len(t), 3))
    still = np.zeros(3)
    before = (t[0], start_xyz, still, still)
    ends = np.array([[span.start_s, span.end_s] for span in spans]).ravel()
    motion = {side: _ankle_motion(body, side, ends, postures) for side in LAGS}
    for k, span in enumerate(spans):
        (r0, v0, a0), (r1, v1, a1) = ([m[2 * k + i] for m in motion[span.side]] for i in (0, 1))
        landing = before[1] + _bridge_shift(before, span.start_s, -v0, -a0)
        anchor = np.append(landing[:2] + r0[:2], floor)
        _fill(path, t, before, (span.start_s, anchor - r0, -v0, -a0))
        inside = _between(t, span.start_s, span.end_s)
        path[inside] = anchor - ankles[span.side][inside]
        before = (span.end_s, anchor - r1, -v1, -a1)
    stop_xy = before[1][:2] + _bridge_shift(before, stop_s, still, still)[:2]
    _fill(path, t, before, (stop_s, np.append(stop_xy, start_xyz[2]), still, still))
    return CubicSpline(t, path)


def _ankle_motion(
    body: Body, side: str, times: np.ndarray, postures: Postures, step_s: float = 1e-3
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Position, velocity and acceleration (n, 3) of the ``side`` ankle relative to the pelvis origin."""
    t = np.concatenate([times - step_s, times, times + step_s])
    before, now, after = np.split(ankle_positions(body, postures(t, None), (side,))[side], 3)
    return now, (after - before) / (2 * step_s), (after - 2 * now + before) / step_s**2


def _bridge_shift(
    before: tuple, end_s: float, velocity: np.ndarray, acceleration: np.ndarray
) -> np.ndarray:
    """Displacement from ``before`` = (time, position, velocity, acceleration) to ``end_s`` when the
    velocity follows the cubic between the two ends' velocities and accelerations."""
    span = end_s - before[0]
    return 0.5 * (before[2] + velocity) * span + (before[3] - acceleration) * span**2 / 12


def _fill(path: np.ndarray, t: np.ndarray, before: tuple, after: tuple) -> None:
    """Fill ``path`` between two (time, position, velocity, acceleration) states with their bridge."""
    inside = _between(t, before[0], after[0])
    if inside.stop > inside.start:
        path[inside] = _bridge(before, after)(t[inside])


def _between(t: np.ndarray, start_s: float, end_s: float) -> slice:
    """The samples of the increasing times ``t`` from ``start_s`` to ``end_s`` (both included)."""
    return slice(np.searchsorted(t, start_s, side="left"), np.searchsorted(t, end_s, side="right"))
