"""Acquisition with the real drivers on emulated chips: rates, timestamps, losses, recovery."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest
from chips import turning

from hiprot.config import parse_rig
from hiprot.errors import SensorError
from hiprot.samples import ImuSamples
from hiprot.sensors.acquisition import Acquisition, health_lines
from hiprot.sensors.clock import VirtualClock
from hiprot.sensors.emulated import EMULATED_CHIPS, Motion, emulated_buses
from hiprot.sensors.emulated.motion import Playback

MIXED = {
    "device_id": "mixed",
    "sample_rate_hz": 200,
    "fusion": {"use_magnetometer": True},
    "sensors": [
        {
            "name": "pelvis",
            "segment": "pelvis",
            "chip": "lsm6dsox",
            "address": 0x6A,
            "mux_channel": 0,
            "mag_chip": "lis3mdl",
        },
        {
            "name": "thigh",
            "segment": "thigh",
            "side": "right",
            "chip": "icm42688",
            "address": 0x68,
            "mux_channel": 1,
        },
        {
            "name": "shank",
            "segment": "shank",
            "side": "right",
            "chip": "icm20948",
            "address": 0x68,
            "mux_channel": 2,
        },
        {
            "name": "left_thigh",
            "segment": "thigh",
            "side": "left",
            "chip": "mpu6050",
            "address": 0x69,
        },
        {
            "name": "left_shank",
            "segment": "shank",
            "side": "left",
            "chip": "lsm6ds3",
            "address": 0x6B,
        },
    ],
}
TWO = {
    "device_id": "two",
    "sample_rate_hz": 200,
    "sensors": [
        {"name": "thigh", "segment": "thigh", "side": "right", "chip": "icm42688", "address": 0x68},
        {"name": "shank", "segment": "shank", "side": "right", "chip": "mpu6050", "address": 0x69},
    ],
}


def acquisition(rig_data, duration_s, **options):
    rig = parse_rig(rig_data, Path("test.toml"))
    clock = VirtualClock()
    motion = turning(duration_s + 2)
    playback = Playback()
    buses = emulated_buses(rig, clock, {s.name: motion for s in rig.sensors}, playback)
    events: list[str] = []
    acq = Acquisition(rig, buses, clock, duration_s, on_event=events.append, **options)
    acq.open()
    playback.start(acq.start_s)
    return acq, buses[1], clock, motion, events


def collect(acq, each=None):
    got: dict[str, list] = {}
    for chunk in acq:
        for name, samples in chunk.items():
            got.setdefault(name, []).append(samples)
        if each is not None:
            each(chunk)
    return {
        name: (
            np.concatenate([s.time_s for s in parts]),
            np.concatenate([s.gyr for s in parts]),
            [s.mag for s in parts],
        )
        for name, parts in got.items()
    }


def test_every_chip_delivers_its_rate_with_monotonic_timestamps_and_true_values():
    acq, _, _, motion, _ = acquisition(MIXED, 3.0)
    got = collect(acq)
    health = acq.health()
    for name, (times, gyr, _mags) in got.items():
        odr = health[name]["odr_hz"]
        assert abs(len(times) - 3.0 * odr) <= 1, name
        assert np.all(np.diff(times) > 0) and times[0] >= 0 and times[-1] < 3.0
        assert np.all(np.abs(np.diff(times) * odr - 1) < 0.5), name
        truth = np.interp(times, motion.time_s, motion.gyr[:, 2])
        assert np.max(np.abs(gyr[:, 2] - truth)) < 0.01, (
            name
        )  # rad/s: half a period of timing error
        assert (
            health[name]["dropped"] == 0
            and health[name]["gaps"] == []
            and health[name]["late"] == 0
        )
    assert all(m is not None for m in got["pelvis"][2]) and all(
        m is not None for m in got["shank"][2]
    )
    assert {h["odr_hz"] for h in health.values()} == {200.0, 208.0, 220.0}


def test_an_unplugged_sensor_leaves_a_gap_and_resumes_while_the_others_go_on():
    acq, bus, clock, _, events = acquisition(TWO, 6.0, retry_s=1.0)
    state = {"unplugged": False, "replugged": False}

    def wiring(chunk):
        now = clock.now() - acq.start_s
        if now >= 1.0 and not state["unplugged"]:
            bus.unplug(0x69)
            state["unplugged"] = True
        if now >= 2.5 and not state["replugged"]:
            bus.replug(0x69)
            state["replugged"] = True

    got = collect(acq, wiring)
    health = acq.health()
    thigh, shank = health["thigh"], health["shank"]
    assert thigh["gaps"] == [] and thigh["samples"] == 1200 and thigh["available"]
    assert len(shank["gaps"]) == 1 and shank["available"]
    start, end = shank["gaps"][0]
    assert 0.95 <= start <= 1.05 and 2.5 <= end <= 3.6
    assert shank["dropped"] == round((end - start) * 200) - 1
    assert shank["samples"] + shank["dropped"] == pytest.approx(1200, abs=2)
    times = got["shank"][0]
    assert np.all(np.diff(times) > 0) and times[-1] > 5.9
    assert shank["i2c_failures"] >= 1 and "no acknowledge" in shank["last_error"]
    assert any("shank lost" in e for e in events) and any(
        "shank answers again" in e for e in events
    )


def test_a_late_wake_up_loses_nothing_but_is_counted_late():
    acq, _, clock, _, _ = acquisition(TWO, 3.0)
    stalled = {"done": False}

    def stall(chunk):
        if not stalled["done"] and clock.now() - acq.start_s > 1.0:
            clock.sleep(0.3)
            stalled["done"] = True

    collect(acq, stall)
    for h in acq.health().values():
        assert h["gaps"] == [] and h["dropped"] == 0 and h["samples"] == 600
        assert h["late"] > 0


ICM_PAIR = {
    "device_id": "pair",
    "sample_rate_hz": 200,
    "sensors": [
        {"name": "thigh", "segment": "thigh", "side": "right", "chip": "icm42688", "address": 0x68},
        {"name": "shank", "segment": "shank", "side": "right", "chip": "icm42688", "address": 0x69},
    ],
}


def test_a_late_wake_up_past_the_silence_limit_but_within_the_fifo_loses_nothing():
    """A loop stalled longer than ``silent_s`` (a busy machine) finds the chips' FIFOs full of
    samples: they were not silent, so nothing is reconfigured and nothing is lost."""
    acq, _, clock, _, events = acquisition(ICM_PAIR, 3.0)
    fifo_s = min(s.imu.configuration.fifo_samples / s.imu.configuration.odr_hz for s in acq.sensors)
    stall_s = (acq.silent_s + fifo_s) / 2
    assert acq.silent_s + acq.read_period_s < stall_s < fifo_s - acq.read_period_s
    stalled = {"done": False}

    def stall(chunk):
        if not stalled["done"] and clock.now() - acq.start_s > 1.0:
            clock.sleep(stall_s)
            stalled["done"] = True

    collect(acq, stall)
    assert not any("silent" in e for e in events), events
    for h in acq.health().values():
        assert h["gaps"] == [] and h["dropped"] == 0 and h["samples"] == 600
        assert h["late"] > 0


def test_a_stall_longer_than_the_fifo_is_a_counted_gap():
    acq, _, clock, _, _ = acquisition(TWO, 4.0)
    stalled = {"done": False}

    def stall(chunk):
        if not stalled["done"] and clock.now() - acq.start_s > 1.0:
            clock.sleep(1.5)
            stalled["done"] = True

    collect(acq, stall)
    for name, h in acq.health().items():
        assert len(h["gaps"]) == 1, name
        start, end = h["gaps"][0]
        assert h["dropped"] == round((end - start) * 200) - 1
        assert h["samples"] + h["dropped"] == pytest.approx(800, abs=2)
        assert [c["cause"] for c in h["gap_causes"]] == ["late read"], name


SMALL_FIFO = {
    "device_id": "small",
    "sample_rate_hz": 200,
    "sensors": [
        {"name": "shank", "segment": "shank", "side": "right", "chip": "icm20948", "address": 0x68},
        {"name": "thigh", "segment": "thigh", "side": "right", "chip": "icm42688", "address": 0x69},
    ],
}


def stall_once(acq, clock, at_s, stall_s, before=None):
    """A callback that stalls the loop once (a machine that does not schedule the logger)."""
    stalled = {"done": False}

    def stall(chunk):
        if not stalled["done"] and clock.now() - acq.start_s > at_s:
            if before is not None:
                before()
            clock.sleep(stall_s)
            stalled["done"] = True

    return stall


def test_a_read_later_than_the_fifo_lasts_is_an_overflow_gap_attributed_to_the_late_read():
    acq, _, clock, _, _ = acquisition(SMALL_FIFO, 3.0)
    shank = next(s for s in acq.sensors if s.config.name == "shank")
    period, fifo_samples = 1 / 220, shank.imu.configuration.fifo_samples
    fifo_s = fifo_samples * period  # 42 samples: 0.19 s, the smallest FIFO
    collect(acq, stall_once(acq, clock, 1.0, 2 * fifo_s))
    health = acq.health()
    h = health["shank"]
    assert h["fifo_s"] == pytest.approx(fifo_s, abs=1e-4) and h["overflows"] == 1
    ((start, end),) = h["gaps"]
    ((cause),) = h["gap_causes"]
    assert cause["cause"] == "late read" and cause["fifo_s"] == pytest.approx(fifo_s, abs=1e-4)
    assert cause["read_after_s"] == pytest.approx(2 * fifo_s, abs=1e-3)
    assert h["max_read_interval_s"] == pytest.approx(2 * fifo_s, abs=1e-3)
    assert cause["lost"] == h["dropped"] == h["overflow_dropped"] == round((end - start) * 220) - 1
    assert end - start >= 2 * fifo_s - period  # everything since the previous read is lost
    assert h["samples"] + h["dropped"] == pytest.approx(3 * 220, abs=2)
    thigh = health["thigh"]  # its FIFO (0.64 s) outlasts the stall: nothing lost
    assert thigh["gaps"] == [] and thigh["overflows"] == 0 and thigh["samples"] == 600
    text = "\n".join(health_lines(health))
    assert f"the logger read {2 * fifo_s:.2f} s after the previous read" in text
    assert f"(the FIFO holds {fifo_s:.2f} s)" in text


def test_an_overflow_found_by_the_last_read_is_a_gap_to_the_end():
    """The loop is late for the last read: the FIFO overflowed and was flushed, and no sample
    follows to bound the loss; it is counted all the same, so the counts add up to 3 s."""
    acq, _, clock, _, _ = acquisition(SMALL_FIFO, 3.0)
    shank = next(s for s in acq.sensors if s.config.name == "shank")
    fifo_s = shank.imu.configuration.fifo_samples / 220
    got = collect(acq, stall_once(acq, clock, 2.88, 1.5 * fifo_s))
    h = acq.health()["shank"]
    ((start, end),) = h["gaps"]
    ((cause),) = h["gap_causes"]
    assert cause["cause"] == "late read" and cause["at_end"] and h["overflows"] == 1
    assert start == pytest.approx(got["shank"][0][-1], abs=1e-4) and start < 3.0 <= end
    assert cause["lost"] == h["dropped"] == h["overflow_dropped"] == round((end - start) * 220) - 1
    assert h["samples"] + h["dropped"] == pytest.approx(3 * 220, abs=1)
    assert "(to the end): the logger read" in "\n".join(health_lines(acq.health()))
    thigh = acq.health()["thigh"]  # read in the same cycles, its FIFO outlasts the stall
    assert thigh["gaps"] == [] and thigh["samples"] == 600


def test_a_sensor_unavailable_to_the_end_has_its_loss_counted_when_iteration_stops():
    """Unplugged for good, then the consumer stops iterating early (a signal): the loss from
    its last sample to the last reads is a gap, once, though nothing was read after it."""
    acq, bus, clock, _, _ = acquisition(TWO, 10.0)
    for _ in acq:
        now = clock.now() - acq.start_s
        if now >= 1.0:
            bus.unplug(0x69)
        if now >= 2.0:
            break
    acq.close()
    health = acq.health()
    h = health["shank"]
    ((start, end),) = h["gaps"]
    ((cause),) = h["gap_causes"]
    assert cause["cause"] == "unavailable" and cause["at_end"] and not h["available"]
    assert 0.95 <= start <= 1.05 and end == pytest.approx(2.0, abs=0.06)
    assert h["samples"] + h["dropped"] == pytest.approx(health["thigh"]["samples"], abs=2)


def test_a_read_within_what_the_fifo_holds_loses_nothing():
    acq, _, clock, _, _ = acquisition(SMALL_FIFO, 3.0)
    shank = next(s for s in acq.sensors if s.config.name == "shank")
    period, fifo_samples = 1 / 220, shank.imu.configuration.fifo_samples
    wait_s = (fifo_samples - 1.5) * period  # the FIFO is nearly full when read
    collect(acq, stall_once(acq, clock, 1.0, wait_s))
    h = acq.health()["shank"]
    assert h["max_read_interval_s"] == pytest.approx(wait_s, abs=1e-3)
    assert h["gaps"] == h["gap_causes"] == [] and h["overflows"] == h["dropped"] == 0
    assert h["samples"] == 660


def test_an_overflow_after_a_timely_read_is_not_blamed_on_a_late_read():
    """The chip reports an overflow the interval cannot explain (a fault): it must not pass for
    the machine's load."""
    acq, bus, clock, _, _ = acquisition(SMALL_FIFO, 3.0)

    def overflow():
        bus.chip_at(0x68).fifo.overflowed = True

    collect(acq, stall_once(acq, clock, 1.0, 0.0, before=overflow))
    h = acq.health()["shank"]
    assert h["overflows"] == 1 and len(h["gaps"]) == 1
    ((cause),) = h["gap_causes"]
    assert cause["cause"] == "overflow" and cause["read_after_s"] < 0.1 < cause["fifo_s"]
    assert "the FIFO overflowed although read" in "\n".join(health_lines(acq.health()))


