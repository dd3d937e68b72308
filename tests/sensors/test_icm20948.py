"""ICM-20948 + AK09916 driver against its emulated chip, checked with values from DS-000189."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from chips import bench, settle, still

from hiprot.sensors.bus import ChipMismatch
from hiprot.units import DEG_TO_RAD, STANDARD_GRAVITY

G, DEG = STANDARD_GRAVITY, DEG_TO_RAD


def configured(with_mag=False, **motion):
    b = bench("icm20948", still(**motion), with_mag=with_mag)
    b.driver.identify()
    return b, b.driver.configure(200)


def test_configuration_registers():
    b, configuration = configured()
    bank0, bank2 = b.chip.regs[0], b.chip.regs[2]
    assert bank2[0x00] == 4  # GYRO_SMPLRT_DIV: 1.1 kHz / 5 = 220 Hz
    assert (bank2[0x10], bank2[0x11]) == (0, 4)  # ACCEL_SMPLRT_DIV: 1.125 kHz / 5 = 225 Hz
    assert bank2[0x01] == (3 << 3) | (3 << 1) | 1  # GYRO_CONFIG_1: 51.2 Hz, ±2000 °/s, DLPF on
    assert bank2[0x14] == (3 << 3) | (3 << 1) | 1  # ACCEL_CONFIG: 50.4 Hz, ±16 g, DLPF on
    assert bank2[0x09] == 0x01  # ODR_ALIGN_EN
    assert bank0[0x06] == 0x01  # PWR_MGMT_1: awake, auto clock
    assert bank0[0x67] == 0x1E  # FIFO_EN_2: accel, gyro X/Y/Z
    assert bank0[0x66] == 0x00  # FIFO_EN_1: no slave data
    assert bank0[0x03] == 0x40  # USER_CTRL: FIFO on
    assert bank0[0x69] == 0x00 and bank0[0x76] == 0x01  # FIFO_MODE stream, FIFO_CFG
    assert configuration.odr_hz == 220.0 and configuration.fifo_samples == 512 // 12


def test_magnetometer_through_the_i2c_master():
    b, configuration = configured(with_mag=True)
    bank0, bank3 = b.chip.regs[0], b.chip.regs[3]
    assert (
        bank0[0x03] == 0x60 and bank0[0x66] == 0x01
    )  # USER_CTRL FIFO + I2C master; slave 0 into FIFO
    assert bank3[0x01] == 0x17  # I2C_MST_CTRL
    assert (bank3[0x03], bank3[0x04], bank3[0x05]) == (
        0x8C,
        0x10,
        0x89,
    )  # read 9 bytes of 0x0C from ST1
    assert b.chip.magnetometer.regs[0][0x31] == 0x08  # AK09916 CNTL2: continuous 100 Hz
    assert configuration.mag_odr_hz == 100.0 and configuration.fifo_samples == 512 // 21


def test_magnetometer_axes_follow_the_accelerometer_axes():
    """The AK09916's Y and Z point against the accel/gyro Y and Z; the driver turns them back."""
    b, _ = configured(with_mag=True, mag=(30.0, -15.0, 45.0))
    b.driver.start()
    b.clock.sleep(0.05)
    reading = b.driver.read_fifo()
    assert len(reading) == 11
    raw = struct.unpack(
        "<3h", bytes(b.chip.magnetometer.registers_at(np.array([b.clock.now()]), 0x11, 6)[0])
    )
    assert raw == (200, 100, -300)  # 0.15 µT/LSB, Y and Z reversed
    assert np.allclose(reading.mag, [30.0, -15.0, 45.0])


def test_scaling_from_registers():
    b, _ = configured()
    settle(b)
    b.chip.regs[0][0x2D:0x39] = struct.pack(">6h", 2048, -4096, 16384, 164, -1640, 16400)
    sample = b.driver.read_sample()
    assert np.allclose(sample.acc, [[G, -2 * G, 8 * G]])
    assert np.allclose(sample.gyr, [[10 * DEG, -100 * DEG, 1000 * DEG]])


def test_fifo_packets_with_magnetometer_bytes():
    b, _ = configured(with_mag=True)
    settle(b)
    packet = (
        struct.pack(">3h3h", 0, 0, 2048, 0, 164, 0)
        + bytes([0x01])
        + struct.pack("<3h", 100, 200, -300)
        + bytes(2)
    )
    b.chip.fifo.push(packet * 2)
    reading = b.driver.read_fifo()
    assert len(reading) == 2
    assert np.allclose(reading.acc, [0, 0, G]) and np.allclose(reading.gyr, [0, 10 * DEG, 0])
    assert np.allclose(reading.mag, [15.0, -30.0, 45.0])


def test_wrong_magnetometer_id_is_refused():
    b = bench("icm20948", still(), with_mag=True)
    b.chip.magnetometer.chip_id = 0x00
    b.driver.identify()
    with pytest.raises(ChipMismatch, match=r"AK09916 magnetometer .* found 0x00"):
        b.driver.configure(200)
