"""Rig files: the shipped ones load; bad ones give one clear line naming file and key."""

from __future__ import annotations

import copy
import subprocess
import sys
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from hiprot_testing import CONFIG
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hiprot.config import load_rig, parse_rig, rig_to_toml
from hiprot.errors import ConfigError


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
    "wrong type": (
        lambda t: _edit(t, "sample_rate_hz = 200", 'sample_rate_hz = "fast"'),
        ["sample_rate_hz", "expected"],
    ),
    "unknown chip": (
        lambda t: _edit(t, 'chip = "icm42688"', 'chip = "bno055"'),
        ["sensors[0].chip", "icm42688"],
    ),
    "duplicate address": (
        lambda t: _edit(t, "address = 0x69", "address = 0x68"),
        ["sensors[1].address", "duplicate address 0x68 on bus 1"],
    ),
    "rate zero": (
        lambda t: _edit(t, "sample_rate_hz = 200", "sample_rate_hz = 0"),
        ["sample_rate_hz"],
    ),
    "rate 10 kHz": (
        lambda t: _edit(t, "sample_rate_hz = 200", "sample_rate_hz = 10000"),
        ["sample_rate_hz"],
    ),
    "misspelt key": (
        lambda t: _edit(t, "address = 0x69", "adress = 0x69"),
        ["adress", "misspelling"],
    ),
    "bad toml": (lambda t: t + "\n[[sensors\n", ["not valid TOML"]),
    "password in rig": (
        lambda t: _edit(t, "port = 1883", 'port = 1883\npassword = "hunter2"'),
        ["mqtt.password", "password_file"],
    ),
    "dashboard URL not http": (
        lambda t: _edit(t, "port = 1883", 'port = 1883\ndashboard_url = "hiprot.local:8080"'),
        ["mqtt.dashboard_url", "http:// or https:// URL"],
    ),
    "non-ASCII device id": (
        lambda t: _edit(t, 'device_id = "hiprot-sim"', 'device_id = "hüft-sensor"'),
        ["device_id", "letters, digits, _ or -"],
    ),
    "device id of 49 characters": (
        lambda t: _edit(t, 'device_id = "hiprot-sim"', f'device_id = "{"d" * 49}"'),
        ["device_id", "(at most 48)"],
    ),
    "sensor name of 70 000 characters": (
        lambda t: _edit(t, 'name = "right_thigh"', f'name = "{"s" * 70_000}"'),
        ["sensors[0].name", "(at most 48)"],
    ),
    "non-ASCII sensor name": (
        lambda t: _edit(t, 'name = "right_thigh"', 'name = "oberschenkel_rechts_\u00e4"'),
        ["sensors[0].name", "letters, digits, _ or -"],
    ),
    **{
        f"topic prefix {label}": (
            lambda t, prefix=prefix: _edit(
                t, "port = 1883", f"port = 1883\ntopic_prefix = {prefix}"
            ),
            ["mqtt.topic_prefix", "unusable MQTT topic prefix", why],
        )
        for label, prefix, why in [
            ("with NUL", '"hiprot\\u0000x"', "control character"),
            ("with a newline", '"hip\\nrot"', "control character"),
            ("with DEL", '"hip\\u007frot"', "control character"),
            ("with +", '"hiprot/+"', "wildcards"),
            ("with #", '"hiprot/#"', "wildcards"),
            ("$SYS", '"$SYS/x"', "belong to the broker"),
            ("leading $", '"$hiprot"', "belong to the broker"),
            ("empty", '""', "empty"),
            ("leading /", '"/hiprot"', "empty level"),
            ("trailing /", '"hiprot/"', "empty level"),
            ("double /", '"a//b"', "empty level"),
            ("70 000 characters", '"' + "p" * 70_000 + '"', "longer than 128 bytes"),
            ("129 bytes of UTF-8", '"' + "\u00e9" * 65 + '"', "longer than 128 bytes"),
        ]
    },
    "shank without thigh": (
        lambda t: _edit(t, 'segment = "thigh"\nside = "right"', 'segment = "thigh"\nside = "left"'),
        ["right shank", "right thigh"],
    ),
}


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hiprot", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


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


@pytest.mark.parametrize("prefix", ["hiprot", "home/physio-lab/hiprot", "a" * 128, "ü" * 64])
def test_good_topic_prefixes_load(prefix, tmp_path, sim_rig_text):
    path = tmp_path / "rig.toml"
    path.write_text(_edit(sim_rig_text, "port = 1883", f'port = 1883\ntopic_prefix = "{prefix}"'))
    assert load_rig(path).mqtt.topic_prefix == prefix


def test_a_rig_file_with_a_byte_order_mark_loads(tmp_path, sim_rig_text):
    path = tmp_path / "rig.toml"
    path.write_bytes(b"\xef\xbb\xbf" + sim_rig_text.encode())
    shipped = load_rig(CONFIG / "sim.toml")
    assert replace(load_rig(path), source=None) == replace(shipped, source=None)
    result = _run_cli(
        "simulate", "--rig", str(path), "--duration", "5", "--out", str(tmp_path / "s")
    )
    assert result.returncode == 0, result.stderr


def test_rig_that_is_a_directory(tmp_path):
    (tmp_path / "rig.toml").mkdir()
    with pytest.raises(ConfigError, match="cannot read rig file"):
        load_rig(tmp_path / "rig.toml")