def test_an_overflow_while_a_slow_read_emptied_a_nearly_full_fifo_is_that_read_s_lateness():
    """The loop reads a nearly full FIFO and is descheduled between the count and the burst:
    the FIFO overflows during that read, and the next, timely read finds the flag."""
    acq, _, clock, _, _ = acquisition(SMALL_FIFO, 3.0)
    shank = next(s for s in acq.sensors if s.config.name == "shank")
    period, fifo_samples = 1 / 220, shank.imu.configuration.fifo_samples
    armed = {"now": False}
    read_register = shank.imu.read_register

    def descheduled_before_the_burst(register, length, bank=None):
        if armed["now"] and register == shank.imu.FIFO_R_W:
            armed["now"] = False
            clock.sleep(5 * period)
        return read_register(register, length, bank)

    shank.imu.read_register = descheduled_before_the_burst

    def arm():
        armed["now"] = True

    collect(acq, stall_once(acq, clock, 1.0, (fifo_samples - 4) * period, before=arm))
    h = acq.health()["shank"]
    assert h["overflows"] == 1 and len(h["gaps"]) == 1
    ((cause),) = h["gap_causes"]
    assert cause["cause"] == "late read" and cause["read_after_s"] < 0.1
    assert cause["previous_read_after_s"] == pytest.approx((fifo_samples + 1) * period, abs=1e-3)
    assert "the logger's previous read ended" in "\n".join(health_lines(acq.health()))


