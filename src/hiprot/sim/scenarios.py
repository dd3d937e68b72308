"""The scenarios, each a :class:`~hiprot.sim.motion.Motion` that starts with standing still.

Every scenario begins with ``still_s`` seconds of quiet standing, feet forward —
the calibration posture that defines zero for every joint angle. The product's
protocol then asks for a movement that defines each knee's axis and its sign:
walking does that by itself; every other scenario starts, unless
``calibration_moves = "none"``, with three knee bends (both legs, hips to 40°,
knees to 70°, feet planted, 1.2 s down and 1.2 s up) and 2 s of standing. Then:

- ``walk``: level walking with turns (:mod:`hiprot.sim.walking`) until the end; with
  ``pauses``, in that many bouts each followed by ``rest_s`` of standing (``_walk``);
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
  rotates the rear hip internally by about as much; ``sets`` × ``reps`` with rests;
- ``squat``: ``sets`` × ``reps`` body-weight squats, feet planted, hips to 90° and knees
  to 100° with 20° of anterior pelvic tilt, 1.5 s down and 1.5 s up, with rests;
- ``stairs``: a flight of ``STAIR_STEPS`` steps up, a standing pause on the landing, a
  flight down, a pause; one step per foot, keyframed at the joint angles of McFadyen &
  Winter, J Biomech 21:733-744 (1988) — up: swing hip ~60° and knee ~90°, contact at
  hip ~55° and knee ~60° (steps of about 18 cm with this body); down: the stance knee
  flexes to ~80° while the leading leg reaches down nearly straight (about 16 cm);
- ``fidget``: sits down as for the seated test, then the tested legs fidget for
  ``FIDGET_S`` — knees bouncing, legs swaying in and out, feet shifting — without
  any hip rotation test (events ``fidget_start``/``fidget_end``);
- ``guided``: the dashboard's guided session (docs/dashboard.md): sits down for the seated
  test (``trials`` per tested leg), stands up, does the ``exercise`` sets, sits down and does
  the seated test again, and stands up. Before each of these four moves the person waits for
  the prompt (event ``prompt``, then holding still for ``PROMPT_WAIT_S``): a simulated wearer
  waits on at the end of that until told to;
- ``walk-pauses``: straight walking bouts of ``BOUT_S`` separated by ``PAUSE_S`` of
  standing still (events ``stand_start``/``stand_end``), until the end — the same
  bouts and pauses as the walk's (``_walk``), without turns.

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
from hiprot.anatomy import heading_rotation, joint_angles
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
from hiprot.sim.realism import (
    PRONE_ROLL_PER_DEG,
    SEATED_OBLIQUITY_PER_DEG,
    TRIAL_SHORTFALL_SD_DEG,
    Day,
    Individual,
    Realism,
    draw_day,
    draw_individual,
    realism_of,
)
from hiprot.sim.walking import Gait, WalkPhase

WALK_S = 60.0
SEATED_POSTERIOR_TILT_DEG = 15.0
TABLE_HEIGHT_M = 0.75
SWING_S, HOLD_S, RETURN_S = 3.0, 3.0, 2.5
KNEE_BENDS, KNEE_BEND_S, AFTER_BENDS_S = 3, 1.2, 2.0
KNEE_BEND_DEG = {"hip_flexion": 40.0, "knee_flexion": 70.0}
WEIGHT_SHIFT_M = 0.04  # the pelvis over the stance foot before standing on one leg
STAIR_STEPS = 10
FIDGET_S = 40.0
BOUT_S, PAUSE_S = 20.0, 8.0
PROMPT_WAIT_S = 3.0  # guided: the shortest wait for a prompt (a reaction time; chosen)


@dataclass(frozen=True)
class Person:
    """The simulated person: body dimensions, passive hip-rotation range per side, who they are
    beyond that (:class:`~hiprot.sim.realism.Individual`), this session's day and the realism
    in force."""

    body: Body
    ir_max_deg: dict[str, float]
    er_max_deg: dict[str, float]
    individual: Individual = Individual.average()
    day: Day = Day.usual()
    realism: Realism | None = None

    @property
    def compensates(self) -> bool:
        return self.realism is not None and self.realism.compensation


def person_from(config: SimulationConfig, mirror: bool) -> Person:
    """The person of ``config``; in a mirrored scenario the canonical right leg is the real left
    (the random draws of the person and the day are canonical, so a mirrored scenario is the
    mirror image of the unmirrored one)."""
    realism = realism_of(config)
    ir = {"right": config.ir_max_deg, "left": _default(config.left_ir_max_deg, config.ir_max_deg)}
    er = {"right": config.er_max_deg, "left": _default(config.left_er_max_deg, config.er_max_deg)}
    individual = draw_individual(config.seed, realism)
    day = draw_day(config.seed, config.session, realism)
    if mirror:
        ir = {side: ir[mirror_side(side)] for side in ir}
        er = {side: er[mirror_side(side)] for side in er}
    body = Body(config.height_m, realism.knee_screw_home_deg, realism.knee_varus_deg)
    return Person(body, ir, er, individual, day, realism)


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
        self.feet_fix = {"right": 0.0, "left": 0.0}  # hip adduction taking up knee varus (deg)

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
        for side in ("right", "left"):
            if f"{side}_hip_adduction" in channels:
                self.feet_fix[side] = 0.0  # an explicit adduction replaces the correction
        if plant == "both" and self.body.knee_varus_deg:
            for side in ("right", "left"):
                new[CH[f"{side}_hip_adduction"]] -= self.feet_fix[side]
            corrected = self._keep_feet_apart(new)
            for side in ("right", "left"):
                channel = CH[f"{side}_hip_adduction"]
                self.feet_fix[side] = float(corrected[channel] - new[channel])
            new = corrected
        if plant is not None:
            before, after = (ankle_positions(self.body, p[None, :]) for p in (self.posture, new))
            sides = ("right", "left") if plant == "both" else (plant,)
            shift = np.mean([before[s][0] - after[s][0] for s in sides], axis=0)
            new[XYZ] += shift
        self.times.append(self.now + duration_s)
        self.postures.append(new)
        self.planted.append(plant)
        return self

    def _keep_feet_apart(self, posture: np.ndarray) -> np.ndarray:
        """``posture`` with each hip's adduction corrected (two Newton steps) so that the knees'
        varus with flexion does not move the ankles sideways: with both feet planted the hips
        take it up."""
        hinge = Body(self.body.height_m, self.body.knee_screw_home_deg, 0.0)
        out = posture.copy()
        for side in ("right", "left"):
            channel = CH[f"{side}_hip_adduction"]
            target = _lateral_ankle(hinge, out, side)
            for _ in range(2):
                nudged = out.copy()
                nudged[channel] += 1.0
                now = _lateral_ankle(self.body, out, side)
                slope = _lateral_ankle(self.body, nudged, side) - now
                out[channel] += (target - now) / slope
        return out

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


def _lateral_ankle(body: Body, posture: np.ndarray, side: str) -> float:
    """How far the ``side`` ankle lies to the right of the pelvis origin (m), across the heading."""
    heading = np.radians(posture[CH["heading"]])
    right = np.array([np.sin(heading), -np.cos(heading), 0.0])
    at_origin = posture.copy()
    at_origin[XYZ] = 0.0
    return float(ankle_positions(body, at_origin[None, :], (side,))[side][0] @ right)


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


def _sit_down(s: Script, person: Person) -> None:
    tilt = SEATED_POSTERIOR_TILT_DEG + person.day.seated_tilt_deg
    flexion = 90.0 - tilt
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
    legs |= {f"{side}_hip_rotation": rest_rotation(person, side) for side in ("right", "left")}
    s.move(1.6, plant="both", tilt=-tilt, **legs)
    s.hold(2.0)


def _stand_up(s: Script) -> None:
    """Back from the seated posture to standing, feet planted: the way down in reverse."""
    legs = {
        f"{side}_{j}": v
        for side in ("right", "left")
        for j, v in (("hip_flexion", 55), ("knee_flexion", 60), ("hip_rotation", 0))
    }
    s.move(1.6, plant="both", tilt=25, **legs)
    legs = {
        f"{side}_{j}": 0.0 for side in ("right", "left") for j in ("hip_flexion", "knee_flexion")
    }
    s.move(1.6, plant="both", sway=1, wobble=0, tilt=0, **legs)
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


def reach_deg(passive_deg: float, effort_deg: float, rng: np.random.Generator) -> float:
    """One trial's end range: the passive range moved by the day's effort, a random 0-3° short
    of that (|N(0, 1.5°)|), never below half a positive passive range. A hip that cannot
    reach neutral (negative passive range) is not held up by that floor."""
    reach = passive_deg + effort_deg - abs(TRIAL_SHORTFALL_SD_DEG * rng.standard_normal())
    return max(reach, 0.5 * passive_deg) if passive_deg > 0 else reach


def _rotation_trials(
    s: Script,
    person: Person,
    side: str,
    trials: int,
    rng: np.random.Generator,
    compensate: tuple[str, float] | None = None,
) -> None:
    """Slow IR swing, hold, back; slow ER swing, hold, back — ``trials`` times. ``compensate``:
    the pelvis channel that follows the hip's rotation and by how much per degree.

    A hip that cannot reach neutral rests at its end of internal rotation
    (:func:`rest_rotation`), so its IR "swing" is a hold there and the ER swing starts and
    ends there."""
    effort = person.day.effort_deg[side]
    rest = rest_rotation(person, side)
    for _ in range(trials):
        ir = reach_deg(person.ir_max_deg[side], effort, rng) if rest == 0 else rest
        er = reach_deg(person.er_max_deg[side], effort, rng)
        s.event(side, "trial_start")
        s.hold(1.0)
        _swing_to(s, side, "ir_peak", ir, compensate, rest)
        s.hold(1.0)
        _swing_to(s, side, "er_peak", -er, compensate, rest)
        s.event(side, "trial_end")
        s.hold(2.0)


def rest_rotation(person: Person, side: str) -> float:
    """Where the hip rests in the test posture: 0°, or for a hip that cannot rotate internally
    to neutral (passive IR plus the day's effort below 0°) that end of its range — the hanging
    shank's weight holds it there, short of vertical."""
    return min(person.ir_max_deg[side] + person.day.effort_deg[side], 0.0)


def _swing_to(
    s: Script,
    side: str,
    peak: str,
    rotation_deg: float,
    compensate: tuple[str, float] | None = None,
    neutral_deg: float = 0.0,
) -> None:
    """A slow swing of the foot to ``rotation_deg`` of hip rotation, a hold there and back to
    ``neutral_deg``; with ``compensate`` the pelvis turns along by its share of the swing (the
    femur moves with it, the hip angle does not)."""
    since = s.now
    rest = s.posture.copy()
    pelvis = {}
    if compensate is not None:
        channel, per_deg = compensate
        sign = _thigh_rotation_sign(s.body, rest, side, channel)
        pelvis = {channel: rest[CH[channel]] + sign * per_deg * (rotation_deg - neutral_deg)}
    s.move(SWING_S, **{f"{side}_hip_rotation": rotation_deg}, **pelvis)
    s.hold(HOLD_S)
    back = {channel: rest[CH[channel]]} if compensate is not None else {}
    s.move(RETURN_S, **{f"{side}_hip_rotation": neutral_deg}, **back)
    s.peak(side, peak, since)


def _compensation(person: Person, position: str, per_deg: float | None) -> tuple[str, float] | None:
    """The pelvis channel that follows the tested hip's rotation in ``position``, per degree
    (``per_deg``: the scenario's own figure instead of the realism's, to build test cases)."""
    if not person.compensates:
        return None
    if position == "seated":
        return "obliquity", SEATED_OBLIQUITY_PER_DEG if per_deg is None else per_deg
    return "rotation", PRONE_ROLL_PER_DEG if per_deg is None else per_deg


def _thigh_rotation_sign(body: Body, posture: np.ndarray, side: str, channel: str) -> float:
    """+1 if turning the pelvis ``channel`` up turns the ``side`` femur internally as seen from
    the heading frame (what a rig without a pelvis sensor measures), else -1."""
    turned = posture.copy()
    turned[CH[channel]] += 1.0
    rotation = []
    for p in (posture, turned):
        q_thigh = forward_kinematics(body, p[None, :], (side,))[f"{side}_thigh"].q_EB
        q_heading = heading_rotation(p[None, CH["heading"]])
        rotation.append(joint_angles(quat.multiply(quat.conjugate(q_heading), q_thigh), side)[0, 2])
    return 1.0 if rotation[1] >= rotation[0] else -1.0


def _seated(
    s: Script,
    person: Person,
    sides: tuple[str, ...],
    cfg: SimulationConfig,
    rng: np.random.Generator,
) -> None:
    _sit_down(s, person)
    for side in sides:
        _rotation_trials(
            s,
            person,
            side,
            cfg.trials,
            rng,
            _compensation(person, "seated", cfg.compensation_per_deg),
        )


def _prone(
    s: Script,
    person: Person,
    sides: tuple[str, ...],
    cfg: SimulationConfig,
    rng: np.random.Generator,
) -> None:
    _lie_prone(s)
    for side in sides:
        s.move(
            1.5,
            **{f"{side}_knee_flexion": 90.0, f"{side}_hip_rotation": rest_rotation(person, side)},
        )
        s.hold(1.0)
        _rotation_trials(
            s,
            person,
            side,
            cfg.trials,
            rng,
            _compensation(person, "prone", cfg.compensation_per_deg),
        )
        s.move(1.5, **{f"{side}_knee_flexion": 0.0, f"{side}_hip_rotation": 0.0})
        s.hold(1.0)


def _guided(
    s: Script,
    person: Person,
    sides: tuple[str, ...],
    cfg: SimulationConfig,
    rng: np.random.Generator,
) -> None:
    """Seated test, exercises, seated test again, each after a prompt (:func:`_prompt`), and a
    last prompt before standing up (the person stays seated until the result is shown). The
    page asks for knee bends until the live calibration has its movement
    (``pipeline.LIVE_MIN_MOVING_S``, more than the scenario's first three give): three more."""
    _knee_bends(s)
    _prompt(s)
    _seated(s, person, sides, cfg, rng)
    _stand_up(s)
    _prompt(s)
    _ir_activations(s, person, sides, cfg, rng)
    _prompt(s)
    _seated(s, person, sides, cfg, rng)
    _prompt(s)
    _stand_up(s)


def _prompt(s: Script) -> None:
    """Wait for the next prompt holding still: event ``prompt``, then at least ``PROMPT_WAIT_S``
    (a reaction time; a simulated wearer waits on at the end of it until prompted)."""
    s.event("both", "prompt")
    s.hold(PROMPT_WAIT_S)


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


def _squats(
    s: Script,
    person: Person,
    sides: tuple[str, ...],
    cfg: SimulationConfig,
    rng: np.random.Generator,
) -> None:
    """Body-weight squats with both feet planted."""
    down = {f"{side}_{j}": v for side in ("right", "left") for j, v in (("hip_flexion", 90.0),)}
    down |= {f"{side}_knee_flexion": 100.0 for side in ("right", "left")}
    up = {name: 0.0 for name in down}
    for _ in range(cfg.sets):
        s.event("both", "set_start")
        s.move(0.8, sway=0, wobble=1)
        for _ in range(cfg.reps):
            s.event("both", "rep_start")
            depth = 1 + 0.05 * rng.standard_normal()
            s.move(1.5, plant="both", tilt=20.0 * depth, **{k: v * depth for k, v in down.items()})
            s.hold(0.3)
            s.move(1.5, plant="both", tilt=0.0, **up)
            s.event("both", "rep_end")
            s.hold(0.5)
        s.event("both", "set_end")
        _rest(s, cfg.rest_s)


def _stairs(
    s: Script,
    person: Person,
    sides: tuple[str, ...],
    cfg: SimulationConfig,
    rng: np.random.Generator,
) -> None:
    """A flight of stairs up, a pause on the landing, a flight down, a pause; one step per foot."""
    s.move(0.5, sway=0, wobble=1)
    lead, trail = "right", "left"
    for step in range(STAIR_STEPS):  # up: the trailing leg swings up and lands on the next step
        pace = 1 + 0.04 * rng.standard_normal()
        s.move(0.45 * pace, plant=trail, **_leg(lead, 60.0, 90.0))
        s.move(0.25 * pace, plant=trail, **_leg(lead, 55.0, 60.0))
        _foot_on_step(s, lead)
        last = step == STAIR_STEPS - 1
        s.move(0.6 * pace, plant=lead, **_leg(lead, 0.0, 0.0), **_leg(trail, *_push(last)))
        lead, trail = trail, lead
    _landing(s)
    lead, stance = "right", "left"
    for step in range(STAIR_STEPS):  # down: the stance knee lowers the body, the lead foot lands
        pace = 1 + 0.04 * rng.standard_normal()
        s.move(0.4 * pace, plant=stance, **_leg(lead, 25.0, 45.0))
        s.move(0.5 * pace, plant=stance, **_leg(lead, 20.0, 5.0), **_leg(stance, 35.0, 80.0))
        _foot_on_step(s, lead)
        last = step == STAIR_STEPS - 1
        lift = (0.0, 0.0) if last else (10.0, 40.0)
        s.move(0.6 * pace, plant=lead, **_leg(lead, 0.0, 0.0), **_leg(stance, *lift))
        lead, stance = stance, lead
    _landing(s)


def _leg(side: str, hip_flexion: float, knee_flexion: float) -> dict[str, float]:
    return {f"{side}_hip_flexion": hip_flexion, f"{side}_knee_flexion": knee_flexion}


def _push(last: bool) -> tuple[float, float]:
    """The trailing leg's hip and knee flexion as it pushes off a step (straight on the last)."""
    return (0.0, 0.0) if last else (-10.0, 35.0)


def _foot_on_step(s: Script, side: str) -> None:
    s.event(side, "heel_strike")
    s.event(side, "foot_on_step")


def _landing(s: Script) -> None:
    s.move(0.5, sway=1, wobble=0)
    s.event("both", "stand_start")
    s.hold(PAUSE_S)
    s.event("both", "stand_end")
    s.move(0.5, sway=0, wobble=1)


def _fidget(
    s: Script,
    person: Person,
    sides: tuple[str, ...],
    cfg: SimulationConfig,
    rng: np.random.Generator,
) -> None:
    """Seated, the tested legs move restlessly without rotating at the hip."""
    _sit_down(s, person)
    s.event("both", "fidget_start")
    flexion = 90.0 - SEATED_POSTERIOR_TILT_DEG - person.day.seated_tilt_deg
    end = s.now + FIDGET_S
    while s.now < end:
        moves = {}
        for side in sides:
            moves[f"{side}_knee_flexion"] = float(rng.uniform(65.0, 110.0))
            moves[f"{side}_hip_adduction"] = float(rng.uniform(-8.0, 6.0))
            moves[f"{side}_hip_flexion"] = flexion + float(rng.uniform(-5.0, 8.0))
        s.move(float(rng.uniform(0.4, 1.5)), **moves)
        s.hold(float(rng.uniform(0.0, 1.5)))
    rest = {f"{side}_{j}": 0.0 for side in sides for j in ("hip_adduction",)}
    rest |= {f"{side}_knee_flexion": 90.0 for side in sides}
    rest |= {f"{side}_hip_flexion": flexion for side in sides}
    s.move(1.0, **rest)
    s.event("both", "fidget_end")
    s.hold(2.0)


def _walk(
    script: Script,
    person: Person,
    cfg: SimulationConfig,
    end_s: float,
    rng: np.random.Generator,
    *,
    straight: bool,
) -> tuple[list, list[Event]]:
    """Walking until ``end_s`` in bouts separated by standing pauses — the one home of both
    the ``walk`` scenario's ``pauses`` and the ``walk-pauses`` scenario.

    ``walk`` with ``pauses`` = N walks N equal bouts, each followed by ``rest_s`` of quiet
    standing where it stopped (the last one ends the session); ``pauses`` = 0 is one
    walk to the end. ``walk-pauses`` (``straight``) walks bouts of ``BOUT_S`` without
    turns separated by ``PAUSE_S`` of standing, until the end. Every pause carries on
    from where and facing the way the bout stopped, and is marked ``stand_start`` /
    ``stand_end`` (sway ramped in and out around them).
    """
    gait = Gait(
        cfg.cadence_spm,
        0.0 if straight else cfg.turn_every_m,
        person.ir_max_deg,
        person.er_max_deg,
        person.individual,
        person.compensates,
    )
    if straight:
        bout_s, pause_s = BOUT_S, PAUSE_S
    elif cfg.pauses:
        pause_s = cfg.rest_s + 0.5
        bout_s = max((end_s - script.now - cfg.pauses * pause_s) / cfg.pauses, 0.0)
    else:
        bout_s, pause_s = end_s - script.now, 0.0
    phases, events = [script.phase()], list(script.events)
    start, posture, pauses = script.now, script.posture, 0
    while True:
        walk = WalkPhase(
            start,
            min(start + bout_s, end_s),
            posture[XYZ],
            person.body,
            gait,
            rng,
            posture[CH["heading"]],
        )
        phases.append(walk)
        events += walk.events()
        if pause_s <= 0.0 or walk.end_s >= end_s or (not straight and pauses == cfg.pauses):
            break
        pauses += 1
        posture = walk.evaluate(np.array([walk.end_s]))[0]
        pause = Script(person.body)
        pause.times, pause.postures = [walk.end_s], [posture]
        _rest(pause, max(min(pause_s, end_s - walk.end_s) - 1.5, 0.0))
        events.append(Event(walk.end_s + 1.0, "both", "stand_start"))
        events.append(Event(pause.now, "both", "stand_end"))
        pause.move(0.5, sway=0)
        phases.append(pause.phase())
        start, posture = pause.now, pause.posture
    return phases, events


_KEYFRAMED = {
    "seated-ir": _seated,
    "prone-ir": _prone,
    "exercise": _ir_activations,
    "lunge": _lunges,
    "squat": _squats,
    "stairs": _stairs,
    "fidget": _fidget,
    "guided": _guided,
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
        phases, events = _walk(script, person, config, max(end, script.now), rng, straight=False)
    elif config.scenario == "walk-pauses":
        script.move(0.5, sway=0)
        end = duration_s if duration_s is not None else WALK_S
        phases, events = _walk(script, person, config, max(end, script.now), rng, straight=True)
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
