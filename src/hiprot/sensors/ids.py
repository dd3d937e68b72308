"""Chip identities: which WHO_AM_I value at which register names which part.

Used by the drivers (to name a wrong chip in their error) and by ``hiprot
scan`` (to name whatever answers). ``chip`` is the rig-file key when hiprot
supports the part, else None.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChipId:
    """A part recognised by its identity register."""

    part: str
    chip: str | None = None
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.part} ({self.note})" if self.note else self.part


UNSUPPORTED_STRETCHING = (
    "not supported: needs I2C clock stretching, which the Pi does not do reliably"
)

# (identity register, value) -> part. Sources: each part's datasheet WHO_AM_I/WIA/CHIP_ID register.
KNOWN_IDS: dict[tuple[int, int], ChipId] = {
    (0x75, 0x47): ChipId("ICM-42688-P", "icm42688"),
    (0x75, 0x40): ChipId("ICM-42600", note="not supported"),
    (0x75, 0x42): ChipId("ICM-42605", note="not supported"),
    (0x75, 0x68): ChipId("MPU-6050", "mpu6050"),
    (0x75, 0x70): ChipId("MPU-6500", note="not supported"),
    (0x75, 0x71): ChipId("MPU-9250", note="not supported"),
    (0x75, 0x73): ChipId("MPU-9255", note="not supported"),
    (0x75, 0x12): ChipId("ICM-20602", note="not supported"),
    (0x75, 0x98): ChipId("ICM-20689", note="not supported"),
    (0x00, 0xEA): ChipId("ICM-20948", "icm20948"),
    (0x0F, 0x6C): ChipId("LSM6DSOX", "lsm6dsox", "or LSM6DSO"),
    (0x0F, 0x69): ChipId("LSM6DS3", "lsm6ds3"),
    (0x0F, 0x6A): ChipId("LSM6DS3TR-C", "lsm6ds3", "or LSM6DSL"),
    (0x0F, 0x6B): ChipId("LSM6DSR", note="or ISM330DHCX; not supported"),
    (0x0F, 0x3D): ChipId("LIS3MDL", "lis3mdl"),
    (0x01, 0x09): ChipId("AK09916", note="an ICM-20948's magnetometer in bypass mode"),
    (0x00, 0xA0): ChipId("BNO055", note=UNSUPPORTED_STRETCHING),
}

# Which identity registers to try at an address, in order.
PROBE_REGISTERS: dict[int, tuple[int, ...]] = {
    0x68: (0x75, 0x00),
    0x69: (0x75, 0x00),
    0x6A: (0x0F,),
    0x6B: (0x0F,),
    0x1C: (0x0F,),
    0x1E: (0x0F,),
    0x0C: (0x01,),
    0x28: (0x00,),
    0x29: (0x00,),
}

# Addresses whose parts we name without touching them.
NAMED_ADDRESSES: dict[int, ChipId] = {
    0x4A: ChipId("BNO08x?", note=UNSUPPORTED_STRETCHING),
    0x4B: ChipId("BNO08x?", note=UNSUPPORTED_STRETCHING),
}


def known(register: int, value: int) -> ChipId | None:
    """The part whose identity ``register`` reads ``value``, if known."""
    return KNOWN_IDS.get((register, value))
