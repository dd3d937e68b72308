"""Level walking: normative curves, stride-to-stride variability, turns, and feet that stay planted.

- Stride times vary from stride to stride with a coefficient of variation of 2 %
  (Hausdorff et al., J Appl Physiol 78:349-358 (1995): 1.9 % in healthy adults);
  every joint curve gets its own gain and offset per stride (a few degrees of
  intra-subject variability), interpolated smoothly along the gait phase.
- The walk starts and ends with a one-stride ramp from and to standing.
- The stance foot stays where it landed from foot flat to heel off
  (:mod:`hiprot.sim.stance`): the pelvis sways over it along a centre-of-mass
  path (peak-to-peak amplitude from Orendurff et al., J Rehabil Res Dev
  41:829-834 (2004): 7.0 cm at 0.7 m/s to 3.8 cm at 1.6 m/s, over the stance foot
  at mid-stance), the stance hip's adduction takes that sway up, and the
  pelvis' forward and vertical motion follow from the stance leg.
- Hip flexion is the normative curve shifted by ``HIP_FLEXION_OFFSET_DEG``: as
  published (30° at heel strike, 9° extension at 55 %) the legs of this footless
  model cannot both reach a level floor in double support — with the trailing foot
  on the floor the leading ankle would hang 6 cm above it at heel strike and the
  pelvis would have to drop 7 cm in every double support — while 6° less flexion
  puts it 1.4 cm up, as a heel touching down with the foot ~20° to the floor does,
  with 3.7 cm of rise and fall. A modelling choice, not a published figure.
- Turns: 180° turns of 2.5 s every ``turn_every_m`` metres, alternating left and
  right (walking up and down a corridor). The body pivots about the planted
  ankle; the stance hip takes up ``TURN_HIP_SHARE`` of the heading change since
  that foot's heel strike by rotating (turning toward the stance leg rotates its
  hip internally, as in a spin turn), limited smoothly to half of the passive
  range; the rest turns the planted foot on the floor. Steps shorten mid-turn
  (hip flexion excursion up to 35 % smaller), so walking slows down. The share is
  a modelling choice, not a published figure.
- Hip rotation respects the person's passive range: each excursion of the gait
  curve is limited smoothly (tanh) to half of the passive IR or ER range — a
  modelling choice, not a published figure — so a restricted hip walks with
  slightly less peak IR.
- The person (:mod:`hiprot.sim.realism`): each hip's rotation curve has the person's
  gain and offset (anteversion); the pelvis keeps a constant rotation relative to the
  walking direction while the femurs walk straight (so each hip turns by it); with
  compensation, internal rotation the passive range takes away from a hip's gait
  curve is taken up by turning the pelvis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline

from hiprot.anatomy import SIDE_SIGN
from hiprot.sim import curves
from hiprot.sim.body import Body
from hiprot.sim.motion import CH, CHANNELS, XYZ, Event, minimum_jerk
from hiprot.sim.realism import Individual
from hiprot.sim.stance import LAGS, contact, foot_flat_spans, solve_adduction, solve_path

STRIDE_CV = 0.02
TURN_S = 2.5
TURN_SLOWDOWN = 0.35
TURN_HIP_SHARE = 0.3
HIP_FLEXION_OFFSET_DEG = -6.0
PATH_GRID_HZ = 250.0
EVENT_GRID_HZ = 1000.0
# Per-stride variability of each curve: (gain SD, offset SD in degrees).
VARIABILITY = {
    "hip_flexion": (0.04, 1.0), "hip_adduction": (0.06, 0.6), "hip_rotation": (0.08, 1.0),
    "knee_flexion": (0.04, 1.2), "pelvis_tilt": (0.10, 0.3), "pelvis_obliquity": (0.08, 0.4),
    "pelvis_rotation": (0.08, 0.6),
}  # fmt: skip
LEG_CURVES = ("hip_flexion", "hip_adduction", "hip_rotation", "knee_flexion")
PELVIS_CURVES = {
    "pelvis_tilt": "tilt",
    "pelvis_obliquity": "obliquity",
    "pelvis_rotation": "rotation",
}


@dataclass(frozen=True)
class Gait:
    """Who walks how: cadence, turning distance, the passive hip-rotation range per side, the
    person's individual gait and whether they compensate."""

    cadence_spm: float
    turn_every_m: float
    ir_max_deg: dict[str, float]
    er_max_deg: dict[str, float]
    individual: Individual = Individual.average()
    compensation: bool = False


