"""Walk an I2C bus and every multiplexer channel, name each chip, and compare with a rig.

Multiplexers are found first (a TCA9548A at 0x70-0x77 reads back its control
byte); with all channels off the bus itself is probed, then each channel on
its own. A chip answering on the bus itself answers on every channel too, so
it is listed once. Chips are named by their identity register (see
:mod:`hiprot.sensors.ids`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hiprot.config import Rig
from hiprot.sensors.bus import I2CBus
from hiprot.sensors.device import where
from hiprot.sensors.ids import NAMED_ADDRESSES, PROBE_REGISTERS, ChipId, known
from hiprot.sensors.mux import CHANNELS, MUX_ADDRESSES, mux_on, route

PROBE_ADDRESSES = range(0x08, 0x78)
ICM20948_BANK_SELECT = 0x7F


@dataclass(frozen=True)
class Found:
    """A device that answered, and what it is if we recognise it."""

    bus: int
    mux_address: int | None
    mux_channel: int | None
    address: int
    identity: ChipId | None = None
    register: int | None = None
    value: int | None = None

    @property
    def location(self) -> tuple[int, int | None, int | None, int]:
        return (self.bus, self.mux_address, self.mux_channel, self.address)

    @property
    def where(self) -> str:
        return where(self.bus, self.address, self.mux_address, self.mux_channel)

    @property
    def name(self) -> str:
        if self.identity is None:
            read = (
                f" (register 0x{self.register:02x} reads 0x{self.value:02x})"
                if self.value is not None
                else ""
            )
            return f"unknown device{read}"
        ident = (
            f" (id 0x{self.value:02x} at register 0x{self.register:02x})"
            if self.value is not None
            else ""
        )
        return f"{self.identity.label}{ident}"


@dataclass
class BusScan:
    """What answered on one bus: multiplexer addresses and devices."""

    bus: int
    muxes: list[int] = field(default_factory=list)
    found: list[Found] = field(default_factory=list)


def _answers(bus: I2CBus, address: int) -> bool:
    try:
        bus.receive_byte(address)
        return True
    except OSError:
        return False


def _is_mux(bus: I2CBus, address: int) -> bool:
    """A TCA9548A keeps the control byte written to it and reads it back."""
    try:
        for pattern in (0x05, 0x00):
            bus.send_byte(address, pattern)
            if bus.receive_byte(address) != pattern:
                return False
        return True
    except OSError:
        return False


def identify(
    bus: I2CBus, address: int, mux_address: int | None = None, mux_channel: int | None = None
) -> Found:
    """Read the identity registers that fit ``address`` and name the chip."""
    place = (bus.number, mux_address, mux_channel, address)
    if address in NAMED_ADDRESSES:
        return Found(*place, identity=NAMED_ADDRESSES[address])
    first = None
    try:
        for register in PROBE_REGISTERS.get(address, ()):
            value = bus.read_register(address, register, 1)[0]
            first = first or (register, value)
            if known(register, value):
                return Found(*place, known(register, value), register, value)
        if address in (0x68, 0x69):  # an ICM-20948 left in another register bank
            bus.write_register(address, ICM20948_BANK_SELECT, b"\x00")
            value = bus.read_register(address, 0x00, 1)[0]
            if known(0x00, value):
                return Found(*place, known(0x00, value), 0x00, value)
    except OSError:
        pass
    return Found(*place, None, *(first or (None, None)))


def scan_bus(bus: I2CBus) -> BusScan:
    """Every device on ``bus`` and behind each multiplexer channel, named where known."""
    result = BusScan(bus.number, [a for a in MUX_ADDRESSES if _is_mux(bus, a)])
    for address in result.muxes:
        mux_on(bus, address)
    try:
        route(bus, None, None)
        direct = {a for a in PROBE_ADDRESSES if a not in result.muxes and _answers(bus, a)}
        result.found += [identify(bus, a) for a in sorted(direct)]
        for mux_address in result.muxes:
            for channel in CHANNELS:
                route(bus, mux_address, channel)
                for address in PROBE_ADDRESSES:
                    if (
                        address not in direct
                        and address not in result.muxes
                        and _answers(bus, address)
                    ):
                        result.found.append(identify(bus, address, mux_address, channel))
    finally:
        for mux in bus.muxes.values():
            mux.enabled = None
        route(bus, None, None)
    return result


@dataclass(frozen=True)
class Check:
    """One line of a rig comparison: ``kind`` is ok, missing, wrong chip or not in rig."""

    kind: str
    text: str


def compare(rig: Rig, scans: dict[int, BusScan]) -> list[Check]:
    """Each rig chip against what answers at its location; then devices the rig does not name."""
    found = {f.location: f for scan in scans.values() for f in scan.found}
    expected = []
    for s in rig.sensors:
        expected.append((s.name, s.chip, (s.bus, s.mux_address, s.mux_channel, s.address)))
        if s.mag_chip:
            expected.append(
                (
                    f"{s.name} magnetometer",
                    s.mag_chip,
                    (s.bus, s.mux_address, s.mux_channel, s.mag_address),
                )
            )
    checks, claimed = [], set()
    for name, chip, location in expected:
        if location[0] not in scans:
            continue
        place = where(location[0], location[3], location[1], location[2])
        device = found.get(location)
        claimed.add(location)
        if (
            device is None
            and location[1] is not None
            and location[1] not in scans[location[0]].muxes
        ):
            checks.append(
                Check(
                    "missing",
                    f"{name}: the multiplexer 0x{location[1]:02x} on bus "
                    f"{location[0]} does not answer, so {chip} behind its "
                    f"channel {location[2]} cannot be reached",
                )
            )
        elif device is None:
            hint = (
                " (is its AD0/SDO pin at the level that selects this address?)"
                if location[3] in (0x68, 0x69, 0x6A, 0x6B, 0x1C, 0x1E)
                else ""
            )
            checks.append(
                Check(
                    "missing",
                    f"{name}: nothing answers at {place}; the rig expects "
                    f"{chip}. Check power, SDA/SCL and the address{hint}",
                )
            )
        elif device.identity is None or device.identity.chip != chip:
            fix = (
                f'; set chip = "{device.identity.chip}" or fit a {chip} module'
                if device.identity is not None and device.identity.chip
                else ""
            )
            checks.append(
                Check(
                    "wrong chip",
                    f"{name}: at {place} the rig expects {chip}, found {device.name}{fix}",
                )
            )
        else:
            checks.append(Check("ok", f"{name}: {device.identity.part} at {place}"))
    for device in found.values():
        if device.location not in claimed:
            checks.append(Check("not in rig", f"{device.name} at {device.where} is not in the rig"))
    return checks
