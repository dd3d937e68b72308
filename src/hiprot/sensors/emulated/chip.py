"""The base of every emulated chip: a register file (with banks), a FIFO, and sampling in time.

An emulated chip answers register reads and writes as the datasheet says and,
whenever it is touched, first catches up with the clock: every output-data-rate
tick since the last access produces a sample of its :class:`Motion`, quantised
to the register scale and saturated at the range, into the data registers and
the FIFO. Subclasses describe their registers; this class does the bookkeeping.
Their constants are written from the datasheets independently of the drivers,
so a wrong field in a driver shows up as a failing test instead of cancelling out.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from hiprot.sensors.emulated.motion import Motion

TICK_TOLERANCE = 1e-9  # a tick at the very instant of an access is not produced yet
MAX_BACKLOG = 8192  # samples produced at most per access (a FIFO holds far fewer)


class Fifo:
    """A byte FIFO of fixed size that drops the oldest bytes (or refuses the newest) when full."""

    def __init__(self, capacity: int, keep_newest: bool = True, unit: int = 1):
        self.capacity, self.keep_newest, self.unit = capacity, keep_newest, unit
        self.data = bytearray()
        self.overflowed = False
        self.lost_units = 0

    def __len__(self) -> int:
        return len(self.data)

    def push(self, blob: bytes) -> None:
        self.data += blob
        excess = len(self.data) - self.capacity
        if excess > 0:
            excess = math.ceil(excess / self.unit) * self.unit
            self.overflowed = True
            self.lost_units += excess // self.unit
            if self.keep_newest:
                del self.data[:excess]
            else:
                del self.data[len(self.data) - excess :]

    def pop(self, length: int, empty_byte: int) -> bytes:
        out = bytes(self.data[:length])
        del self.data[:length]
        return out + bytes([empty_byte]) * (length - len(out))

    def clear(self) -> None:
        self.data.clear()
        self.overflowed = False


class RegisterChip:
    """An emulated I2C chip: registers, banks, auto-increment, samples at its output data rate."""

    identity: ClassVar[tuple[int, int]]  # (WHO_AM_I register, value) in bank 0
    defaults: ClassVar[dict[tuple[int, int], int]] = {}  # (bank, register) → value after power-on
    banks: ClassVar[int] = 1

    def __init__(self, motion: Motion | None = None, chip_id: int | None = None):
        self.motion = motion or Motion.stationary()
        self.chip_id = chip_id if chip_id is not None else self.identity[1]
        self.power_on()

    def power_on(self) -> None:
        """Registers to their reset values, FIFO empty, sensors off (also a soft reset)."""
        self.regs = [bytearray(256) for _ in range(self.banks)]
        for (bank, register), value in self.defaults.items():
            self.regs[bank][register] = value
        self.regs[0][self.identity[0]] = self.chip_id
        self.bank = 0
        self.pointer = 0
        self._now = 0.0
        self._odr: float | None = None
        self._next_tick = 0
        self.fifo = self.make_fifo()

    def make_fifo(self) -> Fifo:
        return Fifo(0)

    # --- what the bus calls -------------------------------------------------------------------
    def read(self, register: int, length: int, now: float) -> bytes:
        self.advance(now)
        out = bytearray()
        while len(out) < length:
            burst = self.read_stream(register, length - len(out))
            if burst is not None:
                out += burst
                break
            out.append(self.read_byte(register))
            register = self.next_address(register)
        self.pointer = register
        return bytes(out)

    def write(self, register: int, data: bytes, now: float) -> None:
        self.advance(now)
        for value in data:
            self.write_byte(register, value)
            register = self.next_address(register)
        self.pointer = register

    def receive(self, now: float) -> int:
        return self.read(self.pointer, 1, now)[0]

    def send(self, value: int, now: float) -> None:
        self.advance(now)
        self.pointer = value

    # --- what subclasses refine ---------------------------------------------------------------
    def read_byte(self, register: int) -> int:
        return self.regs[self.bank][register]

    def write_byte(self, register: int, value: int) -> None:
        self.regs[self.bank][register] = value

    def read_stream(self, register: int, length: int) -> bytes | None:
        """Bytes of a FIFO data register (which does not advance), or None for a plain register."""
        return None

    def next_address(self, register: int) -> int:
        return (register + 1) & 0xFF

    def odr_hz(self) -> float | None:
        """The output data rate now configured, or None while the sensors are off."""
        return None

    def emit(self, times: np.ndarray, acc: np.ndarray, gyr: np.ndarray, mag: np.ndarray) -> None:
        """Store samples taken at ``times`` (SI values) in data registers and FIFO."""

    # --- time -------------------------------------------------------------------------------------
    def advance(self, now: float) -> None:
        """Produce every sample whose tick lies before ``now``."""
        odr = self.odr_hz()
        if odr != self._odr:
            self._odr = odr
            if odr is not None:
                self._next_tick = math.ceil(self._now * odr - TICK_TOLERANCE)
        self._now = max(self._now, now)
        if odr is None:
            return
        end = math.ceil(now * odr - TICK_TOLERANCE)
        if end <= self._next_tick:
            return
        start = max(self._next_tick, end - MAX_BACKLOG)
        times = np.arange(start, end) / odr
        self._next_tick = end
        self.emit(times, *self.motion.at(times))


def put_be(regs: bytearray, register: int, values: np.ndarray) -> None:
    """Store int16 values big-endian from ``register`` on."""
    regs[register : register + 2 * len(values)] = np.asarray(values, ">i2").tobytes()


def put_le(regs: bytearray, register: int, values: np.ndarray) -> None:
    """Store int16 values little-endian from ``register`` on."""
    regs[register : register + 2 * len(values)] = np.asarray(values, "<i2").tobytes()
