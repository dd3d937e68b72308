"""Inputs that are not regular files of sane size, deep nesting and unwritable outputs, through
the real CLI: one line, exit status 2, no hang, no traceback, nothing else stopped.

Every command runs as a process with a time limit and an address-space limit, so a reader that
would block on a FIFO or read ``/dev/zero`` forever fails the test instead of the machine.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from hiprot_testing import assert_analysed

from hiprot.recording import load_session

MEMORY_LIMIT = 3 * 1024**3
DEEP = 100_000  # far beyond Python's recursion limit


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run(*args, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hiprot", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        preexec_fn=_limit_memory,
    )


def assert_one_line(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("hiprot: error: ") and "Traceback" not in result.stderr
    for word in words:
        assert word in line, line


@pytest.fixture
def session(rig, record) -> Path:
    path, _ = record(rig, duration_s=3.0)
    return path


def test_imu_bin_linked_to_dev_zero_is_refused(session):
    (session / "imu.bin").unlink()
    (session / "imu.bin").symlink_to("/dev/zero")
    assert_one_line(run("analyze", session, "--no-charts"), "imu.bin", "a character device")


def test_imu_bin_as_a_fifo_hangs_nothing(session):
    (session / "imu.bin").unlink()
    os.mkfifo(session / "imu.bin")
    assert_one_line(run("analyze", session, "--no-charts", timeout=60), "imu.bin", "a FIFO")
    assert_one_line(run("export", session, "--format", "csv", timeout=60), "a FIFO")


def test_a_fifo_session_does_not_stop_a_batch(rig, record, tmp_path):
    good, _ = record(rig, duration_s=3.0)
    fifo, _ = record(rig, duration_s=3.0)
    (fifo / "imu.bin").unlink()
    os.mkfifo(fifo / "imu.bin")
    result = run("analyze", good.parent, "--no-charts", "--jobs", "1", timeout=120)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    refused = [line for line in errors if str(fifo) in line]
    assert len(refused) == 1 and "a FIFO" in refused[0]
    # the good session (3 s of standing) is analysed: at most no joint angles, said as such
    assert all("no joint angles" in line for line in errors if line not in refused)
    assert (good / "analysis" / "report.json").exists()


def test_a_fifo_rig_file_is_refused(tmp_path):
    os.mkfifo(tmp_path / "rig.toml")
    result = run("simulate", "--rig", tmp_path / "rig.toml", "--out", tmp_path / "s", timeout=60)
    assert_one_line(result, "cannot read rig file: not a regular file (a FIFO)")


def test_an_oversized_rig_file_is_refused(tmp_path):
    rig = tmp_path / "rig.toml"
    with open(rig, "wb") as f:
        f.truncate(10**12)  # sparse: a terabyte that takes no space
    result = run("simulate", "--rig", rig, "--out", tmp_path / "s", timeout=60)
    assert_one_line(result, "cannot read rig file: too large (1000.0 GB")


def test_a_deeply_nested_session_json_is_one_warning(session):
    (session / "session.json").write_text("[" * DEEP + "]" * DEEP)
    loaded = load_session(session)
    assert any("nested too deeply" in w for w in loaded.recovery.warnings)
    assert_analysed(run("analyze", session, "--no-charts"))
    assert (session / "analysis" / "report.json").exists()


@pytest.mark.parametrize("where", ["--rig", "session rig.toml"])
def test_a_deeply_nested_rig_file_is_one_line(where, session, tmp_path):
    deep = "a = " + "[" * DEEP + "]" * DEEP + "\n"
    if where == "--rig":
        (tmp_path / "rig.toml").write_text(deep)
        result = run("simulate", "--rig", tmp_path / "rig.toml", "--out", tmp_path / "s")
    else:
        (session / "rig.toml").write_text(deep)
        (session / "imu.bin").unlink()  # no header to take the rig from instead
        (session / "session.json").unlink()
        (session / "imu.csv").write_text("")  # the rig is read first
        result = run("analyze", session, "--no-charts")
    assert_one_line(result, "rig.toml", "nested too deeply")


def test_session_json_naming_another_raw_file_hides_nothing(session, rig):
    expected = load_session(session).recovery.samples
    meta = json.loads((session / "session.json").read_text())
    for named in ("imu.csv", "../elsewhere/imu.bin", "other.bin"):
        (session / "session.json").write_text(json.dumps(dict(meta, raw_file=named)))
        loaded = load_session(session)
        assert loaded.recovery.samples == expected
        assert named in " ".join(loaded.recovery.warnings) or named == "imu.csv"
        assert_analysed(run("analyze", session, "--no-charts"))
        assert (session / "analysis" / "report.json").exists()


def _not_a_directory(tmp_path: Path) -> Path:
    (tmp_path / "a-file").write_text("")
    return tmp_path / "a-file" / "out"


def test_export_and_analyze_into_an_impossible_out_are_one_line(session, tmp_path):
    out = _not_a_directory(tmp_path)
    assert_one_line(run("export", session, "--format", "csv", "--out", out), "a-file/out")
    assert_one_line(run("export", session, "--format", "sto", "--out", out), "a-file/out")
    assert_one_line(run("analyze", session, "--no-charts", "--out", out), "a-file/out")


def _in_read_only(directory: Path, *args) -> subprocess.CompletedProcess:
    """``hiprot ARGS`` with ``directory`` mounted read-only (a private mount namespace: as root
    a mode bit would not stop the writes)."""
    command = " ".join(f"'{a}'" for a in [sys.executable, "-m", "hiprot", *map(str, args)])
    script = (
        f"mount --bind '{directory}' '{directory}' && "
        f"mount -o remount,bind,ro '{directory}' || exit 99\n{command}"
    )
    result = subprocess.run(
        ["unshare", "--map-root-user", "--mount", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode == 99 or "unshare" in result.stderr:
        pytest.fail(
            f"mount namespaces are not permitted here (.ci/run needs them): {result.stderr}"
        )
    return result


@pytest.mark.parametrize("command", [["export", "--format", "csv"], ["analyze", "--no-charts"]])
def test_a_read_only_out_is_one_line(command, session, tmp_path):
    out = tmp_path / "read-only"
    out.mkdir()
    result = _in_read_only(out, command[0], session, *command[1:], "--out", out)
    assert_one_line(result, str(out), "Read-only file system")
    assert list(out.iterdir()) == []
