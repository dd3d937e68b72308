"""The emulated bus's fault injection behaves like the wiring faults it stands for."""

from __future__ import annotations

import errno

import pytest
from chips import bench, still

from hiprot.config import FaultConfig, SensorConfig
from hiprot.sensors.emulated import EMULATED_CHIPS
from hiprot.sensors.emulated.faults import schedule_faults
from hiprot.sensors.emulated.motion import Playback


def configured(chip="icm42688"):
    b = bench(chip, still())
    b.driver.identify()
    b.driver.configure(200)
    return b


def test_a_replugged_chip_comes_back_from_reset_and_must_be_configured_again():
    b = configured()
    assert b.chip.regs[0][0x4E] == 0x0F
    b.bus.unplug(0x68)
    with pytest.raises(OSError) as info:
        b.bus.read_register(0x68, 0x75, 1)
    assert info.value.errno == errno.EREMOTEIO
    b.bus.replug(0x68)
    assert b.chip.regs[0][0x4E] == 0x00 and len(b.chip.fifo) == 0


def test_injected_errors_hit_only_the_named_address():
    b = configured()
    b.bus.inject_errors(1, errno.EIO, address=0x69)
    assert b.bus.read_register(0x68, 0x75, 1) == b"\x47"
    b.bus.inject_errors(1, errno.EIO, address=0x68)
    with pytest.raises(OSError):
        b.bus.read_register(0x68, 0x75, 1)
    assert b.bus.read_register(0x68, 0x75, 1) == b"\x47"


def test_a_stuck_bus_times_out_until_released():
    b = configured()
    b.bus.stuck = True
    before = b.clock.now()
    with pytest.raises(OSError) as info:
        b.bus.read_register(0x68, 0x75, 1)
    assert info.value.errno == errno.ETIMEDOUT
    assert b.clock.now() - before == pytest.approx(b.bus.timeout_s), "the adapter timeout passes"
    b.bus.stuck = False
    assert b.bus.read_register(0x68, 0x75, 1) == b"\x47"


def test_wire_bytes_are_counted_per_transaction():
    b = bench("icm42688")
    before = b.bus.stats.wire_bytes
    b.bus.read_register(0x68, 0x30, 160)  # address+W, register, address+R, 160 data bytes
    b.bus.write_register(0x68, 0x4E, b"\x0f")  # address+W, register, data
    assert b.bus.stats.wire_bytes - before == 163 + 3
    assert b.bus.stats.bus_time_s(400_000) == pytest.approx(b.bus.stats.wire_bytes * 9 / 400_000)


def test_injected_errors_behind_a_multiplexer_hit_only_that_channel():
    b = bench("icm42688", still(), mux=(0x70, 1))
    other = EMULATED_CHIPS["icm42688"](still())
    b.bus.attach(other, 0x68, 0x70, 2)
    b.bus.inject_errors(1, errno.EIO, 0x68, 0x70, 2)
    b.bus.send_byte(0x70, 1 << 1)
    assert b.bus.read_register(0x68, 0x75, 1) == b"\x47"
    b.bus.send_byte(0x70, 1 << 2)
    with pytest.raises(OSError):
        b.bus.read_register(0x68, 0x75, 1)


def test_a_swapped_chip_answers_until_the_right_one_is_back_from_reset():
    b = configured()
    b.bus.swap(EMULATED_CHIPS["mpu6050"](still()), 0x68)
    assert b.bus.read_register(0x68, 0x75, 1) == b"\x68"
    b.bus.restore(0x68)
    assert b.bus.read_register(0x68, 0x75, 1) == b"\x47" and b.chip.regs[0][0x4E] == 0x00


def test_scheduled_faults_start_and_end_on_the_clock_once_acquisition_started():
    b = configured()
    playback = Playback()
    faults = (FaultConfig("unplug", 1.0, sensor="s", for_s=0.5),)
    sensor = SensorConfig("s", "thigh", "right", "icm42688", address=0x68)
    schedule_faults(faults, {"s": sensor}, {1: b.bus}, lambda chip, name: None, playback)
    b.clock.sleep(2.0)
    assert b.bus.read_register(0x68, 0x75, 1) == b"\x47", "nothing happens before the start"
    playback.start(b.clock.now())
    b.clock.sleep(1.0)
    with pytest.raises(OSError):
        b.bus.read_register(0x68, 0x75, 1)
    b.clock.sleep(0.5)
    assert b.bus.read_register(0x68, 0x75, 1) == b"\x47"