def walking_speed(body: Body, stride_s: float) -> float:
    """Planned mean speed (m/s): the stance ankle's forward travel relative to the pelvis from
    heel strike to toe off on the walking curves, divided by the stance time. Turns are planned
    with it; the simulated walk, whose pelvis follows the planted feet, comes within a few
    per cent of it."""

    def ankle_forward(phase: float) -> float:
        hip = np.radians(curves.normative("hip_flexion", phase) + HIP_FLEXION_OFFSET_DEG)
        knee = np.radians(curves.normative("knee_flexion", phase))
        return float(body.thigh_m * np.sin(hip) + body.shank_m * np.sin(hip - knee))

    return (ankle_forward(0.0) - ankle_forward(curves.TOE_OFF)) / (curves.TOE_OFF * stride_s)


def _soft_limit(x: np.ndarray, positive: float, negative: float) -> np.ndarray:
    """Smoothly limit positive values to ``positive`` and negative ones to ``-negative``."""
    out = np.empty_like(x)
    up = x >= 0
    out[up] = positive * np.tanh(x[up] / positive) if positive > 0 else 0.0
    out[~up] = -negative * np.tanh(-x[~up] / negative) if negative > 0 else 0.0
    return out


def _smooth_min(x: np.ndarray, bound: float, width_deg: float = 1.0) -> np.ndarray:
    """``min(x, bound)`` rounded over about ``width_deg`` (keeps accelerations finite)."""
    return -width_deg * np.logaddexp(-x / width_deg, -bound / width_deg)


