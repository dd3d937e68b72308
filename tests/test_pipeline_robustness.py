"""The live pipeline when the session misbehaves: standing after a turn, a sensor dropping out."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from simulated import target_rig

from hiprot.pipeline import Pipeline
from hiprot.processing import process_session
from hiprot.recording import Session
from hiprot.samples import ImuSamples, split_chunk
from hiprot.sim import simulate


def _then_stand_still(samples: dict, seconds: float) -> dict:
    """Append ``seconds`` of standing still (the last posture held) to every sensor."""
    rng = np.random.default_rng(0)
    out = {}
    for name, s in samples.items():
        t = s.time_s[-1] + 0.005 * np.arange(1, int(seconds / 0.005) + 1)
        acc = s.acc[s.time_s > s.time_s[-1] - 0.3].mean(axis=0) + 0.01 * rng.standard_normal(
            (len(t), 3)
        )
        gyr = np.median(s.gyr[s.time_s < 3], axis=0) + 0.001 * rng.standard_normal((len(t), 3))
        out[name] = ImuSamples(
            np.concatenate([s.time_s, t]), np.vstack([s.acc, acc]), np.vstack([s.gyr, gyr])
        )
    return out


def test_standing_after_a_turn_keeps_the_last_walking_direction():
    rig = target_rig("walk", 5, duration_s=30.0)
    samples = _then_stand_still(simulate(rig).samples, 25.0)
    pipeline = Pipeline(rig)
    outputs = [pipeline.process(chunk) for chunk in split_chunk(samples, 0.05)] + [
        pipeline.finish()
    ]
    time_s = np.concatenate([o.time_s for o in outputs if len(o)])
    live = np.concatenate([o.columns["right_hip_ir_deg"] for o in outputs if len(o)])
    batch = process_session(Session(None, rig, {}, samples)).angles
    still = time_s > 40.0  # well into the standing after the walk's last turn
    difference = live[still] - np.interp(
        time_s[still], batch.time_s, batch.columns["right_hip_ir_deg"]
    )
    assert np.abs(difference).max() < 3.0
    assert np.all(np.diff(time_s) > 0.004), "live angles come on a regular grid"


def test_a_sensor_dropping_out_leaves_the_other_leg_going():
    rig = target_rig("walk", 6, duration_s=30.0)
    rig = replace(
        rig,
        sensors=rig.sensors
        + tuple(
            replace(s, name=s.name.replace("right", "left"), side="left", address=s.address + 2)
            for s in rig.sensors
        ),
    )
    pipeline = Pipeline(rig)
    last: dict[str, float] = {}
    for chunk in split_chunk(simulate(rig).samples, 0.05):
        if chunk and min(s.time_s[0] for s in chunk.values()) > 14.0:
            chunk.pop("left_shank", None)  # unplugged
        angles = pipeline.process(chunk)
        for name in angles.columns:
            last[name] = angles.time_s[-1]
    assert last["right_hip_ir_deg"] > 27.0 and last["right_knee_flexion_deg"] > 27.0
    assert last["left_knee_flexion_deg"] < 15.0
    sizes = {name: len(b.arrays()[0]) for name, b in pipeline.buffers.items() if b.parts}
    assert max(sizes.values()) <= 21 * rig.sample_rate_hz, "buffers stay within the window"


def test_a_thigh_only_leg_gives_hip_rotation_in_rotation_tests_only():
    rig = target_rig("seated-ir", 1)
    rig = replace(rig, sensors=tuple(s for s in rig.sensors if s.segment == "thigh"))
    truth = simulate(rig)
    result = process_session(Session(None, rig, {}, truth.samples))
    ir = result.angles.columns["right_hip_ir_deg"]
    horizontal = result.angles.legs["right"].test_posture
    assert np.isnan(ir[~horizontal]).all() and np.isfinite(ir[horizontal]).all()
    true = np.interp(result.angles.time_s, truth.time_s, truth.truth_deg["right_hip_ir_deg"])
    assert np.sqrt(np.mean((ir[horizontal] - true[horizontal]) ** 2)) < 2.0
    assert any("thigh sensor only" in note for note in result.angles.notes)


def test_a_sensor_without_samples_is_left_out_with_a_warning():
    rig = target_rig("walk", 2, duration_s=20.0)
    rig = replace(
        rig,
        sensors=rig.sensors
        + (replace(rig.sensors[0], name="pelvis", segment="pelvis", side=None, address=0x6A),),
    )
    samples = simulate(replace(rig, sensors=rig.sensors[:2])).samples
    result = process_session(Session(None, rig, {}, samples))
    assert result.angles is not None and "right_hip_flexion_deg" not in result.angles.columns
    assert any("no samples from pelvis" in w for w in result.warnings)


def test_a_simulated_rig_without_a_duration_ends_with_its_scenario():
    from hiprot.sources import open_source

    rig = target_rig("walk", 1)  # no duration_s: the scenario's natural length (60 s of walking)
    source = open_source(rig, realtime=False)
    try:
        last = max(s.time_s[-1] for chunk in source for s in chunk.values())
    finally:
        source.close()
    assert abs(last - source.simulation.duration_s) < 0.1
