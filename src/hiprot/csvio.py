"""The CSV import layout for raw samples, and the joint-angle CSV tables.

Raw samples, one row per sample of one sensor::

    time_s,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z,mag_x,mag_y,mag_z

seconds, sensor name as in ``rig.toml``, m/s², rad/s, µT (mag columns empty
when the sensor has none). Joint angles: ``time_s`` then one column per angle
named ``<side>_<angle>_deg``.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
from pathlib import Path

import numpy as np

from hiprot.columns import TIME, current_names, reference_of
from hiprot.errors import RecordingError
from hiprot.files import physical_memory, read_regular
from hiprot.samples import Chunk, ImuSamples
from hiprot.units import STANDARD_GRAVITY

IMU_COLUMNS = (
    TIME, "sensor",
    "acc_x", "acc_y", "acc_z",
    "gyr_x", "gyr_y", "gyr_z",
    "mag_x", "mag_y", "mag_z",
)  # fmt: skip
# a decimal number with optional exponent (NaN and infinity are read, then refused by name)
NUMBER = re.compile(
    r"\s*[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|nan|inf|infinity)\s*",
    re.IGNORECASE | re.ASCII,
)
# A row as hiprot writes it: plain decimal numbers, a sensor name, the magnetometer's three
# numbers or three empty cells. Any other line (quotes, spaces, NaN, a damaged cell) sends the
# file to the line-by-line reader, which names the fault or reads what CSV allows.
_PLAIN = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
PLAIN_ROW = re.compile(rf"{_PLAIN},[^,\"\s]+(?:,{_PLAIN}){{6}}(?:(?:,{_PLAIN}){{3}}|,,,)", re.ASCII)
PLAIN_BLOCK = 100_000  # lines parsed at once: bounds the text and arrays held
NUMERIC = (0, 2, 3, 4, 5, 6, 7)  # time, acceleration, rate: the columns every row has
COLUMN_UNITS = {"time": "s", "acc": "m/s²", "gyr": "rad/s", "mag": "µT"}
# Beyond what any supported chip measures (±16 g, ±2000 °/s, the AK09916's ±4912 µT), with a
# quarter to spare: such values are in other units (mg, °/s, nT), not the import layout's.
IMPLAUSIBLE_ABOVE = {
    "acc": 1.25 * 16 * STANDARD_GRAVITY,
    "gyr": 1.25 * math.radians(2000),
    "mag": 1.25 * 4912,
}


def format_imu_rows(samples: Chunk) -> list[tuple[float, str]]:
    """CSV lines (with their time, for interleaving) of every sample in ``samples``."""
    rows = []
    for name, s in samples.items():
        mag = s.mag if s.mag is not None else None
        for i in range(len(s)):
            values = [
                f"{s.time_s[i]:.6f}",
                name,
                *(f"{v:.6g}" for v in s.acc[i]),
                *(f"{v:.6g}" for v in s.gyr[i]),
            ]
            values += [f"{v:.6g}" for v in mag[i]] if mag is not None else ["", "", ""]
            rows.append((s.time_s[i], ",".join(values)))
    return rows


def write_imu_csv(path: Path, samples: Chunk) -> None:
    """Write samples in the import layout, rows interleaved in time order.

    Formatted with one ``%`` operation per sensor rather than per value (same text as
    :func:`format_imu_rows`, a few times faster: a 10-minute 5-sensor session takes seconds).
    """
    times, lines = [], []
    for name, s in samples.items():
        if not len(s):
            continue
        table = np.hstack(
            [s.time_s[:, None], s.acc, s.gyr] + ([s.mag] if s.mag is not None else [])
        )
        row = "%.6f," + name.replace("%", "%%") + ",%.6g" * (table.shape[1] - 1)
        row += "" if s.mag is not None else ",,,"
        lines += ("\n".join([row] * len(s)) % tuple(table.ravel().tolist())).split("\n")
        times.append(s.time_s)
    order = np.argsort(np.concatenate(times), kind="stable") if times else np.empty(0, int)
    with open(path, "w", newline="") as f:
        f.write(",".join(IMU_COLUMNS) + "\n")
        f.writelines(lines[i] + "\n" for i in order.tolist())


def read_imu_csv(path: Path, sensors: tuple[str, ...] | None = None) -> Chunk:
    """Read the import layout; refuse wrong columns or units, non-numbers, values no supported
    chip measures and time not increasing.

    ``sensors`` (names from the rig) makes unknown sensor names an error.
    """
    try:  # a spreadsheet may start with a BOM; the rows' Python floats take ~8x the text
        text = read_regular(Path(path), physical_memory() // 8).decode("utf-8-sig")
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise RecordingError(
            f"{path}: not UTF-8 text (byte {exc.start}); expected the CSV import layout"
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        _check_one_line(path, 1, reader.line_num, header or [])
        _check_header(path, header)
        found = _plain_rows(text, sensors)
        rows, has_mag = found if found is not None else _read_rows(path, reader, sensors)
    except csv.Error as exc:
        raise RecordingError(f"{path}:{reader.line_num}: not CSV: {exc}") from exc
    if not rows:
        raise RecordingError(f"{path}: no samples")
    chunk = {}
    for name, values in rows.items():
        a = np.asarray(values, float)
        if np.any(np.diff(a[:, 0]) <= 0):
            bad = int(np.argmax(np.diff(a[:, 0]) <= 0)) + 1
            raise RecordingError(
                f"{path}: time of sensor {name!r} does not increase at its sample {bad} "
                f"({a[bad - 1, 0]} then {a[bad, 0]} s)"
            )
        chunk[name] = ImuSamples(
            a[:, 0], a[:, 1:4], a[:, 4:7], a[:, 7:10] if has_mag[name] else None
        )
    return chunk


def _check_header(path: Path, header: list[str] | None) -> None:
    """The header must be exactly :data:`IMU_COLUMNS`; a column named with a unit is refused
    with the unit the layout wants."""
    got = tuple(h.strip() for h in header) if header is not None else ()
    if got == IMU_COLUMNS:
        return
    shown = _shown(",".join(got))
    for expected, column in zip(IMU_COLUMNS, got):
        quantity = expected.split("_")[0]
        named = "time" if quantity == "time" else expected  # "time_ms", "gyr_x_deg_s", "acc_x[g]"
        if column != expected and column.startswith(named) and quantity in COLUMN_UNITS:
            raise RecordingError(
                f"{path}: column {_shown(column)}: the CSV import layout has {expected!r} in "
                f"{COLUMN_UNITS[quantity]} only; convert the values and name the column {expected!r}"
            )
    raise RecordingError(f"{path}: expected the header {','.join(IMU_COLUMNS)}, got {shown}")


def _check_one_line(path: Path, first: int, last: int, cells: list[str]) -> None:
    """A quote that opens a cell and closes lines later (or never) is refused as such, rather
    than read as one cell holding the lines after it."""
    if last > first or any("\n" in c or "\r" in c for c in cells):
        raise RecordingError(
            f'{path}:{first}: a quote (") opens a cell that runs on to line {last}; '
            "the CSV import layout has one row per line"
        )


def _shown(text: str, limit: int = 60) -> str:
    """``text`` quoted for a one-line message (line breaks escaped), cut after ``limit``
    characters so that a damaged file is never dumped into the message."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _plain_rows(text: str, sensors: tuple[str, ...] | None):
    """The rows of a file in which every line is a plain row (:data:`PLAIN_ROW`: numbers as
    hiprot and most tools write them, nothing quoted) and every value passes the checks, read
    by numpy a block at a time — as :func:`_read_rows` reads them, several times faster. None
    where any line or value is not so: :func:`_read_rows` then finds and names the fault."""
    lines = io.StringIO(text, newline="")
    lines.readline()  # the header, checked already
    parts: dict[str, list[np.ndarray]] = {}
    has_mag: dict[str, bool] = {}
    while block := [line.rstrip("\r\n") for line in itertools.islice(lines, PLAIN_BLOCK)]:
        block = [line for line in block if line]
        if not all(map(PLAIN_ROW.fullmatch, block)):
            return None
        try:
            found = _plain_block(block)
        except ValueError:  # numpy refused what the pattern let through: the line reader decides
            return None
        for name, (rows, mag) in found.items():
            if sensors is not None and name not in sensors:
                return None
            if mag is None or has_mag.setdefault(name, mag) != mag:
                return None  # magnetometer values on some rows only
            if not _plain_values_ok(rows):
                return None
            parts.setdefault(name, []).append(rows)
    return {name: np.concatenate(p) for name, p in parts.items()}, has_mag


