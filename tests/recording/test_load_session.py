"""load_session: every kind of session; damaged ones recover what is intact or fail clearly."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from hiprot_testing import CONFIG, assert_analysed
from hypothesis import given, settings
from hypothesis import strategies as st

from hiprot.config import load_rig
from hiprot.csvio import write_imu_csv
from hiprot.errors import RecordingError
from hiprot.recording import SessionWriter, load_session
from hiprot.recording.metadata import META_TYPES
from hiprot.recording.raw import decode_file_header
from hiprot.samples import split_chunk
from hiprot.sim import simulate


def _assert_prefix(session, sent) -> None:
    for name, got in session.samples.items():
        n = len(got)
        assert n > 0
        assert np.array_equal(got.time_s, sent[name].time_s[:n])
        assert np.array_equal(got.acc, sent[name].acc[:n])
        assert np.array_equal(got.gyr, sent[name].gyr[:n])


def test_a_closed_recording_is_complete_and_exact(rig, record):
    path, sent = record(rig)
    session = load_session(path)
    assert session.kind == "recorded" and session.recovery.complete
    assert session.recovery.samples == {name: len(s) for name, s in sent.items()}
    assert session.recovery.summary().startswith("complete: 2400 samples (6.0 s) from 2 sensors")
    _assert_prefix(session, sent)


def test_cut_mid_record_recovers_the_intact_prefix(rig, record):
    path, sent = record(rig)
    raw = path / "imu.bin"
    size = raw.stat().st_size
    os.truncate(raw, size - 1000)
    meta = json.loads((path / "session.json").read_text())
    meta["complete"] = False  # as after a crash: the metadata was never closed
    (path / "session.json").write_text(json.dumps(meta))
    session = load_session(path)
    recovery = session.recovery
    assert not recovery.complete and not recovery.closed and not recovery.live
    (damage,) = recovery.dropped
    assert damage.offset + damage.length == size - 1000 and "incomplete last block" in damage.reason
    assert 0 < recovery.bytes_recovered < recovery.bytes_total == size - 1000
    _assert_prefix(session, sent)
    summary = recovery.summary()
    assert "not closed" in summary and "incomplete last block" in summary


def test_a_flipped_byte_drops_one_block_and_says_how_many_samples(rig, record):
    path, sent = record(rig)
    raw = path / "imu.bin"
    data = bytearray(raw.read_bytes())
    data[len(data) // 2] ^= 0xFF
    raw.write_bytes(bytes(data))
    session = load_session(path)
    (damage,) = session.recovery.dropped
    assert damage.samples and "damaged" in damage.reason
    lost = sum(
        len(s) - len(session.samples[n]) if n in session.samples else len(s)
        for n, s in sent.items()
    )
    assert lost == damage.samples
    assert any("samples missing" in w for w in session.recovery.warnings)
    for name, got in session.samples.items():  # what is left is exactly the original samples
        index = np.searchsorted(sent[name].time_s, got.time_s)
        assert np.array_equal(sent[name].time_s[index], got.time_s)
        assert np.array_equal(sent[name].gyr[index], got.gyr)


@pytest.mark.parametrize("damage", ["missing", "garbage"])
def test_lost_session_json_is_recovered_from_the_raw_file(rig, record, damage):
    path, sent = record(rig)
    if damage == "missing":
        (path / "session.json").unlink()
    else:
        (path / "session.json").write_text('{"format_version": 2, "dev')
    session = load_session(path)
    assert session.meta["device_id"] == "hiprot-sim" and session.meta["complete"] is False
    assert not session.recovery.complete
    assert "session.json" in session.recovery.summary()
    _assert_prefix(session, sent)


def test_lost_rig_toml_is_recovered_from_the_raw_file(rig, record):
    path, sent = record(rig)
    (path / "rig.toml").unlink()
    session = load_session(path)
    assert session.rig.sensors == rig.sensors and session.rig.sample_rate_hz == rig.sample_rate_hz
    assert any("rig taken from imu.bin" in w for w in session.recovery.warnings)
    _assert_prefix(session, sent)


def test_a_damaged_file_header_uses_rig_toml_for_the_sensor_order(rig, record):
    path, sent = record(rig)
    raw = path / "imu.bin"
    data = bytearray(raw.read_bytes())
    data[40] ^= 0x10
    raw.write_bytes(bytes(data))
    session = load_session(path)
    assert "file header damaged" in session.recovery.dropped[0].reason
    _assert_prefix(session, sent)
    (path / "rig.toml").unlink()
    with pytest.raises(RecordingError, match="file header damaged"):
        load_session(path)


UNUSABLE = [
    ("no raw file", "missing; no samples were recorded"),
    ("empty raw file", "interrupted before any sample was written"),
    ("header only", "no samples recorded"),
    ("not a directory", "not a session directory"),
    ("newer format", "newer than this hiprot reads"),
]


def _make_unusable(path, case):
    """Damage a recorded session as ``case`` says; the path the commands are given."""
    raw = path / "imu.bin"
    if case == "no raw file":
        raw.unlink()
    elif case == "empty raw file":
        raw.write_bytes(b"")
    elif case == "header only":
        os.truncate(raw, decode_file_header(raw.read_bytes()).size)
    elif case == "not a directory":
        return path / "session.json"
    else:
        meta = json.loads((path / "session.json").read_text())
        (path / "session.json").write_text(json.dumps(dict(meta, format_version=99)))
    return path


def _files(directory) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.mark.parametrize("case, words", UNUSABLE)
def test_unusable_sessions_give_one_clear_error(rig, record, case, words):
    path, _ = record(rig)
    path = _make_unusable(path, case)
    with pytest.raises(RecordingError) as info:
        load_session(path)
    message = str(info.value)
    assert words in message and "\n" not in message and str(path) in message


@pytest.mark.parametrize("case, words", UNUSABLE)
def test_every_command_refuses_an_unusable_session_in_one_line_and_changes_nothing(
    rig, record, hiprot, tmp_path, case, words
):
    session_dir, _ = record(rig, duration_s=2.0)
    path = _make_unusable(session_dir, case)
    before = _files(session_dir)
    for command in (
        ["analyze", path, "--out", tmp_path / "report"],
        ["export", path, "--format", "sto", "--out", tmp_path / "export"],
        ["replay", path, "--speed", "0", "--no-mqtt"],
    ):
        result = hiprot(*command)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        (line,) = result.stderr.splitlines()
        said = (words, "is a file") if case == "not a directory" else (words,)  # or click says it
        assert any(w in line for w in said) and str(path) in line, (command, line)
    assert _files(session_dir) == before


def test_commands_on_a_damaged_session_recover_the_intact_blocks_and_change_nothing(
    rig, record, hiprot, tmp_path
):
    path, sent = record(rig, duration_s=4.0)
    raw = path / "imu.bin"
    data = bytearray(raw.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit in a block of samples
    raw.write_bytes(bytes(data))
    before = _files(path)
    for command in (
        ["analyze", path, "--out", tmp_path / "report"],
        ["export", path, "--format", "csv", "--out", tmp_path / "export"],
    ):
        result = hiprot(*command)
        if command[0] == "analyze":  # 4 s of standing: at most no joint angles, said as such
            assert_analysed(result)
        else:
            assert result.returncode == 0, (command, result.stderr)
        assert "block" in result.stdout + result.stderr, command  # the loss is said, not hidden
    assert _files(path) == before
    recovered, exported = load_session(path), load_session(tmp_path / "export")
    total = sum(len(s) for s in sent.values())
    assert 0 < sum(len(s) for s in recovered.samples.values()) < total
    for name, s in recovered.samples.items():
        np.testing.assert_allclose(exported.samples[name].gyr, s.gyr, rtol=1e-5, atol=1e-6)


def test_imported_and_simulated_csv_sessions(rig, record, tmp_path):
    _, sent = record(rig)
    imported = tmp_path / "imported"
    imported.mkdir()
    (imported / "rig.toml").write_text((rig.source).read_text())
    write_imu_csv(imported / "imu.csv", sent)
    session = load_session(imported)
    assert session.kind == "imported" and session.recovery.complete
    for name, s in sent.items():
        np.testing.assert_allclose(session.samples[name].gyr, s.gyr, rtol=1e-5, atol=1e-6)
    (imported / "truth.csv").write_text("time_s,right_hip_ir_deg\n0,0\n")
    assert load_session(imported).kind == "simulated"
    (imported / "imu.csv").write_text("time_s,sensor\n")
    with pytest.raises(RecordingError, match="expected the header"):
        load_session(imported)


def test_cli_export_of_a_damaged_session_warns_then_exports(rig, record, hiprot, tmp_path):
    path, _ = record(rig)
    os.truncate(path / "imu.bin", (path / "imu.bin").stat().st_size - 77)
    result = hiprot("export", path, "--format", "csv", "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    (warning,) = result.stderr.splitlines()
    assert warning.startswith("warning: ") and "incomplete last block" in warning
    (path / "imu.bin").write_bytes(b"")
    result = hiprot("export", path, "--format", "csv")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "interrupted before any sample was written" in result.stderr


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """One closed recording (2 s of the simulated rig) and the samples sent to it."""
    rig = load_rig(CONFIG / "sim.toml")
    samples = simulate(rig, 2.0).samples
    writer = SessionWriter(rig, tmp_path_factory.mktemp("recorded"))
    for chunk in split_chunk(samples, 0.05):
        writer.write(chunk)
    return writer.close(duration_s=2.0), samples


@settings(max_examples=80, deadline=None)
@given(
    changes=st.dictionaries(
        st.sampled_from(sorted(META_TYPES)) | st.text(max_size=6),
        JSON_VALUES,
        min_size=1,
        max_size=4,
    )
    | JSON_VALUES
)
def test_any_session_json_damage_keeps_every_sample(recorded, changes):
    path, sent = recorded
    original = (path / "session.json").read_text()
    meta = json.loads(original)
    try:
        damaged = json.dumps(dict(meta, **changes) if isinstance(changes, dict) else changes)
        (path / "session.json").write_text(damaged)
        try:
            session = load_session(path)
        except RecordingError as exc:
            assert "\n" not in str(exc) and "newer than this hiprot reads" in str(exc)
            return
        assert session.recovery.samples == {name: len(s) for name, s in sent.items()}
        _assert_prefix(session, sent)
    finally:
        (path / "session.json").write_text(original)
