"""Sources of raw samples: each yields chunks (sensor name → ImuSamples) in time order.

A live source is an object: iterate it for chunks, ask ``health()`` for
per-sensor counts (see :class:`hiprot.sensors.acquisition.SensorHealth`) and
``close()`` it when done. :func:`open_source` gives a rig's source: the real
I2C buses (``smbus2``) for a hardware rig; for a simulated rig, the simulator's
motion played through register-level emulated chips, so the same drivers and
acquisition run either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from hiprot.config import Rig
from hiprot.samples import Chunk
from hiprot.sensors.acquisition import READ_PERIOD_S, Acquisition
from hiprot.sensors.bus import I2CBus, SMBusBus
from hiprot.sensors.clock import Clock, MonotonicClock, VirtualClock
from hiprot.sensors.emulated.motion import Playback

if TYPE_CHECKING:
    from hiprot.sim import Simulation

CHUNK_S = READ_PERIOD_S  # the span of one live chunk (shorter when a chip's FIFO is small)


@runtime_checkable
class Source(Protocol):
    """What a live source offers besides its chunks."""

    def __iter__(self) -> Iterator[Chunk]: ...

    def health(self) -> dict[str, dict]: ...

    def elapsed_s(self) -> float: ...

    def close(self) -> None: ...


class RigSource:
    """A rig's sensors read through their drivers by an :class:`Acquisition`.

    ``simulation`` holds the simulator's ground truth when the rig is simulated.
    """

    def __init__(self, acquisition: Acquisition, simulation: Simulation | None = None):
        self.acquisition, self.simulation = acquisition, simulation

    def __iter__(self) -> Iterator[Chunk]:
        return iter(self.acquisition)

    def health(self) -> dict[str, dict]:
        return self.acquisition.health()

    def elapsed_s(self) -> float:
        """Seconds since acquisition started, on the clock of the sample times."""
        return self.acquisition.elapsed_s()

    @property
    def start_utc(self) -> datetime | None:
        """Wall-clock UTC of sample time 0 (when the sensors started)."""
        return self.acquisition.start_utc

    def close(self) -> None:
        """Stop the sensors and release the buses; again does nothing."""
        self.acquisition.close()

    def __enter__(self) -> RigSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_source(
    rig: Rig,
    duration_s: float | None = None,
    realtime: bool = True,
    on_event: Callable[[str], None] | None = None,
    clock: Clock | None = None,
) -> RigSource:
    """Start the rig's sensors; a simulated rig runs on a virtual clock unless ``realtime``,
    or on ``clock`` when given (a test's wearer who waits for prompts).

    ``duration_s`` ends the source after that many seconds of samples (a
    simulated rig ends with its simulation by default). Missing or wrong chips
    raise :class:`~hiprot.errors.SensorError` naming each.
    """
    simulation = None
    playback = Playback()
    buses: dict[int, I2CBus]
    if rig.simulation is not None:
        from hiprot.sensors.emulated import emulated_buses  # a hardware rig needs neither
        from hiprot.sim import simulate

        simulation = simulate(rig, duration_s)
        duration_s = duration_s or simulation.duration_s
        clock = clock or (MonotonicClock() if realtime else VirtualClock())
        buses = dict(emulated_buses(rig, clock, simulation.samples, playback))
    else:
        clock = MonotonicClock()
        buses = {}
        try:
            for number in sorted({s.bus for s in rig.sensors}):
                buses[number] = SMBusBus(number)
        except Exception:
            for bus in buses.values():
                bus.close()
            raise
    acquisition = Acquisition(rig, buses, clock, duration_s, on_event=on_event)
    acquisition.open()
    playback.start(acquisition.start_s)
    return RigSource(acquisition, simulation)
