"""firmware/hiprot.service: systemd accepts it, and `hiprot record` speaks its protocol."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from hiprot_testing import ROOT

from .conftest import NEEDS_ROOT

UNIT = ROOT / "firmware" / "hiprot.service"
SYSTEM_UNITS = Path("/usr/lib/systemd/system")  # the targets the unit refers to


def verify(root: Path, unit: str = "hiprot.service") -> subprocess.CompletedProcess:
    """``systemd-analyze verify`` of ``unit`` as installed under ``root``."""
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is not installed (.ci/run installs the systemd package)")
    units = root / SYSTEM_UNITS.relative_to("/")
    if not units.exists():
        shutil.copytree(SYSTEM_UNITS, units, symlinks=True)
    return subprocess.run(
        ["systemd-analyze", "verify", f"--root={root}", unit],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


@NEEDS_ROOT
@pytest.mark.parametrize("unit", ["hiprot.service", "hiprot-dashboard.service"])
def test_installed_units_pass_systemd_analyze_verify(installed_root, unit):
    result = verify(installed_root, unit)
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stderr


def test_verify_catches_a_missing_program(tmp_path):
    """The check above is real: without the installed venv, ExecStart is refused."""
    (tmp_path / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(UNIT, tmp_path / "etc/systemd/system")
    result = verify(tmp_path)
    assert result.returncode != 0 and "/opt/hiprot/venv/bin/hiprot" in result.stderr


def test_shell_scripts_pass_shellcheck():
    if shutil.which("shellcheck") is None:
        pytest.fail("shellcheck is not installed (.ci/run installs it)")
    scripts = [*sorted((ROOT / "firmware").glob("*.sh")), ROOT / ".ci" / "run"]
    result = subprocess.run(
        ["shellcheck", *map(str, scripts)], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


class NotifyListener:
    """The service manager's end of $NOTIFY_SOCKET (abstract namespace): what arrived, in order."""

    def __init__(self):
        self.name = f"hiprot-test-{uuid.uuid4().hex}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.name)
        self.sock.settimeout(0.2)
        self.messages: list[dict[str, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            self.messages.append(dict(line.split("=", 1) for line in data.decode().splitlines()))

    def wait_for(self, key: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(key in m for m in self.messages):
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


def unit_command() -> tuple[list[str], dict[str, str]]:
    """The unit's ExecStart (program and arguments) and its Environment= settings."""
    command, env = [], {}
    for line in UNIT.read_text().splitlines():
        key, _, value = line.partition("=")
        if key == "ExecStart":
            command = value.split()
        elif key == "Environment":
            name, _, setting = value.partition("=")
            env[name] = setting
    return command, env


def test_record_as_the_unit_runs_it_notifies_ready_watchdog_and_stopping(
    tmp_path, broker, subscribe, sim_rig_text
):
    """The unit's own command line and environment, its paths under a scratch root, the simulated rig."""
    command, unit_env = unit_command()
    assert command[:2] == ["/opt/hiprot/venv/bin/hiprot", "record"]
    scratch = {
        arg: str(tmp_path) + arg
        for arg in [*command[2:], *unit_env.values()]
        if arg.startswith("/")
    }
    rig = Path(scratch["/etc/hiprot/rig.toml"])
    rig.parent.mkdir(parents=True)
    rig.write_text(sim_rig_text.replace("port = 1883", f"port = {broker.port}"))
    status = subscribe(broker, "hiprot/+/status")
    listener = NotifyListener()
    env = {
        **os.environ,
        **{k: scratch.get(v, v) for k, v in unit_env.items()},
        "NOTIFY_SOCKET": "@" + listener.name,
        "WATCHDOG_USEC": "1000000",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "hiprot", *(scratch.get(a, a) for a in command[1:])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert listener.wait_for("READY", 60), process.stderr
        time.sleep(3)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
        assert listener.wait_for("STOPPING", 10), err
    finally:
        if process.poll() is None:
            process.kill()
        listener.close()
    assert process.returncode == 0, err
    messages = listener.messages
    assert "READY" in messages[0] and messages[0]["STATUS"].startswith(
        "recording 2 SIMULATED sensors"
    )
    assert "STOPPING" in messages[-1] and messages[-1]["STATUS"].startswith("recorded")
    pings = [m for m in messages[1:-1] if m == {"WATCHDOG": "1"}]
    assert len(pings) == len(messages) - 2 and len(pings) >= 3, messages
    state = tmp_path / "var/lib/hiprot"
    (session,) = (state / "sessions").iterdir()
    meta = json.loads((session / "session.json").read_text())
    assert meta["complete"] and meta["stop_reason"] == "signal"
    assert (state / "hiprot-sim" / "lock").is_file(), "the device lock is in the state directory"
    assert (state / "hiprot-sim" / "outbox").is_dir(), "so are the outboxes"
    assert status.received.wait(lambda r: r.on("/status")[-1:] == [b"offline"], 10)
    late = subscribe(broker, "hiprot/+/status")
    assert late.received.wait(lambda r: r.on("/status") == [b"offline"], 10), "offline is retained"
