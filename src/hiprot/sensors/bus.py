"""The I2C bus: one abstract class, an ``smbus2`` backend for the Pi, and the errors.

Modelled on python-can: :class:`I2CBus` does the bookkeeping (bytes on the
wire, transactions) and backends implement four small private primitives.
Retries live one level up, in :class:`hiprot.sensors.device.I2CDevice`, so
they are counted per sensor.
"""

from __future__ import annotations

import errno
import fcntl
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hiprot.chip_catalogue import ADAPTER_TIMEOUT_S
from hiprot.errors import SensorError

if TYPE_CHECKING:
    from hiprot.sensors.mux import Tca9548a

I2C_TIMEOUT = 0x0702
SMBUS_BLOCK_MAX = 32  # bytes an SMBus block transfer carries; longer reads use i2c_rdwr
I2C_MSG_MAX = 8192  # the Linux i2c-dev limit for one message of an I2C_RDWR transfer

# Errors worth another try: a glitch on the wires (EIO) or a NACK that may pass
# (EREMOTEIO, errno 121, what the Pi's i2c-bcm2835 reports for a NACK), EAGAIN.
TRANSIENT_ERRNOS = frozenset({errno.EIO, errno.EREMOTEIO, errno.EAGAIN})


class I2CError(SensorError):
    """A transaction failed after its retries; ``errno`` says why."""

    def __init__(self, message: str, error_number: int | None = None):
        super().__init__(message)
        self.errno = error_number


class ChipMismatch(SensorError):
    """The chip at an address is not the one the rig names."""


def describe_errno(number: int | None) -> str:
    """A short human reading of an I2C errno."""
    if number == errno.EREMOTEIO:
        return "no acknowledge (errno 121): nothing answers, or a loose wire"
    if number == errno.ETIMEDOUT:
        return "bus timeout (errno 110): the bus is stuck, a device may hold SDA low"
    if number == errno.EIO:
        return "I/O error (errno 5)"
    if number is None:
        return "I2C error"
    return f"{os.strerror(number)} (errno {number})"


@dataclass
class BusStats:
    """Traffic on one bus: transactions and bytes on the wire (address and register bytes too)."""

    transactions: int = 0
    wire_bytes: int = 0
    failed: int = 0

    def bus_time_s(self, bitrate_hz: float = 400_000.0) -> float:
        """Time those bytes occupy the bus: 9 clock cycles per byte (8 bits and the ACK)."""
        return self.wire_bytes * 9 / bitrate_hz


class I2CBus(ABC):
    """One I2C bus: register reads and writes, single-byte send/receive (multiplexers, probes)."""

    def __init__(self, number: int):
        self.number = number
        self.stats = BusStats()
        self.muxes: dict[int, Tca9548a] = {}  # multiplexers met on this bus, by address

    def read_register(self, address: int, register: int, length: int) -> bytes:
        """``length`` bytes from ``register`` on (register write, repeated start, read)."""
        return self._counted(length + 3, self._read_register, address, register, length)

    def write_register(self, address: int, register: int, data: bytes) -> None:
        """Write ``data`` starting at ``register``."""
        self._counted(len(data) + 2, self._write_register, address, register, bytes(data))

    def receive_byte(self, address: int) -> int:
        """Read one byte without a register (a multiplexer's control byte)."""
        return self._counted(2, self._receive_byte, address)

    def send_byte(self, address: int, value: int) -> None:
        """Write one byte without a register (a multiplexer's control byte)."""
        self._counted(2, self._send_byte, address, value)

    def close(self) -> None:  # noqa: B027 - an optional hook: most buses hold nothing
        """Release the bus; again does nothing."""

    def __enter__(self) -> I2CBus:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _counted(self, wire_bytes: int, operation, *args):
        self.stats.transactions += 1
        self.stats.wire_bytes += wire_bytes
        try:
            return operation(*args)
        except OSError:
            self.stats.failed += 1
            raise

    @abstractmethod
    def _read_register(self, address: int, register: int, length: int) -> bytes: ...

    @abstractmethod
    def _write_register(self, address: int, register: int, data: bytes) -> None: ...

    @abstractmethod
    def _receive_byte(self, address: int) -> int: ...

    @abstractmethod
    def _send_byte(self, address: int, value: int) -> None: ...


class SMBusBus(I2CBus):
    """A Linux I2C bus (``/dev/i2c-N``) via ``smbus2``; ``i2c_rdwr`` for reads past 32 bytes.

    Opening it sets the adapter's timeout to ``ADAPTER_TIMEOUT_S``.
    """

    def __init__(self, number: int):
        super().__init__(number)
        from smbus2 import SMBus, i2c_msg

        self._msg = i2c_msg
        try:
            self._bus = SMBus(number)
        except OSError as exc:
            raise I2CError(
                f"cannot open I2C bus {number} (/dev/i2c-{number}): {exc.strerror}; "
                "enable I2C and join the i2c group (see firmware/README.md)",
                exc.errno,
            ) from None
        try:
            fcntl.ioctl(self._bus.fd, I2C_TIMEOUT, round(ADAPTER_TIMEOUT_S * 100))
        except OSError:
            pass  # an adapter that refuses keeps its own timeout (Linux: 1 s)

    def _read_register(self, address: int, register: int, length: int) -> bytes:
        if length <= SMBUS_BLOCK_MAX:
            return bytes(self._bus.read_i2c_block_data(address, register, length))
        if length > I2C_MSG_MAX:
            raise ValueError(f"one I2C read carries at most {I2C_MSG_MAX} bytes, not {length}")
        write, read = self._msg.write(address, [register]), self._msg.read(address, length)
        self._bus.i2c_rdwr(write, read)
        return bytes(read)

    def _write_register(self, address: int, register: int, data: bytes) -> None:
        if len(data) == 1:
            self._bus.write_byte_data(address, register, data[0])
        elif len(data) <= SMBUS_BLOCK_MAX:
            self._bus.write_i2c_block_data(address, register, list(data))
        else:
            self._bus.i2c_rdwr(self._msg.write(address, [register, *data]))

    def _receive_byte(self, address: int) -> int:
        return self._bus.read_byte(address)

    def _send_byte(self, address: int, value: int) -> None:
        self._bus.write_byte(address, value)

    def close(self) -> None:
        self._bus.close()  # smbus2 closes its file descriptor once and forgets it
