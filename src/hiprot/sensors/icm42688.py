"""TDK InvenSense ICM-42688-P: the lowest-noise gyroscope of the cheap 6-axis chips.

Datasheet DS-000347 (rev 1.8). Facts used, with their place in it:

- WHO_AM_I (bank 0, 0x75) reads 0x47; REG_BANK_SEL (0x76, bits 2:0) exists in
  every bank; everything here is in bank 0 (section 14, "User bank 0 register map").
- Sensor and FIFO data are big-endian and the FIFO count is in bytes after
  reset (INTF_CONFIG0 0x4C: SENSOR_DATA_ENDIAN bit 4 = 1, FIFO_COUNT_ENDIAN
  bit 5 = 1, FIFO_COUNT_REC bit 6 = 0); the driver writes them anyway.
- Gyroscope sensitivity 16.4 / 32.8 / 65.5 / 131 LSB/(°/s) at ±2000 / 1000 /
  500 / 250 °/s (section 3.1, Table 1); GYRO_CONFIG0 0x4F: GYRO_FS_SEL bits 7:5
  (0 = ±2000), GYRO_ODR bits 3:0.
- Accelerometer sensitivity 2048 / 4096 / 8192 / 16384 LSB/g at ±16 / 8 / 4 /
  2 g (section 3.2, Table 2); ACCEL_CONFIG0 0x50: ACCEL_FS_SEL bits 7:5 (0 =
  ±16 g), ACCEL_ODR bits 3:0. ODR codes: 3 = 8 kHz, 4 = 4 kHz, 5 = 2 kHz,
  6 = 1 kHz, 7 = 200 Hz, 8 = 100 Hz, 9 = 50 Hz, 10 = 25 Hz, 11 = 12.5 Hz,
  15 = 500 Hz.
- UI filter bandwidth GYRO_ACCEL_CONFIG0 0x52 (ACCEL_UI_FILT_BW bits 7:4,
  GYRO_UI_FILT_BW bits 3:0): code 1..7 = max(400 Hz, ODR) / 4, 5, 8, 10, 16,
  20, 40.
- PWR_MGMT0 0x4E: GYRO_MODE bits 3:2 and ACCEL_MODE bits 1:0, 3 = low noise;
  the gyroscope needs tens of ms to start (start-up time, Table 1); until a
  sensor runs its data read -32768.
- FIFO: 2048 bytes; FIFO_CONFIG 0x16 bits 7:6 = 1 stream mode; FIFO_CONFIG1
  0x5F enables accel (bit 0), gyro (bit 1), temperature (bit 2); with accel and
  gyro on, each packet (section 6, "FIFO packet structure", packet 3) is 16
  bytes: header, accel X/Y/Z, gyro X/Y/Z (16-bit), temperature (8-bit),
  timestamp (16-bit). Header bit 7 = FIFO empty, bit 6 = accel, bit 5 = gyro.
  FIFO_COUNTH/L 0x2E-0x2F, FIFO_DATA 0x30 (a read streams FIFO bytes),
  SIGNAL_PATH_RESET 0x4B bit 1 flushes it, INT_STATUS 0x2D bit 1 = FIFO full.
- Axes: as drawn in the datasheet's "Orientation of axes of sensitivity"
  figure (right-handed, +Z out of the package top); samples keep these axes.
"""

from __future__ import annotations

import numpy as np

from hiprot.chip_catalogue import CHIPS
from hiprot.sensors.base import (
    FILTER_FRACTION,
    Configuration,
    ImuDriver,
    Reading,
    range_code,
    slowest_at_least,
    widest_at_most,
)
from hiprot.sensors.registers import Bit, Bits
from hiprot.units import DEG_TO_RAD, STANDARD_GRAVITY

FIFO_BYTES = CHIPS["icm42688"].fifo_bytes
PACKET = np.dtype(
    [("header", "u1"), ("acc", ">i2", 3), ("gyr", ">i2", 3), ("temp", "i1"), ("timestamp", ">u2")]
)
HEADER_EMPTY, HEADER_ACCEL, HEADER_GYRO = 0x80, 0x40, 0x20
FIFO_FULL = 0x02  # INT_STATUS bit 1
INVALID = -32768

ODR_CODES = {
    11: 12.5,
    10: 25.0,
    9: 50.0,
    8: 100.0,
    7: 200.0,
    15: 500.0,
    6: 1000.0,
    5: 2000.0,
    4: 4000.0,
    3: 8000.0,
}
GYRO_FS = {2000: 0, 1000: 1, 500: 2, 250: 3}
GYRO_LSB_PER_DPS = {2000: 16.4, 1000: 32.8, 500: 65.5, 250: 131.0}
ACCEL_FS = {16: 0, 8: 1, 4: 2, 2: 3}
ACCEL_LSB_PER_G = {16: 2048.0, 8: 4096.0, 4: 8192.0, 2: 16384.0}
FILTER_DIVISORS = {1: 4, 2: 5, 3: 8, 4: 10, 5: 16, 6: 20, 7: 40}
STARTUP_S = 0.05


