"""Rigs for the simulator tests, built the way a rig file is read; geometry read back from a simulation."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hiprot import quat
from hiprot.config import Rig, parse_rig
from hiprot.sim.body import DOWN_B, Body


def make_rig(
    scenario: str = "walk",
    legs: tuple[str, ...] = ("right",),
    pelvis: bool = False,
    chip: str = "icm42688",
    rate_hz: float = 200,
    mag_chip: str | None = None,
    **simulation,
) -> Rig:
    """A simulated rig: thigh and shank on each of ``legs`` (and a pelvis sensor) behind a multiplexer."""
    places = ([("pelvis", None)] if pelvis else []) + [
        (seg, side) for side in legs for seg in ("thigh", "shank")
    ]
    sensors = []
    for channel, (segment, side) in enumerate(places):
        sensor = {
            "name": segment if side is None else f"{side}_{segment}",
            "segment": segment,
            "chip": chip,
            "address": 0x68,
            "mux_channel": channel,
        }
        if side is not None:
            sensor["side"] = side
        if mag_chip is not None:
            sensor["mag_chip"] = mag_chip
        sensors.append(sensor)
    data = {
        "device_id": "sim-test",
        "sample_rate_hz": rate_hz,
        "sensors": sensors,
        "simulation": {"scenario": scenario, **simulation},
    }
    return parse_rig(data, Path("test-rig.toml"))


def integrate_gyro(q0: np.ndarray, gyr: np.ndarray, dt: float) -> np.ndarray:
    """Orientations from ``q0`` by integrating body rates sample by sample (rate held over each interval)."""
    angle = np.linalg.norm(gyr, axis=1) * dt
    axis = gyr / np.maximum(np.linalg.norm(gyr, axis=1, keepdims=True), 1e-300)
    steps = np.column_stack([np.cos(angle / 2), axis * np.sin(angle / 2)[:, None]])
    out = np.empty((len(gyr) + 1, 4))
    out[0] = q0
    for k, step in enumerate(steps):
        out[k + 1] = quat.multiply(out[k], step)
    return out


def segment_origin(sim, sensor: str) -> np.ndarray:
    """World position (n, 3) of the origin of the segment carrying ``sensor`` (hip centre for a
    thigh, knee centre for a shank, hip-centre midpoint for the pelvis), from the true sensor
    position, segment orientation and mounting offset (no soft-tissue motion)."""
    mount = sim.mounting[sensor]
    return sim.position_E[sensor] - quat.rotate(sim.q_E_segment[mount.segment], mount.offset_B_m)


def ankle_of(sim, side: str) -> np.ndarray:
    """World position (n, 3) of the ``side`` ankle joint centre."""
    q_shank = sim.q_E_segment[f"{side}_shank"]
    return sim.origin_E[f"{side}_shank"] + quat.rotate(
        q_shank, DOWN_B * Body(sim.params["height_m"]).shank_m
    )


def heading_components(sim, vectors: np.ndarray) -> np.ndarray:
    """World vectors (n, 3) as (forward, left, up) of the walking direction (the pelvis' forward
    axis projected on the floor) at each sample."""
    forward = quat.rotate(sim.q_E_segment["pelvis"], [1.0, 0.0, 0.0])
    forward[:, 2] = 0.0
    forward /= np.linalg.norm(forward, axis=1, keepdims=True)
    left = np.column_stack([-forward[:, 1], forward[:, 0], np.zeros(len(forward))])
    return np.column_stack(
        [np.sum(vectors * forward, axis=1), np.sum(vectors * left, axis=1), vectors[:, 2]]
    )
