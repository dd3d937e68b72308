"""Put several sensors on one uniform time grid.

Real rigs jitter and drop samples, and each sensor has its own timestamps.
Joint angles need all segments at the same instants: orientations are
interpolated component-wise and renormalised (between samples a few
milliseconds apart this equals slerp to within 1e-6 rad), rates and
accelerations linearly. Where any sensor has a gap longer than ``max_gap_s``
the grid sample is marked invalid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Track:
    """One sensor's orientation and raw signals on the common grid."""

    q_es: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray


@dataclass
class Grid:
    """All sensors on ``time_s``; ``valid`` is False where any sensor had a gap."""

    time_s: np.ndarray
    rate_hz: float
    tracks: dict[str, Track]
    valid: np.ndarray

    def gaps(self, longer_than_s: float = 0.0) -> list[tuple[int, int]]:
        """(start, stop) index ranges where ``valid`` is False, in time order: gaps whose
        samples lie more than ``longer_than_s`` apart."""
        edges = np.diff(np.r_[0, (~self.valid).astype(np.int8), 0])
        spans = zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist())
        return [(a, b) for a, b in spans if (b - a + 1) / self.rate_hz > longer_than_s]


def _interp(t_new: np.ndarray, t: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.empty((len(t_new), values.shape[1]))
    for k in range(values.shape[1]):
        out[:, k] = np.interp(t_new, t, values[:, k])
    return out


def _nlerp(t_new: np.ndarray, t: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Quaternions at ``t_new``: neighbours on one hemisphere, interpolated, renormalised."""
    signs = np.cumprod(np.where(np.sum(q[1:] * q[:-1], axis=1) < 0, -1.0, 1.0))
    continuous = q * np.concatenate([[1.0], signs])[:, None]
    out = _interp(t_new, t, continuous)
    return out / np.sqrt(np.add.reduce(out * out, axis=1, keepdims=True))  # np.linalg.norm's sum


def to_grid(
    streams: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    rate_hz: float,
    max_gap_s: float | None = None,
    origin_s: float | None = None,
) -> Grid:
    """``streams``: name → (time_s, q_es, acc, gyr). The grid spans the time all sensors share,
    on instants ``origin_s + k / rate_hz`` (default origin: where the shared span starts), so
    successive grids of a live stream line up."""
    time_s, q_es, valid = orientations_on_grid(
        {name: s[:2] for name, s in streams.items()}, rate_hz, max_gap_s, origin_s
    )
    tracks = {
        name: Track(q_es[name], _interp(time_s, t, acc), _interp(time_s, t, gyr))
        for name, (t, _, acc, gyr) in streams.items()
    }
    return Grid(time_s, rate_hz, tracks, valid)


def orientations_on_grid(
    streams: dict[str, tuple[np.ndarray, np.ndarray]],
    rate_hz: float,
    max_gap_s: float | None = None,
    origin_s: float | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """The orientations alone of :func:`to_grid` (``streams``: name → (time_s, q_es)): its
    instants, each sensor's quaternions there and where none had a gap — all the live causal
    estimate needs of a chunk, at less than half the cost."""
    start = max(s[0][0] for s in streams.values())
    stop = min(s[0][-1] for s in streams.values())
    origin_s = start if origin_s is None else origin_s
    first, last = (
        np.ceil((start - origin_s) * rate_hz - 1e-9),
        np.floor((stop - origin_s) * rate_hz + 1e-9),
    )
    time_s = origin_s + np.arange(first, last + 1) / rate_hz
    max_gap_s = max_gap_s if max_gap_s is not None else 2.5 / rate_hz
    valid = np.ones(len(time_s), dtype=bool)
    q_es = {}
    for name, (t, q) in streams.items():
        q_es[name] = _nlerp(time_s, t, q)
        gaps = np.flatnonzero(np.diff(t) > max_gap_s)
        for g in gaps:
            valid &= ~((time_s > t[g]) & (time_s < t[g + 1]))
    return time_s, q_es, valid
