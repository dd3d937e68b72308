"""The CSV import reader: any text gives samples true to it or one clear RecordingError."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hiprot.csvio import IMU_COLUMNS, _plain_rows, _read_rows, read_imu_csv, write_imu_csv
from hiprot.errors import RecordingError
from hiprot.samples import ImuSamples

SENSORS = ("right_thigh", "right_shank")
CELL_TEXT = st.sampled_from(
    [
        "",
        "nan",
        "inf",
        "-0",
        "1e3",
        "1_0",
        " 2 ",
        "x",
        '"',
        ",",
        "\n",
        "\r",
        "\0",
        "0.001",
        "-9.81",
        "1e400",
        "\ufeff",
        "\udcff",
    ]
) | st.text(max_size=4)


def _samples(n: int, with_mag: bool, seed: int) -> dict[str, ImuSamples]:
    rng = np.random.default_rng(seed)
    out = {}
    for i, name in enumerate(SENSORS):
        time_s = np.arange(n) * 0.005 + i * 0.001
        out[name] = ImuSamples(
            time_s,
            rng.normal(0, 5, (n, 3)),
            rng.normal(0, 2, (n, 3)),
            rng.normal(0, 40, (n, 3)) if with_mag and i == 0 else None,
        )
    return out


@st.composite
def damaged_csv(draw, tmp_path) -> tuple[str, dict[str, ImuSamples]]:
    """The text of a good import file, then a few lines or cells replaced, moved or cut."""
    samples = _samples(draw(st.integers(1, 12)), draw(st.booleans()), draw(st.integers(0, 99)))
    path = tmp_path / "good.csv"
    write_imu_csv(path, samples)
    lines = path.read_text().splitlines()
    for _ in range(draw(st.integers(0, 4))):
        row = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["cell", "duplicate", "swap", "delete", "cut"]))
        if action == "cell":
            cells = lines[row].split(",")
            cells[draw(st.integers(0, len(cells) - 1))] = draw(CELL_TEXT)
            lines[row] = ",".join(cells)
        elif action == "duplicate":
            lines.insert(row, lines[row])
        elif action == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[row], lines[other] = lines[other], lines[row]
        elif action == "delete" and len(lines) > 1:
            del lines[row]
        else:
            lines[row] = lines[row][: draw(st.integers(0, len(lines[row])))]
    return "\n".join(lines) + "\n", samples


def _parsed_rows(path) -> dict[str, list[list[float]]]:
    """What an accepted file must hold: its data rows (as any CSV parser splits them) per sensor,
    as numbers, in file order."""
    rows: dict[str, list[list[float]]] = {}
    for cells in list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))[
        1:
    ]:
        if cells:
            rows.setdefault(cells[1], []).append(
                [float(c) for c in cells[:1] + cells[2:] if c.strip()]
            )
    return rows


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_damage_gives_the_file_s_own_values_or_a_clear_error(data, tmp_path_factory):
    tmp_path = tmp_path_factory.getbasetemp()
    text, _ = data.draw(damaged_csv(tmp_path))
    path = tmp_path / "damaged.csv"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        chunk = read_imu_csv(path, SENSORS)
    except RecordingError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
        return
    expected = _parsed_rows(path)
    assert set(chunk) == set(expected)
    for name, s in chunk.items():
        assert np.all(np.diff(s.time_s) > 0), "time always increases"
        table = np.hstack(
            [s.time_s[:, None], s.acc, s.gyr] + ([s.mag] if s.mag is not None else [])
        )
        assert np.all(np.isfinite(table)), "no NaN or infinity passes through"
        assert table.tolist() == expected[name], "exactly the values in the file"


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=300))
def test_any_text_gives_samples_or_a_clear_error(text, tmp_path_factory):
    path = tmp_path_factory.getbasetemp() / "any.csv"
    path.write_bytes((",".join(IMU_COLUMNS) + "\n" + text).encode("utf-8", "surrogatepass"))
    try:
        chunk = read_imu_csv(path)
    except RecordingError as exc:
        assert "\n" not in str(exc)
        return
    for s in chunk.values():
        assert np.all(np.diff(s.time_s) > 0) and all(math.isfinite(v) for v in s.acc.ravel())


def test_written_files_read_back_within_the_printed_precision(tmp_path):
    samples = _samples(50, True, 1)
    write_imu_csv(tmp_path / "imu.csv", samples)
    chunk = read_imu_csv(tmp_path / "imu.csv", SENSORS)
    for name, s in samples.items():
        np.testing.assert_allclose(chunk[name].time_s, s.time_s, atol=1e-6)
        np.testing.assert_allclose(chunk[name].gyr, s.gyr, rtol=1e-5, atol=1e-9)
        assert (chunk[name].mag is None) == (s.mag is None)


def _line_reader(text: str) -> tuple[dict, dict]:
    """The rows :func:`hiprot.csvio._read_rows` reads from ``text`` (header included)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    return _read_rows("t.csv", reader, SENSORS)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_fast_reader_reads_what_the_line_reader_reads_or_leaves_the_file_to_it(
    data, tmp_path_factory
):
    text, _ = data.draw(damaged_csv(tmp_path_factory.getbasetemp()))
    if text.split("\n", 1)[0] != ",".join(IMU_COLUMNS):
        return  # read_imu_csv refuses the file at its header, before either reader
    fast = _plain_rows(text, SENSORS)
    if fast is None:
        return
    rows, has_mag = _line_reader(text)  # it accepts every file the fast reader accepts
    assert fast[1] == has_mag and list(fast[0]) == list(rows)
    for name, values in rows.items():
        assert fast[0][name].tolist() == values


def test_a_written_file_takes_the_fast_reader_with_and_without_magnetometer(tmp_path):
    for with_mag in (False, True):
        samples = _samples(300, with_mag, 2)
        write_imu_csv(tmp_path / "imu.csv", samples)
        text = (tmp_path / "imu.csv").read_text()
        fast = _plain_rows(text, SENSORS)
        assert fast is not None
        rows, has_mag = _line_reader(text)
        assert fast[1] == has_mag == {n: with_mag and n == SENSORS[0] for n in SENSORS}
        assert {n: v.tolist() for n, v in fast[0].items()} == rows


def test_a_sensor_name_with_a_trailing_nul_is_refused_as_the_line_reader_refuses_it(tmp_path):
    samples = _samples(5, False, 3)
    write_imu_csv(tmp_path / "imu.csv", samples)
    text = (tmp_path / "imu.csv").read_text().replace(",right_thigh,", ",right_thigh\0,", 1)
    assert _plain_rows(text, SENSORS) is None  # not a sensor of the rig: the line reader says so
    (tmp_path / "imu.csv").write_text(text)
    with pytest.raises(RecordingError, match="not in the rig"):
        read_imu_csv(tmp_path / "imu.csv", SENSORS)
    rows, _ = _plain_rows(text, None)  # without a rig, the name is kept as written
    assert "right_thigh\0" in rows and "right_thigh" in rows
