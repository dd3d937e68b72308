"""A fake I2C bus holding emulated chips, with the faults real wiring produces.

It implements the same four primitives as the ``smbus2`` backend, so drivers,
multiplexer routing, retries and acquisition run unchanged on it. Chips sit at
an address on the bus itself or on a channel of an emulated TCA9548A; a
transaction reaches whichever chips the multiplexers connect. Faults for
tests: :meth:`unplug`/:meth:`replug` (replugging powers the chip up from reset),
:meth:`inject_errors` (transient EIO or NACKs), ``stuck`` (every transaction
waits ``timeout_s`` of the clock, as the Pi's adapter does, then times out, as
when a device holds SDA low), :meth:`swap`/:meth:`restore` (another chip at a
chip's place). ``schedule`` (a :class:`~hiprot.sensors.emulated.faults.FaultSchedule`)
applies a rig's scheduled faults as their time comes.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hiprot.chip_catalogue import ADAPTER_TIMEOUT_S
from hiprot.sensors.bus import I2CBus
from hiprot.sensors.clock import Clock
from hiprot.sensors.emulated.tca9548a import EmulatedTca9548a

if TYPE_CHECKING:
    from hiprot.sensors.emulated.faults import FaultSchedule

Location = tuple[int | None, int | None, int]  # (mux address, mux channel, address)


def _oserror(number: int) -> OSError:
    return OSError(number, os.strerror(number))


STUCK_TIMEOUT_S = ADAPTER_TIMEOUT_S  # how long a transaction on a stuck bus waits (ETIMEDOUT)


@dataclass
class _Injected:
    remaining: int
    error: int
    location: Location | None


class EmulatedBus(I2CBus):
    """An I2C bus of emulated chips and multiplexers, on a shared clock."""

    def __init__(self, number: int, clock: Clock, timeout_s: float = STUCK_TIMEOUT_S):
        super().__init__(number)
        self.clock, self.timeout_s = clock, timeout_s
        self.chips: dict[Location, object] = {}
        self.unplugged: set[Location] = set()
        self.stuck = False
        self.schedule: FaultSchedule | None = None
        self._injected: list[_Injected] = []
        self._swapped: dict[Location, object] = {}

    def attach(
        self, chip, address: int, mux_address: int | None = None, mux_channel: int | None = None
    ) -> None:
        """Wire ``chip`` at ``address``, on the bus or behind a multiplexer channel."""
        if (mux_address is None) != (mux_channel is None):
            raise ValueError("give both mux_address and mux_channel, or neither")
        if mux_address is not None and not isinstance(
            self.chips.get((None, None, mux_address)), EmulatedTca9548a
        ):
            self.attach(EmulatedTca9548a(), mux_address)
        self.chips[(mux_address, mux_channel, address)] = chip

    def chip_at(self, address: int, mux_address: int | None = None, mux_channel: int | None = None):
        """The emulated chip wired at a location."""
        return self.chips[(mux_address, mux_channel, address)]

    def unplug(
        self, address: int, mux_address: int | None = None, mux_channel: int | None = None
    ) -> None:
        """Disconnect a chip: it stops answering (NACK)."""
        self.unplugged.add((mux_address, mux_channel, address))

    def replug(
        self, address: int, mux_address: int | None = None, mux_channel: int | None = None
    ) -> None:
        """Reconnect a chip; having lost power it starts from its reset state."""
        location = (mux_address, mux_channel, address)
        self.unplugged.discard(location)
        self.chips[location].power_on()

    def swap(
        self, chip, address: int, mux_address: int | None = None, mux_channel: int | None = None
    ) -> None:
        """Put another ``chip`` at a chip's place (a wrong board plugged in) until :meth:`restore`."""
        location = (mux_address, mux_channel, address)
        self._swapped.setdefault(location, self.chips[location])
        self.chips[location] = chip

    def restore(
        self, address: int, mux_address: int | None = None, mux_channel: int | None = None
    ) -> None:
        """The right chip is back at its place, powered up from reset."""
        location = (mux_address, mux_channel, address)
        if location in self._swapped:
            self.chips[location] = self._swapped.pop(location)
            self.chips[location].power_on()

    def inject_errors(
        self,
        count: int,
        error: int = errno.EIO,
        address: int | None = None,
        mux_address: int | None = None,
        mux_channel: int | None = None,
    ) -> None:
        """Make the next ``count`` transactions (to the chip at ``address``, or any) fail with
        ``error``; with a multiplexer channel, only while that channel is connected."""
        location = None if address is None else (mux_address, mux_channel, address)
        self._injected.append(_Injected(count, error, location))

    def _target(self, address: int):
        if self.schedule is not None:
            self.schedule.run_due(self.clock.now())
        if self.stuck:
            self.clock.sleep(self.timeout_s)
            raise _oserror(errno.ETIMEDOUT)
        for injected in self._injected:
            if injected.remaining > 0 and self._hits(injected.location, address):
                injected.remaining -= 1
                raise _oserror(injected.error)
        self._injected = [i for i in self._injected if i.remaining > 0]
        answering = [
            chip
            for location, chip in self.chips.items()
            if location[2] == address
            and location not in self.unplugged
            and self._connected(location)
        ]
        if not answering:
            raise _oserror(errno.EREMOTEIO)
        if len(answering) > 1:
            raise _oserror(errno.EIO)  # two chips acknowledge at once: the data collide
        return answering[0]

    def _hits(self, location: Location | None, address: int) -> bool:
        return location is None or (location[2] == address and self._connected(location))

    def _connected(self, location: Location) -> bool:
        mux_address, channel, _ = location
        if mux_address is None:
            return True
        mux = self.chips.get((None, None, mux_address))
        return (
            isinstance(mux, EmulatedTca9548a)
            and (None, None, mux_address) not in self.unplugged
            and bool(mux.control >> channel & 1)
        )

    def _read_register(self, address: int, register: int, length: int) -> bytes:
        return self._target(address).read(register, length, self.clock.now())

    def _write_register(self, address: int, register: int, data: bytes) -> None:
        self._target(address).write(register, data, self.clock.now())

    def _receive_byte(self, address: int) -> int:
        return self._target(address).receive(self.clock.now())

    def _send_byte(self, address: int, value: int) -> None:
        self._target(address).send(value, self.clock.now())
