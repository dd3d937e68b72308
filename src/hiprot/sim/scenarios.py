"""The five scenarios, each a :class:`~hiprot.sim.motion.Motion` that starts with standing still.

Every scenario begins with ``still_s`` seconds of quiet standing, feet forward —
the calibration posture that defines zero for every joint angle. The product's
protocol then asks for a movement that defines each knee's axis and its sign:
walking does that by itself; every other scenario starts, unless
``calibration_moves = "none"``, with three knee bends (both legs, hips to 40°,
knees to 70°, feet planted, 1.2 s down and 1.2 s up) and 2 s of standing. Then:

- ``walk``: level walking with turns (:mod:`hiprot.sim.walking`) until the end;
- ``seated-ir``: sits down (pelvis tilted 15° posteriorly, thigh horizontal, so
  hip flexion 75°, knee 90°), then per tested leg ``trials`` trials of: slow swing
  of the foot outward to the end of internal rotation, hold, back, slow swing
  inward to the end of external rotation, hold, back;
- ``prone-ir``: lies face down (hips 0°), bends the tested knee to 90° (the foot up)
  and does the same trials — here too the foot moving outward is internal rotation;
- ``exercise``: hip-IR activations standing on one leg with the working hip and
  knee at 90° (after shifting the pelvis 4 cm over the stance foot, feet planted):
  ``sets`` sets of ``reps`` reps to ``rep_range_deg`` with rests;
- ``lunge``: forward lunges with the tested leg behind; at the bottom the trunk and
  pelvis turn toward the rear leg by ``rep_range_deg`` over planted feet, which
  rotates the rear hip internally by about as much; ``sets`` × ``reps`` with rests.

The **true hip IR** in every scenario is the ISB hip angle (pelvis → femur,
Cardan Z-X-Y, rotation about the femur's long axis last) relative to the standing
calibration posture. Seated, the pelvis is tilted back and the hip flexed 75°,
yet the IR/ER of the test is exactly this third Cardan angle: the femur's twist
about its own long axis, which is what a goniometer on the shank (knee at 90°)
reads. The seated posture itself adds no IR.

Tested legs are the rig's legs; per leg the person has a passive range
``ir_max_deg``/``er_max_deg`` (``left_*`` to differ on the left); each trial's end
range falls short of it by a random 0-3°.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from hiprot import quat
from hiprot.anatomy import joint_angles
from hiprot.config import SimulationConfig
from hiprot.sim.body import Body, ankle_positions, ankles_from_pelvis, forward_kinematics
from hiprot.sim.motion import (
    CH,
    CHANNELS,
    XYZ,
    Event,
    KeyframePhase,
    Motion,
    PeakWindow,
    mirror_side,
)
from hiprot.sim.walking import Gait, WalkPhase

WALK_S = 60.0
SEATED_POSTERIOR_TILT_DEG = 15.0
TABLE_HEIGHT_M = 0.75
TRIAL_SHORTFALL_SD_DEG = 1.5
SWING_S, HOLD_S, RETURN_S = 3.0, 3.0, 2.5
KNEE_BENDS, KNEE_BEND_S, AFTER_BENDS_S = 3, 1.2, 2.0
KNEE_BEND_DEG = {"hip_flexion": 40.0, "knee_flexion": 70.0}
WEIGHT_SHIFT_M = 0.04  # the pelvis over the stance foot before standing on one leg


@dataclass(frozen=True)
class Person:
    """The simulated person: body dimensions and passive hip-rotation range per side."""

    body: Body
    ir_max_deg: dict[str, float]
    er_max_deg: dict[str, float]


def person_from(config: SimulationConfig, mirror: bool) -> Person:
    """The person of ``config``; in a mirrored scenario the canonical right leg is the real left."""
    ir = {"right": config.ir_max_deg, "left": _default(config.left_ir_max_deg, config.ir_max_deg)}
    er = {"right": config.er_max_deg, "left": _default(config.left_er_max_deg, config.er_max_deg)}
    if mirror:
        ir = {side: ir[mirror_side(side)] for side in ir}
        er = {side: er[mirror_side(side)] for side in er}
    return Person(Body(config.height_m), ir, er)


def _default(value: float | None, fallback: float) -> float:
    return fallback if value is None else value


class Script:
    """Builds a keyframe phase step by step: moves, holds, events and peak windows."""

    def __init__(self, body: Body):
        self.body = body
        standing = np.zeros(len(CHANNELS))
        standing[CH["z"]] = body.standing_pelvis_height_m
        standing[CH["sway"]] = 1.0
        self.times, self.postures = [0.0], [standing]
        self.planted: list[str | None] = []
        self.events: list[Event] = []
        self.windows: list[PeakWindow] = []

    @property
    def now(self) -> float:
        return self.times[-1]

    @property
    def posture(self) -> np.ndarray:
        return self.postures[-1]

    def move(self, duration_s: float, plant: str | None = None, **channels: float) -> Script:
        """Move to a posture that differs in ``channels``; ``plant`` keeps that ankle (or ``both``) still."""
        new = self.posture.copy()
        for name, value in channels.items():
            new[CH[name]] = value
        if plant is not None:
            before, after = (ankle_positions(self.body, p[None, :]) for p in (self.posture, new))
            sides = ("right", "left") if plant == "both" else (plant,)
            shift = np.mean([before[s][0] - after[s][0] for s in sides], axis=0)
            new[XYZ] += shift
        self.times.append(self.now + duration_s)
        self.postures.append(new)
        self.planted.append(plant)
        return self

    def turn_pelvis(self, duration_s: float, rotation_deg: float) -> Script:
        """Turn the pelvis (``rotation`` channel) over femurs that keep their place in the world;
        the hip angles follow (solved with the ISB definition), the mean ankle position stays."""
        turned = self.posture.copy()
        turned[CH["rotation"]] = rotation_deg
        before = forward_kinematics(self.body, self.posture[None, :])
        q_pelvis = forward_kinematics(self.body, turned[None, :])["pelvis"].q_EB
        changes = {"rotation": rotation_deg}
        for side in ("right", "left"):
            q_hip = quat.multiply(quat.conjugate(q_pelvis), before[f"{side}_thigh"].q_EB)
            for axis, value in zip(
                ("flexion", "adduction", "rotation"), joint_angles(q_hip, side)[0]
            ):
                changes[f"{side}_hip_{axis}"] = value
        return self.move(duration_s, plant="both", **changes)

    def hold(self, duration_s: float) -> Script:
        return self.move(duration_s)

    def event(self, side: str, name: str) -> None:
        self.events.append(Event(self.now, side, name))

    def peak(self, side: str, name: str, since_s: float) -> None:
        """The peak event goes to the true extreme between ``since_s`` and now (a swing to the end
        range, its hold and the way back: with the limb's unsteadiness the extreme may fall just
        before or after the hold)."""
        self.windows.append(PeakWindow(since_s, self.now, side, name))

    def phase(self) -> KeyframePhase:
        return KeyframePhase(
            np.array(self.times),
            np.array(self.postures),
            tuple(self.planted),
            partial(ankles_from_pelvis, self.body),
        )


def _calibration(script: Script, still_s: float) -> None:
    script.event("both", "calibration_start")
    script.hold(still_s)
    script.event("both", "calibration_end")


def _knee_bends(s: Script) -> None:
    """The calibration movement: knee bends with both feet planted (no joint unsteadiness, which
    would move them), then standing still."""
    s.event("both", "calibration_move_start")
    for _ in range(KNEE_BENDS):
        s.move(
            KNEE_BEND_S,
            plant="both",
            sway=0,
            **{
                f"{side}_{joint}": angle
                for side in ("right", "left")
                for joint, angle in KNEE_BEND_DEG.items()
            },
        )
        s.move(
            KNEE_BEND_S,
            plant="both",
            **{f"{side}_{joint}": 0.0 for side in ("right", "left") for joint in KNEE_BEND_DEG},
        )
    s.event("both", "calibration_move_end")
    s.move(0.5, sway=1)
    s.hold(AFTER_BENDS_S - 0.5)


def _sit_down(s: Script) -> None:
    flexion = 90.0 - SEATED_POSTERIOR_TILT_DEG
    legs = {
        f"{side}_{j}": v
        for side in ("right", "left")
        for j, v in (("hip_flexion", 55), ("knee_flexion", 60))
    }
    s.move(1.6, plant="both", sway=0, wobble=1, tilt=25, **legs)
    legs = {
        f"{side}_{j}": v
        for side in ("right", "left")
        for j, v in (("hip_flexion", flexion), ("knee_flexion", 90))
    }
    s.move(1.6, plant="both", tilt=-SEATED_POSTERIOR_TILT_DEG, **legs)
    s.hold(2.0)


def _lie_prone(s: Script) -> None:
    legs = {
        f"{side}_{j}": v
        for side in ("right", "left")
        for j, v in (("hip_flexion", 50), ("knee_flexion", 45))
    }
    s.move(2.0, plant="both", sway=0, wobble=1, tilt=35, **legs)
    legs = {
        f"{side}_{j}": 0.0 for side in ("right", "left") for j in ("hip_flexion", "knee_flexion")
    }
    s.move(3.0, tilt=90.0, x=0.6, y=0.0, z=TABLE_HEIGHT_M + 0.10, **legs)
    s.hold(2.0)


def _rotation_trials(
    s: Script, person: Person, side: str, trials: int, rng: np.random.Generator
) -> None:
    """Slow IR swing, hold, back; slow ER swing, hold, back — ``trials`` times."""
    for _ in range(trials):
        ir = max(
            person.ir_max_deg[side] - abs(TRIAL_SHORTFALL_SD_DEG * rng.standard_normal()),
            0.5 * person.ir_max_deg[side],
        )
        er = max(
            person.er_max_deg[side] - abs(TRIAL_SHORTFALL_SD_DEG * rng.standard_normal()),
            0.5 * person.er_max_deg[side],
        )
        s.event(side, "trial_start")
        s.hold(1.0)
        _swing_to(s, side, "ir_peak", ir)
        s.hold(1.0)
        _swing_to(s, side, "er_peak", -er)
        s.event(side, "trial_end")
        s.hold(2.0)


def _swing_to(s: Script, side: str, peak: str, rotation_deg: float) -> None:
    """A slow swing of the foot to ``rotation_deg`` of hip rotation, a hold there and back to 0."""
    since = s.now
    s.move(SWING_S, **{f"{side}_hip_rotation": rotation_deg})
    s.hold(HOLD_S)
    s.move(RETURN_S, **{f"{side}_hip_rotation": 0.0})
    s.peak(side, peak, since)


def _seated(
    s: Script,
    person: Person,
    sides: tuple[str, ...],
    cfg: SimulationConfig,
    rng: np.random.Generator,
) -> None:
    _sit_down(s)
    for side in sides:
        _rotation_trials(s, person, side, cfg.trials, rng)


def _prone(
    s: Script,
    person: Person,
    sides: tuple[str, ...],
    cfg: SimulationConfig,
    rng: np.random.Generator,
) -> None:
    _lie_prone(s)
    for side in sides:
        s.move(1.5, **{f"{side}_knee_flexion": 90.0})
        s.hold(1.0)
        _rotation_trials(s, person, side, cfg.trials, rng)
        s.move(1.5, **{f"{side}_knee_flexion": 0.0})
        s.hold(1.0)


def _rep_ranges(
    person: Person, side: str, cfg: SimulationConfig, rng: np.random.Generator
) -> np.ndarray:
    target = _default(cfg.rep_range_deg, 0.8 * person.ir_max_deg[side])
    target = min(target, person.ir_max_deg[side])
    return np.minimum(target * (1 + 0.05 * rng.standard_normal(cfg.reps)), person.ir_max_deg[side])


def _rest(s: Script, rest_s: float) -> None:
    s.move(1.0, sway=1, wobble=0)
    s.hold(rest_s)


def _ir_activations(
    s: Script,
    person: Person,
    sides: tuple[str, ...],
    cfg: SimulationConfig,
    rng: np.random.Generator,
) -> None:
    """Standing on one leg, working hip and knee at 90°, rotating the foot outward (IR) and back.

    First the pelvis shifts ``WEIGHT_SHIFT_M`` over the stance foot with both feet planted:
    the stance hip adducts and the working hip abducts by the same small angle."""
    legs = person.body.thigh_m + person.body.shank_m
    shift_deg = float(np.degrees(np.arcsin(WEIGHT_SHIFT_M / legs)))
    for _ in range(cfg.sets):
        for side in sides:
            stance = mirror_side(side)
            s.event(side, "set_start")
            s.move(
                1.0,
                plant="both",
                sway=0,
                wobble=1,
                **{f"{stance}_hip_adduction": shift_deg, f"{side}_hip_adduction": -shift_deg},
            )
            s.move(1.2, plant=stance, **{f"{side}_hip_flexion": 90.0, f"{side}_knee_flexion": 90.0})
            s.hold(0.5)
            for target in _rep_ranges(person, side, cfg, rng):
                s.event(side, "rep_start")
                s.move(1.0, **{f"{side}_hip_rotation": target})
                s.hold(0.4)
                s.move(1.4, **{f"{side}_hip_rotation": 0.0})
                s.event(side, "rep_end")
                s.hold(0.6)
            s.move(1.2, plant=stance, **{f"{side}_hip_flexion": 0.0, f"{side}_knee_flexion": 0.0})
            s.move(1.0, plant="both", **{f"{leg}_hip_adduction": 0.0 for leg in (side, stance)})
            s.event(side, "set_end")
            _rest(s, cfg.rest_s)


def _lunges(
    s: Script,
    person: Person,
    sides: tuple[str, ...],
    cfg: SimulationConfig,
    rng: np.random.Generator,
) -> None:
    """Forward lunges with the tested leg behind; at the bottom the trunk and pelvis turn toward it.

    Both feet stay planted and both femurs keep their place, so the pelvis turns over them:
    over the nearly straight rear hip that is internal rotation of about the pelvis turn,
    over the 85°-flexed front hip mostly abduction.
    """
    body = person.body
    step_m = 0.45 * body.height_m
    for _ in range(cfg.sets):
        for rear in sides:
            front = mirror_side(rear)
            toward_rear = (
                1.0 if rear == "right" else -1.0
            )  # pelvis rotation: right side forward is +
            s.event(rear, "set_start")
            s.move(0.8, sway=0, wobble=1)
            for target in _rep_ranges(person, rear, cfg, rng):
                start = s.posture.copy()
                s.event(rear, "rep_start")
                bottom = {
                    f"{front}_hip_flexion": 85.0,
                    f"{front}_knee_flexion": 90.0,
                    f"{rear}_hip_flexion": -10.0,
                    f"{rear}_knee_flexion": 95.0,
                    "tilt": 5.0,
                }
                s.move(1.6, **bottom)
                _place_ankle(s, front, start, step_m)
                s.hold(0.3)
                s.turn_pelvis(1.4, -toward_rear * target)
                s.hold(0.5)
                s.turn_pelvis(1.4, 0.0)
                s.move(
                    1.6,
                    **{name: start[CH[name]] for name in (*bottom, "x", "y", "z")},
                    **{
                        f"{side}_hip_{axis}": 0.0
                        for side in ("right", "left")
                        for axis in ("adduction", "rotation")
                    },
                )
                s.event(rear, "rep_end")
                s.hold(1.0)
            s.event(rear, "set_end")
            _rest(s, cfg.rest_s)


def _place_ankle(s: Script, side: str, start: np.ndarray, step_m: float) -> None:
    """Shift the last keyframe so the ``side`` ankle lands ``step_m`` ahead of where it stood."""
    target = ankle_positions(s.body, start[None, :])[side][0] + np.array([step_m, 0.0, 0.0])
    now = ankle_positions(s.body, s.posture[None, :])[side][0]
    s.postures[-1][XYZ] += target - now


def _walk(
    script: Script, person: Person, cfg: SimulationConfig, end_s: float, rng: np.random.Generator
) -> tuple[list, list[Event]]:
    """Walking until ``end_s``; with ``pauses``, in as many equal bouts, each followed by
    ``rest_s`` of quiet standing where the bout stopped (the last one ends the session)."""
    gait = Gait(cfg.cadence_spm, cfg.turn_every_m, person.ir_max_deg, person.er_max_deg)
    phases, events = [script.phase()], list(script.events)
    bouts = max(cfg.pauses, 1)
    walk_s = (end_s - script.now - cfg.pauses * (cfg.rest_s + 0.5)) / bouts
    start, posture = script.now, script.posture
    for bout in range(bouts):
        walk = WalkPhase(
            start,
            start + max(walk_s, 0.0),
            posture[XYZ],
            person.body,
            gait,
            rng,
            posture[CH["heading"]],
        )
        phases.append(walk)
        events += walk.events()
        if bout >= cfg.pauses:
            break
        posture = walk.evaluate(np.array([walk.end_s]))[0]
        rest = Script(person.body)
        rest.times, rest.postures = [walk.end_s], [posture]
        _rest(rest, cfg.rest_s - 1.0)
        events.append(Event(walk.end_s, "both", "rest_start"))
        events.append(Event(rest.now, "both", "rest_end"))
        rest.move(0.5, sway=0)
        phases.append(rest.phase())
        start, posture = rest.now, rest.posture
    return phases, events


_KEYFRAMED = {
    "seated-ir": _seated,
    "prone-ir": _prone,
    "exercise": _ir_activations,
    "lunge": _lunges,
}


def build(
    config: SimulationConfig,
    sides: tuple[str, ...],
    duration_s: float | None,
    rng: np.random.Generator,
) -> tuple[Motion, Person]:
    """The motion of ``config.scenario`` for the tested ``sides`` (real sides), and the person.

    ``duration_s`` (None: the scenario's natural length; walking: 60 s) cuts the
    scenario short or extends its final rest.
    """
    mirror = config.mirror
    canonical = tuple(sorted(mirror_side(s) if mirror else s for s in sides))
    person = person_from(config, mirror)
    script = Script(person.body)
    _calibration(script, config.still_s)
    if config.scenario == "walk":
        script.move(0.5, sway=0)
        end = duration_s if duration_s is not None else WALK_S
        phases, events = _walk(script, person, config, max(end, script.now), rng)
    else:
        if config.calibration_moves == "knee-bends":
            _knee_bends(script)
        _KEYFRAMED[config.scenario](script, person, canonical, config, rng)
        if duration_s is not None and duration_s > script.now:
            script.hold(duration_s - script.now)
        phases, events = [script.phase()], script.events
    end = duration_s if duration_s is not None else phases[-1].end_s
    events = sorted(
        (e for e in events if e.time_s <= end and (e.side == "both" or e.side in canonical)),
        key=lambda e: (e.time_s, e.side, e.event),
    )
    windows = [w for w in script.windows if w.end_s <= end]
    return Motion(phases, events, windows, rng, mirror), person
