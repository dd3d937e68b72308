"""STMicroelectronics LSM6DSOX (and LSM6DSO): 6-axis IMU with a tagged FIFO.

Datasheet DS12814 (rev 3). Facts used:

- WHO_AM_I 0x0F reads 0x6C (section 9, register description).
- CTRL1_XL 0x10: ODR_XL bits 7:4, FS_XL bits 3:2 (00 = ±2 g, 10 = ±4 g,
  11 = ±8 g, 01 = ±16 g), LPF2_XL_EN bit 1. CTRL2_G 0x11: ODR_G bits 7:4,
  FS_G bits 3:2 (00 = 250, 01 = 500, 10 = 1000, 11 = 2000 °/s). ODR codes
  1 = 12.5 Hz, 2 = 26, 3 = 52, 4 = 104, 5 = 208, 6 = 416, 7 = 833, 8 = 1666,
  9 = 3333, 10 = 6667 Hz.
- Sensitivities (Table 2, mechanical characteristics): 0.061 / 0.122 / 0.244 /
  0.488 mg/LSB at ±2/4/8/16 g; 8.75 / 17.50 / 35 / 70 m°/s per LSB at
  250/500/1000/2000 °/s. Output registers OUTX_L_G 0x22..OUTZ_H_A 0x2D:
  gyro X/Y/Z then accel X/Y/Z, little-endian.
- CTRL3_C 0x12: BDU bit 6, IF_INC bit 2 (on after reset), SW_RESET bit 0 (clears
  itself). CTRL8_XL 0x17: HPCF_XL bits 7:5; with LPF2_XL_EN and HPCF_XL = 000
  the accelerometer bandwidth is ODR/4 (accelerometer bandwidth table).
- FIFO (section 6.5): FIFO_CTRL3 0x09 BDR_GY bits 7:4, BDR_XL bits 3:0 (ODR
  codes); FIFO_CTRL4 0x0A FIFO_MODE bits 2:0 (000 bypass, also empties it; 110
  continuous: when full the oldest word is overwritten). FIFO_STATUS1/2
  0x3A-0x3B: DIFF_FIFO bits 9:0 = unread words, FIFO_OVR_IA = 0x3B bit 6. Each
  word is 7 bytes from FIFO_DATA_OUT_TAG 0x78: a tag byte (TAG_SENSOR bits 7:3,
  0x01 gyroscope, 0x02 accelerometer; TAG_CNT bits 2:1 numbers the time slot)
  then X/Y/Z little-endian; a burst read rolls over from 0x7E back to 0x78, so
  many words come in one read. The FIFO is sized here as 3 kbytes without
  compression, 438 words (the datasheet's "up to 9 kbytes" counts compression).
- Axes: the "Pin connections" figure of section 2 (right-handed, +Z up out of
  the package top).
"""

from __future__ import annotations

import numpy as np

from hiprot.chip_catalogue import CHIPS
from hiprot.sensors.base import (
    Configuration,
    ImuDriver,
    Reading,
    range_code,
    slowest_at_least,
)
from hiprot.sensors.registers import Bit, Bits, Byte
from hiprot.units import DEG_TO_RAD, STANDARD_GRAVITY

