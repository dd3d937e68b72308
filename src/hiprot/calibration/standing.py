"""The still standing phase that starts every session: each segment's long axis and each
gyroscope's bias at rest."""

from __future__ import annotations

import numpy as np

from hiprot.calibration.rest import first_rest_phase, rest_mask
from hiprot.chip_catalogue import gyro_bias_bound_dps
from hiprot.config import Rig
from hiprot.errors import NoStandingError
from hiprot.resample import Grid

MIN_STANDING_S = 2.5  # of the 3 s asked for: rest detection trims the window edges


def still_mask(rig: Rig, grid: Grid) -> np.ndarray:
    """True on the grid where every sensor is at rest (:func:`~hiprot.calibration.rest.rest_mask`)."""
    still = grid.valid.copy()
    for name, track in grid.tracks.items():
        bias_dps = gyro_bias_bound_dps(rig.sensor(name).chip)
        still &= rest_mask(track.acc, track.gyr, grid.rate_hz, bias_dps)
    return still


def standing_phase(rig: Rig, grid: Grid) -> tuple[int, int]:
    """(start, stop) grid indices of the first still standing phase, or a clear refusal."""
    phase = first_rest_phase(still_mask(rig, grid), grid.rate_hz, MIN_STANDING_S)
    if phase is None:
        raise NoStandingError(
            "no still standing phase found: stand still with feet forward for at least 3 s "
            "at the start of the session"
        )
    return phase
