"""Bad input through the real CLI: one line on stderr, exit status 2, nothing recorded damaged.

CSV imports with wrong columns, units, NaNs or time going backwards; absurd rates,
durations and speeds. Rig-file errors are in tests/test_config.py, damaged
recordings in tests/recording/test_load_session.py.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from hiprot_testing import CONFIG

from hiprot.cli import main
from hiprot.config import load_rig
from hiprot.csvio import write_imu_csv
from hiprot.sim import simulate

GOOD_HEADER = "time_s,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z,mag_x,mag_y,mag_z"


def run(*args) -> tuple[int, str, str]:
    """``hiprot ARGS`` through click's runner: (exit status, stdout, stderr)."""
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="hiprot")
    return result.exit_code, result.stdout, result.stderr


def assert_one_line_error(status: int, out: str, err: str, *words: str) -> None:
    assert status == 2, out + err
    (line,) = err.splitlines()
    assert line.startswith("hiprot: error: ") and "Traceback" not in err
    for word in words:
        assert word in line, line


def fingerprint(directory: Path) -> dict[str, str]:
    """Every file under ``directory`` with a hash of its bytes."""
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def csv_text(tmp_path_factory) -> str:
    """Two seconds of the simulated rig in the CSV import layout."""
    rig = load_rig(CONFIG / "sim.toml")
    path = tmp_path_factory.mktemp("csv") / "imu.csv"
    write_imu_csv(path, simulate(rig, 2.0).samples)
    return path.read_text()


def _lines(edit):
    """An edit of the CSV text given as an edit of its list of lines."""
    return lambda text: "\n".join(edit(text.splitlines())) + "\n"


def _set_cell(row: int, column: int, value: str):
    def edit(lines):
        cells = lines[row].split(",")
        cells[column] = value
        return lines[:row] + [",".join(cells)] + lines[row + 1 :]

    return _lines(edit)


# (edit of a good imu.csv, words the one-line error must contain)
BAD_CSV = {
    "missing column": (
        _lines(lambda ls: [",".join(line.split(",")[:-1]) for line in ls]),
        ["expected the header"],
    ),
    "columns swapped": (
        lambda t: t.replace("acc_x,acc_y", "acc_y,acc_x", 1),
        ["expected the header"],
    ),
    "gyro in deg/s named so": (
        lambda t: t.replace("gyr_x,gyr_y,gyr_z", "gyr_x_deg_s,gyr_y_deg_s,gyr_z_deg_s", 1),
        ["'gyr_x_deg_s'", "'gyr_x' in rad/s only"],
    ),
    "acc in mg named so": (lambda t: t.replace("acc_x,", "acc_x[mg],", 1), ["'acc_x[mg]'", "m/s²"]),
    "time in ms named so": (
        lambda t: t.replace("time_s,", "time_ms,", 1),
        ["'time_ms'", "'time_s' in s only"],
    ),
    "acc in mg": (_set_cell(5, 4, "-981.2"), [":6:", "acc_z = -981.2", "m/s²"]),
    "gyro in deg/s": (_set_cell(9, 5, "250.5"), [":10:", "gyr_x = 250.5", "rad/s"]),
    "NaN": (_set_cell(3, 6, "nan"), [":4:", "NaN or infinite"]),
    "empty cell": (_set_cell(3, 6, ""), [":4:", "gyr_y: expected a number, got ''"]),
    "unit in a cell": (
        _set_cell(3, 2, "9.81 m/s2"),
        [":4:", "acc_x: expected a number, got '9.81 m/s2'"],
    ),
    "time going back": (
        _lines(lambda ls: ls[:3] + [ls[5], ls[4], ls[3]] + ls[6:]),
        ["does not increase"],
    ),
    "time repeated": (_lines(lambda ls: ls[:4] + [ls[3]] + ls[4:]), ["does not increase"]),
    "unknown sensor": (_set_cell(2, 1, "left_thigh"), [":3:", "'left_thigh' is not in the rig"]),
    "not text": (lambda t: t[:200] + "\udcff" + t[200:], ["not UTF-8 text"]),
    "NUL byte": (_set_cell(3, 7, "0.\0"), [":4:", "gyr_z: expected a number, got '0.\\x00'"]),
    "endless line": (
        lambda t: t + "1" * 200_000 + "\n",
        ["not CSV", "field larger than field limit"],
    ),
    "header only": (lambda t: t.splitlines()[0] + "\n", ["no samples"]),
    "quote opening the header, never closed": (
        lambda t: '"' + t,
        [":1:", 'a quote (") opens a cell that runs on to line'],
    ),
    "quote opening the header, closed rows later": (
        lambda t: '"' + _set_cell(6, 1, 'right_thigh"')(t),
        [":1:", 'a quote (") opens a cell that runs on to line 7'],
    ),
    "quote in a sample, closed rows later": (
        _lines(lambda ls: ls[:3] + ['"' + ls[3]] + ls[4:8] + [ls[8] + '"'] + ls[9:]),
        [":4:", 'a quote (") opens a cell that runs on to line 9'],
    ),
    "long unknown sensor name": (
        _set_cell(2, 1, "x" * 500),
        [":3:", "'" + "x" * 60 + "…' is not in the rig"],
    ),
    "underscore in a number": (
        _set_cell(3, 2, "1_0"),
        [":4:", "acc_x: expected a number, got '1_0'"],
    ),
    "non-ASCII digits": (_set_cell(3, 2, "\uff11"), [":4:", "acc_x: expected a number"]),
}