class Icm42688(ImuDriver):
    """ICM-42688-P at 0x68/0x69: FIFO packets of accel + gyro read in one burst."""

    chip = "icm42688"
    part = CHIPS[chip].part
    who_am_i_register, chip_ids = 0x75, {0x47: "ICM-42688-P"}

    soft_reset = Bit(0x11, 0)  # DEVICE_CONFIG.SOFT_RESET_CONFIG
    fifo_mode = Bits(0x16, 7, 6)  # FIFO_CONFIG.FIFO_MODE
    fifo_flush = Bit(0x4B, 1)  # SIGNAL_PATH_RESET.FIFO_FLUSH
    fifo_count_rec = Bit(0x4C, 6)  # INTF_CONFIG0
    fifo_count_endian = Bit(0x4C, 5)
    sensor_data_endian = Bit(0x4C, 4)
    gyro_mode = Bits(0x4E, 3, 2)  # PWR_MGMT0
    accel_mode = Bits(0x4E, 1, 0)
    gyro_fs_sel = Bits(0x4F, 7, 5)  # GYRO_CONFIG0
    gyro_odr = Bits(0x4F, 3, 0)
    accel_fs_sel = Bits(0x50, 7, 5)  # ACCEL_CONFIG0
    accel_odr = Bits(0x50, 3, 0)
    accel_ui_filt_bw = Bits(0x52, 7, 4)  # GYRO_ACCEL_CONFIG0
    gyro_ui_filt_bw = Bits(0x52, 3, 0)
    fifo_temp_en = Bit(0x5F, 2)  # FIFO_CONFIG1
    fifo_gyro_en = Bit(0x5F, 1)
    fifo_accel_en = Bit(0x5F, 0)
    bank_sel = Bits(0x76, 2, 0)  # REG_BANK_SEL
    INT_STATUS, FIFO_COUNTH, FIFO_DATA, ACCEL_DATA_X1 = 0x2D, 0x2E, 0x30, 0x1F

    def configure(
        self, rate_hz: float, accel_range_g: float = 16, gyro_range_dps: float = 2000
    ) -> Configuration:
        self.soft_reset = 1
        self.clock.sleep(0.001)
        self.bank_sel = 0
        self.sensor_data_endian, self.fifo_count_endian, self.fifo_count_rec = 1, 1, 0
        odr_code = slowest_at_least(ODR_CODES, rate_hz)
        odr = ODR_CODES[odr_code]
        self.gyro_fs_sel = range_code(GYRO_FS, gyro_range_dps, "gyroscope")
        self.gyro_odr = odr_code
        self.accel_fs_sel = range_code(ACCEL_FS, accel_range_g, "accelerometer")
        self.accel_odr = odr_code
        bandwidths = {code: max(400.0, odr) / div for code, div in FILTER_DIVISORS.items()}
        filter_code = widest_at_most(bandwidths, FILTER_FRACTION * odr)
        self.accel_ui_filt_bw = filter_code
        self.gyro_ui_filt_bw = filter_code
        self.fifo_accel_en, self.fifo_gyro_en, self.fifo_temp_en = 1, 1, 1
        self.fifo_mode = 1
        self.gyro_mode, self.accel_mode = 3, 3
        self.clock.sleep(STARTUP_S)
        self._acc_scale = STANDARD_GRAVITY / ACCEL_LSB_PER_G[accel_range_g]
        self._gyr_scale = DEG_TO_RAD / GYRO_LSB_PER_DPS[gyro_range_dps]
        self.configuration = Configuration(
            odr,
            accel_range_g,
            gyro_range_dps,
            bandwidths[filter_code],
            bandwidths[filter_code],
            FIFO_BYTES // PACKET.itemsize,
        )
        return self.configuration

    def start(self) -> None:
        self.device.write(0x4B, 0x02)  # FIFO_FLUSH; the other bits of the register are strobes
        self.device.read(self.INT_STATUS, 3)

    def read_fifo(self) -> Reading:
        status = self.device.read(self.INT_STATUS, 3)  # INT_STATUS, FIFO_COUNTH, FIFO_COUNTL
        count = int.from_bytes(status[1:3], "big")
        if status[0] & FIFO_FULL or count > FIFO_BYTES - PACKET.itemsize:
            self.start()
            return Reading.empty(overflow=True)
        packets = count // PACKET.itemsize
        if packets == 0:
            return Reading.empty()
        return self._parse(self.device.read(self.FIFO_DATA, packets * PACKET.itemsize))

    def _parse(self, data: bytes) -> Reading:
        packets = np.frombuffer(data, PACKET)
        empty = np.flatnonzero(packets["header"] & HEADER_EMPTY)
        if len(empty):
            packets = packets[: empty[0]]
        if np.any(packets["header"] & (HEADER_ACCEL | HEADER_GYRO) != HEADER_ACCEL | HEADER_GYRO):
            self.start()
            return Reading.empty(overflow=True)
        acc, gyr = packets["acc"].astype(float), packets["gyr"].astype(float)
        valid = ~((packets["acc"] == INVALID).any(axis=1) | (packets["gyr"] == INVALID).any(axis=1))
        return Reading(acc * self._acc_scale, gyr * self._gyr_scale, valid=valid)

    def read_sample(self) -> Reading:
        raw = np.frombuffer(self.device.read(self.ACCEL_DATA_X1, 12), ">i2").astype(float)
        return Reading(raw[None, 0:3] * self._acc_scale, raw[None, 3:6] * self._gyr_scale)
