"""I2C faults through ``hiprot record``: a simulated rig with scheduled faults, a real broker.

One 7 s session goes through four faults on four sensors (transient errors,
unplugged and back, a stuck bus, a wrong chip at the address) while a fifth
sensor is untouched; each test checks one fault in the recording, in
``session.json``'s health and in the health messages on MQTT. A second session
sticks the only bus so that no sensor delivers: health must still go out.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hiprot_testing import Broker, Subscriber

from hiprot.recording import load_session
from hiprot.sensors.acquisition import GAP_PERIODS, READ_PERIOD_S, RETRY_S

START_UP_S = 0.3  # a reconfigured chip's first valid samples (MPU-6050 gyro start-up)
SENSORS = [  # name, segment, side, chip, bus, address, multiplexer channel
    ("pelvis", "pelvis", None, "lsm6dsox", 3, 0x6A, None),
    ("right_thigh", "thigh", "right", "icm42688", 1, 0x68, 1),
    ("right_shank", "shank", "right", "mpu6050", 1, 0x68, 2),
    ("left_thigh", "thigh", "left", "icm42688", 1, 0x69, None),
    ("left_shank", "shank", "left", "lsm6ds3", 1, 0x6B, None),
]
FAULTS = """
[[simulation.faults]]
kind = "errors"
sensor = "right_thigh"
at_s = 0.6
count = 2

[[simulation.faults]]
kind = "errors"
sensor = "right_thigh"
at_s = 1.0
count = 10
errno = 121

[[simulation.faults]]
kind = "stuck"
bus = 3
at_s = 1.5
for_s = 1.5

[[simulation.faults]]
kind = "unplug"
sensor = "right_shank"
at_s = 2.0
for_s = 1.5

