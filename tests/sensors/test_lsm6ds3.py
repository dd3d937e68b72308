"""LSM6DS3 / LSM6DS3TR-C driver against its emulated chip (DocID026899, DS11889)."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from chips import bench, settle, still

from hiprot.units import DEG_TO_RAD, STANDARD_GRAVITY

G, DEG = STANDARD_GRAVITY, DEG_TO_RAD


def configured(chip_id=None):
    b = bench("lsm6ds3", still(), chip_id=chip_id)
    b.driver.identify()
    return b, b.driver.configure(200)


@pytest.mark.parametrize(
    "chip_id, variant, fifo_words", [(0x69, "LSM6DS3", 4096), (0x6A, "LSM6DS3TR-C/LSM6DSL", 2048)]
)
def test_both_variants_and_their_fifo_sizes(chip_id, variant, fifo_words):
    b, configuration = configured(chip_id)
    assert b.driver.variant == variant
    assert configuration.fifo_samples == fifo_words // 6


def test_configuration_registers():
    b, configuration = configured()
    b.driver.start()
    regs = b.chip.regs[0]
    assert regs[0x10] == (0b0101 << 4) | (0b01 << 2)  # CTRL1_XL: 208 Hz, ±16 g
    assert regs[0x11] == (0b0101 << 4) | (0b11 << 2)  # CTRL2_G: 208 Hz, ±2000 °/s
    assert regs[0x12] == 0x44  # CTRL3_C: BDU, IF_INC
    assert regs[0x08] == 0b001001  # FIFO_CTRL3: gyro and accel undecimated
    assert regs[0x0A] == (0b0101 << 3) | 0b110  # FIFO_CTRL5: FIFO ODR 208 Hz, continuous
    assert configuration.odr_hz == 208.0


def test_reads_whole_patterns_from_the_pattern_start():
    b, _ = configured()
    b.driver.start()
    settle(b)
    pattern = struct.pack("<6h", 1000, 0, 0, 0, 0, 2049)  # Gx Gy Gz Ax Ay Az
    b.chip.fifo.push(struct.pack("<h", 7) + pattern + pattern + pattern[:4])
    b.chip._words_gone = 5  # next word is the pattern's last
    reading = b.driver.read_fifo()
    assert len(reading) == 2
    assert np.allclose(reading.gyr, [70 * DEG, 0, 0]) and np.allclose(
        reading.acc, [0, 0, 2049 * 0.488e-3 * G]
    )
    assert len(b.chip.fifo) == 4  # the half pattern stays for later
