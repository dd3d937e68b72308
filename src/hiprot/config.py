"""Rig configuration: a TOML file loaded into typed, validated objects.

A rig says which IMUs are worn where, how they are wired and how the data
leaves the Pi. Every error names the file, the key and what was expected.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import socket
import stat
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hiprot.chip_catalogue import ADAPTER_TIMEOUT_S, IMU_CHIPS, MAG_CHIPS
from hiprot.chip_catalogue import CHIPS as CATALOGUE
from hiprot.errors import ConfigError
from hiprot.files import read_regular

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")  # a TOML key that needs no quotes

SEGMENTS = ("pelvis", "thigh", "shank")
SIDES = ("left", "right")
FILTERS = ("vqf", "madgwick", "mahony", "ekf")
SCENARIOS = (
    "walk",
    "seated-ir",
    "prone-ir",
    "exercise",
    "lunge",
    "squat",
    "stairs",
    "fidget",
    "walk-pauses",
    "guided",
)
REALISM = ("realistic", "technical")
CALIBRATION_MOVES = ("knee-bends", "none")
FAULT_KINDS = ("errors", "unplug", "stuck", "swap")
FAULT_ERRNOS = {5: "EIO", 11: "EAGAIN", 110: "ETIMEDOUT", 121: "EREMOTEIO"}
MIN_RATE_HZ, MAX_RATE_HZ = 10, 1000
PASSWORD_ENV = "HIPROT_MQTT_PASSWORD"
DASHBOARD_PORT = 8080  # `hiprot dashboard` and its service (firmware/hiprot-dashboard.service)
MAX_TOPIC_PREFIX_BYTES = 128  # see _topic_prefix
# device and sensor names: the longest topic, <prefix>/<device_id>/raw/<sensor>, stays in 256 bytes
MAX_NAME = 48
MAX_RIG_BYTES = 1_000_000  # a five-sensor rig with a hundred simulated faults is about 10 kB
# a pseudonymous subject code (e.g. "P07"), never a name: it goes into files, reports and MQTT
SUBJECT_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")
SUBJECT_EXPECTED = (
    "a pseudonymous subject code of 1-32 letters, digits, _ or - (a code, not a name)"
)

CONFIG_DIRS = (
    Path(__file__).resolve().parents[2] / "config",  # a source checkout (editable install)
    Path(sys.prefix) / "share" / "hiprot" / "config",  # installed from a wheel
    Path("/etc/hiprot"),  # installed on the Pi by firmware/install.sh
)


def check_subject(value: str) -> str:
    """``value`` if it is a subject code (:data:`SUBJECT_PATTERN`), else a :class:`ConfigError`.

    The pattern keeps the code one safe path component and one MQTT topic level, and too
    short for most full names; it cannot tell a code from a name, so the docs ask for a code.
    """
    if not isinstance(value, str) or SUBJECT_PATTERN.fullmatch(value) is None:
        raise ConfigError(f"subject {json.dumps(value)[:40]}: expected {SUBJECT_EXPECTED}")
    return value


def default_rig_path() -> Path:
    """The simulated rig ``sim.toml``: from the source tree, the installed package's data or
    ``/etc/hiprot``."""
    for directory in CONFIG_DIRS:
        if (directory / "sim.toml").is_file():
            return directory / "sim.toml"
    raise ConfigError("no default rig found (config/sim.toml); pass --rig FILE")


@dataclass(frozen=True)
class SensorConfig:
    """One IMU: where it is worn and how it is wired."""

    name: str
    segment: str
    side: str | None
    chip: str
    bus: int = 1
    address: int = 0x68
    mux_address: int | None = None
    mux_channel: int | None = None
    mag_chip: str | None = None
    mag_address: int | None = None

    @property
    def has_magnetometer(self) -> bool:
        """The ICM-20948 carries one (AK09916); an LSM6DS chip may have a LIS3MDL beside it."""
        return CATALOGUE[self.chip].magnetometer == "own" or self.mag_chip is not None

    @property
    def location(self) -> tuple[int, int | None, int | None, int]:
        """(bus, mux address, mux channel, address): unique per sensor."""
        return (self.bus, self.mux_address, self.mux_channel, self.address)


@dataclass(frozen=True)
class FusionConfig:
    """Which orientation filter runs per sensor (``vqf``: the most accurate and fastest on BROAD)."""

    filter: str = "vqf"
    use_magnetometer: bool = False


@dataclass(frozen=True)
class MqttConfig:
    """Broker connection; the password itself is never stored here."""

    enabled: bool = True
    host: str = "localhost"
    port: int = 1883
    tls: bool = False
    ca_file: Path | None = None
    username: str | None = None
    password_file: Path | None = None
    topic_prefix: str = "hiprot"
    angles_rate_hz: float = 20.0
    homeassistant_discovery: bool = False
    websocket_port: int = 9001
    raw_topics: bool = False
    dashboard_url: str | None = None  # Home Assistant's link to the dashboard (None: this host's)

    def dashboard_link(self) -> str:
        """``dashboard_url``, else the dashboard service on this machine by its mDNS name."""
        if self.dashboard_url is not None:
            return self.dashboard_url
        return f"http://{socket.gethostname()}.local:{DASHBOARD_PORT}/"

    def read_password(self) -> str | None:
        """The password from ``password_file`` or ``$HIPROT_MQTT_PASSWORD``.

        A password file that its group or other users may read, write or run (any mode bit
        beyond the owner's, as ssh demands of keys) is refused.
        """
        if self.password_file is None:
            return os.environ.get(PASSWORD_ENV)
        try:
            mode = self.password_file.stat().st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise ConfigError(
                    f"{self.password_file}: password file is open to other users "
                    f"(mode {stat.S_IMODE(mode):04o}); run: chmod 600 {self.password_file}"
                )
            password = self.password_file.read_text().strip()
        except OSError as exc:
            raise ConfigError(
                f"{self.password_file}: cannot read password file: {exc.strerror}"
            ) from exc
        if not password:
            raise ConfigError(
                f"{self.password_file}: password file is empty; write the broker's "
                "password into it, or remove password_file from the rig"
            )
        return password


@dataclass(frozen=True)
class FaultConfig:
    """One I2C fault an emulated rig goes through, ``at_s`` after acquisition started.

    ``errors``: the next ``count`` transactions with ``sensor`` fail with ``errno``;
    ``unplug``: ``sensor`` stops answering for ``for_s`` and comes back from reset;
    ``stuck``: every transaction on ``bus`` times out for ``for_s``;
    ``swap``: a ``chip`` of another kind answers at ``sensor``'s place for ``for_s``.
    """

    kind: str
    at_s: float
    sensor: str | None = None
    bus: int | None = None
    for_s: float | None = None
    count: int | None = None
    errno: int | None = None
    chip: str | None = None


@dataclass(frozen=True)
class SimulationConfig:
    """Present when the rig is simulated: the scenario that drives the emulated chips.

    Every key is documented in docs/simulator.md. ``None`` means "the
    scenario's natural length" (``duration_s``), "80 % of ``ir_max_deg``"
    (``rep_range_deg``), "same as the right hip" (``left_*``), "the chip's datasheet
    figure" (``gyro_bias_deg_s``, ``scale_error_pct``) or "the ``realism`` preset's
    value" (the soft-tissue, knee, person, compensation and session keys; see
    :mod:`hiprot.sim.realism`).
    """

    scenario: str = "walk"
    seed: int = 1
    duration_s: float | None = None
    ir_max_deg: float = 40.0
    er_max_deg: float = 40.0
    left_ir_max_deg: float | None = None
    left_er_max_deg: float | None = None
    mirror: bool = False
    height_m: float = 1.75
    still_s: float = 5.0
    calibration_moves: str = "knee-bends"
    cadence_spm: float = 110.0
    turn_every_m: float = 10.0
    pauses: int = 0
    trials: int = 3
    reps: int = 8
    sets: int = 2
    rest_s: float = 15.0
    rep_range_deg: float | None = None
    mounting_max_deg: float = 30.0
    realism: str = "realistic"
    soft_tissue_deg: float | None = None
    soft_tissue_attenuation: float | None = None
    soft_tissue_wobble_deg: float | None = None
    knee_screw_home_deg: float | None = None
    knee_varus_deg: float | None = None
    person_variation: bool | None = None
    compensation: bool | None = None
    compensation_per_deg: float | None = None
    session_variation: bool | None = None
    session: int = 0
    gyro_bias_deg_s: float | None = None
    scale_error_pct: float | None = None
    mag_disturbance_ut: float = 0.0
    timestamp_jitter_s: float = 0.0005
    bus_timeout_s: float = ADAPTER_TIMEOUT_S  # as hiprot sets it on a real bus
    faults: tuple[FaultConfig, ...] = ()


@dataclass(frozen=True)
class Rig:
    """A whole rig: device, rate, sensors, fusion, MQTT, optional simulation."""

    device_id: str
    sample_rate_hz: float
    sensors: tuple[SensorConfig, ...]
    fusion: FusionConfig = field(default_factory=FusionConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    simulation: SimulationConfig | None = None
    source: Path | None = None
    subject: str | None = None  # who wears it (a pseudonymous code); None: not said

    def sensor(self, name: str) -> SensorConfig:
        """The sensor called ``name``."""
        for sensor in self.sensors:
            if sensor.name == name:
                return sensor
        raise ConfigError(f"{self.source}: no sensor named {name!r}")

    def find(self, segment: str, side: str | None = None) -> SensorConfig | None:
        """The sensor on ``segment`` (of ``side`` for legs), or None."""
        for sensor in self.sensors:
            if sensor.segment == segment and (segment == "pelvis" or sensor.side == side):
                return sensor
        return None

    @property
    def sides(self) -> tuple[str, ...]:
        """Legs that carry at least a thigh sensor, in SIDES order."""
        return tuple(s for s in SIDES if self.find("thigh", s) is not None)


class _Table:
    """Typed access to one TOML table, with errors that name file and key."""

    def __init__(self, data: dict[str, Any], source: Path, prefix: str = ""):
        self.data, self.source, self.prefix = data, source, prefix
        self.used: set[str] = set()

    def fail(self, key: str, message: str) -> ConfigError:
        shown = key if BARE_KEY.fullmatch(key) else json.dumps(key)  # quoted, control chars escaped
        return ConfigError(f"{self.source}: {self.prefix}{shown}: {message}")

    def get(
        self,
        key: str,
        kind: type | tuple[type, ...],
        expected: str,
        default: Any = ...,
        check: Callable[[Any], bool] = lambda v: True,
    ) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                typo = difflib.get_close_matches(key, [k for k in self.data if k != key], 1)
                hint = f" (is {typo[0]!r} a misspelling?)" if typo else ""
                raise self.fail(key, f"missing; expected {expected}{hint}")
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            ok = False
        elif float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        else:
            ok = isinstance(value, kinds)
        if not ok or not check(value):
            raise self.fail(key, f"expected {expected}, got {value!r}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: Any = ...) -> Any:
        return self.get(key, str, "one of " + "|".join(choices), default, lambda v: v in choices)

    def table(self, key: str) -> _Table:
        value = self.get(key, dict, "a table", {})
        return _Table(value, self.source, f"{self.prefix}{key}.")

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            typo = difflib.get_close_matches(unknown[0], sorted(self.used), 1)
            hint = f"; did you mean {typo[0]!r}?" if typo else ""
            raise self.fail(unknown[0], f"unknown key{hint}")


def _i2c_address(t: _Table, key: str, default: Any = ...) -> Any:
    return t.get(key, int, "a 7-bit I2C address 0x08-0x77", default, lambda v: 0x08 <= v <= 0x77)


def _sensor(t: _Table) -> SensorConfig:
    name = t.get(
        "name",
        str,
        f"a sensor name of letters, digits, _ or - (at most {MAX_NAME})",
        check=_is_name,
    )
    segment = t.choice("segment", SEGMENTS)
    side = t.choice("side", SIDES, None if segment == "pelvis" else ...)
    chip = t.choice("chip", IMU_CHIPS)
    bus = t.get("bus", int, "an I2C bus number >= 0", 1, lambda v: v >= 0)
    address = _i2c_address(t, "address")
    mux_channel = t.get(
        "mux_channel", int, "a multiplexer channel 0-7", None, lambda v: 0 <= v <= 7
    )
    mux_address = t.get(
        "mux_address", int, "a TCA9548A address 0x70-0x77", None, lambda v: 0x70 <= v <= 0x77
    )
    if mux_channel is not None and mux_address is None:
        mux_address = 0x70
    if mux_address is not None and mux_channel is None:
        raise t.fail("mux_channel", "missing; expected a multiplexer channel 0-7 with mux_address")
    mag_chip = t.choice("mag_chip", MAG_CHIPS, None)
    mag_address = _i2c_address(
        t, "mag_address", CATALOGUE[mag_chip].addresses[0] if mag_chip else None
    )
    if mag_chip and CATALOGUE[chip].magnetometer != "companion":
        beside = "/".join(k for k, c in CATALOGUE.items() if c.magnetometer == "companion")
        raise t.fail(
            "mag_chip", f"an external magnetometer is supported beside {beside}, not {chip}"
        )
    t.finish()
    return SensorConfig(
        name, segment, side, chip, bus, address, mux_address, mux_channel, mag_chip, mag_address
    )


def _is_name(value: str) -> bool:
    """ASCII letters, digits, ``_`` and ``-`` only, at most :data:`MAX_NAME`: names go into
    topics, paths and file names."""
    return len(value) <= MAX_NAME and BARE_KEY.fullmatch(value) is not None


def _check_sensors(sensors: list[SensorConfig], t: _Table) -> None:
    if not sensors:
        raise t.fail("sensors", "expected at least one [[sensors]] table")
    seen_names, seen_places, seen_locations = set(), set(), {}
    for i, s in enumerate(sensors):
        key = f"sensors[{i}]"
        if s.name in seen_names:
            raise t.fail(f"{key}.name", f"duplicate sensor name {s.name!r}")
        place = (s.segment, s.side)
        if place in seen_places:
            where = s.segment if s.segment == "pelvis" else f"{s.side} {s.segment}"
            raise t.fail(f"{key}.segment", f"a second sensor on the {where}")
        locations = [s.location]
        if s.mag_chip:
            locations.append((s.bus, s.mux_address, s.mux_channel, s.mag_address))
        for loc in locations:
            if loc in seen_locations:
                bus, _, channel, address = loc
                on = f"bus {bus}" + (f" channel {channel}" if channel is not None else "")
                raise t.fail(
                    f"{key}.address",
                    f"duplicate address 0x{address:02x} on {on} (also used by {seen_locations[loc]!r})",
                )
            seen_locations[loc] = s.name
        seen_names.add(s.name)
        seen_places.add(place)
    for s in sensors:
        if s.segment == "shank" and not any(
            o.segment == "thigh" and o.side == s.side for o in sensors
        ):
            raise t.fail(
                "sensors", f"the {s.side} shank sensor {s.name!r} needs a {s.side} thigh sensor"
            )


def _mqtt(t: _Table) -> MqttConfig:
    base = t.source.parent

    def path(v):
        return None if v is None else (base / v)

    cfg = MqttConfig(
        enabled=t.get("enabled", bool, "true or false", True),
        host=t.get("host", str, "a host name", "localhost", bool),
        port=t.get("port", int, "a TCP port 1-65535", 1883, lambda v: 0 < v < 65536),
        tls=t.get("tls", bool, "true or false", False),
        ca_file=path(t.get("ca_file", str, "a path", None)),
        username=t.get("username", str, "a user name", None),
        password_file=path(t.get("password_file", str, "a path", None)),
        topic_prefix=_topic_prefix(t),
        angles_rate_hz=t.get(
            "angles_rate_hz", float, "a rate 0.1-100 Hz", 20.0, lambda v: 0.1 <= v <= 100
        ),
        homeassistant_discovery=t.get("homeassistant_discovery", bool, "true or false", False),
        websocket_port=t.get(
            "websocket_port", int, "a TCP port 1-65535", 9001, lambda v: 0 < v < 65536
        ),
        raw_topics=t.get("raw_topics", bool, "true or false", False),
        dashboard_url=t.get(
            "dashboard_url",
            str,
            "an http:// or https:// URL",
            None,
            lambda v: v.startswith(("http://", "https://")) and len(v) > 8,
        ),
    )
    if "password" in t.data:
        raise t.fail(
            "password",
            f"passwords are not kept in rig files; use password_file (mode 600) or ${PASSWORD_ENV}",
        )
    t.finish()
    return cfg


def _topic_prefix(t: _Table) -> str:
    """``topic_prefix``: a topic a broker delivers as it is, or a ConfigError saying why not.

    MQTT 3.1.1 (OASIS 2014) §4.7: ``+`` and ``#`` are wildcards, not allowed in a topic name
    one publishes to; topics starting with ``$`` belong to the broker (Mosquitto acknowledges
    and discards what is published to ``$SYS/...``); U+0000 is forbidden and control
    characters should not be used (§1.5.3: a broker may close the connection). Empty levels
    (a leading, trailing or doubled ``/``) are legal but make a different topic tree than
    the one a subscriber to ``<prefix>/#`` expects, so they are refused too. Length: MQTT
    allows 65 535 bytes per topic; a prefix is a few words, and :data:`MAX_TOPIC_PREFIX_BYTES`
    keeps every topic (prefix, device id and sensor name of at most :data:`MAX_NAME`,
    ``raw/<sensor>``) within 256 bytes, the limit of AWS IoT Core, the strictest common broker.
    """
    value = t.get("topic_prefix", str, "a topic prefix", "hiprot")
    problem = None
    if not value:
        problem = "it is empty"
    elif len(value.encode("utf-8", "surrogatepass")) > MAX_TOPIC_PREFIX_BYTES:
        problem = f"longer than {MAX_TOPIC_PREFIX_BYTES} bytes"
    elif any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in value):
        problem = "it holds a control character (NUL, newline...), which brokers refuse"
    elif "+" in value or "#" in value:
        problem = "+ and # are MQTT wildcards, not allowed in a topic one publishes to"
    elif value.startswith("$"):
        problem = "topics starting with $ belong to the broker ($SYS...), which drops what is sent"
    elif "" in value.split("/"):
        problem = "it has an empty level (a leading, trailing or doubled /)"
    if problem:
        raise t.fail(
            "topic_prefix", f"unusable MQTT topic prefix {json.dumps(value)[:80]}: {problem}"
        )
    return value


def _fault(t: _Table, sensors: list[SensorConfig]) -> FaultConfig:
    kind = t.choice("kind", FAULT_KINDS)
    fields: dict[str, Any] = {
        "kind": kind,
        "at_s": t.get(
            "at_s",
            float,
            "a time 0-36000 s after acquisition started",
            check=lambda v: 0 <= v <= 36000,
        ),
    }
    chips = {s.name: s.chip for s in sensors}
    if kind == "stuck":
        buses = sorted({s.bus for s in sensors})
        fields["bus"] = t.get(
            "bus",
            int,
            "a bus of the rig's sensors (" + ", ".join(map(str, buses)) + ")",
            check=lambda v: v in buses,
        )
    else:
        fields["sensor"] = t.get(
            "sensor",
            str,
            "one of the rig's sensors (" + ", ".join(chips) + ")",
            check=lambda v: v in chips,
        )
    if kind == "errors":
        fields["count"] = t.get(
            "count", int, "a number of failing transactions 1-100000", 1, lambda v: 1 <= v <= 100000
        )
        fields["errno"] = t.get(
            "errno",
            int,
            "an errno of " + ", ".join(f"{n} ({name})" for n, name in FAULT_ERRNOS.items()),
            5,
            lambda v: v in FAULT_ERRNOS,
        )
    else:
        fields["for_s"] = t.get(
            "for_s", float, "a duration 0.001-36000 s", check=lambda v: 0.001 <= v <= 36000
        )
    if kind == "swap":
        fields["chip"] = t.choice(
            "chip", tuple(c for c in IMU_CHIPS if c != chips[fields["sensor"]])
        )
    unused = sorted(set(t.data) - t.used)
    if unused:
        raise t.fail(unused[0], f"not used by a fault of kind {kind!r}")
    return FaultConfig(**fields)


def _faults(t: _Table, sensors: list[SensorConfig]) -> tuple[FaultConfig, ...]:
    raw = t.get("faults", list, "a list of [[simulation.faults]] tables", [])
    faults = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise t.fail(f"faults[{i}]", f"expected a [[simulation.faults]] table, got {item!r}")
        faults.append(_fault(_Table(item, t.source, f"{t.prefix}faults[{i}]."), sensors))
    return tuple(sorted(faults, key=lambda f: f.at_s))


def _simulation(t: _Table, sensors: list[SensorConfig]) -> SimulationConfig:
    d = SimulationConfig

    def angle(key: str, default: Any, lo: float = 0, hi: float = 90) -> Any:
        return t.get(key, float, f"an angle {lo:g}-{hi:g}°", default, lambda v: lo <= v <= hi)

    def number(key: str, kind: type, expected: str, default: Any, lo: float, hi: float) -> Any:
        return t.get(key, kind, expected, default, lambda v: lo <= v <= hi)

    cfg = SimulationConfig(
        scenario=t.choice("scenario", SCENARIOS, d.scenario),
        seed=t.get("seed", int, "a whole number >= 0", d.seed, lambda v: v >= 0),
        duration_s=number("duration_s", float, "a duration 1-36000 s", None, 1, 36000),
        ir_max_deg=angle("ir_max_deg", d.ir_max_deg, -30),
        er_max_deg=angle("er_max_deg", d.er_max_deg),
        left_ir_max_deg=angle("left_ir_max_deg", None, -30),
        left_er_max_deg=angle("left_er_max_deg", None),
        mirror=t.get("mirror", bool, "true or false", d.mirror),
        height_m=number("height_m", float, "a body height 1.2-2.2 m", d.height_m, 1.2, 2.2),
        still_s=number("still_s", float, "a standing calibration of 3-60 s", d.still_s, 3, 60),
        calibration_moves=t.choice("calibration_moves", CALIBRATION_MOVES, d.calibration_moves),
        cadence_spm=number(
            "cadence_spm", float, "a cadence 70-150 steps/min", d.cadence_spm, 70, 150
        ),
        turn_every_m=t.get(
            "turn_every_m",
            float,
            "0 (no turns) or a distance 3-1000 m",
            d.turn_every_m,
            lambda v: v == 0 or 3 <= v <= 1000,
        ),
        pauses=number("pauses", int, "a whole number 0-20", d.pauses, 0, 20),
        trials=number("trials", int, "a whole number 1-20", d.trials, 1, 20),
        reps=number("reps", int, "a whole number 1-100", d.reps, 1, 100),
        sets=number("sets", int, "a whole number 1-20", d.sets, 1, 20),
        rest_s=number("rest_s", float, "a rest of 2-600 s", d.rest_s, 2, 600),
        rep_range_deg=angle("rep_range_deg", None, 5, 90),
        mounting_max_deg=angle("mounting_max_deg", d.mounting_max_deg),
        realism=t.choice("realism", REALISM, d.realism),
        soft_tissue_deg=angle("soft_tissue_deg", None, 0, 20),
        soft_tissue_attenuation=number(
            "soft_tissue_attenuation", float, "a fraction 0-0.8", None, 0, 0.8
        ),
        soft_tissue_wobble_deg=angle("soft_tissue_wobble_deg", None, 0, 5),
        knee_screw_home_deg=angle("knee_screw_home_deg", None, 0, 20),
        knee_varus_deg=angle("knee_varus_deg", None, 0, 10),
        person_variation=t.get("person_variation", bool, "true or false", None),
        compensation=t.get("compensation", bool, "true or false", None),
        compensation_per_deg=number(
            "compensation_per_deg", float, "a fraction 0-0.5", None, 0, 0.5
        ),
        session_variation=t.get("session_variation", bool, "true or false", None),
        session=number("session", int, "a session number 0-10000", d.session, 0, 10000),
        gyro_bias_deg_s=number("gyro_bias_deg_s", float, "a bias bound 0-50 °/s", None, 0, 50),
        scale_error_pct=number("scale_error_pct", float, "a scale error bound 0-10 %", None, 0, 10),
        mag_disturbance_ut=number(
            "mag_disturbance_ut", float, "a disturbance 0-200 µT", d.mag_disturbance_ut, 0, 200
        ),
        timestamp_jitter_s=number(
            "timestamp_jitter_s", float, "a jitter 0-0.01 s", d.timestamp_jitter_s, 0, 0.01
        ),
        bus_timeout_s=number(
            "bus_timeout_s", float, "an I2C adapter timeout 0.001-1 s", d.bus_timeout_s, 0.001, 1
        ),
        faults=_faults(t, sensors),
    )
    t.finish()
    return cfg


def parse_rig(data: dict[str, Any], source: Path) -> Rig:
    """Validate a rig already parsed from TOML."""
    top = _Table(data, source)
    device_id = top.get(
        "device_id",
        str,
        f"a device id of letters, digits, _ or - (at most {MAX_NAME})",
        check=_is_name,
    )
    rate = top.get(
        "sample_rate_hz",
        float,
        f"a rate {MIN_RATE_HZ}-{MAX_RATE_HZ} Hz",
        check=lambda v: MIN_RATE_HZ <= v <= MAX_RATE_HZ,
    )
    raw_sensors = top.get("sensors", list, "a list of [[sensors]] tables", [])
    sensors = []
    for i, item in enumerate(raw_sensors):
        if not isinstance(item, dict):
            raise top.fail(f"sensors[{i}]", f"expected a [[sensors]] table, got {item!r}")
        sensors.append(_sensor(_Table(item, source, f"sensors[{i}].")))
    _check_sensors(sensors, top)
    fusion_t = top.table("fusion")
    fusion = FusionConfig(
        filter=fusion_t.choice("filter", FILTERS, FusionConfig.filter),
        use_magnetometer=fusion_t.get("use_magnetometer", bool, "true or false", False),
    )
    fusion_t.finish()
    mqtt = _mqtt(top.table("mqtt"))
    simulation = _simulation(top.table("simulation"), sensors) if "simulation" in data else None
    subject = top.get(
        "subject", str, SUBJECT_EXPECTED, None, lambda v: SUBJECT_PATTERN.fullmatch(v) is not None
    )
    top.finish()
    return Rig(device_id, rate, tuple(sensors), fusion, mqtt, simulation, source, subject)


def load_rig(path: str | os.PathLike | None = None) -> Rig:
    """Load and validate a rig file; the simulated rig when ``path`` is None."""
    source = Path(path) if path is not None else default_rig_path()
    try:
        data = read_regular(source, MAX_RIG_BYTES)
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read rig file: {exc.strerror}") from exc
    try:
        text = data.decode("utf-8-sig")  # an editor on Windows may start the file with a BOM
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not UTF-8 text (byte {exc.start})") from exc
    return parse_rig_text(text, source)


def parse_rig_text(text: str, source: Path) -> Rig:
    """Parse and validate rig TOML text; every failure a :class:`ConfigError` naming ``source``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    except RecursionError:
        raise ConfigError(f"{source}: not a rig: arrays or tables nested too deeply") from None
    return parse_rig(data, source)


