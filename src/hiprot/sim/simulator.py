"""``simulate(rig)``: a scenario's motion, the true joint angles and every sensor's samples.

Deterministic for a given seed: the motion, each sensor's mounting and each
sensor's errors and noise come from separate random streams keyed by the seed
and the sensor's place, so adding a sensor changes nothing about the others.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from hiprot import quat
from hiprot.anatomy import HEADING_TO_WORLD, heading_rotation, joint_angles, pelvis_angles
from hiprot.columns import (
    HIP_ADDUCTION,
    HIP_FLEXION,
    HIP_IR,
    KNEE_FLEXION,
    PELVIS_SEGMENT,
    angle_columns,
    split_column,
)
from hiprot.config import Rig, SimulationConfig
from hiprot.samples import Chunk, ImuSamples
from hiprot.sim import chips, scenarios
from hiprot.sim.body import SEGMENTS, forward_kinematics
from hiprot.sim.imu import FineGrid, MagneticField, interval_means
from hiprot.sim.motion import CH, Event, mirror_side
from hiprot.sim.mounting import PLACES, Mounting, draw_mountings, place_of, skin_motion
from hiprot.sim.walking import walking_speed

LATENCY_MAX = 0.8  # of a sample interval: timestamps stay strictly increasing


@dataclass
class Simulation:
    """A simulated session with its ground truth.

    - ``samples``: what each sensor outputs (SI units, sensor frame, chip errors,
      timestamps with read jitter) — the input of the product;
    - ``time_s``: the true sample instants; ``truth_deg``: the true joint angles at
      those instants, columns as in ``angles.csv``; ``joint_deg``: all ISB angles
      (``<side>_hip``/``<side>_knee`` → (n, 3) flexion, adduction, rotation), the
      femur relative to the walking direction (``<side>_thigh_heading``, same order) and
      the pelvis relative to it (``pelvis`` → (n, 3) tilt, obliquity, rotation; see
      :func:`hiprot.sim.body.pelvis_rotation`);
    - ``events``: true events (heel_strike, toe_off, rep_start, rep_end, set_start,
      set_end, trial_start, trial_end, ir_peak, er_peak, turn_start, turn_end,
      calibration_start, calibration_end, calibration_move_start, calibration_move_end,
      stand_start, stand_end, fidget_start, fidget_end, foot_on_step);
    - ``q_E_segment``: true segment orientations (``pelvis``, ``<side>_thigh``,
      ``<side>_shank`` → (n, 4)) and ``origin_E`` their origins (n, 3, m); ``mounting``: each sensor's true ``q_BS`` and offset;
      ``q_E_sensor``: each sensor's true orientation (includes the soft-tissue artefact: the
      truth is the bones', the samples the skin's);
    - ``clean``: the noise- and error-free signals at ``time_s``; ``position_E``: each
      sensor's mounting point in the world (m); ``errors``: the chip errors drawn;
    - ``params``: every parameter used (the ``[simulation]`` table and derived values).
    """

    samples: Chunk
    time_s: np.ndarray
    truth_deg: dict[str, np.ndarray]
    joint_deg: dict[str, np.ndarray]
    events: list[Event]
    q_E_segment: dict[str, np.ndarray]
    mounting: dict[str, Mounting]
    q_E_sensor: dict[str, np.ndarray]
    clean: Chunk
    position_E: dict[str, np.ndarray]
    errors: dict[str, chips.SensorErrors]
    params: dict
    origin_E: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return len(self.time_s) / self.params["sample_rate_hz"]

    def q_ES(self, sensor: str) -> np.ndarray:
        """True orientation of ``sensor`` (sensor → earth) at ``time_s``."""
        return self.q_E_sensor[sensor]


def simulate(rig: Rig, duration_s: float | None = None) -> Simulation:
    """Simulate the rig's scenario for ``duration_s`` (default: the rig's, else the scenario's length)."""
    cfg = rig.simulation or SimulationConfig()
    duration_s = duration_s if duration_s is not None else cfg.duration_s
    motion, person = scenarios.build(
        cfg, rig.sides, duration_s, np.random.default_rng([cfg.seed, 1])
    )
    total_s = duration_s if duration_s is not None else motion.duration_s
    grid = FineGrid.for_rate(rig.sample_rate_hz, round(total_s * rig.sample_rate_hz))
    postures = motion.evaluate(grid.times)
    poses = forward_kinematics(person.body, postures)
    at_samples = grid.sample_index
    time_s = grid.times[at_samples]
    q_segment = {name: poses[name].q_EB[at_samples] for name in SEGMENTS}
    joints = _joint_angles(q_segment, heading_rotation(postures[at_samples, CH["heading"]]))
    truth = _truth(rig, joints)
    realism = person.realism
    strap = cfg.session if realism.session_variation else 0
    mountings = draw_mountings(rig, person.body, cfg.seed, cfg.mounting_max_deg, cfg.mirror, strap)
    strikes = {
        side: [e.time_s for e in motion.events if e.event == "heel_strike" and e.side == side]
        for side in ("right", "left")
    }
    field = MagneticField(cfg.mag_disturbance_ut, np.random.default_rng([cfg.seed, 4]))
    samples, clean, positions, errors, q_sensor = {}, {}, {}, {}, {}
    for sensor in rig.sensors:
        mount = mountings[sensor.name]
        pose = poses[mount.segment]
        side = mount.segment.split("_")[0]
        skin = skin_motion(mount.segment, postures, grid.times, realism, strikes.get(side, []))
        q_eb = pose.q_EB if skin is None else quat.multiply(pose.q_EB, skin)
        q_es = quat.multiply(q_eb, mount.q_BS)
        p_e = pose.origin_E + quat.rotate(q_eb, mount.offset_B_m)
        q_sensor[sensor.name] = q_es[at_samples]
        gyr, acc = interval_means(grid, q_es, p_e)
        rng = np.random.default_rng(
            [cfg.seed, 3, PLACES.index(_canonical_place(sensor, cfg.mirror))]
        )
        mag_chip = chips.magnetometer_of(sensor.chip, sensor.mag_chip)
        mag = None
        if mag_chip is not None:
            field_e = field.at(p_e[at_samples])
            mag = quat.rotate(quat.conjugate(q_es[at_samples]), field_e) + field.hard_iron(rng)
        clean[sensor.name] = ImuSamples(time_s, acc, gyr, mag)
        spec = chips.CHIPS[sensor.chip]
        errors[sensor.name] = chips.draw_errors(spec, rng, cfg.gyro_bias_deg_s, cfg.scale_error_pct)
        measured = chips.measure(
            clean[sensor.name],
            spec,
            errors[sensor.name],
            chips.MAGNETOMETERS.get(mag_chip),
            rig.sample_rate_hz,
            rng,
        )
        latency = np.abs(rng.normal(0, cfg.timestamp_jitter_s, len(time_s)))
        measured.time_s = time_s + np.minimum(latency, LATENCY_MAX / rig.sample_rate_hz)
        samples[sensor.name] = measured
        positions[sensor.name] = p_e[at_samples]
    events = sorted(
        motion.events + _peak_events(motion, time_s, joints),
        key=lambda e: (e.time_s, e.side, e.event),
    )
    params = {
        **asdict(cfg),
        "duration_s": float(total_s),
        "sample_rate_hz": rig.sample_rate_hz,
        "tested_sides": list(rig.sides),
        "ir_max_deg_by_side": _by_real_side(person.ir_max_deg, cfg),
        "er_max_deg_by_side": _by_real_side(person.er_max_deg, cfg),
        "walking_speed_m_s": walking_speed(person.body, 120.0 / cfg.cadence_spm),
        "seated_posterior_tilt_deg": scenarios.SEATED_POSTERIOR_TILT_DEG
        + person.day.seated_tilt_deg,
        "realism_in_force": asdict(realism),
        "person": {
            "hip_rotation_offset_deg_by_side": _by_real_side(
                person.individual.hip_rotation_offset_deg, cfg
            ),
            "hip_rotation_gain_by_side": _by_real_side(person.individual.hip_rotation_gain, cfg),
            "pelvis_rotation_offset_deg": person.individual.pelvis_rotation_offset_deg
            * (-1.0 if cfg.mirror else 1.0),
        },
        "day": {
            "effort_deg_by_side": _by_real_side(person.day.effort_deg, cfg),
            "seated_tilt_change_deg": person.day.seated_tilt_deg,
        },
        "chips": {s.name: s.chip for s in rig.sensors},
    }
    return Simulation(
        samples,
        time_s,
        truth,
        joints,
        events,
        q_segment,
        mountings,
        q_sensor,
        clean,
        positions,
        errors,
        params,
        {name: poses[name].origin_E[at_samples] for name in SEGMENTS},
    )


