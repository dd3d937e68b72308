"""Fault tests run the real ``hiprot record`` as a process: a rig that calibrates fast, the outbox."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from hiprot.recording import load_session

RATE_HZ = 200  # the default simulated rig's


class RecordProcess:
    """``hiprot record`` running in the background; its stdout lines are collected as they come."""

    def __init__(self, args: list[str], state_dir: Path):
        self.state_dir = state_dir
        env = {**os.environ, "XDG_STATE_HOME": str(state_dir)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hiprot", "record", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for(self, prefix: str, timeout: float = 60) -> None:
        """Wait until a stdout line starts with ``prefix``."""
        deadline = time.monotonic() + timeout
        while not any(line.startswith(prefix) for line in self.lines):
            assert self.process.poll() is None, self.process.stderr.read()
            assert time.monotonic() < deadline, f"no {prefix!r} line: {self.lines}"
            time.sleep(0.05)

    def finish(self, timeout: float = 90) -> tuple[int, str, str]:
        """(exit status, stdout, stderr) once the process has ended."""
        returncode = self.process.wait(timeout)
        self._reader.join(10)
        return returncode, "".join(self.lines), self.process.stderr.read()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def walk_rig(tmp_path, sim_rig_text) -> Path:
    """The simulated walk, standing only 3 s and no knee bends: strides are published after ~8 s."""
    path = tmp_path / "walk.toml"
    path.write_text(
        sim_rig_text.replace(
            "duration_s = 20", 'duration_s = 20\nstill_s = 3\ncalibration_moves = "none"'
        )
    )
    return path


@pytest.fixture
def state_dir(tmp_path) -> Path:
    """``$XDG_STATE_HOME`` for the recorder: where its MQTT outbox lives."""
    return tmp_path / "state"


@pytest.fixture
def start_record(state_dir):
    """Start ``hiprot record ARGS`` with ``state_dir`` as its state home; killed after the test."""
    started: list[RecordProcess] = []

    def start(*args: str) -> RecordProcess:
        started.append(RecordProcess([str(a) for a in args], state_dir))
        return started[-1]

    yield start
    for recorder in started:
        recorder.kill()


@pytest.fixture
def outbox_pending(state_dir):
    """How many metrics wait in the simulated rig's on-disk outboxes (one per session)."""

    def count() -> int:
        total = 0
        for path in (state_dir / "hiprot" / "hiprot-sim" / "outbox").glob("*.sqlite3"):
            with sqlite3.connect(path) as db:
                try:
                    total += db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
                except sqlite3.OperationalError:  # created, no table yet
                    pass
        return total

    return count


def unique_metrics(received, suffix: str) -> list[dict]:
    """Metric messages on topics ending in ``suffix``, copies re-sent after a lost ack dropped."""
    seen, unique = set(), []
    for message in (json.loads(p) for p in received.on(suffix)):
        if (message["stream"], message["seq"]) not in seen:
            seen.add((message["stream"], message["seq"]))
            unique.append(message)
    return unique


def assert_no_sample_lost(
    session_dir, duration_s: float | None = None, rate_hz: float = RATE_HZ
) -> None:
    """The session is closed and whole: every sensor has a sample every period from the start of
    the sensors to its last, and rate × duration samples when ``duration_s`` is given (± 1: a
    chip's own clock runs a little off its nominal rate)."""
    meta = json.loads((session_dir / "session.json").read_text())
    session = load_session(session_dir)
    assert meta["complete"] and session.recovery.complete
    assert session.recovery.samples == meta["samples"]
    for name, samples in session.samples.items():
        assert meta["gaps"][name]["count"] == 0, meta["gaps"][name]
        steps = np.diff(samples.time_s) * rate_hz
        assert 0.5 < steps.min() and steps.max() < 1.5, name
        assert samples.time_s[0] * rate_hz < 1.5, f"{name}: the first samples are missing"
        if duration_s is not None:
            assert abs(len(samples) - duration_s * rate_hz) <= 1, (name, len(samples))