def _toml_value(value: Any, key: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and key.endswith("address"):
        return f"0x{value:02x}"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + "".join(_toml_char(c) for c in str(value)) + '"'


def _toml_char(char: str) -> str:
    """One character of a TOML basic string: quotes, backslashes and control characters escaped."""
    if char in '"\\':
        return "\\" + char
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return f"\\u{ord(char):04x}"
    return char


def _toml_table(values: dict[str, Any]) -> list[str]:
    return [f"{k} = {_toml_value(v, k)}" for k, v in values.items() if v is not None]


def rig_to_toml(rig: Rig) -> str:
    """The rig as TOML text that :func:`load_rig` reads back to an equal rig.

    Paths (password file, CA file) are written as they resolved; the password
    itself is never part of a rig.
    """
    lines = _toml_table(
        {"device_id": rig.device_id, "subject": rig.subject, "sample_rate_hz": rig.sample_rate_hz}
    )
    lines += ["", "[fusion]"] + _toml_table(vars(rig.fusion))
    mqtt = {k: (str(v.absolute()) if isinstance(v, Path) else v) for k, v in vars(rig.mqtt).items()}
    lines += ["", "[mqtt]"] + _toml_table(mqtt)
    if rig.simulation is not None:
        simulation = {k: v for k, v in vars(rig.simulation).items() if k != "faults"}
        lines += ["", "[simulation]"] + _toml_table(simulation)
        for fault in rig.simulation.faults:
            lines += ["", "[[simulation.faults]]"] + _toml_table(vars(fault))
    for sensor in rig.sensors:
        lines += ["", "[[sensors]]"] + _toml_table(vars(sensor))
    return "\n".join(lines) + "\n"
