"""A first, simple walking simulation (thigh and shank of each leg in the rig).

Hip internal rotation and knee flexion follow smooth gait-like curves after a
standing phase; each sensor is strapped with a random rotation. Linear
acceleration of the segments is ignored for now: the accelerometer measures
gravity only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from hiprot.config import Rig
from hiprot.samples import Chunk, ImuSamples

GRAVITY = 9.81
STANDING_S = 3.0
STRIDE_S = 1.1
# ISB segment axes (X anterior, Y superior, Z right) expressed in the world (x forward, z up).
SEGMENT_TO_WORLD = Rotation.from_matrix([[1, 0, 0], [0, 0, -1], [0, 1, 0]])


@dataclass
class Simulation:
    """Samples of every sensor and the true joint angles at the same times."""

    samples: Chunk
    time_s: np.ndarray
    truth_deg: dict[str, np.ndarray]


def _gait_angles(t: np.ndarray, ir_max_deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hip flexion, hip internal rotation and knee flexion (degrees) over time."""
    walking = np.clip((t - STANDING_S) / 1.0, 0.0, 1.0)  # ease in over one second
    phase = 2 * np.pi * (t - STANDING_S) / STRIDE_S
    hip_flex = walking * (10 + 25 * np.cos(phase))
    hip_ir = walking * (0.5 * ir_max_deg * np.sin(phase + 0.5))
    knee = walking * (30 - 30 * np.cos(2 * phase) * (np.sin(phase) > 0) + 5)
    return hip_flex, hip_ir, knee


def simulate(rig: Rig, duration_s: float | None = None) -> Simulation:
    """Simulate the rig's sensors for ``duration_s`` (default: the rig's simulation)."""
    sim = rig.simulation
    duration_s = duration_s or (sim.duration_s if sim else 20.0)
    rng = np.random.default_rng(sim.seed if sim else 1)
    rate = rig.sample_rate_hz
    t = np.arange(0.0, duration_s, 1.0 / rate)
    hip_flex, hip_ir, knee = _gait_angles(t, sim.ir_max_deg if sim else 40.0)
    truth: dict[str, np.ndarray] = {}
    samples: Chunk = {}
    for side in rig.sides:
        sign = 1.0 if side == "right" else -1.0
        q_thigh = SEGMENT_TO_WORLD * Rotation.from_euler(
            "ZXY", np.column_stack([hip_flex, 0 * t, sign * hip_ir]), degrees=True
        )
        q_shank = q_thigh * Rotation.from_euler("Z", -knee[:, None], degrees=True)
        truth[f"{side}_hip_ir_deg"] = hip_ir
        truth[f"{side}_knee_flexion_deg"] = knee
        for segment, q_seg in (("thigh", q_thigh), ("shank", q_shank)):
            sensor = rig.find(segment, side)
            if sensor is not None:
                mount = Rotation.from_euler("xyz", rng.uniform(-30, 30, 3), degrees=True)
                samples[sensor.name] = _imu(t, q_seg * mount, rng)
    return Simulation(samples, t, truth)


def _imu(t: np.ndarray, q_es: Rotation, rng: np.random.Generator) -> ImuSamples:
    """Gyro (mean rate over each interval) and gravity-only accelerometer in the sensor frame."""
    rate = 1.0 / (t[1] - t[0])
    delta = (q_es[:-1].inv() * q_es[1:]).as_rotvec() * rate
    gyr = np.vstack([delta, delta[-1:]]) + rng.normal(0, 0.003, (len(t), 3))
    acc = q_es.inv().apply([0, 0, GRAVITY]) + rng.normal(0, 0.02, (len(t), 3))
    return ImuSamples(t, acc, gyr)