[[simulation.faults]]
kind = "swap"
sensor = "left_thigh"
at_s = 2.5
for_s = 1.5
chip = "mpu6050"
"""


def rig_text(duration_s: float, faults: str, sensors: list[tuple] = SENSORS) -> str:
    tables = "".join(
        f'\n[[sensors]]\nname = "{name}"\nsegment = "{segment}"\nchip = "{chip}"\nbus = {bus}\n'
        f"address = {address}\n"
        + (f'side = "{side}"\n' if side else "")
        + (f"mux_channel = {channel}\n" if channel is not None else "")
        for name, segment, side, chip, bus, address, channel in sensors
    )
    return (
        f'device_id = "faults"\nsample_rate_hz = 200\n\n[simulation]\nduration_s = {duration_s}\n'
        f"{faults}\n{tables}"
    )


class Run:
    """One ``hiprot record`` of a rig with faults: its result, session and MQTT health messages."""

    def __init__(self, workdir, rig: str):
        path = workdir / "rig.toml"
        path.write_text(rig)
        broker = Broker(workdir).start()
        subscriber = Subscriber(broker, "hiprot/+/health")
        try:
            self.result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "hiprot",
                    "record",
                    "--rig",
                    str(path),
                    "--broker",
                    broker.address,
                    "--out",
                    str(workdir / "sessions"),
                ],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            (session_dir,) = (workdir / "sessions").iterdir()
            self.session = load_session(session_dir)
            self.meta = json.loads((session_dir / "session.json").read_text())
            self.health_messages = subscriber.received.json("/health")
        finally:
            subscriber.close()
            broker.stop()

    def sensor(self, name: str) -> dict:
        return self.meta["health"][name]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return Run(tmp_path_factory.mktemp("faults"), rig_text(7, FAULTS))


def one_gap(run: Run, name: str, fault_s: float, back_s: float) -> tuple[float, float]:
    """The sensor's only gap, the same in its raw timestamps and in session.json, bracketing
    the fault (starting within a read period of it, ending within a retry of its end)."""
    health = run.sensor(name)
    ((start, end),) = health["gaps"]
    times = run.session.samples[name].time_s
    steps = np.diff(times)
    (i,) = np.flatnonzero(steps > GAP_PERIODS / health["odr_hz"])
    assert times[i] == pytest.approx(start, abs=1e-3) and times[i + 1] == pytest.approx(
        end, abs=1e-3
    )
    assert fault_s - 2 * READ_PERIOD_S <= start <= fault_s + READ_PERIOD_S, (name, start)
    assert back_s <= end <= back_s + RETRY_S + START_UP_S, (name, end)
    assert health["available"] and health["samples"] == len(times)
    assert health["dropped"] == pytest.approx((end - start) * health["odr_hz"] - 1, abs=1)
    return start, end


def published(run: Run, name: str, start: float, end: float) -> list[dict]:
    """Health messages on MQTT for ``name``: unavailable inside the gap, available at the end."""
    reports = [(m["time_s"], m["sensors"][name]) for m in run.health_messages]
    assert any(not h["available"] for t, h in reports if start < t < end), name
    assert all(h["available"] for t, h in reports if t < start - 0.2 or t > end + 0.2), name
    return [h for _, h in reports]


def test_the_session_goes_on_and_the_untouched_sensor_is_complete(run):
    assert run.result.returncode == 0, run.result.stderr
    assert run.session.recovery.complete, run.session.recovery.summary()
    times = run.session.samples["left_shank"].time_s
    assert len(times) == pytest.approx(7 * 208, abs=1) and run.sensor("left_shank")["gaps"] == []
    assert np.diff(times).max() < GAP_PERIODS / 208


def test_transient_errors_are_retried_and_a_burst_leaves_a_gap_until_the_next_retry(run):
    start, end = one_gap(run, "right_thigh", 1.0, 1.0 + RETRY_S)
    thigh = run.sensor("right_thigh")
    assert thigh["i2c_errors"] == 12, "every injected error is one failed attempt"
    assert start > 0.6 + 0.1, "the first two errors were absorbed by retries"
    assert "no acknowledge (errno 121)" in thigh["last_error"]
    reports = published(run, "right_thigh", start, end)
    assert reports[-1]["i2c_errors"] == 12 and reports[-1]["gaps"] == 1
    assert "right_thigh lost" in run.result.stderr


def test_an_unplugged_sensor_leaves_a_gap_and_returns(run):
    start, end = one_gap(run, "right_shank", 2.0, 3.5)
    assert "no acknowledge" in run.sensor("right_shank")["last_error"]
    reports = published(run, "right_shank", start, end)
    assert reports[-1]["i2c_errors"] >= 4 and reports[-1]["i2c_failures"] >= 1
    assert "right_shank answers again" in run.result.stderr


def test_a_stuck_bus_stops_only_its_own_sensors(run):
    start, end = one_gap(run, "pelvis", 1.5, 3.0)
    pelvis = run.sensor("pelvis")
    assert "bus timeout (errno 110)" in pelvis["last_error"]
    assert pelvis["i2c_errors"] <= 1.5 / RETRY_S + 2, "one timeout per retry, never retried"
    published(run, "pelvis", start, end)
    own_faults = {"right_shank": 2.0, "left_thigh": 2.5, "left_shank": 7.0}  # all on bus 1
    for name, own_fault_s in own_faults.items():
        assert all(
            start >= own_fault_s - 2 * READ_PERIOD_S for start, _ in run.sensor(name)["gaps"]
        ), f"{name} lost samples while bus 3 was stuck"


def test_a_wrong_chip_at_the_address_is_never_recorded(run):
    start, end = one_gap(run, "left_thigh", 2.5, 4.0)
    times = run.session.samples["left_thigh"].time_s
    assert not np.any((times > 2.5 + READ_PERIOD_S) & (times < 4.0)), "no sample of the MPU-6050"
    error = run.sensor("left_thigh")["last_error"]
    assert "expected ICM-42688-P (WHO_AM_I 0x47" in error and "found 0x68 (MPU-6050)" in error
    published(run, "left_thigh", start, end)


def test_health_is_published_while_no_sensor_delivers(tmp_path):
    """Once a second while the only bus is stuck: at least 3 of the 4 reports due in the 4.2 s
    of silence arrive (one may slip past the window's end on a busy machine; a 2.2 s window
    asking for 2 of 2 failed there)."""
    stuck = '\n[[simulation.faults]]\nkind = "stuck"\nbus = 1\nat_s = 1.0\nfor_s = 4.5\n'
    right_leg = [s for s in SENSORS if s[0] in ("right_thigh", "right_shank")]  # both on bus 1
    quiet = Run(tmp_path, rig_text(7, stuck, right_leg))
    assert quiet.result.returncode == 0, quiet.result.stderr
    silent = [m for m in quiet.health_messages if 1.2 < m["time_s"] < 5.4]
    assert len(silent) >= 3, [m["time_s"] for m in quiet.health_messages]
    assert all(not s["available"] for m in silent for s in m["sensors"].values())
    for name in ("right_thigh", "right_shank"):
        one_gap(quiet, name, 1.0, 5.5)
