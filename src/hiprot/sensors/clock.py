"""Clocks for acquisition: real monotonic time, or virtual time for emulated rigs.

The acquisition loop and the emulated chips share one clock object, so an
emulated rig can run faster than real time (tests, ``hiprot demo``) or at real
time (``hiprot record`` on the simulated rig) with the same code.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Seconds since the clock was made; ``sleep`` waits (really or virtually)."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    """Real time from ``time.monotonic()``, counted from when the clock was made."""

    def __init__(self) -> None:
        self._origin = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._origin

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class VirtualClock:
    """Time that moves only when someone sleeps: an emulated rig runs as fast as the CPU allows."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._now += seconds


def sleep_until(clock: Clock, deadline: float) -> None:
    """Sleep on ``clock`` until ``deadline`` (no-op when it has passed)."""
    clock.sleep(deadline - clock.now())
