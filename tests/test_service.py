"""sd_notify: messages reach a real datagram socket; pings are rate-limited; no-op outside systemd."""

from __future__ import annotations

import os
import socket

import pytest

from hiprot.service import ServiceNotifier


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def manager(tmp_path):
    """A bound datagram socket at a path, as systemd's notify socket."""
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.5)
    yield path, sock
    sock.close()


def received(sock: socket.socket) -> list[str]:
    out = []
    try:
        while True:
            out.append(sock.recv(4096).decode())
    except TimeoutError:
        return out


def test_ready_watchdog_stopping_reach_a_path_socket(manager):
    path, sock = manager
    clock = FakeClock()
    notifier = ServiceNotifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "2000000"}, clock)
    notifier.ready("recording")
    for _ in range(12):  # every 0.25 s for 3 s: a ping each second at most (half of 2 s)
        clock.now += 0.25
        notifier.watchdog()
    notifier.stopping("done")
    assert received(sock) == [
        "READY=1\nWATCHDOG=1\nSTATUS=recording",
        "WATCHDOG=1",
        "WATCHDOG=1",
        "WATCHDOG=1",
        "STOPPING=1\nSTATUS=done",
    ]


def test_ready_without_a_watchdog_is_no_ping(manager):
    path, sock = manager
    ServiceNotifier({"NOTIFY_SOCKET": str(path)}).ready("recording")
    assert received(sock) == ["READY=1\nSTATUS=recording"]


def test_abstract_socket_name():
    name = f"hiprot-unit-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(0.5)
        ServiceNotifier({"NOTIFY_SOCKET": "@" + name}).send(STATUS="hello")
        assert sock.recv(4096) == b"STATUS=hello"


def test_watchdog_meant_for_another_process_is_not_pinged(manager):
    path, sock = manager
    env = {
        "NOTIFY_SOCKET": str(path),
        "WATCHDOG_USEC": "1000000",
        "WATCHDOG_PID": str(os.getpid() + 1),
    }
    ServiceNotifier(env).watchdog()
    assert received(sock) == []


@pytest.mark.parametrize("env", [{}, {"NOTIFY_SOCKET": ""}, {"NOTIFY_SOCKET": "relative/path"}])
def test_nothing_happens_outside_systemd(env):
    notifier = ServiceNotifier({**env, "WATCHDOG_USEC": "1000000"})
    notifier.ready("x")
    notifier.watchdog()
    notifier.stopping("y")
    assert notifier.address is None


def test_a_vanished_manager_is_not_an_error(tmp_path):
    ServiceNotifier({"NOTIFY_SOCKET": str(tmp_path / "gone")}).ready("x")
