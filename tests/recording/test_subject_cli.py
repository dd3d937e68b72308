"""Per person, not per device: the subject code from the command line and the rig file into
session.json, rig.toml, the imu.bin header and report.json; ``hiprot subject export`` and
``delete`` of one subject's sessions and analyses, never another's. Through the real CLI."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from hiprot_testing import hiprot_in_process

from hiprot.cli import main
from hiprot.files import sha256_file
from hiprot.recording.subjects import DELETING_PREFIX, STAGING_PREFIX


def hiprot(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hiprot", *map(str, args)], capture_output=True, text=True
    )


def cli(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def simulated(path, subject=None, duration=20):
    extra = ["--subject", subject] if subject else []
    result = cli(
        "simulate", "--scenario", "seated-ir", "--duration", duration, "--out", path, *extra
    )
    assert result.exit_code == 0, result.output
    return path


def files_of(directory):
    return {
        p.relative_to(directory): sha256_file(p)
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def sessions(tmp_path):
    """Two sessions of P07, one of P08, one without a subject; P07's first and P08's analysed."""
    root = tmp_path / "sessions"
    for name, subject in (("a", "P07"), ("b", "P07"), ("c", "P08"), ("d", None)):
        simulated(root / name, subject)
    for name in ("a", "c"):
        result = cli("analyze", root / name, "--out", tmp_path / "out" / name, "--no-charts")
        assert result.exit_code in (0, 2), result.output  # 2: a short test may lack trials
        assert (tmp_path / "out" / name / "report.json").exists()
    return root


def test_the_subject_goes_into_session_json_rig_toml_and_report_json(sessions, tmp_path):
    meta = json.loads((sessions / "a" / "session.json").read_text())
    assert meta["subject"] == "P07"
    assert 'subject = "P07"' in (sessions / "a" / "rig.toml").read_text()
    assert json.loads((sessions / "d" / "session.json").read_text())["subject"] is None
    report = json.loads((tmp_path / "out" / "a" / "report.json").read_text())
    assert report["session"]["subject"] == "P07"


def test_a_rig_files_subject_is_used_and_the_command_line_overrides_it(tmp_path):
    rig = tmp_path / "rig.toml"
    default = cli("simulate", "--out", tmp_path / "x", "--duration", 5)
    assert default.exit_code == 0
    text = (tmp_path / "x" / "rig.toml").read_text()
    rig.write_text('subject = "S-01"\n' + text)
    simulated_with = cli("simulate", "--rig", rig, "--duration", 5, "--out", tmp_path / "y")
    assert simulated_with.exit_code == 0, simulated_with.output
    assert json.loads((tmp_path / "y" / "session.json").read_text())["subject"] == "S-01"
    over = cli(
        "simulate", "--rig", rig, "--subject", "S_02", "--duration", 5, "--out", tmp_path / "z"
    )
    assert over.exit_code == 0, over.output
    assert json.loads((tmp_path / "z" / "session.json").read_text())["subject"] == "S_02"


@pytest.mark.parametrize("bad", ["Jane Doe", "", "x" * 33, "P/07", "é1"])
def test_a_bad_subject_is_one_line_and_status_2(tmp_path, bad):
    hiprot = hiprot_in_process  # one line on stderr is what the command prints, in-process too
    result = hiprot("simulate", "--out", tmp_path / "s", "--subject", bad)
    assert result.returncode == 2 and not (tmp_path / "s").exists()
    assert result.stderr.count("\n") == 1 and "a code, not a name" in result.stderr
    rig = tmp_path / "rig.toml"
    made = hiprot("simulate", "--out", tmp_path / "ok", "--duration", 3)
    assert made.returncode == 0, made.stderr
    rig.write_text(f"subject = {json.dumps(bad)}\n" + (tmp_path / "ok" / "rig.toml").read_text())
    from_rig = hiprot("simulate", "--rig", rig, "--out", tmp_path / "s2")
    assert from_rig.returncode == 2 and from_rig.stderr.count("\n") == 1
    assert f"{rig}: subject: expected a pseudonymous subject code" in from_rig.stderr
    subject_cmd = hiprot("subject", "delete", bad, "--sessions", tmp_path, "--yes")
    assert subject_cmd.returncode == 2 and subject_cmd.stderr.count("\n") == 1


def test_export_copies_the_subjects_sessions_whole_and_checked(sessions, tmp_path):
    before = {name: files_of(sessions / name) for name in "abcd"}
    dest = tmp_path / "export"
    left = dest / f"{STAGING_PREFIX}a-0123abcd"  # what a killed export leaves
    left.mkdir(parents=True)
    (left / "imu.csv").write_text("partial")
    result = hiprot("subject", "export", "P07", "--sessions", sessions, "--to", dest)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in dest.iterdir()) == ["a", "b"]  # the partial copy is gone
    for name in "ab":
        assert files_of(dest / name) == before[name]  # every file, byte for byte
        assert oct((dest / name).stat().st_mode & 0o777) == "0o700"
    assert {name: files_of(sessions / name) for name in "abcd"} == before  # nothing changed
    assert "P07: 2 sessions" in result.stdout
    again = hiprot("subject", "export", "P07", "--sessions", sessions, "--to", dest)
    assert again.returncode == 2 and "already exists" in again.stderr
    inside = hiprot(
        "subject", "export", "P07", "--sessions", sessions, "--to", sessions / "a" / "x"
    )
    assert inside.returncode == 2 and "inside the session" in inside.stderr
    assert not (sessions / "a" / "x").exists()
    none = hiprot("subject", "export", "P99", "--sessions", sessions, "--to", tmp_path / "e2")
    assert none.returncode == 2 and "no session of subject P99" in none.stderr
    assert none.stderr.count("\n") == 1


def test_delete_asks_then_removes_only_that_subjects_sessions_and_analyses(sessions, tmp_path):
    out = tmp_path / "out"
    # a comparison that includes one of P07's sessions mixes subjects: it must go too
    compare = out / "c" / "compare.json"
    compare.write_text(json.dumps({"before": {"name": "a", "path": str(sessions / "a")}}))
    kept = {name: files_of(sessions / name) for name in "cd"}
    refused = hiprot("subject", "delete", "P07", "--sessions", sessions, "--analyses", out)
    assert refused.returncode == 1 and "nothing deleted" in refused.stderr  # no "y" on stdin
    assert (sessions / "a").exists() and (out / "a" / "report.json").exists()

    result = cli("subject", "delete", "P07", "--sessions", sessions, "--analyses", out, input="y\n")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in sessions.iterdir()) == ["c", "d"]
    assert not (out / "a").exists()  # P07's analysis directory, emptied and removed
    assert not compare.exists()
    assert (out / "c" / "report.json").exists()  # P08's analysis stays
    assert {name: files_of(sessions / name) for name in "cd"} == kept
    again = hiprot("subject", "delete", "P07", "--sessions", sessions, "--yes")
    assert again.returncode == 2 and "no session or analysis of subject P07" in again.stderr


def test_a_killed_delete_is_finished_and_never_read_as_a_session(sessions, tmp_path):
    # a delete killed after its rename, before the removal
    os.rename(sessions / "b", sessions / f"{DELETING_PREFIX}b")
    analysed = cli("analyze", sessions, "--out", tmp_path / "all", "--no-charts")
    assert "b" not in [p.name for p in (tmp_path / "all").iterdir()], analysed.output
    # P08's own deletion in progress is not P07's to finish
    simulated(sessions / "e", "P08", duration=5)
    os.rename(sessions / "e", sessions / f"{DELETING_PREFIX}e")
    result = hiprot("subject", "delete", "P07", "--sessions", sessions, "--yes")
    assert result.returncode == 0, result.stderr
    assert "interrupted" in result.stdout
    assert sorted(p.name for p in sessions.iterdir()) == [f"{DELETING_PREFIX}e", "c", "d"]


def test_a_session_still_being_recorded_is_refused(tmp_path):
    record = hiprot(
        "record", "--duration", 2, "--no-mqtt", "--subject", "P07", "--out", tmp_path / "s"
    )
    assert record.returncode == 0, record.stderr
    (session,) = (tmp_path / "s").iterdir()
    with open(session / "imu.bin", "rb") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # what a running recorder holds
        for command in (
            ["export", "P07", "--sessions", tmp_path / "s", "--to", tmp_path / "e"],
            ["delete", "P07", "--sessions", tmp_path / "s", "--yes"],
        ):
            result = hiprot("subject", *command)
            assert result.returncode == 2 and "still being recorded" in result.stderr
    assert session.exists() and not (tmp_path / "e").exists()


def test_demo_records_under_the_subject(tmp_path):
    result = cli("demo", "--no-mqtt", "--subject", "P07", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    (session,) = tmp_path.iterdir()
    assert json.loads((session / "session.json").read_text())["subject"] == "P07"


def test_the_subject_of_a_crashed_recording_is_read_from_imu_bin(tmp_path):
    record = hiprot(
        "record", "--duration", 2, "--no-mqtt", "--subject", "P07", "--out", tmp_path / "s"
    )
    assert record.returncode == 0, record.stderr
    (session,) = (tmp_path / "s").iterdir()
    (session / "session.json").unlink()  # lost in the crash
    (session / "rig.toml").write_text("damaged")
    result = hiprot(
        "subject", "export", "P07", "--sessions", tmp_path / "s", "--to", tmp_path / "e"
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "e" / session.name / "imu.bin").exists()
