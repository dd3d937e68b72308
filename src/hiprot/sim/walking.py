"""Level walking: normative curves, stride-to-stride variability, turns and the pelvis path.

- Stride times vary from stride to stride with a coefficient of variation of 2 %
  (Hausdorff et al., J Appl Physiol 78:349-358 (1995): 1.9 % in healthy adults);
  every joint curve gets its own gain and offset per stride (a few degrees of
  intra-subject variability), interpolated smoothly along the gait phase.
- The walk starts and ends with a one-stride ramp from and to standing.
- Walking speed follows from the leg geometry, so the stance foot stays nearly in
  place: the ankle's forward travel relative to the pelvis during stance, divided
  by the stance time.
- The pelvis follows a standard centre-of-mass path: up and down twice per stride
  (highest at mid-stance) and sideways over the stance leg once per stride, with
  peak-to-peak amplitudes from Orendurff et al., J Rehabil Res Dev 41:829-834
  (2004): vertical 2.7 cm at 0.7 m/s to 4.8 cm at 1.6 m/s, medio-lateral 7.0 to
  3.8 cm; forward speed dips by ~5 % at mid-stance.
- Turns: 180° step turns of 2.5 s every ``turn_every_m`` metres, alternating left
  and right (walking up and down a corridor), at 35 % lower speed mid-turn.
- Hip rotation respects the person's passive range: each excursion is limited
  smoothly (tanh) to half of the passive IR or ER range — a modelling choice, not
  a published figure — so a restricted hip walks with slightly less peak IR.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline

from hiprot.sim import curves
from hiprot.sim.body import Body
from hiprot.sim.motion import CH, CHANNELS, Event, minimum_jerk

STRIDE_CV = 0.02
TURN_S = 2.5
TURN_SLOWDOWN = 0.35
PATH_GRID_HZ = 1000.0
# Per-stride variability of each curve: (gain SD, offset SD in degrees).
VARIABILITY = {
    "hip_flexion": (0.04, 1.0), "hip_adduction": (0.06, 0.6), "hip_rotation": (0.08, 1.0),
    "knee_flexion": (0.04, 1.2), "pelvis_tilt": (0.10, 0.3), "pelvis_obliquity": (0.08, 0.4),
    "pelvis_rotation": (0.08, 0.6),
}  # fmt: skip
LEG_CURVES = ("hip_flexion", "hip_adduction", "hip_rotation", "knee_flexion")
PELVIS_CURVES = {"pelvis_tilt": "tilt", "pelvis_obliquity": "obliquity", "pelvis_rotation": "rotation"}


@dataclass(frozen=True)
class Gait:
    """Who walks how: cadence, turning distance and the passive hip-rotation range per side."""

    cadence_spm: float
    turn_every_m: float
    ir_max_deg: dict[str, float]
    er_max_deg: dict[str, float]


def walking_speed(body: Body, stride_s: float) -> float:
    """Mean speed (m/s) at which the stance ankle stays in place for the normative curves."""
    def ankle_forward(phase: float) -> float:
        hip = np.radians(curves.normative("hip_flexion", phase))
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


class WalkPhase:
    """Walking from ``start_s`` (standing at ``start_xyz``, facing world +x) until ``end_s``."""

    def __init__(self, start_s: float, end_s: float, start_xyz: np.ndarray, body: Body, gait: Gait,
                 rng: np.random.Generator):
        self.start_s, self.end_s, self.body, self.gait = start_s, end_s, body, gait
        self.start_xyz = np.asarray(start_xyz, dtype=float)
        stride_s = 120.0 / gait.cadence_spm
        self.speed = walking_speed(body, stride_s)
        available = end_s - start_s - 0.5
        strides = np.clip(1 + STRIDE_CV * rng.standard_normal(int(available / stride_s) + 1), 0.93, 1.07)
        strides *= stride_s
        count = int(np.searchsorted(np.cumsum(strides), available, side="right"))
        self.strides = max(count, 0)
        self.walking = self.strides >= 2
        self.heel_strikes = start_s + np.concatenate([[0.0], np.cumsum(strides[: self.strides])])
        self.stop_s = float(self.heel_strikes[-1])
        self._variation = self._draw_variation(rng)
        self.turns = self._schedule_turns(stride_s) if self.walking else []
        if self.walking:
            self._phase = CubicSpline(self.heel_strikes, np.arange(self.strides + 1.0))
            self._build_path()

    # -- plan --------------------------------------------------------------------------------------

    def _draw_variation(self, rng: np.random.Generator) -> dict[str, tuple[CubicSpline, CubicSpline]]:
        """Per-stride gain and offset of every curve, as smooth functions of the gait phase."""
        knots = np.arange(-1, self.strides + 2) + 0.5
        variation = {}
        for owner in ("right", "left", "pelvis"):
            names = LEG_CURVES if owner != "pelvis" else tuple(PELVIS_CURVES)
            for name in names:
                gain_sd, offset_sd = VARIABILITY[name]
                gain = 1 + gain_sd * rng.standard_normal(len(knots))
                offset = offset_sd * rng.standard_normal(len(knots))
                variation[f"{owner}_{name}"] = (CubicSpline(knots, gain), CubicSpline(knots, offset))
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

    def _build_path(self) -> None:
        """Integrate the horizontal path on a fine grid; splines make it evaluable anywhere."""
        t = np.arange(self.start_s, self.stop_s + 1.0 / PATH_GRID_HZ, 1.0 / PATH_GRID_HZ)
        t[-1] = min(t[-1], self.stop_s)
        phase = self._phase(t)
        envelope = self._envelope(phase)
        heading = np.radians(self._heading(t))
        speed = self.speed * envelope * (1 - 0.05 * np.cos(4 * np.pi * (phase - 0.3))) * self._slowdown(t)
        forward = np.column_stack([np.cos(heading), np.sin(heading)])
        velocity = speed[:, None] * forward
        dt = np.diff(t)[:, None]
        xy = np.vstack([[0.0, 0.0], np.cumsum(0.5 * (velocity[1:] + velocity[:-1]) * dt, axis=0)])
        amplitude_ml = np.interp(self.speed, [0.7, 1.6], [0.070, 0.038])
        lateral = envelope * amplitude_ml / 2 * np.cos(2 * np.pi * (phase - 0.3))
        right = np.column_stack([np.sin(heading), -np.cos(heading)])
        xy += lateral[:, None] * right
        self._path = CubicSpline(t, xy + self.start_xyz[:2])

    # -- functions of time -------------------------------------------------------------------------

    def _envelope(self, phase: np.ndarray) -> np.ndarray:
        return minimum_jerk(phase) * minimum_jerk(self.strides - phase)

    def _turn_progress(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index of the latest turn started by ``t`` (-1: none yet) and that turn's progress 0..1."""
        starts = np.array([start for start, _ in self.turns])
        index = np.searchsorted(starts, t, side="right") - 1
        progress = np.clip((t - starts[np.maximum(index, 0)]) / TURN_S, 0.0, 1.0)
        return index, np.where(index >= 0, progress, 0.0)

    def _heading(self, t: np.ndarray) -> np.ndarray:
        if not self.turns:
            return np.zeros_like(t)
        angles = np.array([angle for _, angle in self.turns])
        before = np.concatenate([[0.0], np.cumsum(angles)])
        index, progress = self._turn_progress(t)
        return before[index + 1] - np.where(index >= 0, angles[index] * (1 - minimum_jerk(progress)), 0.0)

    def _slowdown(self, t: np.ndarray) -> np.ndarray:
        if not self.turns:
            return np.ones_like(t)
        _, progress = self._turn_progress(t)
        return 1 - TURN_SLOWDOWN * np.sin(np.pi * progress) ** 2

    def _curve(self, owner: str, name: str, phase: np.ndarray, own_phase: np.ndarray) -> np.ndarray:
        gain, offset = self._variation[f"{owner}_{name}"]
        return curves.normative(name, own_phase) * gain(phase) + offset(phase)

    def evaluate(self, t: np.ndarray) -> np.ndarray:
        out = np.zeros((len(t), len(CHANNELS)))
        out[:, [CH["x"], CH["y"], CH["z"]]] = self.start_xyz
        if not self.walking:
            return out
        t = np.clip(t, self.start_s, self.stop_s)
        phase = np.clip(self._phase(t), 0.0, float(self.strides))
        envelope = self._envelope(phase)
        for side, lag in (("right", 0.0), ("left", 0.5)):
            for name in LEG_CURVES:
                joint, axis = name.split("_")
                value = self._curve(side, name, phase, phase - lag)
                if name == "hip_rotation":
                    value = _soft_limit(value, self.gait.ir_max_deg[side] / 2, self.gait.er_max_deg[side] / 2)
                out[:, CH[f"{side}_{joint}_{axis}"]] = envelope * value
        for name, channel in PELVIS_CURVES.items():
            out[:, CH[channel]] = envelope * self._curve("pelvis", name, phase, phase)
        out[:, CH["heading"]] = self._heading(t)
        out[:, [CH["x"], CH["y"]]] = self._path(t)
        amplitude_v = np.interp(self.speed, [0.7, 1.6], [0.027, 0.048])
        bounce = amplitude_v / 2 * (np.cos(4 * np.pi * (phase - 0.3)) - 1) - 0.01
        out[:, CH["z"]] += envelope * bounce
        return out

    def events(self) -> list[Event]:
        """Heel strikes and toe offs of both legs (where the gait is at least half under way), turns."""
        if not self.walking:
            return []
        t = np.linspace(self.start_s, self.stop_s, int((self.stop_s - self.start_s) * PATH_GRID_HZ) + 1)
        phase = self._phase(t)
        found = []
        for side, lag in (("right", 0.0), ("left", 0.5)):
            for name, at in (("heel_strike", 0.0), ("toe_off", curves.TOE_OFF)):
                targets = np.arange(self.strides + 1) + lag + at
                targets = targets[(targets <= self.strides) & (self._envelope(targets) >= 0.5)]
                found += [Event(float(x), side, name) for x in np.interp(targets, phase, t)]
        for start, _ in self.turns:
            found += [Event(start, "both", "turn_start"), Event(start + TURN_S, "both", "turn_end")]
        return found
