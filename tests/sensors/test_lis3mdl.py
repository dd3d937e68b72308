"""LIS3MDL driver against its emulated chip (DocID024204)."""

from __future__ import annotations

import struct

import numpy as np
from chips import bench, settle, still


def test_configuration_registers_and_rate():
    b = bench("lis3mdl", still())
    b.driver.identify()
    assert b.driver.configure() == 80.0
    regs = b.chip.regs[0]
    assert regs[0x20] == (0b11 << 5) | (0b111 << 2)  # CTRL_REG1: ultra-high performance, 80 Hz
    assert regs[0x21] == 0x00  # CTRL_REG2: ±4 gauss
    assert regs[0x22] == 0x00  # CTRL_REG3: continuous
    assert regs[0x23] == 0b11 << 2  # CTRL_REG4: Z ultra-high performance
    assert regs[0x24] == 0x40  # CTRL_REG5: BDU


def test_scaling_and_auto_increment():
    b = bench("lis3mdl", still())
    b.driver.identify()
    b.driver.configure()
    settle(b)
    b.chip.regs[0][0x28:0x2E] = struct.pack("<3h", 6842, -3421, 0)
    assert np.allclose(b.driver.read(), [100.0, -50.0, 0.0])  # 6842 LSB/gauss, 1 gauss = 100 µT


def test_emulated_chip_measures_the_motions_field():
    b = bench("lis3mdl", still(mag=(20.0, -5.0, 40.0)))
    b.driver.identify()
    b.driver.configure()
    b.clock.sleep(0.1)
    assert np.allclose(b.driver.read(), [20.0, -5.0, 40.0], atol=0.02)