def _plain_block(block: list[str]) -> dict[str, tuple[np.ndarray, bool | None]]:
    """Per sensor (in order of appearance), the values of its rows in ``block`` (plain rows)
    and whether they carry magnetometer values (None: some do, some not)."""
    if not block:
        return {}
    table = np.loadtxt(block, delimiter=",", usecols=NUMERIC, ndmin=2)
    names = np.array([line.split(",", 2)[1] for line in block], dtype=object)  # as written
    mag = np.array([not line.endswith(",,,") for line in block])
    if mag.any():
        values = np.full((len(block), 3), np.nan)
        rows = list(itertools.compress(block, mag))
        values[mag] = np.loadtxt(rows, delimiter=",", usecols=(8, 9, 10), ndmin=2)
        table = np.hstack([table, values])
    out = {}
    for name in dict.fromkeys(names):
        mine = names == name
        some, every = bool(mag[mine].any()), bool(mag[mine].all())
        out[name] = (table[mine, : 10 if every else 7], every if some == every else None)
    return out


def _plain_values_ok(rows: np.ndarray) -> bool:
    """Every value finite and within what a supported chip measures (:data:`IMPLAUSIBLE_ABOVE`)."""
    limits = [IMPLAUSIBLE_ABOVE[c.split("_")[0]] for c in IMU_COLUMNS[2 : 2 + rows.shape[1] - 1]]
    return bool(np.all(np.isfinite(rows)) and np.all(np.abs(rows[:, 1:]) <= limits))


