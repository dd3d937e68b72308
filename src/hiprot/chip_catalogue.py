"""What hiprot knows about each chip a rig may name, for every layer that needs it.

One entry per rig-file ``chip`` key: the part, the I2C addresses its address pin
selects, its FIFO, whether it has a magnetometer of its own or takes a companion
magnetometer chip beside it, and its gyroscope zero-rate offset tolerance. The
drivers (:mod:`hiprot.sensors`) read their figures from here, and so do
configuration, calibration and fusion without importing the drivers.

Sources: TDK DS-000347 (ICM-42688-P), ST DS12814 (LSM6DSOX), ST DS10508
(LSM6DS3), TDK DS-000189 (ICM-20948), InvenSense PS-MPU-6000A-00 (MPU-6050), ST
DocID024204 (LIS3MDL).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# How long one I2C transaction may take before the kernel gives up (ETIMEDOUT). Linux's default is
# 1 s, which a stuck bus (a device holding SDA low) would cost on every try while every other
# bus waits and their FIFOs overflow. 0.1 s covers the longest burst hiprot reads at 400 kHz
# (a whole 2 kB FIFO: 46 ms) and its usual reads at 100 kHz, and a stall of that long plus a
# read period fits the smallest FIFO (ICM-20948: 42 samples, 0.19 s at 220 Hz). Set per adapter
# with the I2C_TIMEOUT ioctl (linux/i2c-dev.h), in units of 10 ms.
ADAPTER_TIMEOUT_S = 0.1

DEFAULT_BIAS_BOUND_DPS = (
    2.0  # VQF's default bias clip (Laidig & Seel, 2023): enough for the better chips
)
BIAS_MARGIN = 1.5  # datasheet tolerances are typical values; real parts stray beyond them
# How far a strapped sensor's temperature may move after its first still rest: from the lowest
# indoor temperature WHO's Housing and health guidelines (2018) recommend, 18 °C, to the skin's
# in comfort, about 33 °C (Webb 1992, Eur J Appl Physiol 64:471-476).
WARMUP_SPAN_C = 15.0


@dataclass(frozen=True)
class Chip:
    """One supported part.

    ``magnetometer``: ``"own"`` (in the package, read through the chip), ``"companion"``
    (a separate magnetometer chip may sit beside it on the same board) or ``"none"``;
    a magnetometer chip itself has ``"none"``. ``gyro_offset_dps``: the datasheet's
    zero-rate offset tolerance (±°/s per axis at 25 °C) and ``gyro_tempco_dps_c`` its
    temperature coefficient (±°/s per °C), None for a magnetometer. ``addresses``: the I2C
    addresses the part answers at, the default first.
    """

    key: str
    part: str
    kind: Literal["imu", "magnetometer"]
    addresses: tuple[int, ...]
    fifo_bytes: int | None
    gyro_offset_dps: float | None
    gyro_tempco_dps_c: float | None
    magnetometer: Literal["own", "companion", "none"]
    datasheet: str


CHIPS: dict[str, Chip] = {
    c.key: c
    for c in (
        Chip("icm42688", "ICM-42688-P", "imu", (0x68, 0x69), 2048, 0.5, 0.005, "none", "DS-000347 Table 1: ZRO ±0.5 °/s, ±0.005 °/s/°C"),
        Chip("lsm6dsox", "LSM6DSOX", "imu", (0x6A, 0x6B), 3072, 1.0, 0.01, "companion", "DS12814 Table 2: G_TyOff ±1 °/s, ±0.01 °/s/°C"),
        Chip("lsm6ds3", "LSM6DS3", "imu", (0x6A, 0x6B), 8192, 10.0, 0.05, "companion", "DS10508 Table 3: G_TyOff ±10 °/s, ±0.05 °/s/°C"),
        Chip("icm20948", "ICM-20948", "imu", (0x68, 0x69), 512, 5.0, 0.05, "own", "DS-000189 Table 1: ZRO ±5 °/s, ±0.05 °/s/°C; AK09916 magnetometer inside"),
        Chip("mpu6050", "MPU-6050", "imu", (0x68, 0x69), 1024, 20.0, 0.16, "none", "PS-MPU-6000A-00 6.1: ZRO ±20 °/s, and ±20 °/s over −40…+85 °C: 0.16 °/s/°C"),
        Chip("lis3mdl", "LIS3MDL", "magnetometer", (0x1C, 0x1E), None, None, None, "none", "DocID024204"),
    )
}  # fmt: skip
IMU_CHIPS = tuple(key for key, c in CHIPS.items() if c.kind == "imu")
MAG_CHIPS = tuple(key for key, c in CHIPS.items() if c.kind == "magnetometer")


def gyro_bias_bound_dps(chip: str) -> float:
    """The largest gyroscope bias per axis (°/s) to expect from ``chip``.

    Rest detection and bias estimation must accept at least this much: a cheap
    chip (MPU-6050: ±20 °/s) sitting still would otherwise never count as at rest.
    """
    offset = CHIPS[chip].gyro_offset_dps
    if offset is None:
        raise ValueError(f"{chip} has no gyroscope")
    return max(DEFAULT_BIAS_BOUND_DPS, BIAS_MARGIN * offset)


def gyro_drift_bound_dps(chip: str) -> float:
    """How far ``chip``'s gyroscope bias may move per axis (°/s) once the sensor has been
    still: its temperature coefficient over ``WARMUP_SPAN_C``, with ``BIAS_MARGIN``.

    Batch fusion narrows its rest detection to this band around the bias of the session's
    longest rest (:mod:`hiprot.fusion.offline`), so a slow movement is not taken for a bias.
    """
    tempco = CHIPS[chip].gyro_tempco_dps_c
    if tempco is None:
        raise ValueError(f"{chip} has no gyroscope")
    return BIAS_MARGIN * tempco * WARMUP_SPAN_C
