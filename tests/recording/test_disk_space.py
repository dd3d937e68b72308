"""Disk space: refuse to start, warn early, stop cleanly before a (real, small tmpfs) disk is full.

The small disk is a tmpfs mounted in a private mount namespace (``unshare``),
so the recorder meets a genuinely full filesystem, not a mocked one.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

from hiprot_testing import FAST_RIG

from hiprot.recording import load_session
from hiprot.recording.disk import DiskGuard, DiskPolicy


def _record_on_small_disk(tmp_path, size_kb: int, *options: str):
    """Run ``hiprot record`` onto a tmpfs of ``size_kb``; copy the session out; return it."""
    rig = tmp_path / "fast.toml"
    rig.write_text(FAST_RIG)
    mount, kept = tmp_path / "disk", tmp_path / "kept"
    mount.mkdir()
    kept.mkdir()
    record = shlex.join(
        [
            sys.executable,
            "-m",
            "hiprot",
            "record",
            "--rig",
            str(rig),
            "--out",
            str(mount / "s"),
            "--duration",
            "60",
            *options,
        ]
    )
    script = (
        f"mount -t tmpfs -o size={size_kb}k tmpfs {mount} || exit 99\n"
        f"{record}\nrc=$?\ncp -a {mount}/s/. {kept}/\nexit $rc\n"
    )
    result = subprocess.run(
        ["unshare", "--map-root-user", "--mount", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 99, f"cannot mount a tmpfs in a private namespace: {result.stderr}"
    (session,) = kept.iterdir()
    return result, json.loads((session / "session.json").read_text()) | {"_path": session}


def test_refuses_to_start_below_the_minimum(tmp_path, hiprot):
    result = hiprot(
        "record", "--out", tmp_path / "s", "--duration", "1", "--no-mqtt", "--min-free-mb", "1e12"
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "MB free, below the minimum of 1e+12 MB (--min-free-mb)" in result.stderr
    assert not (tmp_path / "s").exists()


def test_warns_at_start_with_the_time_left(tmp_path, hiprot):
    result = hiprot(
        "record", "--out", tmp_path / "s", "--duration", "1", "--no-mqtt", "--warn-free-mb", "1e12"
    )
    assert result.returncode == 0, result.stderr
    (warning,) = result.stderr.splitlines()
    assert warning.startswith("warning: ") and "disk space low" in warning
    assert "stops by itself in about" in warning and " h " in warning
    (session,) = (tmp_path / "s").iterdir()
    assert load_session(session).recovery.complete


def test_stops_cleanly_before_the_disk_is_full(tmp_path):
    result, meta = _record_on_small_disk(
        tmp_path, 1200, "--warn-free-mb", "0.8", "--min-free-mb", "0.4"
    )
    assert result.returncode == 0, result.stderr
    warnings = result.stderr.splitlines()
    assert len(warnings) == 2 and "disk space low" in warnings[0]
    assert "stopping the recording" in warnings[1]
    assert "stopped early: disk space low" in result.stdout
    assert meta["complete"] and meta["stop_reason"] == "disk space low"
    assert 1.0 < meta["duration_s"] < 55
    session = load_session(meta["_path"])
    assert session.recovery.complete
    assert session.recovery.samples == meta["samples"]


def test_a_full_disk_still_closes_the_metadata(tmp_path):
    result, meta = _record_on_small_disk(tmp_path, 600, "--warn-free-mb", "0", "--min-free-mb", "0")
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "No space left on device" in line and "the session is closed" in line
    assert meta["complete"] and meta["stop_reason"] == "write error"
    session = load_session(meta["_path"])
    assert session.recovery.complete and sum(session.recovery.samples.values()) > 1000
    assert session.recovery.samples == meta["samples"]


def test_the_stop_is_said_once_however_often_the_writer_checks_before_it_stops(tmp_path):
    """The writer checks at every sync until the recording loop has stopped; on a loaded
    machine that is several checks, and the user was told once."""
    said = []
    guard = DiskGuard(tmp_path, DiskPolicy(stop_free_bytes=10**18), 1000.0, said.append)
    assert [guard.must_stop() for _ in range(4)] == [True] * 4
    assert len(said) == 1 and "stopping the recording" in said[0]
