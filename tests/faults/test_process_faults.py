"""Process faults: SIGTERM stops ``hiprot record`` cleanly, its broker told ``offline``.

``kill -9`` at random moments is tests/recording/test_kill_recovery.py (every
recovered session an exact prefix, at most 1 s lost) and, for the retained
``offline`` Last Will, tests/mqtt/test_publisher.py.
"""

from __future__ import annotations

import json
import signal

from .conftest import assert_no_sample_lost


def test_sigterm_closes_the_session_and_publishes_offline(
    broker, subscribe, start_record, tmp_path
):
    sub = subscribe(broker, "hiprot/#")
    recorder = start_record("--broker", broker.address, "--out", tmp_path / "sessions")
    recorder.wait_for("recording ")
    assert sub.received.wait(lambda r: len(r.on("/health")) >= 2, 30), "not recording live"
    recorder.process.send_signal(signal.SIGTERM)
    returncode, out, err = recorder.finish(timeout=30)
    assert returncode == 0 and err == ""
    assert "recorded " in out

    (session_dir,) = (tmp_path / "sessions").iterdir()
    meta = json.loads((session_dir / "session.json").read_text())
    assert meta["complete"] and meta["stop_reason"] == "signal"
    assert not (session_dir / "session.json.tmp").exists()
    assert_no_sample_lost(session_dir)

    assert sub.received.wait(lambda r: r.on("/status")[-1:] == [b"offline"], 10)
    ended = sub.received.json("/session")[-1]
    assert ended["state"] == "ended" and ended["session"] == session_dir.name
    late = subscribe(broker, "hiprot/+/status")
    assert late.received.wait(lambda r: r.on("/status") == [b"offline"], 10), "offline is retained"
