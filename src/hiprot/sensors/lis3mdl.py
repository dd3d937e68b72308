"""STMicroelectronics LIS3MDL magnetometer, the optional companion of an LSM6DS chip.

Datasheet DocID024204 (rev 6). Facts used:

- WHO_AM_I 0x0F reads 0x3D; I2C address 0x1C (SDO/SA1 low) or 0x1E.
- A multi-byte read auto-increments only when the register address has its
  most significant bit set (section 5.1.1, I2C operation), so data are read
  from 0x28 | 0x80.
- CTRL_REG1 0x20: OM bits 6:5 (11 = ultra-high-performance X/Y), DO bits 4:2
  (111 = 80 Hz). CTRL_REG2 0x21: FS bits 6:5 (00 = ±4 gauss), SOFT_RST bit 2.
  CTRL_REG3 0x22: MD bits 1:0 (00 = continuous). CTRL_REG4 0x23: OMZ bits
  3:2 (11 = ultra-high-performance Z). CTRL_REG5 0x24: BDU bit 6.
- Sensitivity 6842 LSB/gauss at ±4 gauss (Table 2); 1 gauss = 100 µT.
  OUT_X_L..OUT_Z_H 0x28-0x2D little-endian.
- Axes: the chip's own ("Pin connections" figure); on a two-chip board check
  how they sit against the accel/gyro axes.
"""

from __future__ import annotations

import numpy as np

from hiprot.chip_catalogue import CHIPS
from hiprot.sensors.base import ChipDriver
from hiprot.sensors.registers import Bit, Bits, Byte
from hiprot.units import GAUSS_TO_UT

LSB_PER_GAUSS = 6842.0
AUTO_INCREMENT = 0x80
ODR_HZ = 80.0


class Lis3mdl(ChipDriver):
    """LIS3MDL at 0x1C/0x1E: one field reading (µT, chip axes) per read."""

    chip = "lis3mdl"
    part = CHIPS[chip].part
    who_am_i_register, chip_ids = 0x0F, {0x3D: "LIS3MDL"}

    om = Bits(0x20, 6, 5)  # CTRL_REG1
    do = Bits(0x20, 4, 2)
    fs = Bits(0x21, 6, 5)  # CTRL_REG2
    soft_rst = Bit(0x21, 2)
    ctrl_reg3 = Byte(0x22)
    omz = Bits(0x23, 3, 2)  # CTRL_REG4
    bdu = Bit(0x24, 6)  # CTRL_REG5
    OUT_X_L = 0x28

    def configure(self) -> float:
        """Continuous 80 Hz, ±4 gauss, ultra-high-performance; returns the output rate (Hz)."""
        self.soft_rst = 1
        self.clock.sleep(0.001)
        self.om, self.do, self.omz = 0b11, 0b111, 0b11
        self.fs = 0b00
        self.bdu = 1
        self.ctrl_reg3 = 0x00
        return ODR_HZ

    def read(self) -> np.ndarray:
        """The latest field (3,) in µT."""
        raw = np.frombuffer(self.device.read(self.OUT_X_L | AUTO_INCREMENT, 6), "<i2")
        return raw * (GAUSS_TO_UT / LSB_PER_GAUSS)
