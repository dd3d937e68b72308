"""Emulated LSM6DSOX (DS12814): control registers, little-endian data, a tagged FIFO.

Each output-data-rate tick stores a gyroscope word then an accelerometer word
with the same 2-bit time-slot counter (TAG_CNT). In continuous mode a full
FIFO loses its oldest words and raises FIFO_STATUS2.FIFO_OVR_IA (bit 6).
"""

from __future__ import annotations

import numpy as np

from hiprot.sensors.emulated.chip import Fifo, RegisterChip, put_le
from hiprot.sensors.emulated.motion import to_raw
from hiprot.units import STANDARD_GRAVITY

ODR_HZ = {
    1: 12.5,
    2: 26.0,
    3: 52.0,
    4: 104.0,
    5: 208.0,
    6: 416.0,
    7: 833.0,
    8: 1666.0,
    9: 3333.0,
    10: 6667.0,
}
ACCEL_MG_PER_LSB = {0b00: 0.061, 0b10: 0.122, 0b11: 0.244, 0b01: 0.488}
GYRO_MDPS_PER_LSB = {0b00: 8.75, 0b01: 17.5, 0b10: 35.0, 0b11: 70.0}
CTRL1_XL, CTRL2_G, CTRL3_C, OUTX_L_G = 0x10, 0x11, 0x12, 0x22
FIFO_CTRL3, FIFO_CTRL4, FIFO_STATUS1, FIFO_STATUS2, FIFO_DATA_OUT_TAG = 0x09, 0x0A, 0x3A, 0x3B, 0x78
WORD = np.dtype([("tag", "u1"), ("xyz", "<i2", 3)])
TAG_GYRO, TAG_ACCEL = 0x01, 0x02
ONES = np.array([bin(value).count("1") for value in range(256)])


def tag_byte(sensor: int, slot: np.ndarray) -> np.ndarray:
    """TAG_SENSOR bits 7:3, TAG_CNT bits 2:1, TAG_PARITY bit 0 (odd parity of bits 7:1)."""
    tag = (sensor << 3) | ((slot & 0x03) << 1)
    return (tag | (ONES[tag] & 1)).astype(np.uint8)


class EmulatedLsm6dsFamily(RegisterChip):
    """What the LSM6DS chips share: ODR and full-scale fields, output registers, soft reset."""

    defaults = {(0, CTRL3_C): 0x04}

    def write_byte(self, register: int, value: int) -> None:
        if register == CTRL3_C and value & 0x01:
            self.power_on()
            return
        super().write_byte(register, value)

    def next_address(self, register: int) -> int:
        return (register + 1) & 0xFF if self.regs[0][CTRL3_C] & 0x04 else register

    def odr_hz(self) -> float | None:
        gyro, accel = self.regs[0][CTRL2_G] >> 4, self.regs[0][CTRL1_XL] >> 4
        return ODR_HZ.get(gyro or accel)

    def raw(self, acc: np.ndarray, gyr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        acc_raw = to_raw(
            acc, ACCEL_MG_PER_LSB[(self.regs[0][CTRL1_XL] >> 2) & 3] * 1e-3 * STANDARD_GRAVITY
        )
        gyr_raw = to_raw(
            np.degrees(gyr), GYRO_MDPS_PER_LSB[(self.regs[0][CTRL2_G] >> 2) & 3] * 1e-3
        )
        put_le(self.regs[0], OUTX_L_G, np.concatenate([gyr_raw[-1], acc_raw[-1]]))
        return acc_raw, gyr_raw


class EmulatedLsm6dsox(EmulatedLsm6dsFamily):
    """The LSM6DSOX as seen over I2C."""

    identity = (0x0F, 0x6C)

    def power_on(self) -> None:
        super().power_on()
        self._slot = 0

    def make_fifo(self) -> Fifo:
        return Fifo(438 * WORD.itemsize, keep_newest=True, unit=WORD.itemsize)

    def read_byte(self, register: int) -> int:
        words = len(self.fifo) // WORD.itemsize
        if register == FIFO_STATUS1:
            return words & 0xFF
        if register == FIFO_STATUS2:
            return (words >> 8) & 0x03 | (0x40 if self.fifo.overflowed else 0)
        return super().read_byte(register)

    def read_stream(self, register: int, length: int) -> bytes | None:
        return self.fifo.pop(length, 0x00) if register == FIFO_DATA_OUT_TAG else None

    def write_byte(self, register: int, value: int) -> None:
        if register == FIFO_CTRL4 and value & 0x07 == 0:
            self.fifo.clear()
            self._slot = 0
        super().write_byte(register, value)

    def emit(self, times, acc, gyr, mag) -> None:
        acc_raw, gyr_raw = self.raw(acc, gyr)
        if self.regs[0][FIFO_CTRL4] & 0x07 not in (0b001, 0b110):
            return
        slots = self._slot + np.arange(len(times))
        self._slot = int(slots[-1] + 1) & 0x03
        words = np.zeros((len(times), 2), WORD)
        words[:, 0]["tag"], words[:, 0]["xyz"] = tag_byte(TAG_GYRO, slots), gyr_raw
        words[:, 1]["tag"], words[:, 1]["xyz"] = tag_byte(TAG_ACCEL, slots), acc_raw
        batched = [self.regs[0][FIFO_CTRL3] >> 4 != 0, self.regs[0][FIFO_CTRL3] & 0x0F != 0]
        self.fifo.push(words[:, batched].tobytes())
