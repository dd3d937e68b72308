"""The one driver interface every IMU chip implements, and what a read returns.

A driver talks to its chip through an :class:`~hiprot.sensors.device.I2CDevice`
and register descriptors; it identifies the chip by WHO_AM_I (refusing a wrong
chip with an error naming the location, expected and found id), configures
rate, range and filter, starts the FIFO and reads it in bursts, converting to
SI units in the chip's own axes (as its datasheet draws them).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from hiprot.sensors.bus import ChipMismatch
from hiprot.sensors.clock import Clock, MonotonicClock
from hiprot.sensors.device import I2CDevice
from hiprot.sensors.ids import known

FILTER_FRACTION = (
    0.3  # low-pass bandwidth chosen as the widest at or below 0.3 × ODR (anti-aliasing)
)


@dataclass(frozen=True)
class Configuration:
    """What a chip was actually set to (the nearest achievable to what was asked)."""

    odr_hz: float
    accel_range_g: float
    gyro_range_dps: float
    accel_filter_hz: float | None
    gyro_filter_hz: float | None
    fifo_samples: int
    mag_odr_hz: float | None = None


@dataclass
class Reading:
    """Samples from one read, oldest first, SI units in the chip's axes.

    ``valid`` marks samples the chip flagged as not yet valid (sensor start-up);
    they still count for timing. ``overflow`` says the FIFO overflowed since the
    last read: it was flushed, so samples were lost before these.
    """

    acc: np.ndarray
    gyr: np.ndarray
    mag: np.ndarray | None = None
    valid: np.ndarray | None = None
    overflow: bool = False

    def __len__(self) -> int:
        return len(self.acc)

    @classmethod
    def empty(cls, overflow: bool = False, with_mag: bool = False) -> Reading:
        return cls(
            np.empty((0, 3)),
            np.empty((0, 3)),
            np.empty((0, 3)) if with_mag else None,
            overflow=overflow,
        )


def widest_at_most(options: dict[int, float], limit: float) -> int:
    """The code whose bandwidth is the widest not above ``limit`` (else the narrowest)."""
    fitting = [code for code, bandwidth in options.items() if bandwidth <= limit]
    if fitting:
        return max(fitting, key=options.__getitem__)
    return min(options, key=options.__getitem__)


def slowest_at_least(rates: dict[int, float], wanted_hz: float) -> int:
    """The code of the slowest rate at or above ``wanted_hz`` (else the fastest)."""
    fitting = [code for code, hz in rates.items() if hz >= wanted_hz - 1e-9]
    if fitting:
        return min(fitting, key=rates.__getitem__)
    return max(rates, key=rates.__getitem__)


def range_code(table: dict[float, int], wanted: float, what: str) -> int:
    """The register code of a full-scale range the chip offers exactly."""
    if wanted not in table:
        raise ValueError(f"{what} range {wanted:g} not offered; choose one of {sorted(table)}")
    return table[wanted]


class ChipDriver:
    """Register access (with register banks) and WHO_AM_I identification for one chip."""

    part: ClassVar[str]
    chip: ClassVar[str]
    who_am_i_register: ClassVar[int]
    chip_ids: ClassVar[dict[int, str]]  # accepted identity values → variant name
    who_am_i_bank: ClassVar[int | None] = None

    def __init__(self, device: I2CDevice, clock: Clock | None = None):
        self.device = device
        self.clock = clock or MonotonicClock()
        self.variant: str | None = None
        self.chip_id: int | None = None
        self._bank: int | None = None

    def read_register(self, register: int, length: int, bank: int | None = None) -> bytes:
        if bank is not None:
            self._select_bank(bank)
        return self.device.read(register, length)

    def write_register(self, register: int, data: bytes, bank: int | None = None) -> None:
        if bank is not None:
            self._select_bank(bank)
        self.device.write(register, data)

    def _select_bank(self, bank: int) -> None:
        if self._bank != bank:
            self._bank = None
            self._write_bank(bank)
            self._bank = bank

    def _write_bank(self, bank: int) -> None:
        raise NotImplementedError(f"{self.part} has no register banks")

    def forget_bank(self) -> None:
        """The chip may have been reset or replugged: select the bank again before using it."""
        self._bank = None

    def identify(self) -> str:
        """Check WHO_AM_I; return the variant found or raise :class:`ChipMismatch`."""
        self.forget_bank()
        found = self.read_register(self.who_am_i_register, 1, self.who_am_i_bank)[0]
        if found not in self.chip_ids:
            expected = " or ".join(f"0x{v:02x}" for v in self.chip_ids)
            other = known(self.who_am_i_register, found)
            name = f" ({other.label})" if other else ""
            raise ChipMismatch(
                f"{self.device.where}: expected {self.part} (WHO_AM_I {expected} at register "
                f"0x{self.who_am_i_register:02x}), found 0x{found:02x}{name}"
            )
        self.chip_id, self.variant = found, self.chip_ids[found]
        return self.variant


class ImuDriver(ChipDriver, ABC):
    """An accelerometer + gyroscope chip with a FIFO, read in bursts.

    Its part's figures (FIFO size, gyroscope offset tolerance) are in
    :mod:`hiprot.chip_catalogue`.
    """

    def __init__(self, device: I2CDevice, clock: Clock | None = None, with_mag: bool = False):
        super().__init__(device, clock)
        self.with_mag = with_mag
        self.configuration: Configuration | None = None

    @abstractmethod
    def configure(
        self, rate_hz: float, accel_range_g: float = 16, gyro_range_dps: float = 2000
    ) -> Configuration:
        """Reset the chip and set rate, ranges and filters; return what was set."""

    @abstractmethod
    def start(self) -> None:
        """Empty the FIFO and let it fill from now on."""

    @abstractmethod
    def read_fifo(self) -> Reading:
        """Every complete sample waiting in the FIFO (after an overflow: flushed, none)."""

    @abstractmethod
    def read_sample(self) -> Reading:
        """The latest sample from the output registers (one row)."""
