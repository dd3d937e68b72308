"""Personal movement data is private whatever the umask: every directory a command creates is
0700 and every file 0600 — sessions of ``record``, ``demo`` and ``simulate``, exports, analyses
and the MQTT outbox — through the real CLI started with a permissive umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest


def run(umask: int, *args, state: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hiprot", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "XDG_STATE_HOME": str(state)},
        preexec_fn=lambda: os.umask(umask),
    )


def modes(root: Path) -> dict[str, int]:
    """Permission bits of ``root`` and everything under it."""
    return {
        str(p.relative_to(root.parent)): stat.S_IMODE(p.lstat().st_mode)
        for p in [root, *root.rglob("*")]
    }


def assert_private(root: Path) -> None:
    found = modes(root)
    assert found, root
    for name, mode in found.items():
        wanted = 0o700 if (root.parent / name).is_dir() else 0o600
        assert mode == wanted, f"{name}: {mode:04o}"


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_everything_a_command_creates_is_private(umask, tmp_path):
    state = tmp_path / "state"
    out = tmp_path / "work"
    out.mkdir()
    steps = [
        ("record", "--duration", "2", "--broker", "127.0.0.1:1", "--out", out / "sessions"),
        ("simulate", "--duration", "20", "--out", out / "simulated" / "walk"),
        ("export", out / "simulated" / "walk", "--format", "csv", "--out", out / "csv"),
        ("analyze", out / "simulated" / "walk", "--out", out / "analysis"),
        ("demo", "--no-mqtt", "--out", out / "demo"),
    ]
    for step in steps:
        result = run(umask, *step, state=state)
        assert result.returncode == 0, (step, result.stderr)
    for made in ("sessions", "simulated", "csv", "analysis", "demo"):
        assert_private(out / made)
    device = state / "hiprot" / "hiprot-sim"  # the device's lock and its sessions' outboxes
    assert (device / "lock").is_file() and (device / "outbox").is_dir()
    assert_private(state / "hiprot")
