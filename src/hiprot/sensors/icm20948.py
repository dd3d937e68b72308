"""TDK InvenSense ICM-20948 with its AK09916 magnetometer, read through the chip's own I2C master.

Datasheet DS-000189 (rev 1.3). Facts used:

- Four register banks chosen by REG_BANK_SEL (0x7F, bits 5:4) in every bank;
  WHO_AM_I (bank 0, 0x00) reads 0xEA (section 7, register map; section 8,
  bank 0 descriptions).
- Bank 0: USER_CTRL 0x03 (FIFO_EN bit 6, I2C_MST_EN bit 5); PWR_MGMT_1 0x06
  (DEVICE_RESET bit 7, SLEEP bit 6 set after reset, CLKSEL bits 2:0, 1 = auto);
  I2C_MST_STATUS 0x17 (I2C_SLV4_DONE bit 6, I2C_SLV4_NACK bit 4); INT_STATUS_2
  0x1B (FIFO_OVERFLOW_INT bits 4:0); ACCEL_XOUT_H 0x2D, GYRO_XOUT_H 0x33,
  EXT_SLV_SENS_DATA_00 0x3B, all big-endian; FIFO_EN_1 0x66 (SLV_0_FIFO_EN
  bit 0); FIFO_EN_2 0x67 (ACCEL bit 4, GYRO_Z/Y/X bits 3/2/1); FIFO_RST 0x68
  (bits 4:0, assert then release); FIFO_MODE 0x69 (0 = stream: when full the
  oldest data are replaced); FIFO_COUNTH/L 0x70-0x71 (13 bits, bytes);
  FIFO_R_W 0x72; FIFO_CFG 0x76 bit 0.
- Data enter the FIFO in register order: accel, gyro, then the external
  sensor bytes; the FIFO holds 512 bytes.
- Bank 2: GYRO_SMPLRT_DIV 0x00, gyro ODR = 1.1 kHz / (1 + div); GYRO_CONFIG_1
  0x01 (GYRO_DLPFCFG bits 5:3, GYRO_FS_SEL bits 2:1, GYRO_FCHOICE bit 0);
  ACCEL_SMPLRT_DIV_1/2 0x10-0x11 (12 bits), accel ODR = 1.125 kHz / (1 + div);
  ACCEL_CONFIG 0x14 (ACCEL_DLPFCFG bits 5:3, ACCEL_FS_SEL bits 2:1,
  ACCEL_FCHOICE bit 0). Sensitivities: gyro 131/65.5/32.8/16.4 LSB/(°/s) at
  ±250/500/1000/2000 (Table 1), accel 16384/8192/4096/2048 LSB/g at ±2/4/8/16 g
  (Table 2). 3-dB bandwidths per DLPFCFG in the GYRO_CONFIG_1 and ACCEL_CONFIG
  tables. The FIFO is written at the gyroscope rate; the accelerometer divider is
  set to the nearest rate at or above it.
- Bank 3: I2C master. I2C_MST_CTRL 0x01, I2C_SLV0_ADDR/REG/CTRL 0x03-0x05
  (reads every sample into EXT_SLV_SENS_DATA), I2C_SLV4_ADDR/REG/CTRL/DO/DI
  0x13-0x17 (single transfers; SLV4_EN bit 7 clears itself when done).
- AK09916 at 0x0C on the auxiliary bus (section 13): WIA2 0x01 = 0x09; ST1
  0x10, HXL..HZH 0x11-0x16 little-endian, ST2 0x18 (must be read to release the
  data); CNTL2 0x31 (0x08 = continuous 100 Hz); CNTL3 0x32 bit 0 soft reset;
  0.15 µT/LSB (Table 3). Its axes differ from the accel/gyro die: X along X, Y
  and Z reversed ("Orientation of axes" figure), so the driver returns
  (HX, -HY, -HZ) to give the magnetic field in the accel/gyro axes.
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
from hiprot.sensors.bus import ChipMismatch, I2CError
from hiprot.sensors.registers import Bit, Bits, Byte
from hiprot.units import DEG_TO_RAD, STANDARD_GRAVITY

FIFO_BYTES = CHIPS["icm20948"].fifo_bytes
IMU_PACKET = np.dtype([("acc", ">i2", 3), ("gyr", ">i2", 3)])
MAG_PACKET = np.dtype(
    [
        ("acc", ">i2", 3),
        ("gyr", ">i2", 3),
        ("st1", "u1"),
        ("mag", "<i2", 3),
        ("tmps", "u1"),
        ("st2", "u1"),
    ]
)
GYRO_BASE_HZ, ACCEL_BASE_HZ = 1100.0, 1125.0
GYRO_DLPF_HZ = {0: 196.6, 1: 151.8, 2: 119.5, 3: 51.2, 4: 23.9, 5: 11.6, 6: 5.7, 7: 361.4}
ACCEL_DLPF_HZ = {1: 246.0, 2: 111.4, 3: 50.4, 4: 23.9, 5: 11.5, 6: 5.7, 7: 473.0}
GYRO_FS = {250: 0, 500: 1, 1000: 2, 2000: 3}
GYRO_LSB_PER_DPS = {250: 131.0, 500: 65.5, 1000: 32.8, 2000: 16.4}
ACCEL_FS = {2: 0, 4: 1, 8: 2, 16: 3}
ACCEL_LSB_PER_G = {2: 16384.0, 4: 8192.0, 8: 4096.0, 16: 2048.0}
MAG_UT_PER_LSB = 0.15
MAG_AXES = np.array([1.0, -1.0, -1.0])  # AK09916 axes → accel/gyro axes
AK09916, AK_WIA2, AK_ST1, AK_CNTL2, AK_CNTL3 = 0x0C, 0x01, 0x10, 0x31, 0x32
AK_CONTINUOUS_100HZ, AK_BYTES = 0x08, 9
SLV4_DONE, SLV4_NACK = 0x40, 0x10
RESET_S, STARTUP_S, SLV4_WAIT_S, SLV4_POLLS = 0.1, 0.05, 0.001, 20


class Icm20948(ImuDriver):
    """ICM-20948 at 0x68/0x69; with ``with_mag`` its magnetometer rides in every FIFO packet."""

    chip = "icm20948"
    part = CHIPS[chip].part
    who_am_i_register, chip_ids, who_am_i_bank = 0x00, {0xEA: "ICM-20948"}, 0

    user_fifo_en = Bit(0x03, 6, bank=0)  # USER_CTRL
    i2c_mst_en = Bit(0x03, 5, bank=0)
    device_reset = Bit(0x06, 7, bank=0)  # PWR_MGMT_1
    fifo_en_1 = Byte(0x66, bank=0)
    fifo_en_2 = Byte(0x67, bank=0)
    fifo_rst = Bits(0x68, 4, 0, bank=0)
    fifo_mode = Bits(0x69, 4, 0, bank=0)
    fifo_cfg = Bit(0x76, 0, bank=0)
    gyro_smplrt_div = Byte(0x00, bank=2)
    gyro_dlpfcfg = Bits(0x01, 5, 3, bank=2)  # GYRO_CONFIG_1
    gyro_fs_sel = Bits(0x01, 2, 1, bank=2)
    gyro_fchoice = Bit(0x01, 0, bank=2)
    odr_align_en = Bit(0x09, 0, bank=2)
    accel_smplrt_div_1 = Bits(0x10, 3, 0, bank=2)
    accel_smplrt_div_2 = Byte(0x11, bank=2)
    accel_dlpfcfg = Bits(0x14, 5, 3, bank=2)  # ACCEL_CONFIG
    accel_fs_sel = Bits(0x14, 2, 1, bank=2)
    accel_fchoice = Bit(0x14, 0, bank=2)
    i2c_mst_ctrl = Byte(0x01, bank=3)
    i2c_slv0_addr = Byte(0x03, bank=3)
    i2c_slv0_reg = Byte(0x04, bank=3)
    i2c_slv0_ctrl = Byte(0x05, bank=3)
    i2c_slv4_addr = Byte(0x13, bank=3)
    i2c_slv4_reg = Byte(0x14, bank=3)
    i2c_slv4_ctrl = Byte(0x15, bank=3)
    i2c_slv4_do = Byte(0x16, bank=3)
    i2c_slv4_di = Byte(0x17, bank=3)
    PWR_MGMT_1, I2C_MST_STATUS, INT_STATUS_2, ACCEL_XOUT_H = 0x06, 0x17, 0x1B, 0x2D
    EXT_SLV_SENS_DATA_00, FIFO_COUNTH, FIFO_R_W, REG_BANK_SEL = 0x3B, 0x70, 0x72, 0x7F
    ACCEL_GYRO_FIFO = 0x1E  # FIFO_EN_2: ACCEL, GYRO_Z, GYRO_Y, GYRO_X

    def _write_bank(self, bank: int) -> None:
        self.device.write(self.REG_BANK_SEL, bank << 4)

    def configure(
        self, rate_hz: float, accel_range_g: float = 16, gyro_range_dps: float = 2000
    ) -> Configuration:
        self.device_reset = 1
        self.clock.sleep(RESET_S)
        self.forget_bank()
        self.write_register(self.PWR_MGMT_1, bytes([0x01]), bank=0)  # awake, CLKSEL auto
        gyro_div = int(np.clip(np.floor(GYRO_BASE_HZ / rate_hz + 1e-9) - 1, 0, 255))
        odr = GYRO_BASE_HZ / (1 + gyro_div)
        accel_div = int(np.clip(np.floor(ACCEL_BASE_HZ / odr + 1e-9) - 1, 0, 4095))
        self.odr_align_en = 1
        self.gyro_smplrt_div = gyro_div
        self.accel_smplrt_div_1 = accel_div >> 8
        self.accel_smplrt_div_2 = accel_div & 0xFF
        self.gyro_dlpfcfg = gyro_cfg = widest_at_most(GYRO_DLPF_HZ, FILTER_FRACTION * odr)
        self.gyro_fs_sel = range_code(GYRO_FS, gyro_range_dps, "gyroscope")
        self.gyro_fchoice = 1
        self.accel_dlpfcfg = accel_cfg = widest_at_most(ACCEL_DLPF_HZ, FILTER_FRACTION * odr)
        self.accel_fs_sel = range_code(ACCEL_FS, accel_range_g, "accelerometer")
        self.accel_fchoice = 1
        mag_odr = self._start_magnetometer() if self.with_mag else None
        self.fifo_en_2 = self.ACCEL_GYRO_FIFO
        self.fifo_en_1 = 0x01 if self.with_mag else 0x00
        self.fifo_cfg = 1
        self.fifo_mode = 0
        self.user_fifo_en = 1
        self.clock.sleep(STARTUP_S)
        self._packet = MAG_PACKET if self.with_mag else IMU_PACKET
        self._acc_scale = STANDARD_GRAVITY / ACCEL_LSB_PER_G[accel_range_g]
        self._gyr_scale = DEG_TO_RAD / GYRO_LSB_PER_DPS[gyro_range_dps]
        self.configuration = Configuration(
            odr,
            accel_range_g,
            gyro_range_dps,
            ACCEL_DLPF_HZ[accel_cfg],
            GYRO_DLPF_HZ[gyro_cfg],
            FIFO_BYTES // self._packet.itemsize,
            mag_odr,
        )
        return self.configuration

    def _start_magnetometer(self) -> float:
        """Reset and identify the AK09916 via slave 4, then read it each sample via slave 0."""
        self.i2c_mst_ctrl = 0x17  # I2C_MST_P_NSR, I2C_MST_CLK 7 (345.6 kHz)
        self.i2c_mst_en = 1
        self._aux_write(AK_CNTL3, 0x01)
        self.clock.sleep(0.001)
        found = self._aux_read(AK_WIA2)
        if found != 0x09:
            raise ChipMismatch(
                f"{self.device.where}: expected the ICM-20948's AK09916 magnetometer "
                f"(WIA2 0x09 at register 0x01 of 0x0C), found 0x{found:02x}"
            )
        self._aux_write(AK_CNTL2, AK_CONTINUOUS_100HZ)
        self.i2c_slv0_addr = 0x80 | AK09916
        self.i2c_slv0_reg = AK_ST1
        self.i2c_slv0_ctrl = 0x80 | AK_BYTES
        return 100.0

    def _aux_write(self, register: int, value: int) -> None:
        self.i2c_slv4_addr = AK09916
        self.i2c_slv4_reg = register
        self.i2c_slv4_do = value
        self._aux_transfer()

    def _aux_read(self, register: int) -> int:
        self.i2c_slv4_addr = 0x80 | AK09916
        self.i2c_slv4_reg = register
        self._aux_transfer()
        return self.i2c_slv4_di

    def _aux_transfer(self) -> None:
        self.i2c_slv4_ctrl = 0x80
        for _ in range(SLV4_POLLS):
            status = self.read_register(self.I2C_MST_STATUS, 1, bank=0)[0]
            if status & SLV4_NACK:
                raise I2CError(
                    f"{self.device.where}: the ICM-20948's magnetometer (AK09916) "
                    "does not acknowledge on its auxiliary bus"
                )
            if status & SLV4_DONE:
                return
            self.clock.sleep(SLV4_WAIT_S)
        raise I2CError(f"{self.device.where}: the ICM-20948's I2C master did not finish a transfer")

    def start(self) -> None:
        self.fifo_rst = 0x1F
        self.fifo_rst = 0x00
        self.read_register(self.INT_STATUS_2, 1, bank=0)

    def read_fifo(self) -> Reading:
        overflow = self.read_register(self.INT_STATUS_2, 1, bank=0)[0] & 0x1F
        high, low = self.read_register(self.FIFO_COUNTH, 2, bank=0)
        count = ((high & 0x1F) << 8) | low
        size = self._packet.itemsize
        if overflow or count > FIFO_BYTES - size:
            self.start()
            return Reading.empty(overflow=True, with_mag=self.with_mag)
        packets = count // size
        if packets == 0:
            return Reading.empty(with_mag=self.with_mag)
        data = np.frombuffer(
            self.read_register(self.FIFO_R_W, packets * size, bank=0), self._packet
        )
        return self._to_si(data)

    def _to_si(self, data: np.ndarray) -> Reading:
        mag = data["mag"] * (MAG_UT_PER_LSB * MAG_AXES) if self.with_mag else None
        return Reading(data["acc"] * self._acc_scale, data["gyr"] * self._gyr_scale, mag)

    def read_sample(self) -> Reading:
        length = 12 + (0x3B - 0x39 + AK_BYTES if self.with_mag else 0)
        raw = self.read_register(self.ACCEL_XOUT_H, length, bank=0)
        imu = raw[:12] + (raw[14 : 14 + AK_BYTES] if self.with_mag else b"")
        return self._to_si(np.frombuffer(imu, self._packet))
