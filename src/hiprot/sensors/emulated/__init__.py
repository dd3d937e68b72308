"""Register-level emulated chips on a fake I2C bus, so the real drivers run without hardware."""

from hiprot.sensors.emulated.bus import EmulatedBus
from hiprot.sensors.emulated.motion import Motion
from hiprot.sensors.emulated.rig import EMULATED_CHIPS, emulated_buses

__all__ = ["EMULATED_CHIPS", "EmulatedBus", "Motion", "emulated_buses"]
