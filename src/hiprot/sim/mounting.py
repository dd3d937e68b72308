"""Where and how each sensor is strapped to its segment: the true ``q_BS`` and offset.

Nominal placements (segment frame: X anterior, Y superior, Z right; right leg
shown, the left is its mirror image): pelvis on the sacrum, 0.07 H behind and
0.035 H above the hip-centre midpoint, chip face pointing backwards; thigh on
the lateral side at mid-thigh, 0.045 H out from the femur axis; shank on the
lateral side at a third of its length below the knee, 0.03 H out. On the legs
the chip's x axis points up the segment and its z axis out of the skin.

Each sensor is then turned by a random rotation within ±``mounting_max_deg``
about each of its axes and displaced by up to ±2 cm (±4 cm along the segment),
drawn from the seed and the sensor's place so that adding or removing another
sensor does not change it. In a mirrored scenario the draws of the canonical
side are reflected (segment z and sensor y flip), so mirrored sensors give
mirrored signals.

The skin under a leg sensor moves relative to the bone (soft-tissue artefact, with
the magnitudes of :mod:`hiprot.sim.realism`): the thigh sensor lags the femur's
axial rotation relative to the pelvis (attenuation), twists with knee flexion and
wobbles after each heel strike; the shank sensor twists and wobbles less.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from hiprot import quat
from hiprot.anatomy import SIDE_SIGN
from hiprot.config import Rig, SensorConfig
from hiprot.sim.body import Body
from hiprot.sim.motion import CH, mirror_side
from hiprot.sim.realism import (
    SHANK_STA_SHARE,
    STA_TWIST_ANTERIOR_SHARE,
    STA_WOBBLE_ANTERIOR_SHARE,
    STA_WOBBLE_HZ,
    STA_WOBBLE_TAU_S,
    Realism,
)

PLACES = ("pelvis", "right_thigh", "right_shank", "left_thigh", "left_shank")
REFLECT_B = np.diag([1.0, 1.0, -1.0])  # mirror across the sagittal plane, segment frame
REFLECT_S = np.diag(
    [1.0, -1.0, 1.0]
)  # the matching flip of the sensor's axes (keeps it right-handed)
# Nominal sensor axes (columns x_S, y_S, z_S) in the right-side segment frame.
_NOMINAL_AXES = {
    "pelvis": np.column_stack([[0, 1, 0], [0, 0, -1], [-1, 0, 0]]),
    "thigh": np.column_stack([[0, 1, 0], [-1, 0, 0], [0, 0, 1]]),
    "shank": np.column_stack([[0, 1, 0], [-1, 0, 0], [0, 0, 1]]),
}
_SPREAD_M = np.array([0.02, 0.04, 0.02])


@dataclass(frozen=True)
class Mounting:
    """Sensor ``sensor`` on segment ``segment`` (a ``PLACES`` key): ``q_BS`` and offset in metres."""

    sensor: str
    segment: str
    q_BS: np.ndarray
    offset_B_m: np.ndarray

    def as_dict(self) -> dict:
        euler = quat.to_rotation(self.q_BS).as_euler("xyz", degrees=True)
        return {
            "segment": self.segment,
            "q_BS": [float(v) for v in self.q_BS],
            "euler_xyz_deg": [round(float(v), 4) for v in euler],
            "offset_B_m": [float(v) for v in self.offset_B_m],
        }


def place_of(sensor: SensorConfig) -> str:
    """``pelvis`` or ``<side>_<segment>``."""
    return "pelvis" if sensor.segment == "pelvis" else f"{sensor.side}_{sensor.segment}"


def _nominal(segment: str, body: Body) -> tuple[np.ndarray, np.ndarray]:
    """Right-side nominal (rotation matrix R_BS, offset) of a segment kind."""
    h = body.height_m
    offset = {
        "pelvis": [-0.07 * h, 0.035 * h, 0.0],
        "thigh": [0.0, -0.5 * body.thigh_m, 0.045 * h],
        "shank": [0.0, -0.33 * body.shank_m, 0.03 * h],
    }[segment]
    return _NOMINAL_AXES[segment].astype(float), np.array(offset)


def draw_mounting(
    sensor: SensorConfig, body: Body, seed: int, max_deg: float, mirror: bool, strap: int = 0
) -> Mounting:
    """The true mounting of ``sensor`` (see the module docstring); ``strap`` > 0: the modules
    strapped on anew (another session of the same person), another draw."""
    place = place_of(sensor)
    side = None if sensor.segment == "pelvis" else sensor.side
    canonical_side = mirror_side(side) if (mirror and side) else side
    canonical = "pelvis" if side is None else f"{canonical_side}_{sensor.segment}"
    key = [seed, 2, PLACES.index(canonical)] + ([strap] if strap else [])
    rng = np.random.default_rng(key)
    turn = Rotation.from_euler("xyz", rng.uniform(-max_deg, max_deg, 3), degrees=True).as_matrix()
    shift = rng.uniform(-1, 1, 3) * _SPREAD_M
    r_bs, offset = _nominal(sensor.segment, body)
    r_bs = r_bs @ turn
    offset = offset + shift
    for reflect in (canonical_side == "left", mirror):
        if reflect:
            r_bs, offset = REFLECT_B @ r_bs @ REFLECT_S, REFLECT_B @ offset
    return Mounting(sensor.name, place, quat.from_rotation(Rotation.from_matrix(r_bs)), offset)


def draw_mountings(
    rig: Rig, body: Body, seed: int, max_deg: float, mirror: bool, strap: int = 0
) -> dict[str, Mounting]:
    """Every sensor's true mounting, by sensor name."""
    return {s.name: draw_mounting(s, body, seed, max_deg, mirror, strap) for s in rig.sensors}


