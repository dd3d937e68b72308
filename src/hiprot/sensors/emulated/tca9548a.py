"""Emulated TCA9548A multiplexer (SCPS207): one control byte, bit n connects channel n."""

from __future__ import annotations


class EmulatedTca9548a:
    """The multiplexer's control register; the emulated bus routes through ``control``."""

    def __init__(self) -> None:
        self.power_on()

    def power_on(self) -> None:
        self.control = 0

    def receive(self, now: float) -> int:
        return self.control

    def send(self, value: int, now: float) -> None:
        self.control = value & 0xFF

    def read(self, register: int, length: int, now: float) -> bytes:
        return bytes([self.control]) * length

    def write(self, register: int, data: bytes, now: float) -> None:
        self.control = data[-1] if data else register
