"""What the person does, as a function of time: postures, phases and true events.

A *posture* is one row of ``CHANNELS``: heading (degrees, counter-clockwise
from world +x), pelvis tilt/obliquity/rotation relative to the heading frame
(see :func:`hiprot.sim.body.pelvis_rotation`), pelvis position in the world
(metres), ISB hip and knee angles of both legs (degrees), and two weights that
switch on small physiological perturbations: standing sway and the slight
unsteadiness of a limb held or moved slowly (``wobble``).

A scenario is a sequence of phases (keyframe moves or walking), each a
function of time, so the same motion can be evaluated on any time grid — the
sensor model evaluates it finer than the sample rate. Keyframe moves follow
the minimum-jerk profile of voluntary point-to-point movements (Flash & Hogan,
J Neurosci 5:1688-1703, 1985), which keeps accelerations continuous.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

CHANNELS = (
    "heading", "tilt", "obliquity", "rotation", "x", "y", "z",
    "right_hip_flexion", "right_hip_adduction", "right_hip_rotation",
    "right_knee_flexion", "right_knee_adduction", "right_knee_rotation",
    "left_hip_flexion", "left_hip_adduction", "left_hip_rotation",
    "left_knee_flexion", "left_knee_adduction", "left_knee_rotation",
    "sway", "wobble", "sway_pitch", "sway_roll",
)  # fmt: skip
CH = {name: i for i, name in enumerate(CHANNELS)}
XYZ = [CH["x"], CH["y"], CH["z"]]
JOINT_CHANNELS = [i for name, i in CH.items() if "_hip_" in name or "_knee_" in name]
# Channels whose sign flips in the mirror image (a reflection across the sagittal plane).
_MIRROR_NEGATE = [CH[n] for n in ("heading", "obliquity", "rotation", "y", "sway_roll")]
SWAY_DEG = (0.3, 0.15)  # RMS pitch and roll of quiet standing: ~5 mm of sway at the pelvis
WOBBLE_DEG = 0.4  # RMS of the slow unsteadiness of joint angles in held postures


@dataclass(frozen=True)
class Event:
    """A true event: ``time_s``, ``side`` (left, right or both) and its name."""

    time_s: float
    side: str
    event: str


@dataclass(frozen=True)
class PeakWindow:
    """A span in which a test reaches its end range: the peak event is placed at the true extreme."""

    start_s: float
    end_s: float
    side: str
    event: str  # ir_peak (maximum IR) or er_peak (minimum IR)


class Phase(Protocol):
    """A piece of motion between ``start_s`` and ``end_s``."""

    start_s: float
    end_s: float

    def evaluate(self, t: np.ndarray) -> np.ndarray:
        """Postures (n, len(CHANNELS)) at times ``t`` inside the phase."""


def minimum_jerk(s: np.ndarray) -> np.ndarray:
    """Normalised minimum-jerk position profile: 0 at s<=0, 1 at s>=1, C2 everywhere."""
    s = np.clip(s, 0.0, 1.0)
    return s**3 * (10.0 - 15.0 * s + 6.0 * s * s)


@dataclass
class KeyframePhase:
    """Postures at key times joined by minimum-jerk moves (equal neighbours = a hold).

    A move may keep feet planted (``planted[k]``: ``right``, ``left``, ``both`` or None for
    the move from key ``k`` to ``k + 1``): then the pelvis position is not blended but placed
    so that those ankles (their mean) stay where they were at the move's start, all along the
    move; ``ankles`` gives the ankle positions (side -> (n, 3)) relative to the pelvis origin.
    """

    times: np.ndarray
    postures: np.ndarray
    planted: tuple[str | None, ...] = ()
    ankles: Callable[[np.ndarray], dict[str, np.ndarray]] | None = None

    @property
    def start_s(self) -> float:
        return float(self.times[0])

    @property
    def end_s(self) -> float:
        return float(self.times[-1])

    def evaluate(self, t: np.ndarray) -> np.ndarray:
        k = np.clip(np.searchsorted(self.times, t, side="right") - 1, 0, len(self.times) - 2)
        t0, t1 = self.times[k], self.times[k + 1]
        blend = minimum_jerk((t - t0) / np.maximum(t1 - t0, 1e-12))[:, None]
        out = self.postures[k] + (self.postures[k + 1] - self.postures[k]) * blend
        for move in np.unique(k):
            plant = self.planted[move] if move < len(self.planted) else None
            inside = k == move
            if plant is not None:
                sides = ("right", "left") if plant == "both" else (plant,)
                start, now = (self.ankles(p) for p in (self.postures[move][None, :], out[inside]))
                shift = np.mean([start[side][0] - now[side] for side in sides], axis=0)
                out[np.ix_(inside, XYZ)] = self.postures[move][XYZ] + shift
        return out


class SmoothNoise:
    """A smooth random signal per channel: a sum of sinusoids of random frequency and phase.

    Analytic in time, so it is the same on any grid; ``rms`` per channel.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        channels: int,
        rms: np.ndarray | float,
        f_lo_hz: float,
        f_hi_hz: float,
        terms: int = 6,
    ):
        self.freq = rng.uniform(f_lo_hz, f_hi_hz, (terms, channels))
        self.phase = rng.uniform(0, 2 * np.pi, (terms, channels))
        weights = rng.uniform(0.5, 1.0, (terms, channels))
        self.amp = weights * np.asarray(rms) * np.sqrt(2.0 / np.sum(weights**2, axis=0))

    def __call__(self, t: np.ndarray) -> np.ndarray:
        out = np.zeros((len(t), self.freq.shape[1]))
        for freq, phase, amp in zip(self.freq, self.phase, self.amp):
            out += amp * np.sin(2 * np.pi * t[:, None] * freq + phase)
        return out


