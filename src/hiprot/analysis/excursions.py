"""Excursions of one angle away from its resting value, found as the samples arrive.

A repetition of an exercise and each half of a rotation-test trial look the
same in the angle: it rests, moves away (internal rotation up, external
rotation down), turns back and rests again. :class:`ExcursionDetector` follows
the resting value (median of the last ``baseline_s`` of resting samples),
starts an excursion when the angle leaves it by ``enter_deg``, and closes it
when the angle is back within ``return_fraction`` of the excursion's range (5 %,
at least 1°);
excursions smaller than ``min_range_deg`` are dropped. Start and end are the
crossings of that same fraction, so the duration runs from leaving to regaining
the resting angle.

The detector is a state machine over samples: one call with a whole session
and many calls with small chunks find the same excursions, which is what
keeps live and batch results identical.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass
class Excursion:
    """One excursion: ``direction`` +1 (angle rose) or -1 (fell), times in s, angles in degrees."""

    direction: int
    start_s: float
    peak_s: float
    end_s: float
    baseline_deg: float
    peak_deg: float

    @property
    def range_deg(self) -> float:
        """How far the angle went from its resting value (positive)."""
        return abs(self.peak_deg - self.baseline_deg)


class ExcursionDetector:
    """Find excursions of one angle in either or both directions.

    ``rate_hz``: the angle's sample rate; ``directions``: (+1,), (-1,) or (+1, -1);
    ``enter_deg``: departure from rest that starts an excursion; ``min_range_deg``: smallest
    excursion kept; ``return_fraction`` (at least ``return_floor_deg``): share of the range left
    when the excursion counts as back, also where start and end are placed; ``baseline_s``: how
    much resting signal the resting value is the median of; ``posture_rate_deg_s``: when a
    posture angle is fed along (e.g. knee flexion in a rotation test), the person is changing
    posture while it moves faster than this (over ``posture_lag_s``): no excursion starts or
    goes on then, and the resting value follows the angle; ``floor_deg``: the resting value is
    never taken below this; ``hold_deg``: samples further than this from it in an excursion's
    direction do not move it (a slow, small excursion then still leaves rest by ``enter_deg``).
    """

    def __init__(
        self,
        rate_hz: float,
        directions: tuple[int, ...] = (1,),
        enter_deg: float = 4.0,
        min_range_deg: float = 6.0,
        return_fraction: float = 0.05,
        return_floor_deg: float = 1.0,
        baseline_s: float = 1.0,
        posture_rate_deg_s: float = 20.0,
        posture_lag_s: float = 0.25,
        floor_deg: float | None = None,
        hold_deg: float | None = None,
    ):
        self.baseline_s = baseline_s
        self.floor_deg = -math.inf if floor_deg is None else floor_deg
        self.hold_deg = math.inf if hold_deg is None else hold_deg
        self.directions = directions
        self.posture_rate_deg_s = posture_rate_deg_s
        self._posture: deque[tuple[float, float]] = deque(
            maxlen=max(2, round(posture_lag_s * rate_hz) + 1)
        )
        self.enter_deg = enter_deg
        self.min_range_deg = min_range_deg
        self.return_fraction = return_fraction
        self.return_floor_deg = return_floor_deg
        size = max(1, round(baseline_s * rate_hz))
        self._rest: deque[float] = deque(maxlen=size)  # resting angles the baseline comes from
        self._pre: deque[tuple[float, float]] = deque(maxlen=4 * size)  # recent resting samples
        self._refresh = max(1, size // 10)  # recompute the median every this many resting samples
        self._since_refresh = 0
        self._baseline = 0.0
        self._active: list[tuple[float, float]] | None = None  # samples since the angle left rest
        self._direction = 0
        self._peak = (0.0, 0.0)

    def update(
        self, time_s: np.ndarray, angle_deg: np.ndarray, posture_deg: np.ndarray | None = None
    ) -> list[Excursion]:
        """Feed samples in time order (NaN = no angle: ends nothing, starts nothing), with the
        posture angle at the same instants if there is one."""
        found = []
        posture = (
            np.full(len(time_s), np.nan) if posture_deg is None else np.asarray(posture_deg, float)
        )
        for t, x, p in zip(
            np.asarray(time_s, float).tolist(),
            np.asarray(angle_deg, float).tolist(),
            posture.tolist(),
        ):
            if math.isnan(x):
                continue
            if self._posture_moving(t, p):
                self._restart(t, x)
            elif self._active is None:
                self._rest_sample(t, x)
            else:
                done = self._active_sample(t, x)
                if done is not None:
                    found.append(done)
        return found

    def _posture_moving(self, t: float, p: float) -> bool:
        if math.isnan(p):
            return False
        self._posture.append((t, p))
        (t0, p0), (t1, p1) = self._posture[0], self._posture[-1]
        return t1 > t0 and abs(p1 - p0) > self.posture_rate_deg_s * (t1 - t0)

    def _restart(self, t: float, x: float) -> None:
        """The posture is changing: no excursion now; the resting value is where the angle is."""
        self._active = None
        self._pre.clear()
        self._rest.clear()
        self._rest.append(x)
        self._pre.append((t, x))
        self._baseline = max(x, self.floor_deg)
        self._since_refresh = 0

    def _rest_sample(self, t: float, x: float) -> None:
        departure = x - self._baseline
        for direction in self.directions:
            if direction * departure > self.enter_deg and self._rest:
                self._active, self._direction, self._peak = [(t, x)], direction, (t, x)
                return
        self._pre.append((t, x))
        if any(d * departure > self.hold_deg for d in self.directions):
            return  # on its way out: not a resting sample
        self._rest.append(x)
        self._since_refresh += 1
        if self._since_refresh >= self._refresh or len(self._rest) <= self._refresh:
            self._baseline = max(float(np.median(self._rest)), self.floor_deg)
            self._since_refresh = 0

    def _active_sample(self, t: float, x: float) -> Excursion | None:
        self._active.append((t, x))
        d = self._direction
        if d * x > d * self._peak[1]:
            self._peak = (t, x)
        peak_t, peak_x = self._peak
        range_deg = d * (peak_x - self._baseline)
        back = max(self.return_fraction * range_deg, self.return_floor_deg)
        if d * (x - self._baseline) > back:
            return None
        samples = list(self._pre) + self._active
        self._active = None
        self._pre.clear()
        if range_deg < self.min_range_deg:
            return None
        level = self._baseline + d * back
        times = np.array([s[0] for s in samples])
        values = d * (np.array([s[1] for s in samples]) - level)
        peak = len(samples) - 1 - int(np.argmin(np.abs(times[::-1] - peak_t)))
        return Excursion(
            d,
            crossing(times, values, peak, -1),
            peak_t,
            crossing(times, values, peak, 1),
            self._baseline,
            peak_x,
        )


def crossing(times: np.ndarray, values: np.ndarray, peak: int, step: int) -> float:
    """Time where ``values`` (positive at ``peak``) last becomes positive before it (``step`` -1) or
    first stops being positive after it (``step`` +1), interpolated between samples."""
    i = peak
    while 0 <= i + step < len(values) and values[i + step] > 0:
        i += step
    j = i + step
    if not 0 <= j < len(values):
        return float(times[i])
    fraction = values[i] / (values[i] - values[j])
    return float(times[i] + fraction * (times[j] - times[i]))