def test_a_lost_sensor_s_gap_names_its_unavailability():
    acq, bus, clock, _, _ = acquisition(TWO, 4.0, retry_s=1.0)
    state = {"unplugged": False, "replugged": False}

    def wiring(chunk):
        now = clock.now() - acq.start_s
        if now >= 1.0 and not state["unplugged"]:
            bus.unplug(0x69)
            state["unplugged"] = True
        if now >= 2.0 and not state["replugged"]:
            bus.replug(0x69)
            state["replugged"] = True

    collect(acq, wiring)
    h = acq.health()["shank"]
    ((cause),) = h["gap_causes"]
    assert cause["cause"] == "unavailable" and "no acknowledge" in cause["error"]
    assert cause["lost"] == h["dropped"] > 0 and h["overflows"] == 0


def test_transient_bus_errors_are_retried_counted_and_cost_no_samples():
    acq, bus, clock, _, _ = acquisition(TWO, 2.0)
    injected = {"done": False}

    def glitch(chunk):
        if not injected["done"] and clock.now() - acq.start_s > 0.5:
            bus.inject_errors(2, errno.EIO, address=0x68)
            injected["done"] = True

    collect(acq, glitch)
    thigh = acq.health()["thigh"]
    assert thigh["i2c_errors"] == 2 and thigh["i2c_retries"] == 2 and thigh["i2c_failures"] == 0
    assert thigh["gaps"] == [] and thigh["samples"] == 400


