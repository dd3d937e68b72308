"""Rig files: the shipped ones load; bad ones give one clear line naming file and key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hiprot.config import load_rig, parse_rig, rig_to_toml
from hiprot.errors import ConfigError

from hiprot_testing import CONFIG


@pytest.mark.parametrize("name", ["sim.toml", "two-sensors.toml", "both-legs-mux.toml"])
def test_shipped_rigs_load(name):
    rig = load_rig(CONFIG / name)
    assert rig.sensors and rig.sample_rate_hz == 200


def test_default_rig_is_simulated_right_leg():
    rig = load_rig()
    assert rig.simulation is not None
    assert {(s.segment, s.side) for s in rig.sensors} == {("thigh", "right"), ("shank", "right")}


def test_both_legs_rig_uses_the_multiplexer():
    rig = load_rig(CONFIG / "both-legs-mux.toml")
    assert rig.sides == ("left", "right")
    assert rig.find("pelvis").mux_channel == 0
    assert {s.mux_address for s in rig.sensors} == {0x70}


def test_rig_round_trips_through_toml(tmp_path):
    rig = load_rig(CONFIG / "both-legs-mux.toml")
    path = tmp_path / "rig.toml"
    path.write_text(rig_to_toml(rig))
    again = load_rig(path)
    assert again.sensors == rig.sensors and again.fusion == rig.fusion
    assert again.mqtt == rig.mqtt and again.device_id == rig.device_id


def _edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# (edit of sim.toml, words the one-line error must contain)
BAD_RIGS = {
    "missing key": (lambda t: _edit(t, 'device_id = "hiprot-sim"\n', ""), ["device_id", "missing"]),
    "wrong type": (lambda t: _edit(t, "sample_rate_hz = 200", 'sample_rate_hz = "fast"'),
                   ["sample_rate_hz", "expected"]),
    "unknown chip": (lambda t: _edit(t, 'chip = "icm42688"', 'chip = "bno055"'),
                     ["sensors[0].chip", "icm42688"]),
    "duplicate address": (lambda t: _edit(t, "address = 0x69", "address = 0x68"),
                          ["sensors[1].address", "duplicate address 0x68 on bus 1"]),
    "rate zero": (lambda t: _edit(t, "sample_rate_hz = 200", "sample_rate_hz = 0"), ["sample_rate_hz"]),
    "rate 10 kHz": (lambda t: _edit(t, "sample_rate_hz = 200", "sample_rate_hz = 10000"),
                    ["sample_rate_hz"]),
    "misspelt key": (lambda t: _edit(t, "address = 0x69", "adress = 0x69"), ["adress", "misspelling"]),
    "bad toml": (lambda t: t + "\n[[sensors\n", ["not valid TOML"]),
    "password in rig": (lambda t: _edit(t, "port = 1883", 'port = 1883\npassword = "hunter2"'),
                        ["mqtt.password", "password_file"]),
    "shank without thigh": (lambda t: _edit(t, 'segment = "thigh"\nside = "right"', 'segment = "thigh"\nside = "left"'),
                            ["right shank", "right thigh"]),
}


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hiprot", *args], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("case", sorted(BAD_RIGS))
def test_bad_rig_gives_one_line_and_status_2(case, tmp_path, sim_rig_text):
    edit, words = BAD_RIGS[case]
    path = tmp_path / "bad.toml"
    path.write_text(edit(sim_rig_text))
    result = _run_cli("record", "--rig", str(path), "--duration", "1", "--out", str(tmp_path / "s"))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert str(path) in lines[0]
    for word in words:
        assert word in lines[0]
    assert not (tmp_path / "s").exists(), "nothing may be recorded from a bad rig"


def test_unreadable_rig_file(tmp_path):
    result = _run_cli("record", "--rig", str(tmp_path / "nope.toml"), "--duration", "1")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "nope.toml" in result.stderr and "cannot read rig file" in result.stderr


def test_rig_that_is_a_directory(tmp_path):
    (tmp_path / "rig.toml").mkdir()
    with pytest.raises(ConfigError, match="cannot read rig file"):
        load_rig(tmp_path / "rig.toml")


def test_world_readable_password_file_is_refused(tmp_path, sim_rig_text):
    secret = tmp_path / "pw"
    secret.write_text("hunter2\n")
    secret.chmod(0o644)
    rig = parse_rig(
        {"device_id": "d", "sample_rate_hz": 100,
         "sensors": [{"name": "t", "segment": "thigh", "side": "right", "chip": "mpu6050", "address": 0x68}],
         "mqtt": {"username": "u", "password_file": "pw"}},
        tmp_path / "rig.toml",
    )
    with pytest.raises(ConfigError, match="chmod 600") as info:
        rig.mqtt.read_password()
    assert "hunter2" not in str(info.value)
    secret.chmod(0o600)
    assert rig.mqtt.read_password() == "hunter2"


def test_mux_channel_defaults_the_multiplexer_address(tmp_path):
    rig = parse_rig(
        {"device_id": "d", "sample_rate_hz": 100,
         "sensors": [{"name": "t", "segment": "thigh", "side": "right", "chip": "mpu6050",
                      "address": 0x68, "mux_channel": 3}]},
        Path("x.toml"),
    )
    assert rig.sensors[0].mux_address == 0x70
