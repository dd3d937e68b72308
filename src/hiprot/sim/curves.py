"""Normative joint-angle curves of level walking over one gait cycle.

Each curve is a periodic cubic spline (C2, so accelerations stay smooth) through
key values of published adult mean curves at free walking speed, read at the
events where the curves have their extremes:

- hip and knee flexion: Perry & Burnfield, *Gait Analysis: Normal and Pathological
  Function*, 2nd ed. (2010), ch. 4 and 5 — hip 30° flexion at initial contact,
  ~10° extension at terminal stance (50 %), ~35° flexion in terminal swing; knee
  5° at contact, ~18° loading-response peak, ~40° at toe off, 60° peak in swing;
  consistent with Winter, *Biomechanics and Motor Control of Human Movement*,
  4th ed. (2009), appendix A;
- hip adduction, hip rotation and the pelvis: Kadaba, Ramakrishnan & Wootten,
  J Orthop Res 8:383-392 (1990), fig. 4-6 — hip adduction ~8° in loading
  response to ~6° abduction at toe off; hip rotation a ~12° range, internal in
  stance and external around toe off and early swing; pelvic tilt a 2-3° double
  oscillation, obliquity ±4-5° (stance side up in loading response), rotation
  ±4° (the leading side forward at contact).

Angles are ISB (hip: flexion, adduction, internal rotation positive) and taken
relative to the standing posture, which defines zero in this product. The
cycle starts at the heel strike of the leg the curve belongs to; stance ends at
``TOE_OFF`` (Perry: 60 %). Pelvis curves are seen from the right leg: obliquity
positive = right side up, rotation positive = right side forward.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import CubicSpline

TOE_OFF = 0.60

# (percent of the gait cycle, degrees); the first and last value are equal.
_KEYS = {
    "hip_flexion": [
        (0, 30),
        (10, 27),
        (20, 18),
        (30, 8),
        (40, -1),
        (50, -8),
        (55, -9),
        (62, -4),
        (70, 10),
        (80, 26),
        (87, 33),
        (94, 32),
        (100, 30),
    ],
    "hip_adduction": [
        (0, 1),
        (8, 6),
        (18, 8),
        (30, 6),
        (45, 3),
        (55, -1),
        (63, -5),
        (72, -5),
        (85, -2),
        (100, 1),
    ],
    "hip_rotation": [
        (0, 2),
        (10, 5),
        (25, 6),
        (40, 4),
        (52, 0),
        (62, -4),
        (72, -6),
        (82, -3),
        (92, 1),
        (100, 2),
    ],
    "knee_flexion": [
        (0, 5),
        (6, 12),
        (15, 18),
        (25, 13),
        (40, 5),
        (50, 9),
        (60, 37),
        (66, 50),
        (72, 60),
        (80, 52),
        (88, 28),
        (95, 7),
        (100, 5),
    ],
    "pelvis_tilt": [(0, 0.6), (20, -0.6), (45, 1.6), (70, -0.6), (95, 1.6), (100, 0.6)],
    "pelvis_obliquity": [(0, 0), (17, 4.5), (35, 2), (50, 0), (67, -4.5), (85, -2), (100, 0)],
    "pelvis_rotation": [(0, 4), (25, 0), (50, -4), (75, 0), (100, 4)],
}

NAMES = tuple(_KEYS)


def _spline(points: list[tuple[float, float]]) -> CubicSpline:
    x, y = np.array(points, dtype=float).T
    return CubicSpline(x / 100.0, y, bc_type="periodic")


_SPLINES = {name: _spline(points) for name, points in _KEYS.items()}


def normative(name: str, phase: np.ndarray) -> np.ndarray:
    """The mean curve ``name`` (degrees) at gait phase(s) ``phase`` (cycles; only the fraction counts)."""
    return _SPLINES[name](np.mod(phase, 1.0))
