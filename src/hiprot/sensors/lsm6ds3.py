"""STMicroelectronics LSM6DS3 and LSM6DS3TR-C: the older members of the LSM6DS family.

Rate, range, output registers and scales are those of the LSM6DSOX (see
:mod:`hiprot.sensors.lsm6dsox`); the FIFO differs. LSM6DS3 datasheet
DocID026899 (rev 10) and LSM6DS3TR-C DS11889; facts used:

- WHO_AM_I 0x0F reads 0x69 (LSM6DS3) or 0x6A (LSM6DS3TR-C, also LSM6DSL).
- FIFO without tags, in 16-bit words following a pattern: gyroscope X/Y/Z
  then accelerometer X/Y/Z when both are batched undecimated (section 8,
  "FIFO"). FIFO_CTRL3 0x08: DEC_FIFO_GYRO bits 5:3, DEC_FIFO_XL bits 2:0
  (001 = no decimation); FIFO_CTRL5 0x0A: ODR_FIFO bits 6:3 (ODR codes),
  FIFO_MODE bits 2:0 (000 bypass, 110 continuous, oldest overwritten).
- FIFO_STATUS1/2 0x3A-0x3B: unread words DIFF_FIFO (12 bits on the LSM6DS3,
  11 on the TR-C), OVER_RUN = 0x3B bit 6; FIFO_STATUS3/4 0x3C-0x3D: the
  pattern position of the next word. FIFO_DATA_OUT_L/H 0x3E-0x3F, read in
  bursts (the address rolls back to 0x3E).
- FIFO size: 8 kbytes on the LSM6DS3, 4 kbytes on the LSM6DS3TR-C.
- The accelerometer's anti-aliasing filter follows the ODR after reset;
  the driver leaves it there (no extra filter is configured).
"""

from __future__ import annotations

import numpy as np

from hiprot.chip_catalogue import CHIPS
from hiprot.sensors.base import Configuration, Reading
from hiprot.sensors.lsm6dsox import STARTUP_S, Lsm6dsFamily
from hiprot.sensors.registers import Bits

PATTERN_WORDS = 6
# 16-bit words: the LSM6DS3's 8 kbytes (the catalogue's figure), the LSM6DS3TR-C's 4 kbytes
FIFO_WORDS = {0x69: CHIPS["lsm6ds3"].fifo_bytes // 2, 0x6A: 2048}
DIFF_HIGH_MASK = {0x69: 0x0F, 0x6A: 0x07}
OVER_RUN = 0x40


class Lsm6ds3(Lsm6dsFamily):
    """LSM6DS3/LSM6DS3TR-C at 0x6A/0x6B: whole gyro+accel patterns read from the FIFO."""

    chip = "lsm6ds3"
    part = CHIPS[chip].part
    chip_ids = {0x69: "LSM6DS3", 0x6A: "LSM6DS3TR-C/LSM6DSL"}

    dec_fifo_gyro = Bits(0x08, 5, 3)  # FIFO_CTRL3
    dec_fifo_xl = Bits(0x08, 2, 0)
    odr_fifo = Bits(0x0A, 6, 3)  # FIFO_CTRL5
    fifo_mode = Bits(0x0A, 2, 0)
    FIFO_STATUS1, FIFO_DATA_OUT_L = 0x3A, 0x3E
    BYPASS, CONTINUOUS = 0b000, 0b110

    def configure(
        self, rate_hz: float, accel_range_g: float = 16, gyro_range_dps: float = 2000
    ) -> Configuration:
        self._reset()
        odr_code, odr = self._set_rate_and_ranges(rate_hz, accel_range_g, gyro_range_dps)
        self.dec_fifo_gyro, self.dec_fifo_xl = 0b001, 0b001
        self.odr_fifo = odr_code
        self.clock.sleep(STARTUP_S)
        self._id = self.chip_id if self.chip_id in FIFO_WORDS else 0x69
        self.configuration = Configuration(
            odr, accel_range_g, gyro_range_dps, None, None, FIFO_WORDS[self._id] // PATTERN_WORDS
        )
        return self.configuration

    def start(self) -> None:
        self.fifo_mode = self.BYPASS
        self.fifo_mode = self.CONTINUOUS

    def read_fifo(self) -> Reading:
        status = self.device.read(self.FIFO_STATUS1, 4)
        words = status[0] | ((status[1] & DIFF_HIGH_MASK[self._id]) << 8)
        position = status[2] | ((status[3] & 0x03) << 8)
        if status[1] & OVER_RUN:
            self.start()
            return Reading.empty(overflow=True)
        skip = (PATTERN_WORDS - position) % PATTERN_WORDS
        whole = (words - skip) // PATTERN_WORDS if words >= skip else 0
        if whole == 0:
            return Reading.empty()
        data = self.device.read(self.FIFO_DATA_OUT_L, 2 * (skip + whole * PATTERN_WORDS))
        raw = np.frombuffer(data, "<i2")[skip:].reshape(-1, PATTERN_WORDS).astype(float)
        return Reading(raw[:, 3:6] * self._acc_scale, raw[:, 0:3] * self._gyr_scale)
