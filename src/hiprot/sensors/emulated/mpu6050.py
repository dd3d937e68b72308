"""Emulated MPU-6050 (RM-MPU-6000A-00): registers, big-endian data, a 1024-byte FIFO.

FIFO when full: the oldest bytes are lost (so samples come out misaligned) and
INT_STATUS.FIFO_OFLOW_INT (bit 4, cleared on read) is set, as the register map says.
"""

from __future__ import annotations

import numpy as np

from hiprot.sensors.emulated.chip import Fifo, RegisterChip, put_be
from hiprot.sensors.emulated.motion import to_raw
from hiprot.units import STANDARD_GRAVITY

GYRO_LSB_PER_DPS = {0: 131.0, 1: 65.5, 2: 32.8, 3: 16.4}
ACCEL_LSB_PER_G = {0: 16384.0, 1: 8192.0, 2: 4096.0, 3: 2048.0}
SMPLRT_DIV, CONFIG, GYRO_CONFIG, ACCEL_CONFIG, FIFO_EN = 0x19, 0x1A, 0x1B, 0x1C, 0x23
INT_STATUS, ACCEL_XOUT_H, USER_CTRL, PWR_MGMT_1 = 0x3A, 0x3B, 0x6A, 0x6B
FIFO_COUNTH, FIFO_COUNTL, FIFO_R_W = 0x72, 0x73, 0x74


class EmulatedMpu6050(RegisterChip):
    """The MPU-6050's registers and FIFO as seen over I2C."""

    identity = (0x75, 0x68)
    defaults = {(0, PWR_MGMT_1): 0x40}

    def make_fifo(self) -> Fifo:
        return Fifo(1024, keep_newest=True)

    def read_byte(self, register: int) -> int:
        if register == INT_STATUS:
            value = 0x10 if self.fifo.overflowed else 0x00
            self.fifo.overflowed = False
            return value | 0x01
        if register == FIFO_COUNTH:
            return len(self.fifo) >> 8
        if register == FIFO_COUNTL:
            return len(self.fifo) & 0xFF
        return super().read_byte(register)

    def read_stream(self, register: int, length: int) -> bytes | None:
        return self.fifo.pop(length, 0x00) if register == FIFO_R_W else None

    def write_byte(self, register: int, value: int) -> None:
        if register == PWR_MGMT_1 and value & 0x80:
            self.power_on()
            return
        if register == USER_CTRL and value & 0x04:
            self.fifo.clear()
            value &= ~0x04
        super().write_byte(register, value)

    def odr_hz(self) -> float | None:
        if self.regs[0][PWR_MGMT_1] & 0x40:
            return None
        dlpf = self.regs[0][CONFIG] & 0x07
        base = 8000.0 if dlpf in (0, 7) else 1000.0
        return base / (1 + self.regs[0][SMPLRT_DIV])

    def emit(self, times, acc, gyr, mag) -> None:
        acc_raw = to_raw(
            acc, STANDARD_GRAVITY / ACCEL_LSB_PER_G[(self.regs[0][ACCEL_CONFIG] >> 3) & 3]
        )
        gyr_raw = to_raw(
            np.degrees(gyr), 1.0 / GYRO_LSB_PER_DPS[(self.regs[0][GYRO_CONFIG] >> 3) & 3]
        )
        temp = np.zeros((len(times), 1), np.int16)
        put_be(self.regs[0], ACCEL_XOUT_H, np.concatenate([acc_raw[-1], temp[-1], gyr_raw[-1]]))
        if not self.regs[0][USER_CTRL] & 0x40:
            return
        enabled = self.regs[0][FIFO_EN]
        columns = [acc_raw] if enabled & 0x08 else []  # ACCEL_FIFO_EN: registers 59-64
        columns += [temp] if enabled & 0x80 else []  # TEMP_FIFO_EN: registers 65-66
        columns += [
            gyr_raw[:, [axis]] for axis, bit in enumerate((0x40, 0x20, 0x10)) if enabled & bit
        ]
        if columns:
            self.fifo.push(np.hstack(columns).astype(">i2").tobytes())
