"""Sensor-to-segment calibration from a standing phase and movement with knee flexion.

Protocol (what the user does at the start of every session): stand still
with feet forward for at least 3 s, then walk a few steps or do a few knee
bends. :func:`calibrate` returns every sensor's mounting rotation ``q_SB``
with a quality report, or refuses with a :class:`CalibrationError` that says
what was missing. A session without a standing phase may be calibrated from
steady walking instead (``walking``: the window and its mid-stance samples,
:mod:`hiprot.kinematics.walk_window`). The jobs: :mod:`.standing` (the still
phase), :mod:`.leg` (each leg's frames from the knee axis, :mod:`.knee_axis`),
:mod:`.result`, and :mod:`.mounting`, which puts them together.
"""

from __future__ import annotations

import importlib

from hiprot.calibration.result import Calibration

__all__ = ["MIN_STANDING_S", "Calibration", "calibrate", "still_mask"]
_LAZY = {"calibrate": "mounting", "MIN_STANDING_S": "standing", "still_mask": "standing"}


def __getattr__(name: str):
    """The fits (scipy) are imported when first used, so code that needs only what a
    calibration is (:mod:`.result`: comparing and listing analysed sessions) starts fast."""
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
