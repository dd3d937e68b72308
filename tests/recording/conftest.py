"""Fixtures for the recording tests: the simulated rig, recorded sessions, the real CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hiprot.config import load_rig
from hiprot.recording import SessionWriter
from hiprot.samples import split_chunk
from hiprot.sim import simulate

CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture
def rig():
    """The default simulated rig (right thigh and shank, 200 Hz)."""
    return load_rig(CONFIG / "sim.toml")


@pytest.fixture
def record(tmp_path):
    """``record(rig, duration_s, close_meta, **writer_options)`` → (session dir, samples sent)."""

    def make(rig, duration_s: float = 6.0, close_meta: dict | None = None, **options):
        samples = simulate(rig, duration_s).samples
        writer = SessionWriter(rig, tmp_path / "sessions", **options)
        for chunk in split_chunk(samples, 0.05):
            writer.write(chunk)
        return writer.close(duration_s=duration_s, **(close_meta or {})), samples

    return make


@pytest.fixture
def hiprot():
    """Run ``python -m hiprot ARGS`` and return the completed process (text output)."""

    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "hiprot", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run
