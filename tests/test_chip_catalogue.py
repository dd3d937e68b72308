"""The chip catalogue: one source for what each rig chip key means, agreeing with drivers and emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from hiprot.chip_catalogue import (
    CHIPS,
    IMU_CHIPS,
    MAG_CHIPS,
    gyro_bias_bound_dps,
    gyro_drift_bound_dps,
)
from hiprot.config import ConfigError, parse_rig
from hiprot.sensors.drivers import IMU_DRIVERS, MAG_DRIVERS
from hiprot.sensors.emulated import EMULATED_CHIPS
from hiprot.sensors.ids import KNOWN_IDS


def test_every_catalogue_chip_has_its_driver_and_the_driver_names_the_same_part():
    assert set(IMU_DRIVERS) == set(IMU_CHIPS) and set(MAG_DRIVERS) == set(MAG_CHIPS)
    for key, driver in {**IMU_DRIVERS, **MAG_DRIVERS}.items():
        assert driver.chip == key and driver.part == CHIPS[key].part
    assert {c.chip for c in KNOWN_IDS.values() if c.chip} == set(CHIPS)


def test_the_emulated_fifos_hold_what_the_catalogue_says():
    """The emulator models each datasheet on its own; a FIFO word may not divide the size."""
    for key in IMU_CHIPS:
        capacity = EMULATED_CHIPS[key]().fifo.capacity
        assert CHIPS[key].fifo_bytes - 8 < capacity <= CHIPS[key].fifo_bytes, key


def test_gyro_bias_bound_follows_the_datasheet_offset_with_a_margin_and_a_floor():
    assert gyro_bias_bound_dps("icm42688") == 2.0  # ±0.5 °/s: VQF's default bound
    assert gyro_bias_bound_dps("mpu6050") == 30.0  # ±20 °/s × 1.5
    with pytest.raises(ValueError, match="no gyroscope"):
        gyro_bias_bound_dps("lis3mdl")


def test_gyro_drift_bound_is_the_temperature_coefficient_over_the_warm_up_with_the_margin():
    assert gyro_drift_bound_dps("icm42688") == pytest.approx(1.5 * 0.005 * 15.0)  # 0.11 °/s
    assert gyro_drift_bound_dps("mpu6050") == pytest.approx(1.5 * 0.16 * 15.0)  # 3.6 °/s
    for key in IMU_CHIPS:  # a still chip's drift stays well inside its bias bound
        assert 0.0 < gyro_drift_bound_dps(key) < gyro_bias_bound_dps(key), key
    with pytest.raises(ValueError, match="no gyroscope"):
        gyro_drift_bound_dps("lis3mdl")


def _rig(chip: str, **mag: str):
    sensor = {
        "name": "t",
        "segment": "thigh",
        "side": "right",
        "chip": chip,
        "address": 0x6A,
        **mag,
    }
    return parse_rig({"device_id": "d", "sample_rate_hz": 100, "sensors": [sensor]}, Path("r"))


def test_config_takes_magnetometers_from_the_catalogue():
    beside = _rig("lsm6dsox", mag_chip="lis3mdl").sensors[0]
    assert beside.has_magnetometer and beside.mag_address == CHIPS["lis3mdl"].addresses[0]
    assert _rig("icm20948").sensors[0].has_magnetometer
    assert not _rig("icm42688").sensors[0].has_magnetometer
    with pytest.raises(ConfigError, match="beside lsm6dsox/lsm6ds3, not mpu6050"):
        _rig("mpu6050", mag_chip="lis3mdl")
