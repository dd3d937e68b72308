"""The TCA9548A I2C multiplexer: eight downstream channels behind one address (0x70-0x77).

Texas Instruments SCPS207, "Control Register": the device has one register
written and read without a register address; bit n enables channel n (several
may be on at once; 0 disconnects all). We enable exactly one channel of one
multiplexer at a time, so identical chips (all at 0x68) can sit on different
channels, and remember the state to skip needless writes.
"""

from __future__ import annotations

from hiprot.sensors.bus import I2CBus

MUX_ADDRESSES = range(0x70, 0x78)
CHANNELS = range(8)


class Tca9548a:
    """One TCA9548A on a bus; ``enabled`` is the control byte we last wrote (None: unknown)."""

    def __init__(self, bus: I2CBus, address: int):
        if address not in MUX_ADDRESSES:
            raise ValueError(f"a TCA9548A lives at 0x70-0x77, not 0x{address:02x}")
        self.bus, self.address = bus, address
        self.enabled: int | None = None

    def set_channels(self, mask: int) -> None:
        """Write the control byte (bit n = channel n) unless it is known to be set already."""
        if self.enabled != mask:
            self.enabled = None
            self.bus.send_byte(self.address, mask)
            self.enabled = mask


def mux_on(bus: I2CBus, address: int) -> Tca9548a:
    """The multiplexer object for ``address`` on ``bus`` (one per address, kept on the bus)."""
    if address not in bus.muxes:
        bus.muxes[address] = Tca9548a(bus, address)
    return bus.muxes[address]


def route(bus: I2CBus, mux_address: int | None, channel: int | None) -> None:
    """Connect the bus to ``channel`` of ``mux_address`` only (or to no channel when None)."""
    if mux_address is not None:
        mux_on(bus, mux_address)
    for address, mux in bus.muxes.items():
        mux.set_channels(1 << channel if address == mux_address and channel is not None else 0)


def forget_routes(bus: I2CBus) -> None:
    """After an error the multiplexers' state is unknown: rewrite it on the next transaction."""
    for mux in bus.muxes.values():
        mux.enabled = None