@dataclass
class Motion:
    """A whole scenario: phases in time order, the true events and where test peaks lie."""

    phases: list[Phase]
    events: list[Event]
    peak_windows: list[PeakWindow]
    rng: np.random.Generator
    mirror: bool = False
    duration_s: float = field(init=False)

    def __post_init__(self) -> None:
        self.duration_s = self.phases[-1].end_s
        self._sway = SmoothNoise(self.rng, 2, np.array(SWAY_DEG), 0.05, 0.4)
        self._wobble = SmoothNoise(self.rng, len(JOINT_CHANNELS), WOBBLE_DEG, 0.1, 1.5)
        if self.mirror:
            self.events = [Event(e.time_s, mirror_side(e.side), e.event) for e in self.events]
            self.peak_windows = [
                PeakWindow(w.start_s, w.end_s, mirror_side(w.side), w.event)
                for w in self.peak_windows
            ]

    def evaluate(self, t: np.ndarray) -> np.ndarray:
        """Postures (n, channels) at ``t``; before the first phase and after the last the pose holds."""
        t = np.asarray(t, dtype=float)
        out = np.empty((len(t), len(CHANNELS)))
        starts = np.array([p.start_s for p in self.phases])
        which = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(self.phases) - 1)
        for i, phase in enumerate(self.phases):
            mask = which == i
            if np.any(mask):
                out[mask] = phase.evaluate(np.clip(t[mask], phase.start_s, phase.end_s))
        perturbations = (
            (CH["wobble"], self._wobble, JOINT_CHANNELS),
            (CH["sway"], self._sway, [CH["sway_pitch"], CH["sway_roll"]]),
        )
        for weight, noise, channels in perturbations:
            active = out[:, weight] != 0
            if np.any(active):
                out[np.ix_(active, channels)] += out[active, weight][:, None] * noise(t[active])
        return mirror_postures(out) if self.mirror else out


def mirror_side(side: str) -> str:
    """The other side (``both`` stays)."""
    return {"left": "right", "right": "left"}.get(side, side)


def mirror_postures(postures: np.ndarray) -> np.ndarray:
    """The mirror image across the starting sagittal plane (world y -> -y): legs swap sides."""
    out = postures.copy()
    for joint in ("hip", "knee"):
        for axis in ("flexion", "adduction", "rotation"):
            right, left = CH[f"right_{joint}_{axis}"], CH[f"left_{joint}_{axis}"]
            out[:, [right, left]] = postures[:, [left, right]]
    out[:, _MIRROR_NEGATE] *= -1.0
    return out