@pytest.fixture
def imported(tmp_path, csv_text):
    """A CSV import session directory: ``rig.toml`` and an ``imu.csv`` to spoil."""
    session = tmp_path / "imported"
    session.mkdir()
    (session / "rig.toml").write_text((CONFIG / "sim.toml").read_text())
    (session / "imu.csv").write_text(csv_text)
    return session


def test_the_good_csv_session_exports(imported, tmp_path):
    status, _, err = run("export", imported, "--format", "csv", "--out", tmp_path / "out")
    assert status == 0, err
    assert (tmp_path / "out" / "imu.csv").read_text().startswith(GOOD_HEADER + "\n")


@pytest.mark.parametrize("case", sorted(BAD_CSV))
def test_bad_csv_import_is_one_line_and_leaves_the_session_untouched(case, imported, tmp_path):
    edit, words = BAD_CSV[case]
    spoiled = edit((imported / "imu.csv").read_text())
    (imported / "imu.csv").write_bytes(spoiled.encode("utf-8", "surrogateescape"))
    before = fingerprint(imported)
    status, out, err = run("export", imported, "--format", "csv", "--out", tmp_path / "out")
    assert_one_line_error(status, out, err, str(imported / "imu.csv"), *words)
    assert fingerprint(imported) == before
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["analyze", "--no-charts"],
        ["replay", "--no-mqtt", "--speed", "0"],
        ["export", "--format", "sto"],
    ],
)
def test_every_command_refuses_a_bad_csv_alike(command, imported, tmp_path):
    edit, words = BAD_CSV["time going back"]
    (imported / "imu.csv").write_text(edit((imported / "imu.csv").read_text()))
    before = fingerprint(imported)
    status, out, err = run(command[0], imported, *command[1:])
    assert_one_line_error(status, out, err, *words)
    assert fingerprint(imported) == before


@pytest.mark.parametrize("rate", ["0", "-200", "10000", "nan", "inf", "1e9", '"200"'])
def test_absurd_rig_rates_are_refused(rate, tmp_path, sim_rig_text):
    rig = tmp_path / "rig.toml"
    rig.write_text(sim_rig_text.replace("sample_rate_hz = 200", f"sample_rate_hz = {rate}"))
    status, out, err = run(
        "record", "--rig", rig, "--duration", "1", "--no-mqtt", "--out", tmp_path / "s"
    )
    assert_one_line_error(status, out, err, str(rig), "sample_rate_hz", "a rate 10-1000 Hz")
    assert not (tmp_path / "s").exists()


# (command line, the option the one-line error names); OUT is where nothing may appear
ABSURD_OPTIONS = [
    (["record", "--out", "OUT", "--duration", "0"], "--duration"),
    (["record", "--out", "OUT", "--duration", "-5"], "--duration"),
    (["record", "--out", "OUT", "--duration", "nan"], "--duration"),
    (["record", "--out", "OUT", "--duration", "inf"], "--duration"),
    (["record", "--out", "OUT", "--duration", "ten"], "--duration"),
    (["record", "--out", "OUT", "--min-free-mb", "nan"], "--min-free-mb"),
    (["record", "--out", "OUT", "--warn-free-mb", "-1"], "--warn-free-mb"),
    (["simulate", "--out", "OUT", "--duration", "0.1"], "--duration"),
    (["simulate", "--out", "OUT", "--duration", "nan"], "--duration"),
    (["simulate", "--out", "OUT", "--ir-max", "400"], "--ir-max"),
    (["monitor", "--duration", "-inf"], "--duration"),
    (["dashboard", "--port", "70000"], "--port"),
    (["analyze", "--jobs", "0", "OUT"], "--jobs"),
]


@pytest.mark.parametrize(
    ("args", "option"), ABSURD_OPTIONS, ids=[" ".join(a) for a, _ in ABSURD_OPTIONS]
)
def test_absurd_command_line_values_are_one_line(args, option, tmp_path):
    out = tmp_path / "s"
    status, stdout, err = run(*(out if a == "OUT" else a for a in args))
    assert_one_line_error(status, stdout, err, option, f"see hiprot {args[0]} --help")
    assert not out.exists()


@pytest.mark.parametrize("speed", ["-1", "nan", "inf"])
def test_absurd_replay_speed_leaves_the_session_untouched(speed, imported):
    before = fingerprint(imported)
    status, out, err = run("replay", imported, "--no-mqtt", "--speed", speed)
    assert_one_line_error(status, out, err, "--speed")
    assert fingerprint(imported) == before


@pytest.mark.parametrize("command", ["record", "simulate"])
def test_a_repeat_of_a_session_that_is_not_there_is_refused(command, tmp_path):
    out = tmp_path / "sessions" if command == "record" else tmp_path / "sessions" / "new"
    status, stdout, stderr = run(command, "--repeat-of", "nope", "--out", out)
    assert_one_line_error(status, stdout, stderr, "--repeat-of", "nope")
    assert not list(tmp_path.rglob("session.json"))