def _canonical_place(sensor, mirror: bool) -> str:
    place = place_of(sensor)
    if not mirror or sensor.segment == "pelvis":
        return place
    return f"{mirror_side(sensor.side)}_{sensor.segment}"


def _by_real_side(values: dict[str, float], cfg: SimulationConfig) -> dict[str, float]:
    return {mirror_side(s) if cfg.mirror else s: v for s, v in values.items()}


def _joint_angles(q_segment: dict[str, np.ndarray], q_heading: np.ndarray) -> dict[str, np.ndarray]:
    """ISB hip and knee angles of both legs from the segment orientations, and the femur's
    angles relative to the heading frame (the walking direction: what a rig without a
    pelvis sensor can measure), named ``<side>_thigh_heading``."""
    joints = {}
    for side in ("right", "left"):
        q_pelvis_thigh = quat.multiply(
            quat.conjugate(q_segment["pelvis"]), q_segment[f"{side}_thigh"]
        )
        q_thigh_shank = quat.multiply(
            quat.conjugate(q_segment[f"{side}_thigh"]), q_segment[f"{side}_shank"]
        )
        q_heading_thigh = quat.multiply(quat.conjugate(q_heading), q_segment[f"{side}_thigh"])
        joints[f"{side}_hip"] = joint_angles(q_pelvis_thigh, side, "hip")
        joints[f"{side}_knee"] = joint_angles(q_thigh_shank, side, "knee")
        joints[f"{side}_thigh_heading"] = joint_angles(q_heading_thigh, side, "hip")
    q_heading_pelvis = quat.multiply(quat.conjugate(q_heading), q_segment["pelvis"])
    zxy = quat.to_rotation(q_heading_pelvis).as_euler("ZXY", degrees=True)
    joints["pelvis"] = zxy * np.array([-1.0, -1.0, 1.0])  # see body.pelvis_rotation
    inclination, rotation = pelvis_angles(quat.multiply(HEADING_TO_WORLD, q_heading_pelvis))
    joints["pelvis_baker"] = np.column_stack([inclination, np.degrees(rotation)])
    return joints