ODR_CODES = {
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
ACCEL_FS = {2: 0b00, 4: 0b10, 8: 0b11, 16: 0b01}
ACCEL_MG_PER_LSB = {2: 0.061, 4: 0.122, 8: 0.244, 16: 0.488}
GYRO_FS = {250: 0b00, 500: 0b01, 1000: 0b10, 2000: 0b11}
GYRO_MDPS_PER_LSB = {250: 8.75, 500: 17.5, 1000: 35.0, 2000: 70.0}
WORD = np.dtype([("tag", "u1"), ("xyz", "<i2", 3)])
TAG_GYRO, TAG_ACCEL = 0x01, 0x02
FIFO_WORDS = CHIPS["lsm6dsox"].fifo_bytes // WORD.itemsize
FIFO_OVR = 0x40
RESET_POLLS, RESET_WAIT_S, STARTUP_S = 10, 0.001, 0.07


class Lsm6dsFamily(ImuDriver):
    """What the LSM6DS3/LSM6DSO(X) family shares: identity register, control registers, scales."""

    who_am_i_register = 0x0F
    odr_xl = Bits(0x10, 7, 4)  # CTRL1_XL
    fs_xl = Bits(0x10, 3, 2)
    odr_g = Bits(0x11, 7, 4)  # CTRL2_G
    fs_g = Bits(0x11, 3, 2)
    ctrl3_c = Byte(0x12)
    bdu = Bit(0x12, 6)
    if_inc = Bit(0x12, 2)
    sw_reset = Bit(0x12, 0)
    OUTX_L_G = 0x22

    def _reset(self) -> None:
        self.sw_reset = 1
        for _ in range(RESET_POLLS):
            self.clock.sleep(RESET_WAIT_S)
            if not self.sw_reset:
                return

    def _set_rate_and_ranges(
        self, rate_hz: float, accel_range_g: float, gyro_range_dps: float
    ) -> tuple[int, float]:
        self.bdu, self.if_inc = 1, 1
        odr_code = slowest_at_least(ODR_CODES, rate_hz)
        self.fs_xl = range_code(ACCEL_FS, accel_range_g, "accelerometer")
        self.odr_xl = odr_code
        self.fs_g = range_code(GYRO_FS, gyro_range_dps, "gyroscope")
        self.odr_g = odr_code
        self._acc_scale = ACCEL_MG_PER_LSB[accel_range_g] * 1e-3 * STANDARD_GRAVITY
        self._gyr_scale = GYRO_MDPS_PER_LSB[gyro_range_dps] * 1e-3 * DEG_TO_RAD
        return odr_code, ODR_CODES[odr_code]

    def read_sample(self) -> Reading:
        raw = np.frombuffer(self.device.read(self.OUTX_L_G, 12), "<i2").astype(float)
        return Reading(raw[None, 3:6] * self._acc_scale, raw[None, 0:3] * self._gyr_scale)


class Lsm6dsox(Lsm6dsFamily):
    """LSM6DSOX/LSM6DSO at 0x6A/0x6B: gyro and accel words paired by their time-slot tag."""

    chip = "lsm6dsox"
    part = CHIPS[chip].part
    chip_ids = {0x6C: "LSM6DSOX/LSM6DSO"}

    lpf2_xl_en = Bit(0x10, 1)  # CTRL1_XL
    hpcf_xl = Bits(0x17, 7, 5)  # CTRL8_XL
    bdr_gy = Bits(0x09, 7, 4)  # FIFO_CTRL3
    bdr_xl = Bits(0x09, 3, 0)
    fifo_mode = Bits(0x0A, 2, 0)  # FIFO_CTRL4
    FIFO_STATUS1, FIFO_DATA_OUT_TAG = 0x3A, 0x78
    BYPASS, CONTINUOUS = 0b000, 0b110

    def configure(
        self, rate_hz: float, accel_range_g: float = 16, gyro_range_dps: float = 2000
    ) -> Configuration:
        self._reset()
        odr_code, odr = self._set_rate_and_ranges(rate_hz, accel_range_g, gyro_range_dps)
        self.hpcf_xl = 0
        self.lpf2_xl_en = 1
        self.bdr_gy, self.bdr_xl = odr_code, odr_code
        self.clock.sleep(STARTUP_S)
        self._pending = np.empty(0, WORD)
        self.configuration = Configuration(
            odr, accel_range_g, gyro_range_dps, odr / 4, None, FIFO_WORDS // 2
        )
        return self.configuration

    def start(self) -> None:
        self.fifo_mode = self.BYPASS
        self.fifo_mode = self.CONTINUOUS
        self._pending = np.empty(0, WORD)

    def read_fifo(self) -> Reading:
        status = self.device.read(self.FIFO_STATUS1, 2)
        words = status[0] | ((status[1] & 0x03) << 8)
        if status[1] & FIFO_OVR:
            self.start()
            return Reading.empty(overflow=True)
        if words == 0:
            return Reading.empty()
        data = np.frombuffer(self.device.read(self.FIFO_DATA_OUT_TAG, words * WORD.itemsize), WORD)
        return self._pair(np.concatenate([self._pending, data]))

    def _pair(self, words: np.ndarray) -> Reading:
        """Join each time slot's gyro and accel words; keep a half-read last slot for next time."""
        words = words[np.isin(words["tag"] >> 3, (TAG_GYRO, TAG_ACCEL))]
        self._pending = np.empty(0, WORD)
        if len(words) == 0:
            return Reading.empty()
        sensor, slot_tag = words["tag"] >> 3, (words["tag"] >> 1) & 0x03
        slot = np.concatenate([[0], np.cumsum(slot_tag[1:] != slot_tag[:-1])])
        is_gyro, is_accel = sensor == TAG_GYRO, sensor == TAG_ACCEL
        gyro_slots, accel_slots = slot[is_gyro], slot[is_accel]
        if len(np.unique(gyro_slots)) < len(gyro_slots) or len(np.unique(accel_slots)) < len(
            accel_slots
        ):
            self.start()
            return Reading.empty(overflow=True)
        complete = np.intersect1d(gyro_slots, accel_slots)
        if slot[-1] not in complete:
            self._pending = words[slot == slot[-1]]
        gyro = words[is_gyro][np.isin(gyro_slots, complete)]["xyz"]
        accel = words[is_accel][np.isin(accel_slots, complete)]["xyz"]
        return Reading(accel * self._acc_scale, gyro * self._gyr_scale)
