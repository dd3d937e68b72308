"""The samples of a long line that a chart can show, so that drawing it costs what the chart's
width does, not what the session's length does.

A ten-minute session has 120 000 samples per angle and a chart is about a thousand pixels
wide. :func:`envelope` keeps, in each of ``columns`` equal slices of the time axis, the first,
last, lowest and highest sample of every unbroken stretch (the M4 aggregation: Jugel et al.,
Proc. VLDB Endow. 7(10):797-808, 2014), which draw the same pixels as all the samples when
the slices are no wider than a pixel; and the first NaN of each gap, which breaks the line
where the samples do.
"""

from __future__ import annotations

import numpy as np


def envelope(x: np.ndarray, y: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` reduced to at most four samples per slice and stretch (``x`` ascending);
    as given when no longer than that."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    finite = np.isfinite(y)
    at = np.flatnonzero(finite)
    if len(x) <= 4 * columns or not len(at) or not x[-1] > x[0]:
        return x, y
    v = y[at]
    column = np.minimum(((x[at] - x[0]) * (columns / (x[-1] - x[0]))).astype(int), columns - 1)
    starts = np.flatnonzero(np.r_[True, (np.diff(column) != 0) | (np.diff(at) != 1)])
    group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(v)]))
    keep = [starts, np.r_[starts[1:], len(v)] - 1]
    for extreme in (np.minimum, np.maximum):
        hits = np.flatnonzero(v == extreme.reduceat(v, starts)[group])
        keep.append(hits[np.r_[True, np.diff(group[hits]) != 0]])  # each group's first
    gaps = np.flatnonzero(~finite & np.r_[True, finite[:-1]])
    chosen = np.union1d(at[np.concatenate(keep)], gaps)
    return x[chosen], y[chosen]
