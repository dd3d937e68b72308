"""Tell systemd how the logger is doing: the ``sd_notify`` protocol, without libsystemd.

systemd passes ``$NOTIFY_SOCKET`` (a datagram socket; a leading ``@`` names an
abstract one) to a ``Type=notify`` service and, with ``WatchdogSec=``,
``$WATCHDOG_USEC``. The service sends newline-separated ``KEY=value`` lines:
``READY=1`` once it works, ``WATCHDOG=1`` as keep-alive pings, ``STATUS=`` for
``systemctl status``, ``STOPPING=1`` when it shuts down. Outside systemd (no
``$NOTIFY_SOCKET``) every call does nothing.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping


class ServiceNotifier:
    """Sends state changes and rate-limited watchdog pings to the service manager."""

    def __init__(
        self, environ: Mapping[str, str] | None = None, clock: Callable[[], float] = time.monotonic
    ):
        environ = os.environ if environ is None else environ
        self.address = _socket_address(environ.get("NOTIFY_SOCKET", ""))
        self.watchdog_interval_s = _watchdog_interval_s(environ)
        self._clock = clock
        self._last_ping: float | None = None

    def send(self, **fields: str) -> None:
        """One notification: ``send(READY="1", STATUS="...")``; lost silently if nobody listens."""
        if self.address is None:
            return
        message = "\n".join(f"{key}={value}" for key, value in fields.items()).encode()
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            try:
                sock.sendto(message, self.address)
            except OSError:
                pass  # the manager went away: nothing to tell

    def ready(self, status: str) -> None:
        """Start-up is complete; also the first watchdog ping (when there is a watchdog)."""
        ping = {"WATCHDOG": "1"} if self.watchdog_interval_s is not None else {}
        self.send(READY="1", **ping, STATUS=status)
        self._last_ping = self._clock()

    def watchdog(self) -> None:
        """Ping the watchdog, at most once every half of its interval (what systemd advises)."""
        if self.address is None or self.watchdog_interval_s is None:
            return
        now = self._clock()
        if self._last_ping is None or now - self._last_ping >= self.watchdog_interval_s / 2:
            self.send(WATCHDOG="1")
            self._last_ping = now

    def stopping(self, status: str) -> None:
        """The service is shutting down."""
        self.send(STOPPING="1", STATUS=status)


def _socket_address(value: str) -> str | None:
    """``$NOTIFY_SOCKET`` as a socket address: a path, or ``@name`` for the abstract namespace."""
    if not value.startswith(("/", "@")):
        return None
    return "\0" + value[1:] if value.startswith("@") else value


def _watchdog_interval_s(environ: Mapping[str, str]) -> float | None:
    """The watchdog interval meant for this process, or None when there is none."""
    pid = environ.get("WATCHDOG_PID")
    if pid is not None and pid != str(os.getpid()):
        return None
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 1e6 if usec > 0 else None
