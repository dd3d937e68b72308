"""One chip on the bus, addressed as (bus, multiplexer channel, address), with bounded retries.

Every transaction first routes the multiplexer (when the chip sits behind
one), then runs; a transient error (EIO, errno 121) is retried up to
``retries`` times. Errors, retries and failures are counted per device so the
acquisition can report them per sensor.
"""

from __future__ import annotations

from dataclasses import dataclass

from hiprot.sensors.bus import TRANSIENT_ERRNOS, I2CBus, I2CError, describe_errno
from hiprot.sensors.mux import forget_routes, route

RETRIES = 3


@dataclass
class DeviceStats:
    """Per-device I2C health: failed attempts, retried attempts, transactions failed for good."""

    errors: int = 0
    retries: int = 0
    failures: int = 0


def where(
    bus: int, address: int, mux_address: int | None = None, channel: int | None = None
) -> str:
    """Human text for a location: ``bus 1, multiplexer 0x70 channel 2, address 0x68``."""
    mux = f", multiplexer 0x{mux_address:02x} channel {channel}" if mux_address is not None else ""
    return f"bus {bus}{mux}, address 0x{address:02x}"


class I2CDevice:
    """Register access to one chip, routed through its multiplexer channel, with counted retries."""

    def __init__(
        self,
        bus: I2CBus,
        address: int,
        mux_address: int | None = None,
        mux_channel: int | None = None,
        retries: int = RETRIES,
    ):
        self.bus, self.address = bus, address
        self.mux_address, self.mux_channel = mux_address, mux_channel
        self.retries = retries
        self.stats = DeviceStats()

    @property
    def where(self) -> str:
        return where(self.bus.number, self.address, self.mux_address, self.mux_channel)

    def read(self, register: int, length: int) -> bytes:
        """``length`` bytes from ``register`` on."""
        return self._transfer(self.bus.read_register, self.address, register, length)

    def write(self, register: int, data: bytes | int) -> None:
        """Write one byte (an int) or several bytes from ``register`` on."""
        payload = bytes([data]) if isinstance(data, int) else bytes(data)
        self._transfer(self.bus.write_register, self.address, register, payload)

    def read_byte(self, register: int) -> int:
        return self.read(register, 1)[0]

    def _transfer(self, operation, *args):
        for attempt in range(self.retries + 1):
            try:
                route(self.bus, self.mux_address, self.mux_channel)
                return operation(*args)
            except OSError as exc:
                self.stats.errors += 1
                forget_routes(self.bus)
                if exc.errno in TRANSIENT_ERRNOS and attempt < self.retries:
                    self.stats.retries += 1
                    continue
                self.stats.failures += 1
                tries = f" ({attempt + 1} tries)" if attempt else ""
                raise I2CError(
                    f"{self.where}: {describe_errno(exc.errno)}{tries}", exc.errno
                ) from None