def skin_motion(
    segment: str,
    postures: np.ndarray,
    time_s: np.ndarray,
    realism: Realism,
    heel_strikes_s: list[float] = (),
) -> np.ndarray | None:
    """``q_B_B'``: how the skin carrying a sensor on ``segment`` has turned on the bone at
    ``time_s`` (None: not at all); ``heel_strikes_s``: that leg's heel strikes."""
    if segment == "pelvis":
        return None
    side, kind = segment.split("_")
    share = 1.0 if kind == "thigh" else SHANK_STA_SHARE
    flexion = postures[:, CH[f"{side}_knee_flexion"]]
    twist = share * realism.soft_tissue_deg * flexion / 90.0
    wobble = share * realism.soft_tissue_wobble_deg * _ringing(time_s, heel_strikes_s)
    about_long = twist + wobble
    about_anterior = STA_TWIST_ANTERIOR_SHARE * twist + STA_WOBBLE_ANTERIOR_SHARE * wobble
    if kind == "thigh":  # the skin lags the femur's rotation relative to the pelvis
        about_long = (
            about_long - realism.soft_tissue_attenuation * postures[:, CH[f"{side}_hip_rotation"]]
        )
    if not (np.any(about_long) or np.any(about_anterior)):
        return None
    long_rad = np.radians(SIDE_SIGN[side] * about_long)
    anterior_rad = np.radians(SIDE_SIGN[side] * about_anterior)
    zero = np.zeros_like(long_rad)
    q_long = np.column_stack([np.cos(long_rad / 2), zero, np.sin(long_rad / 2), zero])
    q_anterior = np.column_stack([np.cos(anterior_rad / 2), np.sin(anterior_rad / 2), zero, zero])
    return quat.multiply(q_long, q_anterior)


def _ringing(time_s: np.ndarray, strikes_s: list[float]) -> np.ndarray:
    """Unit damped oscillations starting at each heel strike (``STA_WOBBLE_HZ``, ``STA_WOBBLE_TAU_S``)."""
    out = np.zeros_like(time_s)
    for strike in strikes_s:
        inside = slice(
            np.searchsorted(time_s, strike), np.searchsorted(time_s, strike + 8 * STA_WOBBLE_TAU_S)
        )
        since = time_s[inside] - strike
        out[inside] += np.exp(-since / STA_WOBBLE_TAU_S) * np.sin(2 * np.pi * STA_WOBBLE_HZ * since)
    return out
