"""Emulated ICM-20948 (DS-000189) with its AK09916 magnetometer on the internal auxiliary bus.

Four register banks; the FIFO (512 bytes, stream mode: oldest bytes lost,
INT_STATUS_2 bits 4:0 set) gets accel, gyro and the I2C master's slave-0 bytes
at the gyroscope rate. The I2C master runs slave 4 single transfers when
I2C_SLV4_CTRL.EN is written and copies slave 0's bytes into
EXT_SLV_SENS_DATA at every sample.
"""

from __future__ import annotations

import numpy as np

from hiprot.sensors.emulated.chip import Fifo, RegisterChip, put_be
from hiprot.sensors.emulated.motion import Motion, to_raw
from hiprot.units import STANDARD_GRAVITY

GYRO_LSB_PER_DPS = {0: 131.0, 1: 65.5, 2: 32.8, 3: 16.4}
ACCEL_LSB_PER_G = {0: 16384.0, 1: 8192.0, 2: 4096.0, 3: 2048.0}
# bank 0
USER_CTRL, PWR_MGMT_1, PWR_MGMT_2, I2C_MST_STATUS, INT_STATUS_2 = 0x03, 0x06, 0x07, 0x17, 0x1B
ACCEL_XOUT_H, EXT_SLV_SENS_DATA_00, FIFO_EN_1, FIFO_EN_2 = 0x2D, 0x3B, 0x66, 0x67
FIFO_RST, FIFO_MODE, FIFO_COUNTH, FIFO_COUNTL, FIFO_R_W, REG_BANK_SEL = (
    0x68,
    0x69,
    0x70,
    0x71,
    0x72,
    0x7F,
)
# bank 2
GYRO_SMPLRT_DIV, GYRO_CONFIG_1, ACCEL_CONFIG = 0x00, 0x01, 0x14
# bank 3
I2C_SLV0_ADDR, I2C_SLV0_REG, I2C_SLV0_CTRL = 0x03, 0x04, 0x05
I2C_SLV4_ADDR, I2C_SLV4_REG, I2C_SLV4_CTRL, I2C_SLV4_DO, I2C_SLV4_DI = 0x13, 0x14, 0x15, 0x16, 0x17

# AK09916 (DS-000189 section 13)
AK_ADDRESS, AK_ST1, AK_HXL, AK_ST2, AK_CNTL2, AK_CNTL3 = 0x0C, 0x10, 0x11, 0x18, 0x31, 0x32
AK_UT_PER_LSB = 0.15
AK_RATES_HZ = {0x02: 10.0, 0x04: 20.0, 0x06: 50.0, 0x08: 100.0}
AK_FROM_ACCEL_AXES = np.array([1.0, -1.0, -1.0])


class EmulatedAk09916(RegisterChip):
    """The AK09916: identity, mode registers, and field samples at its continuous-mode rate."""

    identity = (0x01, 0x09)
    defaults = {(0, 0x00): 0x48}

    def write_byte(self, register: int, value: int) -> None:
        if register == AK_CNTL3 and value & 0x01:
            self.power_on()
            return
        super().write_byte(register, value)

    def measuring(self) -> bool:
        return self.regs[0][AK_CNTL2] in AK_RATES_HZ

    def registers_at(self, times: np.ndarray, register: int, length: int) -> np.ndarray:
        """(n, length) bytes the chip would return from ``register`` at each of ``times``."""
        block = np.zeros((len(times), 0x19), np.uint8)
        if self.measuring():
            rate = AK_RATES_HZ[self.regs[0][AK_CNTL2]]
            sampled = np.floor(times * rate) / rate
            _, _, mag = self.motion.at(sampled)
            raw = np.clip(np.rint(mag * AK_FROM_ACCEL_AXES / AK_UT_PER_LSB), -32752, 32752)
            block[:, AK_ST1] = 0x01
            block[:, AK_HXL : AK_HXL + 6] = raw.astype("<i2").view(np.uint8).reshape(-1, 6)
        block[:, :0x10] = np.frombuffer(bytes(self.regs[0][:0x10]), np.uint8)
        return block[:, register : register + length]


