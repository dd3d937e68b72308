"""Emulated LIS3MDL magnetometer (DocID024204): latest field in little-endian output registers.

Multi-byte transfers auto-increment only when the register address has bit 7 set.
"""

from __future__ import annotations

from hiprot.sensors.emulated.chip import RegisterChip, put_le
from hiprot.sensors.emulated.motion import to_raw

ODR_HZ = {0: 0.625, 1: 1.25, 2: 2.5, 3: 5.0, 4: 10.0, 5: 20.0, 6: 40.0, 7: 80.0}
LSB_PER_GAUSS = {0: 6842.0, 1: 3421.0, 2: 2281.0, 3: 1711.0}
CTRL_REG1, CTRL_REG2, CTRL_REG3, STATUS_REG, OUT_X_L = 0x20, 0x21, 0x22, 0x27, 0x28


class EmulatedLis3mdl(RegisterChip):
    """The LIS3MDL as seen over I2C."""

    identity = (0x0F, 0x3D)
    defaults = {(0, CTRL_REG1): 0x10, (0, CTRL_REG3): 0x03}

    def read(self, register: int, length: int, now: float) -> bytes:
        if register & 0x80 or length == 1:
            return super().read(register & 0x7F, length, now)
        return bytes([super().read(register, 1, now)[0]]) * length

    def write(self, register: int, data: bytes, now: float) -> None:
        if register & 0x80 or len(data) == 1:
            super().write(register & 0x7F, data, now)
        else:
            for value in data:
                super().write(register, bytes([value]), now)

    def write_byte(self, register: int, value: int) -> None:
        if register == CTRL_REG2 and value & 0x04:
            self.power_on()
            return
        super().write_byte(register, value)

    def odr_hz(self) -> float | None:
        if self.regs[0][CTRL_REG3] & 0x03:
            return None
        return ODR_HZ[(self.regs[0][CTRL_REG1] >> 2) & 0x07]

    def emit(self, times, acc, gyr, mag) -> None:
        gauss_per_lsb = 1.0 / LSB_PER_GAUSS[(self.regs[0][CTRL_REG2] >> 5) & 0x03]
        put_le(self.regs[0], OUT_X_L, to_raw(mag[-1] / 100.0, gauss_per_lsb))
        self.regs[0][STATUS_REG] = 0x0F
