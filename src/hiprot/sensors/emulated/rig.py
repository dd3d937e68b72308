"""An emulated rig: every sensor of a rig file as an emulated chip at its configured location."""

from __future__ import annotations

from hiprot.config import Rig
from hiprot.samples import ImuSamples
from hiprot.sensors.clock import Clock
from hiprot.sensors.emulated.bus import STUCK_TIMEOUT_S, EmulatedBus
from hiprot.sensors.emulated.faults import schedule_faults
from hiprot.sensors.emulated.icm20948 import EmulatedIcm20948
from hiprot.sensors.emulated.icm42688 import EmulatedIcm42688
from hiprot.sensors.emulated.lis3mdl import EmulatedLis3mdl
from hiprot.sensors.emulated.lsm6ds3 import EmulatedLsm6ds3
from hiprot.sensors.emulated.lsm6dsox import EmulatedLsm6dsox
from hiprot.sensors.emulated.motion import Motion, Playback
from hiprot.sensors.emulated.mpu6050 import EmulatedMpu6050

EMULATED_CHIPS = {
    "icm42688": EmulatedIcm42688,
    "lsm6dsox": EmulatedLsm6dsox,
    "lsm6ds3": EmulatedLsm6ds3,
    "icm20948": EmulatedIcm20948,
    "mpu6050": EmulatedMpu6050,
    "lis3mdl": EmulatedLis3mdl,
}


def emulated_buses(
    rig: Rig,
    clock: Clock,
    motions: dict[str, ImuSamples] | None = None,
    playback: Playback | None = None,
) -> dict[int, EmulatedBus]:
    """One emulated bus per bus number of ``rig``; chips move as ``motions`` say (else lie still).

    ``playback`` sets when the motions start on the clock (default: at clock time 0) and,
    once started, when the simulation's scheduled faults happen.
    """
    simulation = rig.simulation
    timeout_s = simulation.bus_timeout_s if simulation is not None else STUCK_TIMEOUT_S
    playback = playback or Playback()
    buses: dict[int, EmulatedBus] = {}
    motion_of: dict[str, Motion] = {}
    for sensor in rig.sensors:
        bus = buses.setdefault(sensor.bus, EmulatedBus(sensor.bus, clock, timeout_s))
        samples = (motions or {}).get(sensor.name)
        motion = motion_of[sensor.name] = (
            Motion(samples, playback)
            if samples is not None and len(samples)
            else Motion.stationary()
        )
        bus.attach(
            EMULATED_CHIPS[sensor.chip](motion),
            sensor.address,
            sensor.mux_address,
            sensor.mux_channel,
        )
        if sensor.mag_chip is not None:
            bus.attach(
                EMULATED_CHIPS[sensor.mag_chip](motion),
                sensor.mag_address,
                sensor.mux_address,
                sensor.mux_channel,
            )
    if simulation is not None and simulation.faults:
        schedule_faults(
            simulation.faults,
            {s.name: s for s in rig.sensors},
            buses,
            lambda chip, name: EMULATED_CHIPS[chip](motion_of[name]),
            playback,
        )
    return buses
