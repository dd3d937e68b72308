"""Measurement errors of the supported chips, from their datasheets, applied to ideal signals.

Figures are the datasheets' typical values (± tolerances are used as the bounds
of uniform draws, one per axis and sensor). Columns: gyro noise density (°/s/√Hz),
zero-rate offset ZRO (±°/s), its temperature coefficient (±°/s/°C), gyro
sensitivity tolerance, accelerometer noise density (µg/√Hz), zero-g offset (±mg),
its temperature coefficient (±mg/°C), accelerometer sensitivity tolerance::

    chip      datasheet (tables)                    gyro    ZRO  ZRO/°C  sens.  acc  zero-g  /°C    sens.
    icm42688  TDK DS-000347 rev 1.6, tables 1-2     0.0028  0.5  0.005   0.5 %   70  20      0.15   0.5 %
    lsm6dsox  ST DS12814 rev 3, table 2             0.0038  1    0.01    1 %     70a 20      0.1    1 %
    lsm6ds3   ST DS10508 rev 5, table 3             0.007   10   0.05    1 %b    90  40      0.5    1 %b
    icm20948  TDK DS-000189 rev 1.3, tables 1-2     0.015   5    0.05    1.5 %  230  50b     0.8b   0.5 %
    mpu6050   PS-MPU-6000A-00 rev 3.4, 6.1-6.2      0.005   20   0.16c   3 %    400  50      0.28c  3 %

a: at ±2 g in high-performance mode. b: not stated in the datasheet; a value of
the chip family assumed. c: derived from the datasheet's change over −40…+85 °C
(±20 °/s, ±35 mg) divided by that 125 °C span. The gyro ZRO and its temperature
coefficient are read from :mod:`hiprot.chip_catalogue` (batch fusion bounds the bias's
drift with the same coefficient); the table repeats them for reading.

Full-scale: every chip is modelled at its widest range, ±2000 °/s and ±16 g, and
saturates there. Noise is white with the datasheet density over a bandwidth of
half the sample rate (the chips' anti-alias filters sit near there), which gives
e.g. 0.05 °/s RMS for the MPU-6050 at 200 Hz, as its datasheet's "total RMS
noise" at 100 Hz bandwidth. Bias drift: the skin warms a strapped sensor by
``WARMUP_C`` over the first minutes (time constant ``WARMUP_TAU_S``); bias and
zero-g level follow with the temperature coefficients above.

Magnetometers: LIS3MDL (ST DocID024204 rev 6, table 2: RMS noise 3.2 mgauss =
0.32 µT at ±4 gauss, full scale ±400 µT) and the ICM-20948's AK09916 (AKM
datasheet 015007259-E-00: 0.15 µT/LSB, ±4900 µT; noise taken as 1 LSB RMS). Their
hard-iron offsets are part of the configurable magnetic disturbance, not drawn
from the datasheets' uncalibrated zero-gauss levels (LIS3MDL ±1 gauss typical).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hiprot.chip_catalogue import CHIPS as CATALOGUE
from hiprot.samples import ImuSamples
from hiprot.units import STANDARD_GRAVITY as GRAVITY

WARMUP_C = 5.0
WARMUP_TAU_S = 300.0
GYRO_RANGE_DPS = 2000.0
ACC_RANGE_G = 16.0

ZRO_DPS = {key: c.gyro_offset_dps for key, c in CATALOGUE.items() if c.kind == "imu"}
ZRO_TEMPCO = {key: c.gyro_tempco_dps_c for key, c in CATALOGUE.items() if c.kind == "imu"}


@dataclass(frozen=True)
class ChipSpec:
    """Datasheet figures of one 6-axis chip (see the module table)."""

    gyro_noise_dps_rthz: float
    gyro_zro_dps: float
    gyro_zro_tempco_dps_c: float
    gyro_sensitivity_pct: float
    acc_noise_ug_rthz: float
    acc_offset_mg: float
    acc_offset_tempco_mg_c: float
    acc_sensitivity_pct: float


@dataclass(frozen=True)
class MagSpec:
    """Datasheet figures of a magnetometer."""

    noise_ut: float
    range_ut: float


CHIPS = {
    "icm42688": ChipSpec(0.0028, ZRO_DPS["icm42688"], ZRO_TEMPCO["icm42688"], 0.5, 70, 20, 0.15, 0.5),
    "lsm6dsox": ChipSpec(0.0038, ZRO_DPS["lsm6dsox"], ZRO_TEMPCO["lsm6dsox"], 1.0, 70, 20, 0.1, 1.0),
    "lsm6ds3": ChipSpec(0.007, ZRO_DPS["lsm6ds3"], ZRO_TEMPCO["lsm6ds3"], 1.0, 90, 40, 0.5, 1.0),
    "icm20948": ChipSpec(0.015, ZRO_DPS["icm20948"], ZRO_TEMPCO["icm20948"], 1.5, 230, 50, 0.8, 0.5),
    "mpu6050": ChipSpec(0.005, ZRO_DPS["mpu6050"], ZRO_TEMPCO["mpu6050"], 3.0, 400, 50, 0.28, 3.0),
}  # fmt: skip
MAGNETOMETERS = {"lis3mdl": MagSpec(0.32, 400.0), "ak09916": MagSpec(0.15, 4900.0)}


def magnetometer_of(chip: str, mag_chip: str | None) -> str | None:
    """The magnetometer a sensor has: its external ``mag_chip`` or the ICM-20948's built-in AK09916."""
    if mag_chip is not None:
        return mag_chip
    return "ak09916" if chip == "icm20948" else None


