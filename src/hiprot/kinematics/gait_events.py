"""Gait events of one leg, and their detection on a stream of samples.

:class:`GaitEvents` holds the sample indices of each swing's mid-swing, toe off
and heel strike; :class:`StreamingGaitEvents` runs a detector (the shank's,
:class:`~hiprot.kinematics.shank_events.ShankEventDetector`) over overlapping
windows of a live stream and releases each event once it can no longer change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from hiprot.kinematics.shank_events import ShankEventDetector

# Stance is about 60 % of the gait cycle in normal walking (Perry & Burnfield, Gait Analysis,
# 2nd ed. 2010), less when walking fast and more when slow; a leg's median outside this
# band means its gait events are wrong, not that the person walks so.
STANCE_PLAUSIBLE_PERCENT = (50.0, 70.0)


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


class StreamingGaitEvents:
    """The same events from a rate that arrives in chunks, for the live pipeline.

    Keeps the last ``window_s`` of the shank's swing-axis rate (acceleration, knee angle) and runs
    ``detector`` over it each time ``every_s`` of new samples have come; an event is released once
    ``settle_s`` of samples follow its heel strike (the zero-phase filter and
    the peak search no longer change it), and each swing is released once.
    ``update`` returns the new events as times on the sample clock:
    ``{"heel_strike": [...], "toe_off": [...]}``.
    """

    def __init__(
        self,
        rate_hz: float,
        detector: ShankEventDetector,
        window_s: float = 6.0,
        settle_s: float = 0.3,
        every_s: float = 0.2,
    ):
        self.rate_hz = rate_hz
        self.detector = detector
        self.window = int(window_s * rate_hz)
        self.settle = int(settle_s * rate_hz)
        self.every = max(1, int(every_s * rate_hz))
        self.time_s = np.empty(0)
        self.rate = np.empty(0)
        self.acc: np.ndarray | None = None
        self.knee: np.ndarray | None = None
        self.fresh = 0
        self.last_swing_s = -np.inf

    def update(
        self,
        time_s: np.ndarray,
        rate: np.ndarray,
        acc: np.ndarray | None = None,
        knee_flexion_deg: np.ndarray | None = None,
    ) -> dict[str, list[float]]:
        """Append a chunk (sample times, the swing-axis rate in rad/s and, if measured, the
        shank's acceleration (n, 3) in m/s² and the knee flexion in degrees; give each always
        or never); events now certain."""
        self.time_s = np.concatenate([self.time_s, np.asarray(time_s, float)])[-self.window :]
        self.rate = np.concatenate([self.rate, np.asarray(rate, float)])[-self.window :]
        if acc is not None:
            old = self.acc if self.acc is not None else np.empty((0, 3))
            self.acc = np.concatenate([old, np.asarray(acc, float)])[-self.window :]
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
        events = self.detector.detect(self.rate, self.rate_hz, self.acc, self.knee)
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


def zero_fraction(a: float, b: float) -> float:
    """Where between two samples (0..1) a line from ``a`` to ``b`` crosses zero."""
    return a / (a - b) if a != b else 0.0
