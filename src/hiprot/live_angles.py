"""What the live pipeline emits: joint angles as they become final, a type of its own so that
the run loop, its sinks and the MQTT feed use it without importing the pipeline (and scipy)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Angles:
    """Joint angles (degrees) at ``time_s``; column names as in ``angles.csv``.

    ``legs`` carries per side what the live analysis needs besides:
    ``sagittal_rate`` (the shank's rate about its swing axis, rad/s), ``shank_acc`` (its
    acceleration, m/s²) and
    ``thigh_heading_deg`` (continuous from one emission to the next).
    """

    time_s: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    legs: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.time_s)


def joined(parts: list[Angles]) -> Angles:
    """Consecutive emissions as one: each column (and each leg's series) end to end, NaN where
    an emission lacked it (a leg left out while its sensor was silent)."""
    filled = [p for p in parts if len(p)]
    if len(filled) <= 1:
        return filled[0] if filled else Angles(np.empty(0))

    def series(tables: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        names = dict.fromkeys(name for table in tables for name in table)
        out = {}
        for name in names:
            shape = next(t[name].shape[1:] for t in tables if name in t)
            out[name] = np.concatenate(
                [
                    t[name] if name in t else np.full((len(p),) + shape, np.nan)
                    for t, p in zip(tables, filled, strict=True)
                ]
            )
        return out

    sides = dict.fromkeys(side for p in filled for side in p.legs)
    return Angles(
        np.concatenate([p.time_s for p in filled]),
        series([p.columns for p in filled]),
        {side: series([p.legs.get(side, {}) for p in filled]) for side in sides},
    )
