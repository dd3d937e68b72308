"""``hiprot scan``: what is wired to the I2C bus, named chip by chip, compared with a rig."""

from __future__ import annotations

from pathlib import Path

import click

from hiprot.config import load_rig
from hiprot.errors import SensorError
from hiprot.sensors.bus import I2CBus, SMBusBus
from hiprot.sensors.clock import VirtualClock
from hiprot.sensors.emulated import EmulatedBus, emulated_buses
from hiprot.sensors.scan import BusScan, compare, scan_bus

PATH = click.Path(dir_okay=False, path_type=Path)


def _print_scan(scan: BusScan, names: dict[tuple, str]) -> None:
    click.echo(f"I2C bus {scan.bus}:")
    if not scan.found and not scan.muxes:
        click.echo("  nothing answers (check power, SDA on GPIO2/pin 3, SCL on GPIO3/pin 5)")
    for device in (f for f in scan.found if f.mux_address is None):
        rig_name = f"  <- {names[device.location]}" if device.location in names else ""
        click.echo(f"  0x{device.address:02x}  {device.name}{rig_name}")
    for mux_address in scan.muxes:
        click.echo(f"  0x{mux_address:02x}  TCA9548A multiplexer")
        for channel in range(8):
            behind = [
                f for f in scan.found if f.mux_address == mux_address and f.mux_channel == channel
            ]
            if not behind:
                click.echo(f"        channel {channel}: empty")
            for device in behind:
                rig_name = f"  <- {names[device.location]}" if device.location in names else ""
                click.echo(
                    f"        channel {channel}: 0x{device.address:02x}  {device.name}{rig_name}"
                )


@click.command()
@click.option(
    "--rig",
    "rig_path",
    type=PATH,
    default=None,
    help="Compare what answers with this rig file (missing, wrong chip, not in the rig).",
)
@click.option(
    "--emulated",
    "emulated_path",
    type=PATH,
    default=None,
    metavar="RIG",
    help="Scan an emulated rig built from RIG instead of the real bus (no hardware needed).",
)
@click.option(
    "--bus",
    "bus_numbers",
    type=click.IntRange(min=0),
    multiple=True,
    metavar="N",
    help="I2C bus to scan (repeatable; default: the rig's buses, else 1).",
)
def scan(rig_path, emulated_path, bus_numbers) -> None:
    """Walk the I2C bus and every multiplexer channel and name each chip by its WHO_AM_I."""
    rig = load_rig(rig_path) if rig_path is not None else None
    emulated = load_rig(emulated_path) if emulated_path is not None else None
    clock = VirtualClock()
    fake = emulated_buses(emulated, clock) if emulated is not None else {}
    numbers = bus_numbers or sorted(
        {s.bus for s in (rig or emulated).sensors} if rig or emulated else {1}
    )
    what = f"emulated rig {emulated_path}" if emulated is not None else "the real bus"
    click.echo(f"scanning {what}, bus {', '.join(map(str, numbers))}")
    scans: dict[int, BusScan] = {}
    for number in numbers:
        if emulated is not None:
            bus: I2CBus = fake.get(number) or EmulatedBus(number, clock)
        else:
            bus = SMBusBus(number)
        try:
            scans[number] = scan_bus(bus)
        finally:
            bus.close()
    names = {}
    if rig is not None:
        for s in rig.sensors:
            names[(s.bus, s.mux_address, s.mux_channel, s.address)] = s.name
            if s.mag_chip:
                names[(s.bus, s.mux_address, s.mux_channel, s.mag_address)] = (
                    f"{s.name} magnetometer"
                )
    for number in numbers:
        _print_scan(scans[number], names)
    imus = sum(1 for s in scans.values() for f in s.found if f.identity and f.identity.chip)
    click.echo(f"found {imus} supported chip{'s' if imus != 1 else ''}")
    if rig is None:
        return
    checks = compare(rig, scans)
    click.echo(f"compared with rig {rig_path}:")
    for check in checks:
        click.echo(f"  {check.kind.upper():<10}  {check.text}")
    bad = [c for c in checks if c.kind in ("missing", "wrong chip")]
    if bad:
        counts = {kind: sum(c.kind == kind for c in bad) for kind in ("missing", "wrong chip")}
        summary = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
        raise SensorError(
            f"{rig_path}: the wiring does not match the rig ({summary}); see the list above"
        )
    click.echo("every sensor of the rig answers where the rig says, with the right chip")
