"""The emulated bus's fault injection behaves like the wiring faults it stands for."""

from __future__ import annotations

import errno

import pytest
from chips import bench, still


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
    with pytest.raises(OSError) as info:
        b.bus.read_register(0x68, 0x75, 1)
    assert info.value.errno == errno.ETIMEDOUT
    b.bus.stuck = False
    assert b.bus.read_register(0x68, 0x75, 1) == b"\x47"


def test_wire_bytes_are_counted_per_transaction():
    b = bench("icm42688")
    before = b.bus.stats.wire_bytes
    b.bus.read_register(0x68, 0x30, 160)  # address+W, register, address+R, 160 data bytes
    b.bus.write_register(0x68, 0x4E, b"\x0f")  # address+W, register, data
    assert b.bus.stats.wire_bytes - before == 163 + 3
    assert b.bus.stats.bus_time_s(400_000) == pytest.approx(b.bus.stats.wire_bytes * 9 / 400_000)
