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
    acceleration, m/s²),
    ``thigh_heading_deg`` (continuous from one emission to the next),
    ``thigh_inclination_deg`` (the thigh's long axis from the vertical), ``saturated``
    (True where a sensor of the leg was at full scale) and the rotation tests' inputs.
    ``causal``: the newest samples' angles, emitted at once (:mod:`hiprot.kinematics.causal`),
    once calibrated; these (refined, seconds later) feed the live metrics.
    """

    time_s: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    legs: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    causal: Angles | None = None

    def __len__(self) -> int:
        return len(self.time_s)


def joined(parts: list[Angles]) -> Angles | None:
    """Consecutive angles as one (a column missing from a part is NaN there); None for none."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return None
    names = list(dict.fromkeys(name for p in parts for name in p.columns))
    return Angles(
        np.concatenate([p.time_s for p in parts]),
        {
            name: np.concatenate([p.columns.get(name, np.full(len(p), np.nan)) for p in parts])
            for name in names
        },
    )
