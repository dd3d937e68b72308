"""Batch fusion of a whole recorded stream with VQF's offline variant.

Live, a filter only knows the past: between two still rests it subtracts the gyroscope
bias learnt at the earlier one, so a bias that moves meanwhile (a strapped sensor warms by
a few degrees over the first minutes and its bias follows) turns the six-axis heading, which
nothing observes. A recorded session is whole, so batch analysis uses VQF's offline variant
(``vqf.offlineVQF``; Laidig & Seel 2023, Information Fusion 91:187-204, section on the
offline variant): rest detection and bias estimation run forwards and backwards and the
orientation is computed with the smoothed bias, so the rest after a movement corrects the
bias during it. Same rest criteria and bias bounds as the live filter
(:meth:`~hiprot.fusion.vqf_filter.VqfFilter.bias_params`).

The steps are the live filter's (:class:`~hiprot.fusion.timeline.StepPlanner`: gaps up to
``max_gap_s`` bridged; the bias of a still start, :mod:`~hiprot.fusion.still_start`, left out
of the scaling by each sample's true interval). The offline variant needs contiguous data,
so a longer gap splits the stream; each part after it starts from the heading and the
gyroscope bias the part before ended with (that bias taken off its rates), as the live filter
carries both across such a gap (and re-levels).
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from vqf import offlineVQF

from hiprot import quat
from hiprot.fusion.still_start import StillStart
from hiprot.fusion.timeline import MAX_GAP_S, StepPlanner
from hiprot.fusion.vqf_filter import VqfFilter
from hiprot.samples import ImuSamples


def offline_orientation(
    samples: ImuSamples,
    rate_hz: float,
    magnetometer: bool = False,
    max_bias_dps: float = 2.0,
    max_gap_s: float = MAX_GAP_S,
) -> np.ndarray:
    """``q_ES`` (n, 4) after each of a whole stream's ``samples``, as
    :func:`~hiprot.fusion.make_filter`'s VQF gives it live but with the bias smoothed both
    ways; ``magnetometer``: 9-axis where the samples carry magnetometer data."""
    planner = StepPlanner(1.0 / rate_hz, max_gap_s)
    still = StillStart(np.radians(max_bias_dps))
    still.take(samples)
    if still.bias is not None:  # left out of the timing's scaling, as live
        planner.bias = still.bias
    steps = planner.plan(samples)
    bias = np.zeros(3)  # the first part finds its own, forwards and backwards
    use_mag = magnetometer and steps.mag is not None
    params = VqfFilter.bias_params(max_bias_dps) or None
    bounds = [0, *np.flatnonzero(steps.restart), len(steps)]
    parts = []
    for start, stop in pairwise(bounds):
        if start == stop:
            continue
        part = slice(start, stop)
        mag = steps.mag[part] if use_mag else None
        gyr = np.ascontiguousarray(steps.gyr[part] - bias)
        out = offlineVQF(gyr, steps.acc[part], mag, 1.0 / rate_hz, params)
        bias = bias + out["bias"][-1]  # carried across a gap, as live
        q = out["quat9D"] if use_mag else out["quat6D"]
        if parts and not use_mag:
            q = quat.multiply(_yaw_between(q[0], parts[-1][-1]), q)
        parts.append(q)
    return np.concatenate(parts)[steps.sample_end - 1]


def _yaw_between(q_from: np.ndarray, q_to: np.ndarray) -> np.ndarray:
    """The rotation about the earth's vertical taking ``q_from``'s heading to ``q_to``'s
    (the vertical part of ``q_to ⊗ q_from*``)."""
    d = quat.multiply(q_to, quat.conjugate(q_from))
    half = np.arctan2(d[3], d[0])
    return np.array([np.cos(half), 0.0, 0.0, np.sin(half)])
