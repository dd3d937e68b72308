"""Score estimated joint angles against a simulation's ground truth.

Used by the accuracy tests and ``scripts/accuracy.py``: errors of every
angle column after the calibration phase, a drift figure (the error's linear
trend), the peak internal/external rotation of each rotation-test trial, and
return-to-zero: the hip IR error where the true hip rests near zero (after trials
and reps, standing pauses, a fidgeting leg).
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


# Spans in which the true hip is back at (or held near) zero: (start event, end event or
# seconds after the start event).
REST_SPANS = {
    "trial_end": 1.5,  # the 2 s rest after each test trial
    "rep_end": 0.5,  # the pause after each rep
    "stand_start": "stand_end",  # standing pauses of a walk, and at the top of the stairs
    "fidget_start": "fidget_end",  # a fidgeting leg that is never rotated
}


@dataclass
class RestError:
    """Mean error (degrees) of ``side``'s hip IR over one span where the true hip rests near zero."""

    side: str
    event: str
    start_s: float
    error_deg: float


def rest_errors(
    time_s: np.ndarray, columns: dict[str, np.ndarray], simulation: Simulation
) -> list[RestError]:
    """Return-to-zero: the hip IR estimate's mean error in every rest span of ``REST_SPANS``,
    for each side with a hip IR column (spans of side ``both`` count for every such side)."""
    out = []
    for event in simulation.events:
        span = REST_SPANS.get(event.event)
        if span is None:
            continue
        if isinstance(span, str):
            ends = [
                e.time_s for e in simulation.events if e.event == span and e.time_s > event.time_s
            ]
            if not ends:
                continue
            end = min(ends)
        else:
            end = event.time_s + span
        sides = ("right", "left") if event.side == "both" else (event.side,)
        for side in sides:
            name = f"{side}_hip_ir_deg"
            if name not in columns or name not in simulation.truth_deg:
                continue
            inside = (time_s >= event.time_s) & (time_s <= end) & np.isfinite(columns[name])
            if not inside.any():
                continue
            truth = np.interp(time_s[inside], simulation.time_s, simulation.truth_deg[name])
            error = float(np.mean(columns[name][inside] - truth))
            out.append(RestError(side, event.event, event.time_s, error))
    return out