@dataclass(frozen=True)
class SensorErrors:
    """The errors drawn for one sensor (SI units), kept as ground truth."""

    gyro_bias_rad_s: np.ndarray
    gyro_bias_tempco_rad_s_c: np.ndarray
    gyro_scale: np.ndarray
    acc_offset_m_s2: np.ndarray
    acc_offset_tempco_m_s2_c: np.ndarray
    acc_scale: np.ndarray

    def as_dict(self) -> dict[str, list[float]]:
        return {name: [float(v) for v in value] for name, value in vars(self).items()}


def draw_errors(
    spec: ChipSpec,
    rng: np.random.Generator,
    gyro_bias_deg_s: float | None,
    scale_error_pct: float | None,
) -> SensorErrors:
    """Per-axis errors within the datasheet bounds (or the scenario's own bounds where given)."""
    bias = spec.gyro_zro_dps if gyro_bias_deg_s is None else gyro_bias_deg_s
    gyro_scale = spec.gyro_sensitivity_pct if scale_error_pct is None else scale_error_pct
    acc_scale = spec.acc_sensitivity_pct if scale_error_pct is None else scale_error_pct

    def u(bound: float) -> np.ndarray:
        return rng.uniform(-bound, bound, 3)

    return SensorErrors(
        gyro_bias_rad_s=np.radians(u(bias)),
        gyro_bias_tempco_rad_s_c=np.radians(u(spec.gyro_zro_tempco_dps_c)),
        gyro_scale=1 + u(gyro_scale) / 100,
        acc_offset_m_s2=u(spec.acc_offset_mg) * 1e-3 * GRAVITY,
        acc_offset_tempco_m_s2_c=u(spec.acc_offset_tempco_mg_c) * 1e-3 * GRAVITY,
        acc_scale=1 + u(acc_scale) / 100,
    )


def measure(
    clean: ImuSamples,
    spec: ChipSpec,
    errors: SensorErrors,
    mag: MagSpec | None,
    rate_hz: float,
    rng: np.random.Generator,
) -> ImuSamples:
    """What the chip outputs for the ideal signals ``clean`` (timestamps untouched)."""
    n = len(clean)
    warm = WARMUP_C * (1 - np.exp(-clean.time_s / WARMUP_TAU_S))[:, None]
    root_bandwidth = np.sqrt(rate_hz / 2)
    gyr_noise = np.radians(spec.gyro_noise_dps_rthz) * root_bandwidth
    acc_noise = spec.acc_noise_ug_rthz * 1e-6 * GRAVITY * root_bandwidth
    gyr = (
        clean.gyr * errors.gyro_scale
        + errors.gyro_bias_rad_s
        + errors.gyro_bias_tempco_rad_s_c * warm
        + gyr_noise * rng.standard_normal((n, 3))
    )
    acc = (
        clean.acc * errors.acc_scale
        + errors.acc_offset_m_s2
        + errors.acc_offset_tempco_m_s2_c * warm
        + acc_noise * rng.standard_normal((n, 3))
    )
    gyr = np.clip(gyr, -np.radians(GYRO_RANGE_DPS), np.radians(GYRO_RANGE_DPS))
    acc = np.clip(acc, -ACC_RANGE_G * GRAVITY, ACC_RANGE_G * GRAVITY)
    field = None
    if clean.mag is not None and mag is not None:
        field = np.clip(
            clean.mag + mag.noise_ut * rng.standard_normal((n, 3)), -mag.range_ut, mag.range_ut
        )
    return ImuSamples(clean.time_s, acc, gyr, field)
