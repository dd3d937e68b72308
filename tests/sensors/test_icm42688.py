"""ICM-42688-P driver against its emulated chip, checked with values from DS-000347."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from chips import bench, settle, still

from hiprot.units import DEG_TO_RAD, STANDARD_GRAVITY

G, DEG = STANDARD_GRAVITY, DEG_TO_RAD


def configured(rate_hz=200):
    b = bench("icm42688", still())
    b.driver.identify()
    configuration = b.driver.configure(rate_hz)
    return b, configuration


@pytest.mark.parametrize(
    "rate_hz, odr_code, filter_code, odr_hz",
    [
        (200, 0x07, 0x3, 200.0),  # filter max(400, 200)/8 = 50 Hz ≤ 0.3 × 200
        (100, 0x08, 0x5, 100.0),  # 400/16 = 25 Hz ≤ 30
        (400, 0x0F, 0x1, 500.0),  # 500 Hz is the slowest ODR ≥ 400; 500/4 = 125 ≤ 150
    ],
)
def test_configuration_registers(rate_hz, odr_code, filter_code, odr_hz):
    b, configuration = configured(rate_hz)
    regs = b.chip.regs[0]
    assert regs[0x4F] == (0b000 << 5) | odr_code  # GYRO_CONFIG0: ±2000 °/s, ODR
    assert regs[0x50] == (0b000 << 5) | odr_code  # ACCEL_CONFIG0: ±16 g, ODR
    assert regs[0x52] == (filter_code << 4) | filter_code
    assert regs[0x4E] == 0x0F  # PWR_MGMT0: gyro and accel low-noise
    assert regs[0x5F] == 0x07  # FIFO_CONFIG1: accel, gyro, temperature
    assert regs[0x16] == 0x40  # FIFO_CONFIG: stream
    assert regs[0x4C] == 0x30  # INTF_CONFIG0: big-endian, count in bytes
    assert configuration.odr_hz == odr_hz


def test_scaling_from_registers():
    b, _ = configured()
    settle(b)
    b.chip.regs[0][0x1F:0x2B] = struct.pack(">6h", 2048, -4096, 16384, 164, -1640, 16400)
    sample = b.driver.read_sample()
    assert np.allclose(sample.acc, [[G, -2 * G, 8 * G]])
    assert np.allclose(sample.gyr, [[10 * DEG, -100 * DEG, 1000 * DEG]])


def test_fifo_packets_are_parsed_and_invalid_data_flagged():
    b, _ = configured()
    settle(b)
    packets = struct.pack(">B3h3hbH", 0x68, 2048, 0, -2048, 0, 1640, -16400, 25, 100) + struct.pack(
        ">B3h3hbH", 0x68, -32768, 0, 0, 0, 0, 0, 25, 200
    )
    b.chip.fifo.push(packets)
    reading = b.driver.read_fifo()
    assert len(reading) == 2
    assert np.allclose(reading.acc[0], [G, 0, -G])
    assert np.allclose(reading.gyr[0], [0, 100 * DEG, -1000 * DEG])
    assert list(reading.valid) == [True, False]


def test_emulated_chip_quantises_and_saturates_like_the_datasheet():
    b = bench("icm42688", still(acc=(0.0, G, 20 * G), gyr=(0.0, -3000 * DEG, 1000 * DEG)))
    b.driver.identify()
    b.driver.configure(200)
    b.clock.sleep(0.01)
    settle(b)
    assert struct.unpack(">6h", b.chip.regs[0][0x1F:0x2B]) == (0, 2048, 32767, 0, -32767, 16400)
