"""Still standing rests: the calibration's standing and every later one like it.

A rest is a stretch of at least ``MIN_STANDING_S`` (the calibration's minimum)
where every sensor is still (:func:`~hiprot.calibration.still_mask`) and every
segment stands upright: its long axis within ``UPRIGHT_DEG`` of the vertical,
as at the calibration, where it is vertical by definition. Sitting (thigh about
75° from the vertical) and lying (90°) are far outside that limit; quiet
standing sways by well under a degree (Winter, Gait Posture 3:193-214, 1995).
"""

from __future__ import annotations

import numpy as np

from hiprot import quat
from hiprot.calibration import MIN_STANDING_S, Calibration, still_mask
from hiprot.calibration.rest import rest_phases
from hiprot.calibration.result import STANDING
from hiprot.config import Rig
from hiprot.geometry import Y_AXIS
from hiprot.resample import Grid

UPRIGHT_DEG = 15.0


def standing_rests(
    rig: Rig, grid: Grid, q_eb: dict[str, np.ndarray], calibration: Calibration
) -> list[tuple[int, int]]:
    """(start, stop) grid indices of every still standing rest, in time order; the first is
    the calibration's standing when it lies on ``grid`` (a walking-only calibration's strides
    are no rest: the walk goes on through them)."""
    upright = still_mask(rig, grid)
    for q in q_eb.values():
        upright &= quat.rotate(q, Y_AXIS)[:, 2] >= np.cos(np.radians(UPRIGHT_DEG))
    found = rest_phases(upright, grid.rate_hz, MIN_STANDING_S)
    if calibration.method != STANDING:
        return found
    start_s, end_s = calibration.standing_s
    first = np.flatnonzero((grid.time_s >= start_s) & (grid.time_s <= end_s))
    if len(first) < MIN_STANDING_S * grid.rate_hz:
        return found
    stop = int(first[-1]) + 1
    return [(int(first[0]), stop)] + [(a, b) for a, b in found if a >= stop]