def test_a_stuck_bus_makes_every_sensor_unavailable_until_it_recovers():
    acq, bus, clock, _, events = acquisition(TWO, 5.0, retry_s=0.5)

    def stick(chunk):
        now = clock.now() - acq.start_s
        bus.stuck = 1.0 <= now < 2.0

    collect(acq, stick)
    for name, h in acq.health().items():
        assert h["available"] and len(h["gaps"]) == 1, name
        assert "bus timeout" in h["last_error"]
    assert sum("lost" in e for e in events) == 2


STUCK_AND_FREE = {
    "device_id": "buses",
    "sample_rate_hz": 200,
    "sensors": [
        {"name": "thigh", "segment": "thigh", "side": "right", "chip": "icm42688", "address": 0x68},
        {"name": "shank", "segment": "shank", "side": "right", "chip": "icm42688", "address": 0x69},
        {
            "name": "left_thigh",
            "segment": "thigh",
            "side": "left",
            "chip": "lsm6dsox",
            "address": 0x6A,
        },
        # the smallest FIFO (0.19 s) on the free bus: a timeout plus a read period must fit it
        {"name": "pelvis", "segment": "pelvis", "chip": "icm20948", "address": 0x68, "bus": 3},
    ],
}


def test_a_stuck_bus_costs_one_timeout_per_retry_and_the_other_bus_loses_nothing():
    acq, bus, clock, _, _ = acquisition(STUCK_AND_FREE, 6.0, retry_s=1.0)
    other = acq.buses[3]

    def stick(chunk):
        bus.stuck = 1.0 <= clock.now() - acq.start_s < 4.0

    got = collect(acq, stick)
    health = acq.health()
    assert health["pelvis"]["gaps"] == [] and health["pelvis"]["late"] == 0
    assert len(got["pelvis"][0]) == 6 * 220 and other.stats.failed == 0
    for name in ("thigh", "shank", "left_thigh"):
        assert health[name]["available"] and len(health[name]["gaps"]) == 1, name
    # one timed-out transaction when the bus sticks, then one per retry (about 3 s / 1 s)
    assert bus.stats.failed <= 5, bus.stats.failed


