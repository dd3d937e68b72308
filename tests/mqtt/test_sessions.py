"""No metric of one session appears under another: replays of the real CLI, a real broker.

The issue's sequence: a replay of a walk while no broker answers (its strides wait),
then a replay of a seated test with a broker — the walk's strides must arrive under
the walk's own session id, marked as a replay, never under the seated test's.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest


def hiprot(*args, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hiprot", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def sessions(tmp_path_factory) -> dict[str, object]:
    """A simulated walk and a simulated seated IR test, as session directories."""
    root = tmp_path_factory.mktemp("sessions")
    made = {}
    for name, scenario, duration in (("WALK", "walk", 30), ("SEATED_TEST", "seated-ir", 40)):
        result = hiprot(
            "simulate", "--scenario", scenario, "--duration", duration, "--out", root / name
        )
        assert result.returncode == 0, result.stderr
        made[name] = root / name
    return made


def test_waiting_walk_strides_never_appear_under_the_next_replay(broker, subscribe, sessions):
    offline = hiprot("replay", sessions["WALK"], "--broker", "127.0.0.1:1", "--speed", "0")
    assert offline.returncode == 0, offline.stderr

    sub = subscribe(broker, "hiprot/#")
    seated = hiprot("replay", sessions["SEATED_TEST"], "--broker", broker.address, "--speed", "0")
    assert seated.returncode == 0, seated.stderr
    assert sub.received.wait(lambda r: r.on("/status")[-1:] == [b"offline"], 30)
    # the trials leave the outbox on the publisher's thread: they may reach a subscriber just
    # after the status, so wait for them (the session's end) before reading what arrived
    assert sub.received.wait(
        lambda r: r.on("/test") and any(s["state"] == "ended" for s in r.json("/session")), 30
    )

    (session,) = [s for s in sub.received.json("/session") if s["state"] == "ended"]
    assert session.get("replay") is True and session.get("replay_of") == "SEATED_TEST"
    seated_id = session["session"]
    assert seated_id.startswith("SEATED_TEST-replay-")
    strides, tests = sub.received.json("/stride"), sub.received.json("/test")
    assert len(strides) > 10, "the walk's strides waited and were delivered"
    stride_sessions = {m.get("session") for m in strides}
    assert seated_id not in stride_sessions and None not in stride_sessions
    (walk_id,) = stride_sessions
    assert walk_id.startswith("WALK-replay-") and all(m["replay"] is True for m in strides)
    assert tests and {m["session"] for m in tests} == {seated_id}
    assert all(m["replay"] is True for m in tests)
    waiting = re.search(r"(\d+) wait in the outbox for the next start", offline.stdout)
    assert waiting and int(waiting[1]) == len(strides), offline.stdout
    assert f"mqtt: {len(tests)} metrics acknowledged by the broker" in seated.stdout


def test_a_replay_never_shares_a_recordings_outbox(broker, subscribe, sessions, tmp_path):
    """A recording's metrics carry its session directory's name and no replay mark; the session
    topic says the rig is simulated."""
    sub = subscribe(broker, "hiprot/#")
    record = hiprot("record", "--duration", 12, "--broker", broker.address, "--out", tmp_path / "s")
    assert record.returncode == 0, record.stderr
    (session_dir,) = (tmp_path / "s").iterdir()
    assert record.stdout.startswith("recording 2 SIMULATED sensors at 200 Hz")
    assert json.loads((session_dir / "session.json").read_text())["simulated"] is True
    assert sub.received.wait(lambda r: r.on("/status")[-1:] == [b"offline"], 30)
    topic = sub.received.json("/session")[-1]
    assert topic["session"] == session_dir.name and topic["simulated"] is True
    assert topic["replay"] is False
    strides = sub.received.json("/stride")
    assert strides and {m["session"] for m in strides} == {session_dir.name}
    assert not any("replay" in m for m in strides)
