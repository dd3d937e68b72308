"""InvenSense MPU-6050: cheap and everywhere, though legacy (not recommended for new designs).

Product specification PS-MPU-6000A-00 (rev 3.4) and register map
RM-MPU-6000A-00 (rev 4.2). Facts used:

- WHO_AM_I (register 117, 0x75) reads 0x68 (RM register 117).
- Sample rate = gyroscope output rate / (1 + SMPLRT_DIV) (RM register 25,
  0x19); the gyroscope output rate is 1 kHz when DLPF_CFG is 1-6 (RM register 26).
- CONFIG (register 26, 0x1A): DLPF_CFG bits 2:0, EXT_SYNC_SET bits 5:3. The
  low-pass bandwidths (accel / gyro, Hz): 1 = 184/188, 2 = 94/98, 3 = 44/42,
  4 = 21/20, 5 = 10/10, 6 = 5/5. (Adafruit's driver once wrote this field into
  the wrong bits; the tests check it bit by bit.)
- GYRO_CONFIG (register 27, 0x1B) FS_SEL bits 4:3: ±250/500/1000/2000 °/s at
  131/65.5/32.8/16.4 LSB/(°/s) (PS section 6.1, gyroscope specifications).
- ACCEL_CONFIG (register 28, 0x1C) AFS_SEL bits 4:3: ±2/4/8/16 g at
  16384/8192/4096/2048 LSB/g (PS section 6.2, accelerometer specifications).
- FIFO: 1024 bytes (PS section 7.17). FIFO_EN (register 35, 0x23): XG bit 6,
  YG bit 5, ZG bit 4, ACCEL bit 3. Data enter in register order, so a sample is
  ACCEL_XOUT_H..ACCEL_ZOUT_L then GYRO_XOUT_H..GYRO_ZOUT_L, big-endian (RM
  register 116, FIFO_R_W 0x74; FIFO_COUNTH/L 0x72-0x73 count bytes). On
  overflow the oldest bytes are lost and INT_STATUS (register 58, 0x3A) bit 4
  FIFO_OFLOW_INT is set; 1024 is no multiple of 12, so the driver then flushes.
- USER_CTRL (register 106, 0x6A): FIFO_EN bit 6, FIFO_RESET bit 2.
  PWR_MGMT_1 (register 107, 0x6B): DEVICE_RESET bit 7, SLEEP bit 6 (set after
  reset), CLKSEL bits 2:0 (1 = PLL on the X gyroscope, recommended).
- Axes: PS section 7, "Orientation of axes of sensitivity and polarity of rotation".
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
    widest_at_most,
)
from hiprot.sensors.registers import Bit, Bits, Byte
from hiprot.units import DEG_TO_RAD, STANDARD_GRAVITY

FIFO_BYTES = CHIPS["mpu6050"].fifo_bytes
SAMPLE = np.dtype([("acc", ">i2", 3), ("gyr", ">i2", 3)])
GYRO_OUTPUT_HZ = 1000.0
DLPF_GYRO_HZ = {1: 188.0, 2: 98.0, 3: 42.0, 4: 20.0, 5: 10.0, 6: 5.0}
DLPF_ACCEL_HZ = {1: 184.0, 2: 94.0, 3: 44.0, 4: 21.0, 5: 10.0, 6: 5.0}
GYRO_FS = {250: 0, 500: 1, 1000: 2, 2000: 3}
GYRO_LSB_PER_DPS = {250: 131.0, 500: 65.5, 1000: 32.8, 2000: 16.4}
ACCEL_FS = {2: 0, 4: 1, 8: 2, 16: 3}
ACCEL_LSB_PER_G = {2: 16384.0, 4: 8192.0, 8: 4096.0, 16: 2048.0}
FIFO_OFLOW = 0x10
RESET_S, STARTUP_S = 0.1, 0.05


class Mpu6050(ImuDriver):
    """MPU-6050 at 0x68/0x69: accel + gyro samples of 12 bytes through the FIFO."""

    chip = "mpu6050"
    part = CHIPS[chip].part
    who_am_i_register, chip_ids = 0x75, {0x68: "MPU-6050"}

    smplrt_div = Byte(0x19)  # SMPLRT_DIV
    ext_sync_set = Bits(0x1A, 5, 3)  # CONFIG
    dlpf_cfg = Bits(0x1A, 2, 0)
    fs_sel = Bits(0x1B, 4, 3)  # GYRO_CONFIG
    afs_sel = Bits(0x1C, 4, 3)  # ACCEL_CONFIG
    fifo_enable_mask = Byte(0x23)  # FIFO_EN
    user_fifo_en = Bit(0x6A, 6)  # USER_CTRL.FIFO_EN
    user_fifo_reset = Bit(0x6A, 2)  # USER_CTRL.FIFO_RESET
    device_reset = Bit(0x6B, 7)  # PWR_MGMT_1.DEVICE_RESET
    XG_YG_ZG_ACCEL = 0x78
    INT_STATUS, ACCEL_XOUT_H, FIFO_COUNTH, FIFO_R_W = 0x3A, 0x3B, 0x72, 0x74

    def configure(
        self, rate_hz: float, accel_range_g: float = 16, gyro_range_dps: float = 2000
    ) -> Configuration:
        self.device_reset = 1
        self.clock.sleep(RESET_S)
        self.device.write(0x6B, 0x01)  # PWR_MGMT_1: awake (SLEEP 0), CLKSEL 1
        divider = int(np.clip(np.floor(GYRO_OUTPUT_HZ / rate_hz + 1e-9) - 1, 0, 255))
        odr = GYRO_OUTPUT_HZ / (1 + divider)
        self.smplrt_div = divider
        self.ext_sync_set = 0
        self.dlpf_cfg = dlpf = widest_at_most(DLPF_GYRO_HZ, FILTER_FRACTION * odr)
        self.fs_sel = range_code(GYRO_FS, gyro_range_dps, "gyroscope")
        self.afs_sel = range_code(ACCEL_FS, accel_range_g, "accelerometer")
        self.fifo_enable_mask = self.XG_YG_ZG_ACCEL
        self.user_fifo_en = 1
        self.clock.sleep(STARTUP_S)
        self._acc_scale = STANDARD_GRAVITY / ACCEL_LSB_PER_G[accel_range_g]
        self._gyr_scale = DEG_TO_RAD / GYRO_LSB_PER_DPS[gyro_range_dps]
        self.configuration = Configuration(
            odr,
            accel_range_g,
            gyro_range_dps,
            DLPF_ACCEL_HZ[dlpf],
            DLPF_GYRO_HZ[dlpf],
            FIFO_BYTES // SAMPLE.itemsize,
        )
        return self.configuration

    def start(self) -> None:
        self.user_fifo_en = 0
        self.user_fifo_reset = 1
        self.user_fifo_en = 1
        self.device.read(self.INT_STATUS, 1)

    def read_fifo(self) -> Reading:
        overflow = self.device.read(self.INT_STATUS, 1)[0] & FIFO_OFLOW
        count = int.from_bytes(self.device.read(self.FIFO_COUNTH, 2), "big")
        if overflow or count > FIFO_BYTES - SAMPLE.itemsize:
            self.start()
            return Reading.empty(overflow=True)
        samples = count // SAMPLE.itemsize
        if samples == 0:
            return Reading.empty()
        data = np.frombuffer(self.device.read(self.FIFO_R_W, samples * SAMPLE.itemsize), SAMPLE)
        return Reading(data["acc"] * self._acc_scale, data["gyr"] * self._gyr_scale)

    def read_sample(self) -> Reading:
        raw = np.frombuffer(self.device.read(self.ACCEL_XOUT_H, 14), ">i2").astype(float)
        return Reading(raw[None, 0:3] * self._acc_scale, raw[None, 4:7] * self._gyr_scale)