class EmulatedIcm20948(RegisterChip):
    """The ICM-20948's banks, FIFO and I2C master as seen over I2C."""

    identity = (0x00, 0xEA)
    banks = 4
    defaults = {(0, PWR_MGMT_1): 0x41, (2, GYRO_CONFIG_1): 0x01, (2, ACCEL_CONFIG): 0x01}

    def __init__(self, motion: Motion | None = None, chip_id: int | None = None):
        self.magnetometer = EmulatedAk09916(motion)
        super().__init__(motion, chip_id)

    def power_on(self) -> None:
        super().power_on()
        self.magnetometer.power_on()
        self._slv4_status = 0

    def make_fifo(self) -> Fifo:
        return Fifo(512, keep_newest=True)

    def read_byte(self, register: int) -> int:
        if register == REG_BANK_SEL:
            return self.bank << 4
        if self.bank == 0:
            if register == INT_STATUS_2:
                value = 0x1F if self.fifo.overflowed else 0x00
                self.fifo.overflowed = False
                return value
            if register == I2C_MST_STATUS:
                value, self._slv4_status = self._slv4_status, 0
                return value
            if register == FIFO_COUNTH:
                return (len(self.fifo) >> 8) & 0x1F
            if register == FIFO_COUNTL:
                return len(self.fifo) & 0xFF
        return super().read_byte(register)

    def read_stream(self, register: int, length: int) -> bytes | None:
        if self.bank == 0 and register == FIFO_R_W:
            return self.fifo.pop(length, 0xFF)
        return None

    def write_byte(self, register: int, value: int) -> None:
        if register == REG_BANK_SEL:
            self.bank = (value >> 4) & 0x03
            return
        if self.bank == 0 and register == PWR_MGMT_1 and value & 0x80:
            self.power_on()
            return
        if self.bank == 0 and register == FIFO_RST and value & 0x1F:
            self.fifo.clear()
        super().write_byte(register, value)
        if self.bank == 3 and register == I2C_SLV4_CTRL and value & 0x80:
            self._slave4_transfer()

    def _slave4_transfer(self) -> None:
        if not self.regs[0][USER_CTRL] & 0x20:
            return
        self.regs[3][I2C_SLV4_CTRL] &= 0x7F
        address, register = self.regs[3][I2C_SLV4_ADDR], self.regs[3][I2C_SLV4_REG]
        if address & 0x7F != AK_ADDRESS:
            self._slv4_status = 0x50  # SLV4_DONE | SLV4_NACK
            return
        if address & 0x80:
            self.regs[3][I2C_SLV4_DI] = self.magnetometer.read(register, 1, self._now)[0]
        else:
            self.magnetometer.write(register, bytes([self.regs[3][I2C_SLV4_DO]]), self._now)
        self._slv4_status = 0x40

    def odr_hz(self) -> float | None:
        if self.regs[0][PWR_MGMT_1] & 0x40 or self.regs[0][PWR_MGMT_2] & 0x3F:
            return None
        return 1100.0 / (1 + self.regs[2][GYRO_SMPLRT_DIV])

    def _slave0_bytes(self, times: np.ndarray) -> np.ndarray:
        control, address = self.regs[3][I2C_SLV0_CTRL], self.regs[3][I2C_SLV0_ADDR]
        if not (self.regs[0][USER_CTRL] & 0x20 and control & 0x80 and address & 0x80):
            return np.zeros((len(times), 0), np.uint8)
        length = control & 0x0F
        if address & 0x7F != AK_ADDRESS:
            return np.zeros((len(times), length), np.uint8)
        return self.magnetometer.registers_at(times, self.regs[3][I2C_SLV0_REG], length)

    def emit(self, times, acc, gyr, mag) -> None:
        acc_raw = to_raw(
            acc, STANDARD_GRAVITY / ACCEL_LSB_PER_G[(self.regs[2][ACCEL_CONFIG] >> 1) & 3]
        )
        gyr_raw = to_raw(
            np.degrees(gyr), 1.0 / GYRO_LSB_PER_DPS[(self.regs[2][GYRO_CONFIG_1] >> 1) & 3]
        )
        external = self._slave0_bytes(times)
        put_be(self.regs[0], ACCEL_XOUT_H, np.concatenate([acc_raw[-1], gyr_raw[-1]]))
        if external.shape[1]:
            self.regs[0][EXT_SLV_SENS_DATA_00 : EXT_SLV_SENS_DATA_00 + external.shape[1]] = (
                external[-1].tobytes()
            )
        if not self.regs[0][USER_CTRL] & 0x40:
            return
        enabled = self.regs[0][FIFO_EN_2]
        columns = (
            [acc_raw.astype(">i2").view(np.uint8).reshape(len(times), 6)] if enabled & 0x10 else []
        )
        columns += [
            gyr_raw[:, [axis]].astype(">i2").view(np.uint8).reshape(len(times), 2)
            for axis, bit in enumerate((0x02, 0x04, 0x08))
            if enabled & bit
        ]
        columns += [np.zeros((len(times), 2), np.uint8)] if enabled & 0x01 else []
        columns += [external] if self.regs[0][FIFO_EN_1] & 0x01 else []
        if columns:
            self.fifo.push(np.hstack(columns).tobytes())
