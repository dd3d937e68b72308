"""Score estimated joint angles against a simulation's ground truth.

Used by the accuracy tests and ``scripts/accuracy.py``: errors of every
angle column after the calibration phase, a drift figure (the error's linear
trend), and the peak internal/external rotation of each rotation-test trial.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hiprot.columns import hip_ir
from hiprot.sim.simulator import Simulation


@dataclass
class AngleError:
    """Error of one angle column (degrees) over the scored samples."""

    rmse: float
    max_abs: float
    mean: float
    trend_deg_per_min: float


@dataclass
class PeakError:
    """One test trial's true and estimated peak (``ir_peak`` or ``er_peak``), degrees."""

    side: str
    event: str
    true_deg: float
    estimated_deg: float

    @property
    def error(self) -> float:
        return self.estimated_deg - self.true_deg


def _calibration_end(simulation: Simulation) -> float:
    ends = [e.time_s for e in simulation.events if e.event == "calibration_end"]
    return ends[0] if ends else 0.0


def angle_errors(
    time_s: np.ndarray, columns: dict[str, np.ndarray], simulation: Simulation
) -> dict[str, AngleError]:
    """Errors of each estimated column against the truth, after the standing calibration."""
    scored = time_s > _calibration_end(simulation)
    out = {}
    for name, values in columns.items():
        truth = np.interp(time_s, simulation.time_s, simulation.truth_deg[name])
        ok = scored & np.isfinite(values)
        error = values[ok] - truth[ok]
        slope = np.polyfit(time_s[ok] / 60.0, error, 1)[0] if ok.sum() > 2 else np.nan
        out[name] = AngleError(
            float(np.sqrt(np.mean(error**2))),
            float(np.max(np.abs(error))),
            float(np.mean(error)),
            float(slope),
        )
    return out


def peak_errors(
    time_s: np.ndarray, columns: dict[str, np.ndarray], simulation: Simulation
) -> list[PeakError]:
    """Each trial's true peak IR and ER against the extreme of the estimate in that trial."""
    out = []
    starts = [e for e in simulation.events if e.event == "trial_start"]
    ends = [e for e in simulation.events if e.event == "trial_end"]
    for event in simulation.events:
        if event.event not in ("ir_peak", "er_peak"):
            continue
        start = max(e.time_s for e in starts if e.side == event.side and e.time_s <= event.time_s)
        end = min(e.time_s for e in ends if e.side == event.side and e.time_s >= event.time_s)
        name = hip_ir(event.side)
        inside = (time_s >= start) & (time_s <= end)
        estimate = columns[name][inside]
        true = float(np.interp(event.time_s, simulation.time_s, simulation.truth_deg[name]))
        peak = np.nanmax(estimate) if event.event == "ir_peak" else np.nanmin(estimate)
        out.append(PeakError(event.side, event.event, true, float(peak)))
    return out