def _truth(rig: Rig, joints: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    source = {
        HIP_FLEXION: ("hip", 0),
        HIP_ADDUCTION: ("hip", 1),
        HIP_IR: ("hip", 2),
        KNEE_FLEXION: ("knee", 0),
    }
    truth = {}
    shanks = [side for side in rig.sides if rig.find("shank", side) is not None]
    for column in angle_columns(rig.sides, shanks, rig.find("pelvis") is not None):
        if column in PELVIS_SEGMENT:  # Baker's sequence, as the product reports them
            truth[column] = joints["pelvis_baker"][:, PELVIS_SEGMENT.index(column)]
            continue
        side, angle = split_column(column)
        joint, axis = source[angle]
        truth[column] = joints[f"{side}_{joint}"][:, axis]
    return truth


def _peak_events(motion, time_s: np.ndarray, joints: dict[str, np.ndarray]) -> list[Event]:
    """Each test hold's true extreme of hip rotation: ``ir_peak`` at the maximum, ``er_peak`` at the minimum."""
    events = []
    for window in motion.peak_windows:
        inside = np.flatnonzero((time_s >= window.start_s) & (time_s <= window.end_s))
        if len(inside) == 0:
            continue
        rotation = joints[f"{window.side}_hip"][inside, 2]
        pick = np.argmax(rotation) if window.event == "ir_peak" else np.argmin(rotation)
        events.append(Event(float(time_s[inside[pick]]), window.side, window.event))
    return events
