"""The ``[simulation]`` table: defaults, round trip, and one clear line per bad value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hiprot.config import SimulationConfig, load_rig, parse_rig, rig_to_toml
from hiprot.errors import ConfigError

RIG = {
    "device_id": "d",
    "sample_rate_hz": 100,
    "sensors": [
        {"name": "t", "segment": "thigh", "side": "right", "chip": "mpu6050", "address": 0x68}
    ],
}


def rig_with(**simulation):
    return parse_rig({**RIG, "simulation": simulation}, Path("rig.toml"))


def test_defaults_and_round_trip(tmp_path):
    rig = rig_with(
        scenario="lunge",
        reps=12,
        mirror=True,
        rep_range_deg=25,
        left_ir_max_deg=18,
        calibration_moves="none",
    )
    sim = rig.simulation
    assert (sim.reps, sim.sets, sim.mirror, sim.rep_range_deg, sim.left_ir_max_deg) == (
        12,
        2,
        True,
        25.0,
        18.0,
    )
    assert sim.calibration_moves == "none" and SimulationConfig().calibration_moves == "knee-bends"
    assert sim.duration_s is None and sim.gyro_bias_deg_s is None and sim.still_s == 5.0
    path = tmp_path / "rig.toml"
    path.write_text(rig_to_toml(rig))
    assert load_rig(path).simulation == sim
    assert rig_with().simulation == SimulationConfig()
    realism = rig_with(realism="technical", knee_varus_deg=3, session=2, compensation=True)
    path.write_text(rig_to_toml(realism))
    assert load_rig(path).simulation == realism.simulation
    assert realism.simulation.knee_varus_deg == 3.0 and realism.simulation.session == 2


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("still_s", 2, "3-60 s"),
        ("seed", -1, ">= 0"),
        ("trials", 0, "1-20"),
        ("reps", 2.5, "whole number"),
        ("mirror", "yes", "true or false"),
        ("turn_every_m", 1, "0 (no turns)"),
        ("ir_max_deg", 120, "0-90°"),
        ("gyro_bias_deg_s", -1, "0-50 °/s"),
        ("mag_disturbance_ut", 500, "0-200 µT"),
        ("scenario", "dance", "walk|seated-ir"),
        ("calibration_moves", "squats", "knee-bends|none"),
        ("cadense_spm", 100, "cadence_spm"),
        ("realism", "ideal", "realistic|technical"),
        ("soft_tissue_attenuation", 0.9, "0-0.8"),
        ("knee_screw_home_deg", 30, "0-20°"),
        ("compensation", 1, "true or false"),
        ("session", -1, "0-10000"),
    ],
)
def test_bad_values_name_the_key(key, value, words):
    with pytest.raises(ConfigError) as info:
        rig_with(**{key: value})
    assert f"simulation.{key}" in str(info.value) and words in str(info.value)


def test_the_cli_reports_a_bad_simulation_key_in_one_line(tmp_path):
    path = tmp_path / "rig.toml"
    path.write_text(rig_to_toml(rig_with()).replace("reps = 8", "reps = 0"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hiprot",
            "simulate",
            "--rig",
            str(path),
            "--out",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert (
        result.stderr.count("\n") == 1
        and "simulation.reps" in result.stderr
        and str(path) in result.stderr
    )
    assert not (tmp_path / "s").exists()


FAULTS = [
    {"kind": "errors", "sensor": "t", "at_s": 2, "count": 5, "errno": 121},
    {"kind": "unplug", "sensor": "t", "at_s": 1, "for_s": 0.5},
    {"kind": "stuck", "bus": 1, "at_s": 3, "for_s": 1},
    {"kind": "swap", "sensor": "t", "at_s": 5, "for_s": 2, "chip": "icm42688"},
]


def test_faults_in_time_order_and_round_trip(tmp_path):
    rig = rig_with(faults=FAULTS, bus_timeout_s=0.01)
    faults = rig.simulation.faults
    assert [f.kind for f in faults] == ["unplug", "errors", "stuck", "swap"]
    assert (faults[1].count, faults[1].errno, faults[0].for_s, faults[3].chip) == (
        5,
        121,
        0.5,
        "icm42688",
    )
    assert (
        rig_with(faults=[{"kind": "errors", "sensor": "t", "at_s": 1}]).simulation.faults[0].errno
        == 5
    )
    path = tmp_path / "rig.toml"
    path.write_text(rig_to_toml(rig))
    assert load_rig(path).simulation == rig.simulation


@pytest.mark.parametrize(
    "fault, key, words",
    [
        ({"kind": "melt", "sensor": "t", "at_s": 1}, "kind", "errors|unplug|stuck|swap"),
        ({"kind": "unplug", "sensor": "x", "at_s": 1, "for_s": 1}, "sensor", "rig's sensors (t)"),
        ({"kind": "unplug", "sensor": "t", "at_s": 1}, "for_s", "missing"),
        (
            {"kind": "unplug", "sensor": "t", "at_s": 1, "for_s": 1, "count": 3},
            "count",
            "not used by",
        ),
        ({"kind": "stuck", "bus": 2, "at_s": 1, "for_s": 1}, "bus", "bus of the rig's sensors (1)"),
        ({"kind": "errors", "sensor": "t", "at_s": 1, "errno": 7}, "errno", "5 (EIO)"),
        (
            {"kind": "swap", "sensor": "t", "at_s": 1, "for_s": 1, "chip": "mpu6050"},
            "chip",
            "icm42688|",
        ),
        ({"kind": "errors", "sensor": "t", "at_s": -1}, "at_s", "0-36000 s"),
    ],
)
def test_a_bad_fault_names_its_key(fault, key, words):
    with pytest.raises(ConfigError) as info:
        rig_with(faults=[{"kind": "errors", "sensor": "t", "at_s": 1}, fault])
    assert f"simulation.faults[1].{key}" in str(info.value) and words in str(info.value)