class WalkPhase:
    """Walking from ``start_s`` (standing at ``start_xyz``, facing ``start_heading_deg``
    counter-clockwise from world +x) until ``end_s``."""

    def __init__(
        self,
        start_s: float,
        end_s: float,
        start_xyz: np.ndarray,
        body: Body,
        gait: Gait,
        rng: np.random.Generator,
        start_heading_deg: float = 0.0,
    ):
        self.start_s, self.end_s, self.body, self.gait = start_s, end_s, body, gait
        self.start_heading_deg = start_heading_deg
        self.start_xyz = np.asarray(start_xyz, dtype=float)
        stride_s = 120.0 / gait.cadence_spm
        self.speed = walking_speed(body, stride_s)
        available = end_s - start_s - 0.5
        strides = np.clip(
            1 + STRIDE_CV * rng.standard_normal(int(available / stride_s) + 1), 0.93, 1.07
        )
        strides *= stride_s
        count = int(np.searchsorted(np.cumsum(strides), available, side="right"))
        self.strides = max(count, 0)
        self.walking = self.strides >= 2
        self.heel_strikes = start_s + np.concatenate([[0.0], np.cumsum(strides[: self.strides])])
        self.stop_s = float(self.heel_strikes[-1])
        self._variation = self._draw_variation(rng)
        self.turns = self._schedule_turns(stride_s) if self.walking else []
        self._adduction_fix: dict[str, CubicSpline] = {}
        if self.walking:
            self._phase = CubicSpline(self.heel_strikes, np.arange(self.strides + 1.0))
            self._plant_feet()

    # -- plan --------------------------------------------------------------------------------------

    def _draw_variation(
        self, rng: np.random.Generator
    ) -> dict[str, tuple[CubicSpline, CubicSpline]]:
        """Per-stride gain and offset of every curve, as smooth functions of the gait phase."""
        knots = np.arange(-1, self.strides + 2) + 0.5
        variation = {}
        for owner in ("right", "left", "pelvis"):
            names = LEG_CURVES if owner != "pelvis" else tuple(PELVIS_CURVES)
            for name in names:
                gain_sd, offset_sd = VARIABILITY[name]
                gain = 1 + gain_sd * rng.standard_normal(len(knots))
                offset = offset_sd * rng.standard_normal(len(knots))
                variation[f"{owner}_{name}"] = (
                    CubicSpline(knots, gain),
                    CubicSpline(knots, offset),
                )
        return variation

    def _schedule_turns(self, stride_s: float) -> list[tuple[float, float]]:
        """(start time, signed angle in degrees) of each 180° turn."""
        if self.gait.turn_every_m <= 0:
            return []
        straight_s = self.gait.turn_every_m / self.speed
        turns, start, sign = [], float(self.heel_strikes[1]) + straight_s, 1.0
        while start + TURN_S < self.heel_strikes[-2] - 0.5 * stride_s:
            turns.append((start, 180.0 * sign))
            start += TURN_S + straight_s
            sign = -sign
        return turns

    def _plant_feet(self) -> None:
        """Solve the stance hips' adduction corrections, then the pelvis path (see :mod:`~hiprot.sim.stance`)."""
        t = np.linspace(
            self.start_s, self.stop_s, int(np.ceil((self.stop_s - self.start_s) * PATH_GRID_HZ)) + 1
        )
        phase = self._phase(t)
        self._strike_heading = {
            side: self._heading(np.interp(np.arange(-1, self.strides + 1) + lag, phase, t))
            for side, lag in LAGS.items()
        }
        spans = foot_flat_spans(t, phase, self.strides)
        self._adduction_fix = solve_adduction(
            self.body, spans, self._angles, self._sway, self.start_s, self.stop_s
        )
        self._path = solve_path(self.body, spans, self._angles, t, self.start_xyz, self.stop_s)

    # -- functions of time -------------------------------------------------------------------------

    def _phase_at(self, t: np.ndarray) -> np.ndarray:
        return np.clip(self._phase(t), 0.0, float(self.strides))

    def _envelope(self, phase: np.ndarray) -> np.ndarray:
        return minimum_jerk(phase) * minimum_jerk(self.strides - phase)

    def _sway(self, t: np.ndarray) -> np.ndarray:
        """The pelvis' sideways sway (m, to the right), over the right foot at its mid-stance."""
        phase = self._phase_at(t)
        amplitude = np.interp(self.speed, [0.7, 1.6], [0.070, 0.038])
        return self._envelope(phase) * amplitude / 2 * np.cos(2 * np.pi * (phase - 0.3))

    def _turn_progress(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index of the latest turn started by ``t`` (-1: none yet) and that turn's progress 0..1."""
        starts = np.array([start for start, _ in self.turns])
        index = np.searchsorted(starts, t, side="right") - 1
        progress = np.clip((t - starts[np.maximum(index, 0)]) / TURN_S, 0.0, 1.0)
        return index, np.where(index >= 0, progress, 0.0)

    def _heading(self, t: np.ndarray) -> np.ndarray:
        if not self.turns:
            return np.full_like(t, self.start_heading_deg)
        angles = np.array([angle for _, angle in self.turns])
        before = self.start_heading_deg + np.concatenate([[0.0], np.cumsum(angles)])
        index, progress = self._turn_progress(t)
        return before[index + 1] - np.where(
            index >= 0, angles[index] * (1 - minimum_jerk(progress)), 0.0
        )

    def _slowdown(self, t: np.ndarray) -> np.ndarray:
        if not self.turns:
            return np.ones_like(t)
        _, progress = self._turn_progress(t)
        return 1 - TURN_SLOWDOWN * np.sin(np.pi * progress) ** 2

    def _turn_rotation(self, side: str, phase: np.ndarray, heading: np.ndarray) -> np.ndarray:
        """Hip rotation (degrees, IR +) taking up part of the heading change since this foot's heel
        strike, in proportion to its contact: turning toward the stance leg rotates it internally."""
        own = phase - LAGS[side]
        stride = np.clip(np.floor(own).astype(int) + 1, 0, len(self._strike_heading[side]) - 1)
        turned = heading - self._strike_heading[side][stride]
        return -SIDE_SIGN[side] * TURN_HIP_SHARE * contact(own) * turned

    def _curve(self, owner: str, name: str, phase: np.ndarray, own_phase: np.ndarray) -> np.ndarray:
        gain, offset = self._variation[f"{owner}_{name}"]
        return curves.normative(name, own_phase) * gain(phase) + offset(phase)

    def _angles(self, t: np.ndarray, fix: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Postures at ``t`` (inside the walk) with the pelvis at the world origin; ``fix``: hip
        adduction corrections per side (default: the solved ones)."""
        phase = self._phase_at(t)
        out = np.zeros((len(t), len(CHANNELS)))
        envelope = self._envelope(phase)
        heading = self._heading(t)
        person = self.gait.individual
        pelvis_offset = envelope * person.pelvis_rotation_offset_deg
        lost = {}  # per side: the pelvis turn (right side forward +) that gives the femur its IR
        for side, lag in LAGS.items():
            ir, er = self.gait.ir_max_deg[side] / 2, self.gait.er_max_deg[side] / 2
            for name in LEG_CURVES:
                joint, axis = name.split("_")
                value = envelope * self._curve(side, name, phase, phase - lag)
                if name == "hip_flexion":
                    value = (value + envelope * HIP_FLEXION_OFFSET_DEG) * self._slowdown(t)
                elif name == "hip_adduction":
                    value = value + self._fix(side, t, fix)
                elif name == "hip_rotation":
                    wanted = (
                        value * person.hip_rotation_gain[side]
                        + envelope * person.hip_rotation_offset_deg[side]
                    )
                    value = _soft_limit(wanted, ir, er)
                    lost[side] = SIDE_SIGN[side] * np.maximum(wanted - value, 0.0)
                    value += _soft_limit(self._turn_rotation(side, phase, heading), ir, er)
                out[:, CH[f"{side}_{joint}_{axis}"]] = value
        turn = sum(lost.values()) if self.gait.compensation else np.zeros_like(t)
        for side in LAGS:
            # The femurs keep walking straight as the pelvis turns, except that a hip short of
            # internal rotation lets the pelvis turn its femur (compensation); a hip never turns
            # past its passive range for it (then its femur turns along).
            own = lost[side] if self.gait.compensation else 0.0
            shift = SIDE_SIGN[side] * (pelvis_offset + turn - own)
            if np.any(shift):
                channel = CH[f"{side}_hip_rotation"]
                inside = _smooth_min(out[:, channel] - shift, self.gait.ir_max_deg[side])
                out[:, channel] = -_smooth_min(-inside, self.gait.er_max_deg[side])
        for name, channel in PELVIS_CURVES.items():
            out[:, CH[channel]] = envelope * self._curve("pelvis", name, phase, phase)
        out[:, CH["rotation"]] += pelvis_offset + turn
        out[:, CH["heading"]] = heading
        return out

    def _fix(self, side: str, t: np.ndarray, fix: dict[str, np.ndarray] | None) -> np.ndarray:
        if fix is not None:
            return fix.get(side, 0.0)
        return self._adduction_fix[side](t) if side in self._adduction_fix else 0.0

    def evaluate(self, t: np.ndarray) -> np.ndarray:
        if not self.walking:
            out = np.zeros((len(t), len(CHANNELS)))
            out[:, XYZ] = self.start_xyz
            out[:, CH["heading"]] = self.start_heading_deg
            return out
        t = np.clip(t, self.start_s, self.stop_s)
        out = self._angles(t)
        out[:, XYZ] = self._path(t)
        return out

    def events(self) -> list[Event]:
        """Heel strikes and toe offs of both legs (where the gait is at least half under way), turns."""
        if not self.walking:
            return []
        t = np.linspace(
            self.start_s, self.stop_s, int((self.stop_s - self.start_s) * EVENT_GRID_HZ) + 1
        )
        phase = self._phase(t)
        found = []
        for side, lag in LAGS.items():
            for name, at in (("heel_strike", 0.0), ("toe_off", curves.TOE_OFF)):
                targets = np.arange(self.strides + 1) + lag + at
                targets = targets[(targets <= self.strides) & (self._envelope(targets) >= 0.5)]
                found += [Event(float(x), side, name) for x in np.interp(targets, phase, t)]
        for start, _ in self.turns:
            found += [Event(start, "both", "turn_start"), Event(start + TURN_S, "both", "turn_end")]
        return found