def test_a_missing_sensor_refuses_to_start_naming_it():
    rig = parse_rig(TWO, Path("test.toml"))
    clock = VirtualClock()
    buses = emulated_buses(rig, clock)
    buses[1].unplug(0x69)
    with pytest.raises(
        SensorError, match=r"shank: bus 1, address 0x69: no acknowledge.*hiprot scan"
    ):
        Acquisition(rig, buses, clock).open()


def test_a_chip_reset_by_a_power_glitch_is_found_silent_and_reconfigured():
    acq, bus, clock, _, events = acquisition(TWO, 4.0)
    glitched = {"done": False}

    def brownout(chunk):
        if not glitched["done"] and clock.now() - acq.start_s >= 1.0:
            bus.chip_at(0x69).power_on()  # no I2C error: it just stops sampling
            glitched["done"] = True

    got = collect(acq, brownout)
    shank = acq.health()["shank"]
    assert shank["available"] and shank["i2c_errors"] == 0 and len(shank["gaps"]) == 1
    start, end = shank["gaps"][0]
    assert 0.95 <= start <= 1.05 and 1.5 <= end <= start + acq.silent_s + 4 * acq.read_period_s
    assert shank["samples"] + shank["dropped"] == pytest.approx(800, abs=2)
    assert got["shank"][0][-1] > 3.9 and any("shank silent" in e for e in events)
    assert acq.health()["thigh"]["gaps"] == []


