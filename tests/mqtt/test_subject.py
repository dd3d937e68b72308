"""The subject code in the MQTT ``session`` payload of a recording and of its replay (real CLI,
real broker); it never goes into a topic."""

from __future__ import annotations

import json
import subprocess
import sys


def hiprot(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hiprot", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_session_payload_carries_the_subject_of_a_recording_and_its_replay(
    broker, subscribe, tmp_path
):
    sub = subscribe(broker, "hiprot/#")
    record = hiprot(
        "record",
        "--duration",
        4,
        "--subject",
        "P07",
        "--broker",
        broker.address,
        "--out",
        tmp_path / "s",
    )
    assert record.returncode == 0, record.stderr
    (session,) = (tmp_path / "s").iterdir()
    assert sub.received.wait(lambda r: any(s["state"] == "ended" for s in r.json("/session")), 30)
    payloads = sub.received.json("/session")
    assert payloads and {p["subject"] for p in payloads} == {"P07"}
    assert json.loads((session / "session.json").read_text())["subject"] == "P07"

    replayed = hiprot("replay", session, "--speed", 0, "--broker", broker.address)
    assert replayed.returncode == 0, replayed.stderr
    other = hiprot("replay", session, "--speed", 0, "--subject", "P08", "--broker", broker.address)
    assert other.returncode == 0, other.stderr
    assert sub.received.wait(
        lambda r: sum(s["state"] == "ended" for s in r.json("/session")) == 3, 30
    )
    ended = [s for s in sub.received.json("/session") if s["state"] == "ended"]
    assert [s["subject"] for s in ended] == ["P07", "P07", "P08"]
    assert [s.get("replay") for s in ended] == [False, True, True]
    with sub.received.lock:
        topics = {topic for topic, _, _ in sub.received.messages}
    assert topics and not any("P07" in t or "P08" in t for t in topics)

    bad = hiprot("replay", session, "--subject", "Jane Doe", "--no-mqtt")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "a code, not a name" in bad.stderr
