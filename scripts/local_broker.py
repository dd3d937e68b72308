"""A Mosquitto of the development scripts' own: a free localhost port, anonymous, the
options a script asks for (persistence for restarts, the shipped autosave interval...),
started, stopped and killed like a process — never the machine's broker."""

from __future__ import annotations

import getpass
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def mosquitto_binary() -> str | None:
    """The mosquitto executable (Debian installs it in /usr/sbin), or None."""
    return shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")


class LocalBroker:
    """Mosquitto on ``127.0.0.1:<port>``; ``persistent`` keeps its store in ``workdir`` so a
    persistent subscriber's queue and retained messages survive :meth:`stop`/:meth:`start`."""

    def __init__(self, workdir: Path, persistent: bool = False, options: str = ""):
        binary = mosquitto_binary()
        if binary is None:
            raise SystemExit("mosquitto is not installed (apt-get install mosquitto)")
        self.binary = binary
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true"]
        if persistent:  # as root, mosquitto would drop to a user that cannot save here
            lines += ["persistence true", f"persistence_location {workdir}/"]
            lines += [f"user {getpass.getuser()}"]
        else:
            lines += ["persistence false"]
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n" + options)
        self.process: subprocess.Popen | None = None
        self.restarts = 0

    def start(self) -> LocalBroker:
        """Start and wait until it listens (10 s at most)."""
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise SystemExit("mosquitto did not start")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """A clean stop (Mosquitto saves its store)."""
        if self.running:
            self.process.terminate()
            self.process.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL, as a power cut would stop it: what was not yet saved is lost."""
        if self.running:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
