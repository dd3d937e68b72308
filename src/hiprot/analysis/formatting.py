"""Small numeric helpers shared by the analysis modules: rounding for reports, sample SD."""

from __future__ import annotations

import math

import numpy as np


def rounded(value, key: str = ""):
    """Floats rounded for reports, recursively: 3 decimals under keys ending in ``_s`` (also in
    a dict such as ``{"mean": .., "sd": ..}`` under such a key), 2 otherwise; NaN becomes None
    (JSON has no NaN); numpy scalars and arrays become Python numbers and lists."""
    if isinstance(value, dict):
        return {k: rounded(v, k if not key.endswith("_s") else key) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [
            rounded(v, key) for v in (value.tolist() if isinstance(value, np.ndarray) else value)
        ]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return None if math.isnan(value) else round(value, 3 if key.endswith("_s") else 2)
    return value


def sample_sd(values) -> float | None:
    """Sample standard deviation (n - 1), None with fewer than two values."""
    values = np.asarray(values, float)
    return float(np.std(values, ddof=1)) if len(values) > 1 else None
