"""The command line: every command has --help; record stops cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from hiprot.recording import load_session

COMMANDS = [
    "scan",
    "record",
    "command",
    "demo",
    "simulate",
    "analyze",
    "replay",
    "export",
    "monitor",
    "dashboard",
]


def hiprot(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hiprot", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = hiprot(command, "--help")
    assert result.returncode == 0
    assert "Usage: " in result.stdout


def test_record_simulated_rig_for_a_duration(tmp_path):
    result = hiprot(
        "record",
        "--duration",
        "2",
        "--out",
        str(tmp_path),
        "--no-mqtt",
        "--activity",
        "walk",
        "--note",
        "first try",
    )
    assert result.returncode == 0, result.stderr
    (session_dir,) = tmp_path.iterdir()
    meta = json.loads((session_dir / "session.json").read_text())
    assert meta["complete"] and meta["activity"] == "walk" and meta["note"] == "first try"
    session = load_session(session_dir)
    for samples in session.samples.values():
        assert 1.9 <= samples.time_s[-1] - samples.time_s[0] <= 2.1


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_record_ends_cleanly_on_signal(tmp_path, signum):
    process = subprocess.Popen(
        [sys.executable, "-m", "hiprot", "record", "--out", str(tmp_path), "--no-mqtt"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob("*/imu.bin")) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)
    process.send_signal(signum)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    (session_dir,) = tmp_path.iterdir()
    meta = json.loads((session_dir / "session.json").read_text())
    assert meta["complete"] and meta["duration_s"] >= 1.0
    assert sum(len(s) for s in load_session(session_dir).samples.values()) > 0


def test_bad_broker_option_is_a_usage_error(tmp_path):
    result = hiprot("demo", "--broker", "host:notaport", "--out", str(tmp_path))
    assert result.returncode == 2 and "--broker" in result.stderr


def test_the_command_line_imports_no_command_until_one_runs():
    """``import hiprot.cli`` (all that ``hiprot --help`` needs) loads no heavy library: each
    command imports what it uses when it runs."""
    heavy = ("matplotlib", "scipy", "scipy.stats", "numpy", "hiprot.cli.analyze")
    code = f"import sys, hiprot.cli; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_help_lists_every_command_as_click_would():
    """The command list of ``hiprot --help``, read from the commands' source, is click's own
    list of the imported commands."""
    import click

    from hiprot.cli import COMMANDS, main

    eager = click.Group(
        "hiprot",
        help=main.help,
        params=[p for p in main.params if p.name != "help"],
        context_settings=main.context_settings,
    )
    for name in COMMANDS:
        eager.add_command(main.get_command(None, name))
    for group in (main, eager):
        assert sorted(group.list_commands(None)) == sorted(COMMANDS)
    # contexts made with the group's settings (-h), as click makes them when it runs
    with click.Context(main, info_name="hiprot", **main.context_settings) as ctx:
        lazy_help = main.get_help(ctx)
    with click.Context(eager, info_name="hiprot", **eager.context_settings) as ctx:
        assert lazy_help == eager.get_help(ctx)
    result = hiprot("--version")
    assert result.returncode == 0 and result.stdout.startswith("hiprot, version ")