def test_a_wrong_chip_at_the_address_is_never_read_and_the_right_one_resumes():
    acq, bus, clock, motion, events = acquisition(TWO, 5.0, retry_s=0.5)
    wrong = EMULATED_CHIPS["icm42688"](Motion(motion))  # where the MPU-6050 belongs (0x69)
    state = {"swapped": False, "restored": False}

    def swap(chunk):
        now = clock.now() - acq.start_s
        if now >= 1.0 and not state["swapped"]:
            bus.swap(wrong, 0x69)
            state["swapped"] = True
        if now >= 3.0 and not state["restored"]:
            bus.restore(0x69)
            state["restored"] = True

    got = collect(acq, swap)
    shank = acq.health()["shank"]
    times = got["shank"][0]
    assert not np.any((times > 1.0 + acq.read_period_s) & (times < 3.0)), (
        "no sample of the wrong chip"
    )
    start, end = shank["gaps"][0]
    assert len(shank["gaps"]) == 1 and shank["available"]
    assert 0.95 <= start <= 1.05 and 3.0 <= end <= 3.0 + 0.5 + 2 * acq.read_period_s
    assert (
        "expected MPU-6050" in shank["last_error"]
        and "found 0x47 (ICM-42688-P)" in shank["last_error"]
    )
    assert acq.health()["thigh"]["gaps"] == [] and any("shank lost" in e for e in events)


def test_samples_at_full_scale_are_counted_per_sensor():
    """±16 g and ±2000 °/s (the drivers' ranges): 0.5 s beyond the accelerometer's, 0.25 s
    beyond the gyroscope's."""
    rig = parse_rig(TWO, Path("test.toml"))
    t = np.arange(0.0, 5.0, 0.001)
    acc = np.tile([0.0, 0.0, 9.80665], (len(t), 1))
    acc[(t >= 1.0) & (t < 1.5), 0] = 25 * 9.80665
    gyr = np.zeros((len(t), 3))
    gyr[(t >= 2.0) & (t < 2.25), 2] = np.radians(2500.0)
    motion = ImuSamples(t, acc, gyr, np.zeros((len(t), 3)))
    clock, playback = VirtualClock(), Playback()
    buses = emulated_buses(rig, clock, {s.name: motion for s in rig.sensors}, playback)
    acq = Acquisition(rig, buses, clock, 3.0)
    acq.open()
    playback.start(acq.start_s)
    collect(acq)
    for name, health in acq.health().items():
        odr = health["odr_hz"]
        assert abs(health["saturated"]["acc"] - 0.5 * odr) <= 2, name
        assert abs(health["saturated"]["gyr"] - 0.25 * odr) <= 2, name
        assert health["full_scale"] == {"accel_g": 16, "gyro_dps": 2000}
