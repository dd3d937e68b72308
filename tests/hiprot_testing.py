"""Test helpers: a real Mosquitto broker of our own on a free port, a recording MQTT subscriber,
Home Assistant's reading of a discovery config, ``hiprot`` commands run in this process."""

from __future__ import annotations

import getpass
import itertools
import json
import os
import random
import shutil
import socket
import subprocess
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import paho.mqtt.client as mqtt
import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config"
# The environment pytest was started with, taken when conftest.py imports this module, before
# its fixtures point HOME and the XDG folders into tmp: the real home is found here.
STARTING_ENVIRONMENT = dict(os.environ)

# Four sensors at 1000 Hz write about 224 kB/s, so a 1 MB disk fills in seconds.
FAST_RIG = """
device_id = "fast"
sample_rate_hz = 1000

[simulation]
duration_s = 60

[mqtt]
enabled = false
""" + "".join(
    f"""
[[sensors]]
name = "{side}_{segment}"
segment = "{segment}"
side = "{side}"
chip = "icm42688"
bus = {bus}
address = {address}
"""
    for bus, side in ((1, "right"), (2, "left"))
    for segment, address in (("thigh", 0x68), ("shank", 0x69))
)


def assert_analysed(result: subprocess.CompletedProcess) -> None:
    """``hiprot analyze`` went through: status 0, or 2 only because a session too short to
    calibrate (a few seconds of standing) has no joint angles — after writing what it could."""
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    if result.returncode == 2:
        assert errors and all("no joint angles" in line for line in errors), result.stderr
    else:
        assert result.returncode == 0 and not errors, result.stderr


def hiprot_in_process(*args) -> subprocess.CompletedProcess:
    """``hiprot ARGS`` through click's runner in this process, as a finished process: exit
    status, stdout, stderr. The same command code as ``python -m hiprot`` without a Python
    start and the numpy/scipy imports per command (seconds each); for tests whose claim is
    about what a command writes or prints, not about the process (signals, kills, start-up).
    Warnings the command raises are in stderr, as Python's default filters would print them
    (deprecations only from ``__main__``), and so is the traceback of an uncaught exception."""
    from click.testing import CliRunner

    from hiprot.cli import main

    argv = [str(a) for a in args]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        done = CliRunner().invoke(main, argv, prog_name="hiprot")
    stderr = done.stderr
    for w in caught:
        hidden = issubclass(w.category, DeprecationWarning | PendingDeprecationWarning)
        if not hidden or w.filename == "__main__":
            stderr += warnings.formatwarning(w.message, w.category, w.filename, w.lineno)
    if done.exception is not None and not isinstance(done.exception, SystemExit):
        stderr += "".join(traceback.format_exception(done.exception))
    return subprocess.CompletedProcess(argv, done.exit_code, done.stdout, stderr)


FIRST_PORT, LAST_PORT = 20000, 32000  # below Linux's ephemeral ports (32768-60999)
_ports = itertools.count(random.randrange(1 << 16))  # another pytest run starts elsewhere


def free_port() -> int:
    """A port nothing listens on now, from a range of this xdist worker's own: two workers never
    hand out the same port (with ports the kernel picks, a broker of one worker could bind a
    port the other had just been given, and the other's clients would reach the wrong broker).
    Each run starts at a random place in its range, so two runs at once rarely meet."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    size = (LAST_PORT - FIRST_PORT) // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    first = FIRST_PORT + size * worker
    for _ in range(size):
        port = first + next(_ports) % size
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail(f"no free port in {first}-{first + size - 1}")


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        pytest.fail("mosquitto is not installed (.ci/run installs it with apt-get)")
    return found


class Broker:
    """A Mosquitto process of our own that tests may stop and restart."""

    def __init__(self, workdir: Path, port: int | None = None):
        self.host, self.port = "127.0.0.1", port or free_port()
        self.conf = workdir / f"mosquitto-{self.port}.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        )
        self.process: subprocess.Popen | None = None

    def start(self) -> Broker:
        self.process = subprocess.Popen(
            [mosquitto_binary(), "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
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


class ConfiguredBroker(Broker):
    """A fixture broker whose configuration lines are made from its port."""

    def __init__(
        self, workdir: Path, lines: Callable[[int], list[str]], ws_port: int | None = None
    ):
        super().__init__(workdir)
        self.ws_port = ws_port
        self.conf.write_text("\n".join([f"user {getpass.getuser()}", *lines(self.port)]) + "\n")


@dataclass
class Received:
    """Messages a subscriber got: (topic, payload bytes, retain flag), in arrival order."""

    messages: list[tuple[str, bytes, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, suffix: str) -> list[bytes]:
        with self.lock:
            return [p for t, p, _ in self.messages if t.endswith(suffix)]

    def json(self, suffix: str) -> list[dict]:
        return [json.loads(p) for p in self.on(suffix)]

    def wait(self, predicate, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(0.05)
        return predicate(self)


class Subscriber:
    """A real paho subscriber; ``persistent`` keeps its session (and queued QoS 1 messages) on the broker."""

    def __init__(self, broker, topic: str = "hiprot/#", persistent: bool = False):
        self.received = Received()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"test-sub-{broker.port}",
            clean_session=not persistent,
        )
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.connect(broker.host, broker.port, keepalive=5)
        self.client.loop_start()
        assert self.subscribed.wait(10), "subscriber could not subscribe"

    def _on_message(self, client, userdata, message):
        with self.received.lock:
            self.received.messages.append((message.topic, message.payload, bool(message.retain)))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def render(template: str, payload: dict, state: str = "previous") -> str:
    """A value template rendered as Home Assistant does: Jinja2's sandbox, the message as
    ``value_json``, the entity's current state as ``this.state``."""
    env = ImmutableSandboxedEnvironment()
    return env.from_string(template).render(value_json=payload, this=SimpleNamespace(state=state))


def ha_state(config: dict, payload: dict, state: str = "previous"):
    """What the entity's state becomes for ``payload``: a number, an enum option, on/off, or
    None (unknown); anything else a Home Assistant numeric sensor would refuse fails."""
    text = render(config["value_template"], payload, state)
    if text == "None":
        return None
    if "payload_on" in config or config["unique_id"].endswith("_compensated"):
        return {"ON": True, "OFF": False}[text]
    if config.get("device_class") == "enum":
        assert text in config["options"], text
        return text
    return float(text) if "unit_of_measurement" in config or "state_class" in config else text
