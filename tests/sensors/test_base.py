"""The driver interface on every chip: identification, wrong-chip refusal, retries, FIFO timing."""

from __future__ import annotations

import errno
import math

import numpy as np
import pytest
from chips import bench, still, turning

from hiprot.sensors.bus import ChipMismatch, I2CError
from hiprot.sensors.drivers import IMU_DRIVERS
from hiprot.sensors.emulated import Motion
from hiprot.units import STANDARD_GRAVITY

IMUS = sorted(IMU_DRIVERS)
EXPECTED_ID = {
    "icm42688": 0x47,
    "mpu6050": 0x68,
    "icm20948": 0xEA,
    "lsm6dsox": 0x6C,
    "lsm6ds3": 0x69,
    "lis3mdl": 0x3D,
}


@pytest.mark.parametrize("chip", IMUS + ["lis3mdl"])
def test_identifies_its_chip(chip):
    b = bench(chip)
    assert b.driver.identify() == b.driver.chip_ids[EXPECTED_ID[chip]]
    assert b.driver.chip_id == EXPECTED_ID[chip]


@pytest.mark.parametrize("chip", IMUS + ["lis3mdl"])
def test_refuses_a_wrong_chip_naming_bus_channel_address_and_ids(chip):
    b = bench(chip, chip_id=0x12, mux=(0x71, 5))
    with pytest.raises(ChipMismatch) as info:
        b.driver.identify()
    message = str(info.value)
    address = b.driver.device.address
    for words in (
        "bus 1",
        "multiplexer 0x71 channel 5",
        f"address 0x{address:02x}",
        f"0x{EXPECTED_ID[chip]:02x}",
        "found 0x12",
        b.driver.part,
    ):
        assert words in message


def test_a_wrong_chip_is_named_when_known():
    b = bench("icm42688", chip_id=0x68)
    with pytest.raises(ChipMismatch, match=r"found 0x68 \(MPU-6050\)"):
        b.driver.identify()


@pytest.mark.parametrize("error", [errno.EIO, errno.EREMOTEIO])
def test_transient_errors_are_retried_and_counted(error):
    b = bench("icm42688")
    b.bus.inject_errors(3, error)
    assert b.driver.identify() == "ICM-42688-P"
    stats = b.driver.device.stats
    assert (stats.errors, stats.retries, stats.failures) == (3, 3, 0)


def test_too_many_errors_fail_with_a_clear_error():
    b = bench("icm42688", mux=(0x70, 2))
    b.bus.inject_errors(4, errno.EIO)
    with pytest.raises(
        I2CError,
        match=r"bus 1, multiplexer 0x70 channel 2, address 0x68: I/O error \(errno 5\) \(4 tries\)",
    ):
        b.driver.identify()
    assert b.driver.device.stats.failures == 1
    assert b.driver.identify() == "ICM-42688-P"


def test_a_stuck_bus_is_not_retried():
    b = bench("mpu6050")
    b.bus.stuck = True
    with pytest.raises(I2CError, match="bus timeout"):
        b.driver.identify()
    assert b.driver.device.stats.errors == 1


def test_a_missing_chip_reports_no_acknowledge():
    b = bench("mpu6050")
    b.bus.unplug(0x68)
    with pytest.raises(I2CError, match="no acknowledge"):
        b.driver.identify()


@pytest.mark.parametrize("chip", IMUS)
def test_fifo_delivers_every_sample_at_the_chip_rate(chip):
    """Reads at irregular times lose nothing while the FIFO has room; values follow the motion."""
    motion = turning()
    b = bench(chip, Motion(motion))
    b.driver.identify()
    configuration = b.driver.configure(200)
    b.driver.start()
    begin = b.clock.now()
    readings = []
    for pause in (0.05, 0.013, 0.07, 0.002, 0.09, 0.05):
        b.clock.sleep(min(pause, 0.4 * configuration.fifo_samples / configuration.odr_hz))
        readings.append(b.driver.read_fifo())
    assert not any(r.overflow for r in readings)
    count = sum(len(r) for r in readings)
    assert abs(count - (b.clock.now() - begin) * configuration.odr_hz) <= 1
    gyr = np.concatenate([r.gyr for r in readings])
    ticks = (
        math.ceil(begin * configuration.odr_hz - 1e-9) + np.arange(count)
    ) / configuration.odr_hz
    truth = np.column_stack([np.interp(ticks, motion.time_s, motion.gyr[:, i]) for i in range(3)])
    assert np.max(np.abs(gyr - truth)) < 0.002  # rad/s: quantisation of ±2000 °/s is 0.0011 rad/s


@pytest.mark.parametrize("chip", IMUS)
def test_an_overflowing_fifo_is_flushed_and_reported(chip):
    b = bench(chip, still())
    b.driver.identify()
    configuration = b.driver.configure(200)
    b.driver.start()
    b.clock.sleep(2 * configuration.fifo_samples / configuration.odr_hz)
    reading = b.driver.read_fifo()
    assert reading.overflow and len(reading) == 0
    b.clock.sleep(0.05)
    after = b.driver.read_fifo()
    assert not after.overflow and 9 <= len(after) <= 12
    assert np.allclose(after.acc, [0, 0, STANDARD_GRAVITY], atol=0.01)
