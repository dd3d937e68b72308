"""Every register field of every driver checked against its datasheet; the descriptors themselves.

The expected (register, high bit, low bit, bank) below were copied from the
datasheets' register descriptions, not from the drivers: a field written into
the wrong bits (as once happened to the DLPF setting in Adafruit's MPU-6050
driver) fails here. A new field must be added to this table to pass.
"""

from __future__ import annotations

import pytest

from hiprot.sensors.drivers import IMU_DRIVERS, MAG_DRIVERS
from hiprot.sensors.registers import Bit, Bits, Byte

DATASHEET = {
    "icm42688": {  # DS-000347, user bank 0
        "soft_reset": (0x11, 0, 0, None),
        "fifo_mode": (0x16, 7, 6, None),
        "fifo_flush": (0x4B, 1, 1, None),
        "fifo_count_rec": (0x4C, 6, 6, None),
        "fifo_count_endian": (0x4C, 5, 5, None),
        "sensor_data_endian": (0x4C, 4, 4, None),
        "gyro_mode": (0x4E, 3, 2, None),
        "accel_mode": (0x4E, 1, 0, None),
        "gyro_fs_sel": (0x4F, 7, 5, None),
        "gyro_odr": (0x4F, 3, 0, None),
        "accel_fs_sel": (0x50, 7, 5, None),
        "accel_odr": (0x50, 3, 0, None),
        "accel_ui_filt_bw": (0x52, 7, 4, None),
        "gyro_ui_filt_bw": (0x52, 3, 0, None),
        "fifo_temp_en": (0x5F, 2, 2, None),
        "fifo_gyro_en": (0x5F, 1, 1, None),
        "fifo_accel_en": (0x5F, 0, 0, None),
        "bank_sel": (0x76, 2, 0, None),
    },
    "mpu6050": {  # RM-MPU-6000A-00 rev 4.2, registers 25, 26, 27, 28, 35, 106, 107
        "smplrt_div": (0x19, 7, 0, None),
        "ext_sync_set": (0x1A, 5, 3, None),
        "dlpf_cfg": (0x1A, 2, 0, None),
        "fs_sel": (0x1B, 4, 3, None),
        "afs_sel": (0x1C, 4, 3, None),
        "fifo_enable_mask": (0x23, 7, 0, None),
        "user_fifo_en": (0x6A, 6, 6, None),
        "user_fifo_reset": (0x6A, 2, 2, None),
        "device_reset": (0x6B, 7, 7, None),
    },
    "icm20948": {  # DS-000189 rev 1.3, banks 0, 2, 3
        "user_fifo_en": (0x03, 6, 6, 0),
        "i2c_mst_en": (0x03, 5, 5, 0),
        "device_reset": (0x06, 7, 7, 0),
        "fifo_en_1": (0x66, 7, 0, 0),
        "fifo_en_2": (0x67, 7, 0, 0),
        "fifo_rst": (0x68, 4, 0, 0),
        "fifo_mode": (0x69, 4, 0, 0),
        "fifo_cfg": (0x76, 0, 0, 0),
        "gyro_smplrt_div": (0x00, 7, 0, 2),
        "gyro_dlpfcfg": (0x01, 5, 3, 2),
        "gyro_fs_sel": (0x01, 2, 1, 2),
        "gyro_fchoice": (0x01, 0, 0, 2),
        "odr_align_en": (0x09, 0, 0, 2),
        "accel_smplrt_div_1": (0x10, 3, 0, 2),
        "accel_smplrt_div_2": (0x11, 7, 0, 2),
        "accel_dlpfcfg": (0x14, 5, 3, 2),
        "accel_fs_sel": (0x14, 2, 1, 2),
        "accel_fchoice": (0x14, 0, 0, 2),
        "i2c_mst_ctrl": (0x01, 7, 0, 3),
        "i2c_slv0_addr": (0x03, 7, 0, 3),
        "i2c_slv0_reg": (0x04, 7, 0, 3),
        "i2c_slv0_ctrl": (0x05, 7, 0, 3),
        "i2c_slv4_addr": (0x13, 7, 0, 3),
        "i2c_slv4_reg": (0x14, 7, 0, 3),
        "i2c_slv4_ctrl": (0x15, 7, 0, 3),
        "i2c_slv4_do": (0x16, 7, 0, 3),
        "i2c_slv4_di": (0x17, 7, 0, 3),
    },
    "lsm6dsox": {  # DS12814 section 9
        "odr_xl": (0x10, 7, 4, None),
        "fs_xl": (0x10, 3, 2, None),
        "lpf2_xl_en": (0x10, 1, 1, None),
        "odr_g": (0x11, 7, 4, None),
        "fs_g": (0x11, 3, 2, None),
        "ctrl3_c": (0x12, 7, 0, None),
        "bdu": (0x12, 6, 6, None),
        "if_inc": (0x12, 2, 2, None),
        "sw_reset": (0x12, 0, 0, None),
        "hpcf_xl": (0x17, 7, 5, None),
        "bdr_gy": (0x09, 7, 4, None),
        "bdr_xl": (0x09, 3, 0, None),
        "fifo_mode": (0x0A, 2, 0, None),
    },
    "lsm6ds3": {  # DocID026899 section 9
        "odr_xl": (0x10, 7, 4, None),
        "fs_xl": (0x10, 3, 2, None),
        "odr_g": (0x11, 7, 4, None),
        "fs_g": (0x11, 3, 2, None),
        "ctrl3_c": (0x12, 7, 0, None),
        "bdu": (0x12, 6, 6, None),
        "if_inc": (0x12, 2, 2, None),
        "sw_reset": (0x12, 0, 0, None),
        "dec_fifo_gyro": (0x08, 5, 3, None),
        "dec_fifo_xl": (0x08, 2, 0, None),
        "odr_fifo": (0x0A, 6, 3, None),
        "fifo_mode": (0x0A, 2, 0, None),
    },
    "lis3mdl": {  # DocID024204 section 7
        "om": (0x20, 6, 5, None),
        "do": (0x20, 4, 2, None),
        "fs": (0x21, 6, 5, None),
        "soft_rst": (0x21, 2, 2, None),
        "ctrl_reg3": (0x22, 7, 0, None),
        "omz": (0x23, 3, 2, None),
        "bdu": (0x24, 6, 6, None),
    },
}
DRIVERS = {**IMU_DRIVERS, **MAG_DRIVERS}


