"""TCA9548A routing: one channel of one multiplexer at a time, written only when it changes."""

from __future__ import annotations

import errno

from hiprot.sensors.clock import VirtualClock
from hiprot.sensors.device import I2CDevice
from hiprot.sensors.emulated import EmulatedBus
from hiprot.sensors.emulated.icm42688 import EmulatedIcm42688


def two_muxes():
    bus = EmulatedBus(1, VirtualClock())
    for mux, channel in ((0x70, 0), (0x70, 3), (0x71, 3)):
        bus.attach(EmulatedIcm42688(), 0x68, mux, channel)
    return bus


def test_identical_chips_behind_different_channels_are_reached_one_by_one():
    bus = two_muxes()
    devices = [
        I2CDevice(bus, 0x68, mux, channel) for mux, channel in ((0x70, 0), (0x70, 3), (0x71, 3))
    ]
    for device in devices:
        assert device.read(0x75, 1) == b"\x47"
        controls = {m: bus.chip_at(m).control for m in (0x70, 0x71)}
        assert controls == {
            device.mux_address: 1 << device.mux_channel,
            ({0x70, 0x71} - {device.mux_address}).pop(): 0,
        }


def test_the_control_byte_is_written_only_when_the_channel_changes():
    bus = two_muxes()
    device = I2CDevice(bus, 0x68, 0x70, 3)
    device.read(0x75, 1)
    before = bus.stats.transactions
    device.read(0x75, 1)
    assert bus.stats.transactions == before + 1


def test_after_an_error_the_channel_is_selected_again():
    bus = two_muxes()
    device = I2CDevice(bus, 0x68, 0x70, 3)
    device.read(0x75, 1)
    bus.chip_at(0x70).control = 0  # the multiplexer lost its state (brown-out)
    assert device.read(0x75, 1) == b"\x47"  # NACK, route forgotten, channel rewritten, retried
    assert device.stats.retries == 1


def test_two_chips_answering_at_once_collide():
    bus = two_muxes()
    bus.chip_at(0x70).control = 0b1001  # channels 0 and 3 both on
    try:
        bus.read_register(0x68, 0x75, 1)
    except OSError as exc:
        assert exc.errno == errno.EIO
    else:
        raise AssertionError("two answering chips must collide")