def _read_rows(path: Path, reader, sensors: tuple[str, ...] | None):
    """Rows per sensor as float lists (time, acc, gyr[, mag]) and whether each sensor has mag."""
    rows: dict[str, list[list[float]]] = {}
    has_mag: dict[str, bool] = {}
    line_no = reader.line_num
    for row in reader:
        first, line_no = line_no + 1, reader.line_num
        _check_one_line(path, first, line_no, row)
        if not row:
            continue
        if len(row) != len(IMU_COLUMNS):
            raise RecordingError(
                f"{path}:{line_no}: expected {len(IMU_COLUMNS)} columns, got {len(row)}"
            )
        name = row[1]
        if sensors is not None and name not in sensors:
            raise RecordingError(
                f"{path}:{line_no}: sensor {_shown(name)} is not in the rig ({', '.join(sensors)})"
            )
        has_cells = any(c.strip() for c in row[8:11])
        values = [_number(path, line_no, i, row[i]) for i in [0, *range(2, 11 if has_cells else 8)]]
        values, mag = values[:7], (values[7:] or None)
        if not all(math.isfinite(v) for v in values + (mag or [])):
            raise RecordingError(f"{path}:{line_no}: NaN or infinite value")
        _check_plausible(path, line_no, values[1:] + (mag or []))
        if has_mag.setdefault(name, mag is not None) != (mag is not None):
            raise RecordingError(
                f"{path}:{line_no}: sensor {_shown(name)} has magnetometer values on some rows only"
            )
        rows.setdefault(name, []).append(values + (mag or []))
    return rows, has_mag


def _number(path: Path, line_no: int, column: int, cell: str) -> float:
    """A decimal number as CSV writers write it; Python's ``float`` also takes ``1_0`` (ten)
    and non-ASCII digits, which no CSV tool means as numbers."""
    if not NUMBER.fullmatch(cell):
        raise RecordingError(
            f"{path}:{line_no}: {IMU_COLUMNS[column]}: expected a number, got {_shown(cell)}"
        )
    return float(cell)


def _check_plausible(path: Path, line_no: int, values: list[float]) -> None:
    for column, value in zip(IMU_COLUMNS[2:], values):
        quantity = column.split("_")[0]
        if abs(value) > IMPLAUSIBLE_ABOVE[quantity]:
            raise RecordingError(
                f"{path}:{line_no}: {column} = {value:g} is beyond what any supported chip measures; "
                f"the CSV import layout wants {COLUMN_UNITS[quantity]}"
            )


ROWS_PER_WRITE = 20_000  # bounds the text and Python floats held at once (a few MB)


def write_rows(f, table: np.ndarray, row: str) -> None:
    """``table``'s rows into the open text file ``f``, each ``row % tuple(values)`` and a newline:
    the text of ``numpy.savetxt(f, table, fmt=row)``, formatted with one ``%`` operation per
    block of rows rather than per row (several times faster for long sessions)."""
    for start in range(0, len(table), ROWS_PER_WRITE):
        block = table[start : start + ROWS_PER_WRITE]
        f.write("\n".join([row] * len(block)) % tuple(block.ravel().tolist()) + "\n")


def write_angles_csv(path: Path, time_s: np.ndarray, columns: dict[str, np.ndarray]) -> None:
    """Write a joint-angle table: ``time_s`` then the given ``*_deg`` columns."""
    names = list(columns)
    table = np.column_stack([time_s] + [columns[n] for n in names])
    with open(path, "w") as f:
        f.write(",".join([TIME] + names) + "\n")
        write_rows(f, table, ",".join(["%.4f"] * table.shape[1]))


def read_angles_csv(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Read a joint-angle table written by :func:`write_angles_csv` (of this version or an
    earlier one: columns since renamed get their current names)."""
    try:
        with open(path) as f:
            header = f.readline().strip().split(",")
        table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    except (OSError, ValueError) as exc:
        raise RecordingError(f"{path}: cannot read angle table: {exc}") from exc
    if header[0] != TIME or table.shape[1] != len(header):
        raise RecordingError(f"{path}: expected {TIME} then angle columns, got {header}")
    names = current_names(header[1:], reference_of(header[1:]))
    return table[:, 0], {name: table[:, i] for i, name in enumerate(names, start=1)}