def fields(cls) -> dict[str, Bits]:
    found = {}
    for klass in reversed(cls.__mro__):
        found.update(
            {name: value for name, value in vars(klass).items() if isinstance(value, Bits)}
        )
    return found


@pytest.mark.parametrize("chip", sorted(DRIVERS))
def test_every_field_matches_the_datasheet(chip):
    declared = {
        name: (f.register, f.high, f.low, f.bank) for name, f in fields(DRIVERS[chip]).items()
    }
    assert declared == DATASHEET[chip]


class Fake:
    """A one-register-file owner for exercising the descriptors."""

    value = Bits(0x10, 5, 3)
    flag = Bit(0x10, 7)
    whole = Byte(0x11)
    banked = Bits(0x12, 1, 0, bank=2)

    def __init__(self):
        self.regs, self.banks_used = {0x10: 0b0100_0001, 0x11: 0, 0x12: 0}, []

    def read_register(self, register, length, bank=None):
        self.banks_used.append(bank)
        return bytes([self.regs[register]])

    def write_register(self, register, data, bank=None):
        self.regs[register] = data[0]


def test_descriptors_read_modify_write_only_their_bits():
    fake = Fake()
    fake.value = 0b101
    assert fake.regs[0x10] == 0b0110_1001 and fake.value == 0b101
    fake.flag = True
    assert fake.regs[0x10] == 0b1110_1001 and fake.flag is True
    fake.whole = 0xA5
    assert fake.regs[0x11] == 0xA5
    fake.banked = 3
    assert fake.banks_used[-1] == 2
    with pytest.raises(ValueError, match="does not fit"):
        fake.value = 8
