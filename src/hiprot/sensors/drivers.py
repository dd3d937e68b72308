"""Which driver class serves which rig ``chip`` name, and building one for a rig sensor."""

from __future__ import annotations

from hiprot.chip_catalogue import CHIPS
from hiprot.config import SensorConfig
from hiprot.sensors.base import ImuDriver
from hiprot.sensors.bus import I2CBus
from hiprot.sensors.clock import Clock
from hiprot.sensors.device import I2CDevice
from hiprot.sensors.icm20948 import Icm20948
from hiprot.sensors.icm42688 import Icm42688
from hiprot.sensors.lis3mdl import Lis3mdl
from hiprot.sensors.lsm6ds3 import Lsm6ds3
from hiprot.sensors.lsm6dsox import Lsm6dsox
from hiprot.sensors.mpu6050 import Mpu6050

IMU_DRIVERS: dict[str, type[ImuDriver]] = {
    "icm42688": Icm42688,
    "lsm6dsox": Lsm6dsox,
    "lsm6ds3": Lsm6ds3,
    "icm20948": Icm20948,
    "mpu6050": Mpu6050,
}
MAG_DRIVERS: dict[str, type[Lis3mdl]] = {"lis3mdl": Lis3mdl}


def imu_driver(
    sensor: SensorConfig, bus: I2CBus, clock: Clock, use_magnetometer: bool
) -> ImuDriver:
    """The driver of ``sensor``'s IMU chip at its (bus, multiplexer channel, address)."""
    device = I2CDevice(bus, sensor.address, sensor.mux_address, sensor.mux_channel)
    with_mag = use_magnetometer and CHIPS[sensor.chip].magnetometer == "own"
    return IMU_DRIVERS[sensor.chip](device, clock, with_mag=with_mag)


def mag_driver(sensor: SensorConfig, bus: I2CBus, clock: Clock) -> Lis3mdl | None:
    """The driver of ``sensor``'s separate magnetometer chip, if the rig names one."""
    if sensor.mag_chip is None:
        return None
    device = I2CDevice(bus, sensor.mag_address, sensor.mux_address, sensor.mux_channel)
    return MAG_DRIVERS[sensor.mag_chip](device, clock)
