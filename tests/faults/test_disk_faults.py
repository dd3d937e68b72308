"""A nearly full disk, with the default limits: a clean stop, then a clear refusal to start.

A real tmpfs in a private mount namespace, filled so that just over the default
minimum (50 MB) is free. tests/recording/test_disk_space.py covers custom limits,
the early warning and a disk that fills up anyway.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import pytest
from hiprot_testing import FAST_RIG

from .conftest import assert_no_sample_lost

SIZE, LIMIT, OVER_LIMIT = 60_000_000, 50_000_000, 400_000  # bytes: 2 s of the fast rig's data


def _run_twice_on_nearly_full_disk(tmp_path):
    """Record onto the nearly full tmpfs until it stops; let another program take more; try again.

    Returns both runs' exit status, stdout and stderr, and the session directories.
    """
    rig = tmp_path / "fast.toml"
    rig.write_text(FAST_RIG)
    mount, kept = tmp_path / "disk", tmp_path / "kept"
    mount.mkdir()
    kept.mkdir()
    record = shlex.join(
        [sys.executable, "-m", "hiprot", "record", "--rig", str(rig), "--out", str(mount / "s")]
    )
    script = (
        f"mount -t tmpfs -o size={SIZE} tmpfs {mount} || exit 99\n"
        f"head -c {SIZE - LIMIT - OVER_LIMIT} /dev/zero > {mount}/filler || exit 98\n"
        f"{record} > {kept}/1.out 2> {kept}/1.err; echo $? > {kept}/1.rc\n"
        f"head -c {OVER_LIMIT} /dev/zero > {mount}/other-program || exit 98\n"
        f"{record} > {kept}/2.out 2> {kept}/2.err; echo $? > {kept}/2.rc\n"
        f"cp -a {mount}/s {kept}/s\n"
    )
    result = subprocess.run(
        ["unshare", "--map-root-user", "--mount", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode == 99 or "unshare failed" in result.stderr:
        pytest.fail(
            f"mount namespaces are not permitted here (.ci/run needs them): {result.stderr}"
        )
    assert result.returncode == 0, result.stderr
    runs = [
        {key: (kept / f"{n}.{key}").read_text() for key in ("rc", "out", "err")} for n in (1, 2)
    ]
    return runs, list((kept / "s").iterdir())


def test_nearly_full_disk_stops_cleanly_then_refuses_to_start(tmp_path):
    (first, second), sessions = _run_twice_on_nearly_full_disk(tmp_path)
    assert first["rc"].strip() == "0", first["err"]
    lines = first["err"].splitlines()
    assert len(lines) == 2, first["err"]
    warned, stopped = lines
    assert "disk space low" in warned and "stops by itself in about" in warned
    assert stopped.endswith("; stopping the recording (minimum 50 MB, --min-free-mb)")
    assert "stopped early: disk space low" in first["out"]

    (session_dir,) = sessions
    meta = json.loads((session_dir / "session.json").read_text())
    assert meta["complete"] and meta["stop_reason"] == "disk space low"
    assert_no_sample_lost(session_dir, rate_hz=1000)

    assert second["rc"].strip() == "2" and second["out"] == ""
    (line,) = second["err"].splitlines()
    assert (
        line.startswith("hiprot: error: ") and "below the minimum of 50 MB (--min-free-mb)" in line
    )
