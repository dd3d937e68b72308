"""Exact IMU samples for a known orientation trajectory, for fusion tests.

The gyroscope sample at ``t_i`` is the constant rate that turns the sensor
from its orientation at ``t_{i-1}`` to the one at ``t_i`` (the convention the
filters integrate with), the accelerometer the specific force of a sensor that
does not accelerate, the magnetometer an ENU field pointing north and down.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from hiprot.samples import ImuSamples
from hiprot.units import STANDARD_GRAVITY

GRAVITY = STANDARD_GRAVITY
FIELD_ENU = np.array([0.0, 20.0, -45.0])  # µT: north and down, as in central Europe
BROAD = Path(__file__).resolve().parents[1] / "data" / "broad"  # the shipped subset


def samples_for(
    time_s: np.ndarray, q_es: Rotation, gyr_bias=(0.0, 0.0, 0.0), noise: float = 0.0, seed: int = 0
) -> ImuSamples:
    """Samples of a sensor whose orientation is ``q_es`` (scipy Rotation, sensor → earth) at ``time_s``."""
    rng = np.random.default_rng(seed)
    n = len(time_s)
    step = q_es[:-1].inv() * q_es[1:]
    dt = np.diff(time_s)
    gyr = np.zeros((n, 3))
    gyr[1:] = step.as_rotvec() / dt[:, None]
    acc = q_es.inv().apply([0.0, 0.0, GRAVITY])
    mag = q_es.inv().apply(FIELD_ENU)
    gyr = gyr + np.asarray(gyr_bias) + noise * rng.standard_normal((n, 3))
    acc = acc + 20 * noise * rng.standard_normal((n, 3))
    return ImuSamples(time_s, acc, gyr, mag)


def heading_deg(q: np.ndarray) -> np.ndarray:
    """The heading (yaw about the earth's vertical, degrees) of scalar-first ``q_ES``."""
    return np.degrees(Rotation.from_quat(q, scalar_first=True).as_euler("ZYX")[..., 0])


def still(time_s: np.ndarray, q_es: Rotation) -> Rotation:
    """A sensor held at ``q_es``."""
    return Rotation.from_quat(np.tile(q_es.as_quat(), (len(time_s), 1)))


def broad_trials() -> list[Path]:
    """The BROAD subset's trial files (``tests/data/broad/``), in name order."""
    paths = sorted(BROAD.glob("*.npz"))
    assert paths, f"BROAD subset missing from {BROAD}"
    return paths


def broad_trial(kind: str) -> Path:
    """The subset's one trial whose name contains ``kind`` (e.g. ``fast_combined``)."""
    (path,) = [p for p in broad_trials() if kind in p.stem]
    return path
