"""MPU-6050 driver against its emulated chip, checked with RM-MPU-6000A-00 / PS-MPU-6000A-00."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from chips import bench, settle, still

from hiprot.units import DEG_TO_RAD, STANDARD_GRAVITY

G, DEG = STANDARD_GRAVITY, DEG_TO_RAD


def configured(rate_hz=200):
    b = bench("mpu6050", still())
    b.driver.identify()
    return b, b.driver.configure(rate_hz)


@pytest.mark.parametrize(
    "rate_hz, divider, dlpf_cfg, odr_hz",
    [
        (200, 4, 0x03, 200.0),  # 1 kHz / (1 + 4); gyro 42 Hz ≤ 0.3 × 200
        (100, 9, 0x04, 100.0),  # gyro 20 Hz ≤ 30
        (400, 1, 0x02, 500.0),  # the slowest rate ≥ 400 is 1 kHz / 2; gyro 98 Hz ≤ 150
    ],
)
def test_configuration_registers(rate_hz, divider, dlpf_cfg, odr_hz):
    b, configuration = configured(rate_hz)
    regs = b.chip.regs[0]
    assert regs[0x19] == divider  # SMPLRT_DIV
    assert regs[0x1A] == dlpf_cfg  # CONFIG: DLPF_CFG in bits 2:0, EXT_SYNC_SET 0
    assert regs[0x1B] == 0b11 << 3  # GYRO_CONFIG: FS_SEL 3 = ±2000 °/s in bits 4:3
    assert regs[0x1C] == 0b11 << 3  # ACCEL_CONFIG: AFS_SEL 3 = ±16 g in bits 4:3
    assert regs[0x23] == 0x78  # FIFO_EN: XG, YG, ZG, ACCEL
    assert regs[0x6A] == 0x40  # USER_CTRL: FIFO_EN
    assert regs[0x6B] == 0x01  # PWR_MGMT_1: awake, PLL with X gyro
    assert configuration.odr_hz == odr_hz


def test_scaling_from_registers():
    b, _ = configured()
    settle(b)
    b.chip.regs[0][0x3B:0x49] = struct.pack(">7h", 2048, -4096, 16384, 0, 164, -1640, 16400)
    sample = b.driver.read_sample()
    assert np.allclose(sample.acc, [[G, -2 * G, 8 * G]])
    assert np.allclose(sample.gyr, [[10 * DEG, -100 * DEG, 1000 * DEG]])


def test_fifo_samples_are_accel_then_gyro_big_endian():
    b, _ = configured()
    settle(b)
    b.chip.fifo.push(
        struct.pack(">6h", 2048, 0, 0, 0, 0, 164) + struct.pack(">6h", 0, -2048, 0, 1640, 0, 0)
    )
    reading = b.driver.read_fifo()
    assert np.allclose(reading.acc, [[G, 0, 0], [0, -G, 0]])
    assert np.allclose(reading.gyr, [[0, 0, 10 * DEG], [100 * DEG, 0, 0]])


def test_partial_sample_waits_for_the_next_read():
    b, _ = configured()
    settle(b)
    whole = struct.pack(">6h", 2048, 0, 0, 0, 0, 164)
    b.chip.fifo.push(whole + whole[:5])
    assert len(b.driver.read_fifo()) == 1
    b.chip.fifo.push(whole[5:])
    assert np.allclose(b.driver.read_fifo().acc, [[G, 0, 0]])
