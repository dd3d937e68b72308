"""Sources of raw samples: each yields chunks (sensor name → ImuSamples) in time order."""

from __future__ import annotations

import time
from collections.abc import Iterator

from hiprot.config import Rig
from hiprot.errors import NotYetAvailable
from hiprot.samples import Chunk, split_chunk
from hiprot.sim import simulate

CHUNK_S = 0.05


def simulated_source(rig: Rig, duration_s: float | None = None, realtime: bool = True) -> Iterator[Chunk]:
    """The simulated rig's samples in chunks, paced at real time unless ``realtime`` is False."""
    simulation = simulate(rig, duration_s)
    start = time.monotonic()
    for chunk in split_chunk(simulation.samples, CHUNK_S):
        if realtime:
            end = max(s.time_s[-1] for s in chunk.values())
            delay = end - (time.monotonic() - start)
            if delay > 0:
                time.sleep(delay)
        yield chunk


def open_source(rig: Rig, duration_s: float | None = None, realtime: bool = True) -> Iterator[Chunk]:
    """The rig's source: simulated when the rig has a ``[simulation]`` table."""
    if rig.simulation is not None:
        return simulated_source(rig, duration_s, realtime)
    raise NotYetAvailable(
        f"{rig.source}: reading real I2C sensors arrives with the sensors issue (#4); "
        "use a simulated rig such as config/sim.toml for now"
    )
