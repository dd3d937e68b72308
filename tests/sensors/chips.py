"""Test helpers: one emulated chip on an emulated bus, its real driver, a virtual clock."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hiprot.samples import ImuSamples
from hiprot.sensors.clock import VirtualClock
from hiprot.sensors.device import I2CDevice
from hiprot.sensors.drivers import IMU_DRIVERS, MAG_DRIVERS
from hiprot.sensors.emulated import EMULATED_CHIPS, EmulatedBus, Motion
from hiprot.units import STANDARD_GRAVITY

ADDRESS = {
    "icm42688": 0x68,
    "mpu6050": 0x68,
    "icm20948": 0x69,
    "lsm6dsox": 0x6A,
    "lsm6ds3": 0x6B,
    "lis3mdl": 0x1C,
}


@dataclass
class Bench:
    """A chip wired to a bus, with the driver that talks to it."""

    clock: VirtualClock
    bus: EmulatedBus
    chip: object
    driver: object


def bench(
    chip: str,
    motion: Motion | None = None,
    chip_id: int | None = None,
    mux: tuple[int, int] | None = None,
    with_mag: bool = False,
) -> Bench:
    """``chip`` emulated at its usual address (behind ``mux`` = (address, channel) if given)."""
    clock = VirtualClock()
    bus = EmulatedBus(1, clock)
    emulated = EMULATED_CHIPS[chip](motion, chip_id)
    mux_address, channel = mux or (None, None)
    bus.attach(emulated, ADDRESS[chip], mux_address, channel)
    device = I2CDevice(bus, ADDRESS[chip], mux_address, channel)
    if chip in MAG_DRIVERS:
        driver = MAG_DRIVERS[chip](device, clock)
    else:
        driver = IMU_DRIVERS[chip](device, clock, with_mag=with_mag)
    return Bench(clock, bus, emulated, driver)


def still(acc=(0.0, 0.0, STANDARD_GRAVITY), gyr=(0.0, 0.0, 0.0), mag=(0.0, 0.0, 0.0)) -> Motion:
    """Constant readings."""
    return Motion(ImuSamples([0.0], [acc], [gyr], [mag]))


def turning(duration_s: float = 10.0, rate_hz: float = 1000.0) -> ImuSamples:
    """A smooth, known motion: slowly varying acceleration, rotation and field."""
    t = np.arange(0.0, duration_s, 1.0 / rate_hz)
    acc = np.column_stack([2 * np.sin(t), 3 * np.cos(0.5 * t), 9.8 + 0.5 * np.sin(2 * t)])
    gyr = np.column_stack([0.8 * np.sin(1.3 * t), -0.5 + 0 * t, 2.0 * np.cos(0.7 * t)])
    mag = np.column_stack([20 + 5 * np.sin(t), -10 + 0 * t, 40 * np.cos(0.2 * t)])
    return ImuSamples(t, acc, gyr, mag)


def settle(b: Bench) -> None:
    """Catch the chip up with the clock, empty its FIFO: what a test writes next is all it holds."""
    b.chip.advance(b.clock.now())
    b.chip.fifo.clear()
