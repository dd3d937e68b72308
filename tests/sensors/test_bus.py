"""The smbus2 backend picks the right transfer for each request and counts the bytes on the wire.

No /dev/i2c-N exists on a test machine, so a recording stand-in replaces
``smbus2.SMBus`` here (the only place the tests use one); the real ``i2c_msg``
objects are kept, so the messages built for ``i2c_rdwr`` are the real ones.
"""

from __future__ import annotations

import fcntl

import pytest
import smbus2

from hiprot.sensors.bus import SMBusBus


class RecordingSMBus:
    """Records each smbus2 call; reads return a counting pattern."""

    def __init__(self, number):
        self.number, self.calls = number, []
        self.fd = 1000 + number

    def read_i2c_block_data(self, address, register, length):
        self.calls.append(("block read", address, register, length))
        return list(range(length))

    def write_byte_data(self, address, register, value):
        self.calls.append(("byte write", address, register, value))

    def write_i2c_block_data(self, address, register, data):
        self.calls.append(("block write", address, register, list(data)))

    def i2c_rdwr(self, *messages):
        self.calls.append(("rdwr", [(m.addr, m.flags, m.len) for m in messages]))

    def read_byte(self, address):
        self.calls.append(("receive", address))
        return 0x05

    def write_byte(self, address, value):
        self.calls.append(("send", address, value))

    def close(self):
        self.calls.append(("close",))


@pytest.fixture
def ioctls(monkeypatch):
    calls = []
    monkeypatch.setattr(fcntl, "ioctl", lambda fd, request, arg: calls.append((fd, request, arg)))
    return calls


@pytest.fixture
def bus(monkeypatch, ioctls):
    monkeypatch.setattr(smbus2, "SMBus", RecordingSMBus)
    return SMBusBus(1)


def test_opening_sets_the_adapter_timeout(bus, ioctls):
    # I2C_TIMEOUT (linux/i2c-dev.h) in units of 10 ms: a stuck bus costs 0.1 s, not Linux's 1 s
    assert ioctls == [(1001, 0x0702, 10)]
    assert bus._bus.calls == []


def test_an_adapter_refusing_the_timeout_still_opens(monkeypatch):
    def refuse(fd, request, arg):
        raise OSError(25, "Inappropriate ioctl for device")

    monkeypatch.setattr(smbus2, "SMBus", RecordingSMBus)
    monkeypatch.setattr(fcntl, "ioctl", refuse)
    assert SMBusBus(1).read_register(0x68, 0x75, 1) == b"\x00"


def test_short_reads_are_smbus_block_reads(bus):
    assert bus.read_register(0x68, 0x2D, 3) == bytes([0, 1, 2])
    assert bus._bus.calls == [("block read", 0x68, 0x2D, 3)]


def test_reads_longer_than_32_bytes_use_one_i2c_rdwr_transfer(bus):
    data = bus.read_register(0x68, 0x30, 2048)
    assert len(data) == 2048
    ((kind, messages),) = bus._bus.calls
    assert kind == "rdwr"
    assert messages == [(0x68, 0, 1), (0x68, smbus2.smbus2.I2C_M_RD, 2048)]


def test_writes_and_single_bytes(bus):
    bus.write_register(0x68, 0x4E, b"\x0f")
    bus.write_register(0x68, 0x60, b"\x01\x02")
    bus.send_byte(0x70, 0x04)
    assert bus.receive_byte(0x70) == 0x05
    assert bus._bus.calls == [
        ("byte write", 0x68, 0x4E, 0x0F),
        ("block write", 0x68, 0x60, [1, 2]),
        ("send", 0x70, 0x04),
        ("receive", 0x70),
    ]
    assert bus.stats.transactions == 4
    assert bus.stats.wire_bytes == 3 + 4 + 2 + 2
