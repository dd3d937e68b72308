"""LSM6DSOX driver against its emulated chip, checked with values from DS12814."""

from __future__ import annotations

import struct

import numpy as np
from chips import bench, settle, still

from hiprot.units import DEG_TO_RAD, STANDARD_GRAVITY

G, DEG = STANDARD_GRAVITY, DEG_TO_RAD


def configured():
    b = bench("lsm6dsox", still())
    b.driver.identify()
    return b, b.driver.configure(200)


def word(sensor: int, slot: int, x: int, y: int, z: int) -> bytes:
    return struct.pack("<B3h", (sensor << 3) | (slot << 1), x, y, z)


def test_configuration_registers():
    b, configuration = configured()
    b.driver.start()
    regs = b.chip.regs[0]
    assert regs[0x10] == (0b0101 << 4) | (0b01 << 2) | 0b10  # CTRL1_XL: 208 Hz, ±16 g, LPF2
    assert regs[0x11] == (0b0101 << 4) | (0b11 << 2)  # CTRL2_G: 208 Hz, ±2000 °/s
    assert regs[0x12] == 0x44  # CTRL3_C: BDU, IF_INC
    assert regs[0x17] == 0x00  # CTRL8_XL: HPCF_XL 000 → ODR/4
    assert regs[0x09] == 0x55  # FIFO_CTRL3: BDR gyro and accel 208 Hz
    assert regs[0x0A] == 0x06  # FIFO_CTRL4: continuous
    assert configuration.odr_hz == 208.0 and configuration.accel_filter_hz == 52.0


def test_scaling_from_registers():
    b, _ = configured()
    settle(b)
    b.chip.regs[0][0x22:0x2E] = struct.pack("<6h", 1000, -100, 0, 2049, -1000, 0)
    sample = b.driver.read_sample()
    assert np.allclose(sample.gyr, [[70 * DEG, -7 * DEG, 0]])  # 70 m°/s per LSB
    assert np.allclose(sample.acc, [[2049 * 0.488e-3 * G, -0.488 * G, 0]])  # 0.488 mg per LSB


def test_tagged_words_are_paired_by_time_slot():
    b, _ = configured()
    b.driver.start()
    settle(b)
    b.chip.fifo.push(
        word(1, 0, 1000, 0, 0)
        + word(2, 0, 0, 0, 2049)
        + word(2, 1, 1000, 0, 0)
        + word(1, 1, 0, 0, -1000)  # accel first in this slot
        + word(1, 2, 0, 500, 0)
    )  # its accel word not yet in
    reading = b.driver.read_fifo()
    assert np.allclose(reading.gyr, [[70 * DEG, 0, 0], [0, 0, -70 * DEG]])
    assert np.allclose(reading.acc[:, 0], [0, 1000 * 0.488e-3 * G])
    b.chip.fifo.push(word(2, 2, 0, -1000, 0))
    later = b.driver.read_fifo()
    assert np.allclose(later.gyr, [[0, 35 * DEG, 0]]) and np.allclose(
        later.acc, [[0, -0.488 * G, 0]]
    )
