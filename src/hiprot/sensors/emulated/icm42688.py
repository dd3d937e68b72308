"""Emulated ICM-42688-P (DS-000347): bank-0 registers, big-endian data, 16-byte FIFO packets.

FIFO when full: new packets are refused and INT_STATUS.FIFO_FULL (bit 1,
cleared on read) is set, so a driver must notice and flush. Readings saturate
at ±32767: -32768 is the chip's "no valid data" value.
"""

from __future__ import annotations

import numpy as np

from hiprot.sensors.emulated.chip import Fifo, RegisterChip, put_be
from hiprot.sensors.emulated.motion import to_raw
from hiprot.units import STANDARD_GRAVITY

ODR_HZ = {
    1: 32000.0,
    2: 16000.0,
    3: 8000.0,
    4: 4000.0,
    5: 2000.0,
    6: 1000.0,
    7: 200.0,
    8: 100.0,
    9: 50.0,
    10: 25.0,
    11: 12.5,
    15: 500.0,
}
GYRO_LSB_PER_DPS = {0: 16.4, 1: 32.8, 2: 65.5, 3: 131.0, 4: 262.0, 5: 524.3, 6: 1048.6, 7: 2097.2}
ACCEL_LSB_PER_G = {0: 2048.0, 1: 4096.0, 2: 8192.0, 3: 16384.0}
PACKET = np.dtype(
    [("header", "u1"), ("acc", ">i2", 3), ("gyr", ">i2", 3), ("temp", "i1"), ("timestamp", ">u2")]
)
DEVICE_CONFIG, INT_STATUS, FIFO_COUNTH, FIFO_COUNTL, FIFO_DATA = 0x11, 0x2D, 0x2E, 0x2F, 0x30
FIFO_CONFIG, ACCEL_DATA_X1, SIGNAL_PATH_RESET, PWR_MGMT0 = 0x16, 0x1F, 0x4B, 0x4E
GYRO_CONFIG0, ACCEL_CONFIG0, FIFO_CONFIG1, REG_BANK_SEL = 0x4F, 0x50, 0x5F, 0x76
FIFO_LOST_PKT0 = 0x6C


class EmulatedIcm42688(RegisterChip):
    """The ICM-42688-P's registers and FIFO as seen over I2C."""

    identity = (0x75, 0x47)
    banks = 5
    defaults = {
        (0, 0x4C): 0x30,
        (0, GYRO_CONFIG0): 0x06,
        (0, ACCEL_CONFIG0): 0x06,
        (0, 0x52): 0x11,
        (0, INT_STATUS): 0x10,
    }

    def make_fifo(self) -> Fifo:
        return Fifo(2048, keep_newest=False, unit=PACKET.itemsize)

    def read_byte(self, register: int) -> int:
        if register == REG_BANK_SEL:
            return self.bank
        if self.bank == 0:
            if register == INT_STATUS:
                value = self.regs[0][INT_STATUS] | (0x02 if self.fifo.overflowed else 0)
                self.regs[0][INT_STATUS] = 0
                self.fifo.overflowed = False
                return value
            if register == FIFO_COUNTH:
                return len(self.fifo) >> 8
            if register == FIFO_COUNTL:
                return len(self.fifo) & 0xFF
            if register in (FIFO_LOST_PKT0, FIFO_LOST_PKT0 + 1):
                return (self.fifo.lost_units >> (8 * (register - FIFO_LOST_PKT0))) & 0xFF
        return super().read_byte(register)

    def read_stream(self, register: int, length: int) -> bytes | None:
        if self.bank == 0 and register == FIFO_DATA:
            return self.fifo.pop(length, 0xFF)
        return None

    def write_byte(self, register: int, value: int) -> None:
        if register == REG_BANK_SEL:
            self.bank = value & 0x07
            return
        if self.bank == 0 and register == DEVICE_CONFIG and value & 0x01:
            self.power_on()
            return
        if self.bank == 0 and register == SIGNAL_PATH_RESET:
            if value & 0x02:
                self.fifo.clear()
            return
        super().write_byte(register, value)

    def odr_hz(self) -> float | None:
        power = self.regs[0][PWR_MGMT0]
        if (power >> 2) & 0x03 != 0x03 or power & 0x03 != 0x03:
            return None
        return ODR_HZ.get(self.regs[0][GYRO_CONFIG0] & 0x0F)

    def emit(self, times, acc, gyr, mag) -> None:
        acc_raw = np.maximum(
            to_raw(acc, STANDARD_GRAVITY / ACCEL_LSB_PER_G[self.regs[0][ACCEL_CONFIG0] >> 5]),
            -32767,
        )
        gyr_raw = np.maximum(
            to_raw(np.degrees(gyr), 1.0 / GYRO_LSB_PER_DPS[self.regs[0][GYRO_CONFIG0] >> 5]), -32767
        )
        put_be(self.regs[0], ACCEL_DATA_X1, np.concatenate([acc_raw[-1], gyr_raw[-1]]))
        fifo_on = self.regs[0][FIFO_CONFIG] >> 6 != 0
        if fifo_on and self.regs[0][FIFO_CONFIG1] & 0x03 == 0x03:
            packets = np.zeros(len(times), PACKET)
            packets["header"] = 0x68
            packets["acc"], packets["gyr"] = acc_raw, gyr_raw
            packets["timestamp"] = np.rint(times * 1e6).astype(np.int64) & 0xFFFF
            self.fifo.push(packets.tobytes())
