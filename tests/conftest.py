"""Shared fixtures: a real Mosquitto broker on a free port, rig files in tmp."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        pytest.fail("mosquitto is not installed (.ci/run installs it with apt-get)")
    return found


class Broker:
    """A Mosquitto process of our own that tests may stop and restart."""

    def __init__(self, workdir: Path, port: int | None = None):
        self.host, self.port = "127.0.0.1", port or _free_port()
        self.conf = workdir / f"mosquitto-{self.port}.conf"
        self.conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.process: subprocess.Popen | None = None

    def start(self) -> "Broker":
        self.process = subprocess.Popen(
            [_mosquitto_binary(), "-c", str(self.conf)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection((self.host, self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    pytest.fail(f"mosquitto exited with {self.process.returncode}")
                time.sleep(0.05)
        pytest.fail("mosquitto did not start listening within 10 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@pytest.fixture
def broker(tmp_path):
    """A fresh Mosquitto broker for one test, stopped afterwards."""
    b = Broker(tmp_path).start()
    yield b
    b.stop()


@pytest.fixture
def sim_rig_text() -> str:
    """The text of the default simulated rig."""
    return (CONFIG / "sim.toml").read_text()