def _rig_with_password_file(tmp_path, mode: int):
    secret = tmp_path / "pw"
    secret.write_text("hunter2\n")
    secret.chmod(mode)
    return parse_rig(
        {
            "device_id": "d",
            "sample_rate_hz": 100,
            "sensors": [
                {
                    "name": "t",
                    "segment": "thigh",
                    "side": "right",
                    "chip": "mpu6050",
                    "address": 0x68,
                }
            ],
            "mqtt": {"username": "u", "password_file": "pw"},
        },
        tmp_path / "rig.toml",
    )


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o660, 0o610])
def test_password_file_open_to_group_or_others_is_refused(tmp_path, mode):
    rig = _rig_with_password_file(tmp_path, mode)
    with pytest.raises(ConfigError) as info:
        rig.mqtt.read_password()
    assert f"password file is open to other users (mode {mode:04o}); run: chmod 600" in str(
        info.value
    )
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_password_file_of_the_owner_only_is_read(tmp_path, mode):
    assert _rig_with_password_file(tmp_path, mode).mqtt.read_password() == "hunter2"


def test_cli_refuses_an_empty_password_file(tmp_path, sim_rig_text):
    (tmp_path / "pw").write_text("\n")  # as firmware/install.sh leaves it until the user fills it
    (tmp_path / "pw").chmod(0o600)
    rig = tmp_path / "rig.toml"
    rig.write_text(
        sim_rig_text.replace("port = 1883", 'port = 1883\nusername = "u"\npassword_file = "pw"')
    )
    result = _run_cli("record", "--rig", str(rig), "--duration", "1", "--out", str(tmp_path / "s"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"hiprot: error: {tmp_path / 'pw'}: password file is empty; write the broker's password into it, "
        "or remove password_file from the rig"
    ]
    assert not (tmp_path / "s").exists()


def test_cli_refuses_a_group_readable_password_file(tmp_path, sim_rig_text):
    (tmp_path / "pw").write_text("hunter2\n")
    (tmp_path / "pw").chmod(0o640)
    rig = tmp_path / "rig.toml"
    rig.write_text(
        sim_rig_text.replace("port = 1883", 'port = 1883\nusername = "u"\npassword_file = "pw"')
    )
    result = _run_cli("record", "--rig", str(rig), "--duration", "1", "--out", str(tmp_path / "s"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert f"{tmp_path / 'pw'}: password file is open to other users (mode 0640)" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr
    assert not (tmp_path / "s").exists()


def test_mux_channel_defaults_the_multiplexer_address(tmp_path):
    rig = parse_rig(
        {
            "device_id": "d",
            "sample_rate_hz": 100,
            "sensors": [
                {
                    "name": "t",
                    "segment": "thigh",
                    "side": "right",
                    "chip": "mpu6050",
                    "address": 0x68,
                    "mux_channel": 3,
                }
            ],
        },
        Path("x.toml"),
    )
    assert rig.sensors[0].mux_address == 0x70


TOML_SCALARS = st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | st.text(max_size=12)
TOML_VALUES = st.recursive(
    TOML_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
VALID_RIG = tomllib.loads((CONFIG / "sim.toml").read_text())
KNOWN_KEYS = [
    "device_id",
    "sample_rate_hz",
    "name",
    "address",
    "mux_channel",
    "mag_chip",
    "host",
    "username",
    "password_file",
    "ca_file",
    "topic_prefix",
    "tls",
    "scenario",
    "duration_s",
]


@st.composite
def mutated_rigs(draw) -> dict:
    """The simulated rig with a few keys deleted, given other values, or added."""
    data = copy.deepcopy(VALID_RIG)
    data.setdefault("mqtt", {})
    tables = [data, data["simulation"], data["fusion"], data["mqtt"], *data["sensors"]]
    for _ in range(draw(st.integers(1, 3))):
        table = draw(st.sampled_from(tables))
        action = draw(st.sampled_from(["delete", "replace", "add"]))
        if action != "add" and table:
            key = draw(st.sampled_from(sorted(table)))
            if action == "delete":
                del table[key]
            else:
                table[key] = draw(TOML_VALUES)
        else:
            key = draw(st.sampled_from(KNOWN_KEYS) | st.text(min_size=1, max_size=8))
            table[key] = draw(TOML_VALUES)
    return data


def _rig_or_config_error(load):
    """The rig ``load()`` gives, or None after a one-line ConfigError; any other exception fails."""
    try:
        return load()
    except ConfigError as exc:
        assert "\n" not in str(exc).strip("\n") or "not valid TOML" in str(exc), str(exc)
        return None


@settings(max_examples=150, deadline=None)
@given(data=mutated_rigs() | st.dictionaries(st.text(max_size=8), TOML_VALUES, max_size=6))
@example(data={**VALID_RIG, "mqtt": {"username": 'a "name"\n\x7f\\'}})
@example(data={**VALID_RIG, "\n": []})  # an unknown key with a newline: still one line
def test_any_rig_data_gives_a_rig_that_round_trips_or_a_config_error(data, tmp_path_factory):
    source = tmp_path_factory.getbasetemp() / "mutated.toml"
    rig = _rig_or_config_error(lambda: parse_rig(data, source))
    if rig is not None:  # the recorder writes it into every session as rig.toml
        source.write_text(rig_to_toml(rig))
        assert replace(load_rig(source), source=None) == replace(rig, source=None)
        assert 10 <= rig.sample_rate_hz <= 1000


@settings(max_examples=100, deadline=None)
@given(cut=st.integers(0, 2000), insert=st.text(max_size=12), at=st.integers(0, 2000))
def test_any_rig_text_gives_a_rig_or_a_config_error(cut, insert, at, tmp_path_factory):
    text = (CONFIG / "sim.toml").read_text()
    text = text[: cut % (len(text) + 1)]
    at %= len(text) + 1
    path = tmp_path_factory.getbasetemp() / "text.toml"
    path.write_bytes((text[:at] + insert + text[at:]).encode("utf-8", "surrogatepass"))
    _rig_or_config_error(lambda: load_rig(path))
