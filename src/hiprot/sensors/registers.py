"""Register descriptors in the style of Adafruit's CircuitPython ``adafruit_register``.

A driver declares each field once, next to the datasheet line it comes from::

    class Mpu6050(ImuDriver):
        dlpf_cfg = Bits(0x1A, 2, 0)      # CONFIG[2:0]

and then reads or writes ``self.dlpf_cfg`` like an attribute; the descriptor
does the read-modify-write. ``bank`` selects a register bank first on chips
that have them. The fields are plain data (``register``, ``high``, ``low``,
``bank``) so tests can compare every field with the datasheet.
"""

from __future__ import annotations

from typing import Protocol


class RegisterOwner(Protocol):
    """What a descriptor needs from its driver."""

    def read_register(self, register: int, length: int, bank: int | None = None) -> bytes: ...

    def write_register(self, register: int, data: bytes, bank: int | None = None) -> None: ...


class Bits:
    """Bits ``high``..``low`` (inclusive, 7..0) of one 8-bit register."""

    def __init__(self, register: int, high: int, low: int | None = None, bank: int | None = None):
        low = high if low is None else low
        if not 7 >= high >= low >= 0:
            raise ValueError(f"bits {high}..{low} do not fit one byte")
        self.register, self.high, self.low, self.bank = register, high, low, bank

    @property
    def mask(self) -> int:
        return ((1 << (self.high - self.low + 1)) - 1) << self.low

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, obj: RegisterOwner | None, owner=None):
        if obj is None:
            return self
        value = obj.read_register(self.register, 1, self.bank)[0]
        return (value & self.mask) >> self.low

    def __set__(self, obj: RegisterOwner, value: int) -> None:
        value = int(value)
        if not 0 <= value <= self.mask >> self.low:
            raise ValueError(f"{self.name}: {value} does not fit bits {self.high}..{self.low}")
        if self.mask == 0xFF:
            new = value
        else:
            current = obj.read_register(self.register, 1, self.bank)[0]
            new = (current & ~self.mask & 0xFF) | (value << self.low)
        obj.write_register(self.register, bytes([new]), self.bank)

    def __repr__(self) -> str:
        bank = f", bank={self.bank}" if self.bank is not None else ""
        return f"Bits(0x{self.register:02x}, {self.high}, {self.low}{bank})"


class Bit(Bits):
    """One flag bit, read as a bool."""

    def __init__(self, register: int, bit: int, bank: int | None = None):
        super().__init__(register, bit, bit, bank)

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        return bool(super().__get__(obj, owner))


class Byte(Bits):
    """A whole 8-bit register."""

    def __init__(self, register: int, bank: int | None = None):
        super().__init__(register, 7, 0, bank)
