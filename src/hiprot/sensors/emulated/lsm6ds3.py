"""Emulated LSM6DS3 / LSM6DS3TR-C: the LSM6DS control registers with the older untagged FIFO.

Undecimated gyro and accel are stored as a pattern of six 16-bit words (Gx Gy
Gz Ax Ay Az); FIFO_STATUS3/4 give the pattern position of the next word; a
full FIFO in continuous mode loses its oldest words and sets OVER_RUN.
"""

from __future__ import annotations

import numpy as np

from hiprot.sensors.emulated.chip import Fifo
from hiprot.sensors.emulated.lsm6dsox import EmulatedLsm6dsFamily

FIFO_CTRL3, FIFO_CTRL5 = 0x08, 0x0A
FIFO_STATUS1, FIFO_STATUS2, FIFO_STATUS3, FIFO_STATUS4, FIFO_DATA_OUT_L = (
    0x3A,
    0x3B,
    0x3C,
    0x3D,
    0x3E,
)
FIFO_WORDS = {0x69: 4096, 0x6A: 2048}


class EmulatedLsm6ds3(EmulatedLsm6dsFamily):
    """The LSM6DS3 (WHO_AM_I 0x69; pass ``chip_id=0x6A`` for the LSM6DS3TR-C)."""

    identity = (0x0F, 0x69)

    def power_on(self) -> None:
        super().power_on()
        self._words_gone = 0  # words read or overwritten since the FIFO was emptied

    def make_fifo(self) -> Fifo:
        return Fifo(FIFO_WORDS.get(self.chip_id, 4096) * 2, keep_newest=True, unit=2)

    def read_byte(self, register: int) -> int:
        words = len(self.fifo) // 2
        if register == FIFO_STATUS1:
            return words & 0xFF
        if register == FIFO_STATUS2:
            high = 0x0F if self.chip_id == 0x69 else 0x07
            return (
                (words >> 8) & high
                | (0x40 if self.fifo.overflowed else 0)
                | (0x10 if not words else 0)
            )
        position = (self._words_gone + self.fifo.lost_units) % 6
        if register == FIFO_STATUS3:
            return position & 0xFF
        if register == FIFO_STATUS4:
            return position >> 8
        return super().read_byte(register)

    def read_stream(self, register: int, length: int) -> bytes | None:
        if register != FIFO_DATA_OUT_L:
            return None
        self._words_gone += length // 2
        return self.fifo.pop(length, 0x00)

    def write_byte(self, register: int, value: int) -> None:
        if register == FIFO_CTRL5 and value & 0x07 == 0:
            self.fifo.clear()
            self.fifo.lost_units = 0
            self._words_gone = 0
        super().write_byte(register, value)

    def emit(self, times, acc, gyr, mag) -> None:
        acc_raw, gyr_raw = self.raw(acc, gyr)
        control = self.regs[0][FIFO_CTRL5]
        if control & 0x07 not in (0b001, 0b110) or not control >> 3:
            return
        if self.regs[0][FIFO_CTRL3] != 0b001001:
            raise NotImplementedError(
                "the emulated LSM6DS3 FIFO batches undecimated gyro and accel only"
            )
        self.fifo.push(np.hstack([gyr_raw, acc_raw]).astype("<i2").tobytes())
