"""A rig's scheduled I2C faults (``[[simulation.faults]]``), played on the emulated buses.

Each fault becomes timed actions on its bus (start, and end for those with
``for_s``), counted from the acquisition's start as the shared
:class:`~hiprot.sensors.emulated.motion.Playback` marks it. A bus runs the
actions that are due before each transaction, so the faults happen on the
same clock the acquisition reads, whether real or virtual.
"""

from __future__ import annotations

from collections.abc import Callable

from hiprot.config import FaultConfig, SensorConfig
from hiprot.sensors.emulated.bus import EmulatedBus
from hiprot.sensors.emulated.motion import Playback

Action = Callable[[], None]


class FaultSchedule:
    """Actions at times after the acquisition started, run once each when due."""

    def __init__(self, playback: Playback):
        self.playback = playback
        self.actions: list[tuple[float, Action]] = []

    def add(self, at_s: float, action: Action) -> None:
        self.actions.append((at_s, action))
        self.actions.sort(key=lambda timed: timed[0])

    def run_due(self, now: float) -> None:
        """Run every action whose time has come (none before the acquisition started)."""
        if not self.playback.started:
            return
        while self.actions and now - self.playback.start_s >= self.actions[0][0]:
            self.actions.pop(0)[1]()


def schedule_faults(
    faults: tuple[FaultConfig, ...],
    sensors: dict[str, SensorConfig],
    buses: dict[int, EmulatedBus],
    make_chip: Callable[[str, str], object],
    playback: Playback,
) -> FaultSchedule:
    """Put ``faults`` on ``buses``; ``make_chip(chip, sensor)`` builds a swapped-in chip."""
    schedule = FaultSchedule(playback)
    for bus in buses.values():
        bus.schedule = schedule
    for fault in faults:
        if fault.kind == "stuck":
            bus = buses[fault.bus]
            schedule.add(fault.at_s, lambda bus=bus: setattr(bus, "stuck", True))
            schedule.add(fault.at_s + fault.for_s, lambda bus=bus: setattr(bus, "stuck", False))
            continue
        sensor = sensors[fault.sensor]
        bus = buses[sensor.bus]
        place = (sensor.address, sensor.mux_address, sensor.mux_channel)
        if fault.kind == "errors":
            schedule.add(
                fault.at_s,
                lambda bus=bus, f=fault, p=place: bus.inject_errors(f.count, f.errno, *p),
            )
        elif fault.kind == "unplug":
            schedule.add(fault.at_s, lambda bus=bus, p=place: bus.unplug(*p))
            schedule.add(fault.at_s + fault.for_s, lambda bus=bus, p=place: bus.replug(*p))
        else:  # swap
            chip = make_chip(fault.chip, sensor.name)
            schedule.add(fault.at_s, lambda bus=bus, c=chip, p=place: bus.swap(c, *p))
            schedule.add(fault.at_s + fault.for_s, lambda bus=bus, p=place: bus.restore(*p))
    return schedule
