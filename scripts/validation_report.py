"""Validation statistics of the seated/prone hip rotation test against a digital inclinometer.

Usage::

    python scripts/validation_report.py --inclinometer readings.csv [--device DIR_OR_CSV]

``readings.csv`` is the template of docs/validation.md, one row per trial::

    subject,tester,strapping,session,side,direction,trial,inclinometer_deg[,device_deg]

``--device`` gives the device's figures: a directory of analysed sessions (each
``report.json``'s ``tests``, joined on the session's directory name, side and trial number;
``direction`` ``ir`` takes ``hip_ir_max_deg``, ``er`` takes ``hip_er_max_deg``), or a CSV
``session,side,direction,trial,device_deg``. Without ``--device`` the sheet's own
``device_deg`` column is used.

The trials of one occasion (subject, tester, strapping, side, direction) are averaged: the
mean of the trials is the occasion's score (a choice of this kit, stated in
docs/validation.md, not taken from a paper). Printed per direction:

- **concurrent validity** (strapping 1 of each tester): device − inclinometer, Bland &
  Altman (1986) bias and 95 % limits of agreement (bias ± 1.96 SD of the differences), and
  ICC(2,1) with its 95 % CI (Shrout & Fleiss 1979, two-way random effects, single measure,
  absolute agreement; CI by their F-based approximation, as McGraw & Wong 1996 give it);
- **test–retest after re-strapping** (the same tester, strapping 1 against 2), for the
  device and the inclinometer: ICC(2,1) with CI, SEM = √(MS error of the two-way ANOVA)
  (Weir 2005), MDC95 = 1.96·√2·SEM (Weir 2005), Bland–Altman bias and limits;
- **between testers** (strapping 1 of two testers), the same figures.

ICC values are read with Koo & Li (2016): < 0.5 poor, 0.5–0.75 moderate, 0.75–0.9 good,
> 0.9 excellent (judged on the 95 % CI, not the point estimate).

Bad input (a missing column, a number that is not one, a row the device has no figure for):
one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

READINGS_COLUMNS = (
    "subject",
    "tester",
    "strapping",
    "session",
    "side",
    "direction",
    "trial",
    "inclinometer_deg",
)
DEVICE_COLUMNS = ("session", "side", "direction", "trial", "device_deg")
DIRECTIONS = {"ir": "hip_ir_max_deg", "er": "hip_er_max_deg"}
SIDES = ("left", "right")
Z95 = 1.959963984540054  # the 97.5 % point of the standard normal (scipy.stats.norm.ppf)
MAX_CSV_BYTES = 50_000_000
KOO_LI = ((0.5, "poor"), (0.75, "moderate"), (0.9, "good"), (math.inf, "excellent"))


class InputError(Exception):
    """Bad input: its message is the one line printed."""


@dataclass(frozen=True)
class Icc:
    """ICC(2,1) with its 95 % CI and the mean squares of the two-way ANOVA."""

    icc: float
    low: float
    high: float
    ms_rows: float  # between subjects
    ms_columns: float  # between raters / occasions / methods
    ms_error: float
    n: int
    k: int

    @property
    def sem(self) -> float:
        """SEM = √MS_error (Weir 2005)."""
        return math.sqrt(self.ms_error)

    @property
    def mdc95(self) -> float:
        """MDC95 = 1.96·√2·SEM (Weir 2005)."""
        return Z95 * math.sqrt(2) * self.sem


def icc_2_1(table: np.ndarray, alpha: float = 0.05) -> Icc:
    """ICC(2,1) of an n subjects × k raters table (Shrout & Fleiss 1979, case 2, single
    measure), from the two-way ANOVA mean squares, with the CI of their eq. for case 2
    (the F-distribution approximation with Satterthwaite's degrees of freedom)."""
    x = np.asarray(table, dtype=float)
    n, k = x.shape
    if n < 2 or k < 2 or not np.all(np.isfinite(x)):
        raise InputError(f"ICC needs at least 2 subjects × 2 raters of numbers, got {n} × {k}")
    grand = x.mean()
    ss_rows = k * np.sum((x.mean(axis=1) - grand) ** 2)
    ss_cols = n * np.sum((x.mean(axis=0) - grand) ** 2)
    ss_error = np.sum((x - grand) ** 2) - ss_rows - ss_cols
    bms, jms = ss_rows / (n - 1), ss_cols / (k - 1)
    ems = ss_error / ((n - 1) * (k - 1))
    icc = (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n)
    fj = jms / ems if ems > 0 else math.inf
    vn = (k - 1) * (n - 1) * (k * icc * fj + n * (1 + (k - 1) * icc) - k * icc) ** 2
    vd = (n - 1) * k**2 * icc**2 * fj**2 + (n * (1 + (k - 1) * icc) - k * icc) ** 2
    v = vn / vd if vd > 0 and math.isfinite(vn) else math.nan
    if math.isfinite(v) and v > 0:
        f_low = stats.f.ppf(1 - alpha / 2, n - 1, v)
        f_high = stats.f.ppf(1 - alpha / 2, v, n - 1)
        low = n * (bms - f_low * ems) / (f_low * (k * jms + (k * n - k - n) * ems) + n * bms)
        high = n * (f_high * bms - ems) / (k * jms + (k * n - k - n) * ems + n * f_high * bms)
    else:
        low = high = math.nan
    return Icc(float(icc), float(low), float(high), float(bms), float(jms), float(ems), n, k)


@dataclass(frozen=True)
class Agreement:
    """Bland & Altman (1986): bias (mean of a − b) with its 95 % CI, and the 95 % limits."""

    bias: float
    bias_low: float
    bias_high: float
    sd: float
    low: float
    high: float
    n: int


def bland_altman(a: np.ndarray, b: np.ndarray) -> Agreement:
    """Bias and 95 % limits of agreement of method ``a`` against ``b`` (paired)."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(d) < 2:
        raise InputError(f"Bland-Altman needs at least 2 pairs, got {len(d)}")
    bias, sd = float(d.mean()), float(d.std(ddof=1))
    half = stats.t.ppf(0.975, len(d) - 1) * sd / math.sqrt(len(d))
    half = float(half)
    return Agreement(bias, bias - half, bias + half, sd, bias - Z95 * sd, bias + Z95 * sd, len(d))


def koo_li(icc: Icc) -> str:
    """Koo & Li (2016) reading of the CI's two ends (e.g. ``moderate to good``)."""

    def grade(value: float) -> str:
        return next(name for bound, name in KOO_LI if value < bound)

    if not (math.isfinite(icc.low) and math.isfinite(icc.high)):
        return grade(icc.icc)
    low, high = grade(icc.low), grade(icc.high)
    return low if low == high else f"{low} to {high}"


def _number(value: str, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise InputError(f"{where}: {value!r} is not a finite number")
    return number


def _rows(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    """The rows of a CSV file with at least ``required`` columns."""
    try:
        if not path.is_file():
            raise InputError(f"{path}: not a file")
        if path.stat().st_size > MAX_CSV_BYTES:
            raise InputError(f"{path}: larger than {MAX_CSV_BYTES} bytes; not a readings sheet")
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = [c for c in required if c not in (reader.fieldnames or ())]
            if missing:
                raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read CSV: {exc}") from exc
    if not rows:
        raise InputError(f"{path}: no rows")
    return rows


def _key(row: dict[str, str], where: str) -> tuple[str, str, str, int]:
    """(session, side, direction, trial) of a row, checked."""
    side, direction = (row.get("side") or "").strip(), (row.get("direction") or "").strip()
    if side not in SIDES:
        raise InputError(f"{where}: side {side!r} is not one of {', '.join(SIDES)}")
    if direction not in DIRECTIONS:
        raise InputError(f"{where}: direction {direction!r} is not one of ir, er")
    trial = _number(row.get("trial"), f"{where}: trial")
    if trial != int(trial) or trial < 1:
        raise InputError(f"{where}: trial {row.get('trial')!r} is not a trial number 1, 2, ...")
    return (row.get("session") or "").strip(), side, direction, int(trial)


def device_values(path: Path) -> dict[tuple[str, str, str, int], float]:
    """The device's figure per (session, side, direction, trial)."""
    out = {}
    if path.is_dir():
        reports = sorted(path.rglob("report.json"))
        if not reports:
            raise InputError(f"{path}: no report.json (run hiprot analyze on the sessions first)")
        for report_path in reports:
            try:
                report = json.loads(report_path.read_text())
                name = report["session"]["name"]
                tests = report["tests"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise InputError(f"{report_path}: not a hiprot report ({exc})") from exc
            for trial in tests:
                for direction, measure in DIRECTIONS.items():
                    if trial.get(measure) is not None:
                        key = (name, trial["side"], direction, int(trial["trial"]))
                        out[key] = float(trial[measure])
        return out
    for i, row in enumerate(_rows(path, DEVICE_COLUMNS), start=2):
        where = f"{path}: line {i}"
        out[_key(row, where)] = _number(row["device_deg"], f"{where}: device_deg")
    return out


def occasions(readings: Path, device: Path | None) -> dict[str, dict[tuple, tuple]]:
    """Per direction: (subject, tester, strapping, side) → (device mean, inclinometer mean)
    over the occasion's trials."""
    columns = READINGS_COLUMNS + (() if device is not None else ("device_deg",))
    rows = _rows(readings, columns)
    figures = device_values(device) if device is not None else None
    trials: dict[str, dict[tuple, list[tuple[float, float]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for i, row in enumerate(rows, start=2):
        where = f"{readings}: line {i}"
        key = _key(row, where)
        for column in ("subject", "tester", "strapping"):
            if not (row.get(column) or "").strip():
                raise InputError(f"{where}: {column} is empty")
        if figures is not None:
            if key not in figures:
                raise InputError(
                    f"{where}: the device has no {key[2]} figure for session {key[0]!r}, "
                    f"{key[1]} trial {key[3]}"
                )
            value = figures[key]
        else:
            value = _number(row["device_deg"], f"{where}: device_deg")
        incl = _number(row["inclinometer_deg"], f"{where}: inclinometer_deg")
        occasion = (row["subject"].strip(), row["tester"].strip(), row["strapping"].strip(), key[1])
        trials[key[2]][occasion].append((value, incl))
    return {
        direction: {k: tuple(np.mean(v, axis=0)) for k, v in by.items()}
        for direction, by in trials.items()
    }


def _pairs(
    data: dict[tuple, tuple], method: int, a: tuple[str | None, str], b: tuple[str | None, str]
) -> tuple[np.ndarray, int]:
    """(n × 2 table, subjects) of ``method`` (0 device, 1 inclinometer) on occasion ``a``
    against ``b``, each a (tester, strapping); a tester None means "the same tester". Every
    subject and side that has both occasions gives one row."""
    table, subjects = [], set()
    for (subject, tester, strapping, side), values in sorted(data.items()):
        if strapping != a[1] or a[0] not in (None, tester):
            continue
        other = (subject, b[0] or tester, b[1], side)
        if other in data:
            table.append((values[method], data[other][method]))
            subjects.add(subject)
    return np.array(table).reshape(-1, 2), len(subjects)


def _line(label: str, table: np.ndarray, subjects: int, names: tuple[str, str]) -> str:
    if len(table) < 2:
        return f"  {label}: fewer than 2 pairs, not computed"
    icc, ba = icc_2_1(table), bland_altman(table[:, 0], table[:, 1])
    return (
        f"  {label} (n = {len(table)} pairs, {subjects} subjects):\n"
        f"    ICC(2,1) {icc.icc:.3f} (95 % CI {icc.low:.3f} to {icc.high:.3f}; {koo_li(icc)}), "
        f"SEM {icc.sem:.2f}°, MDC95 {icc.mdc95:.2f}°\n"
        f"    Bland-Altman {names[0]} − {names[1]}: bias {ba.bias:+.2f}° "
        f"(95 % CI {ba.bias_low:+.2f} to {ba.bias_high:+.2f}), "
        f"95 % limits of agreement {ba.low:+.2f} to {ba.high:+.2f}° (SD {ba.sd:.2f}°)"
    )


def report(data: dict[str, dict[tuple, tuple]]) -> list[str]:
    """The printed lines: validity, re-strap test–retest and between testers, per direction."""
    lines = []
    for direction in DIRECTIONS:
        by = data.get(direction)
        if not by:
            continue
        testers = sorted({k[1] for k in by})
        strappings = sorted({k[2] for k in by})
        lines.append(f"hip {direction.upper()} (peak, degrees):")
        first = strappings[0]
        validity = np.array([v for k, v in sorted(by.items()) if k[2] == first]).reshape(-1, 2)
        n_subj = len({k[0] for k in by if k[2] == first})
        lines.append(
            _line(
                f"concurrent validity, strapping {first}",
                validity,
                n_subj,
                ("device", "inclinometer"),
            )
        )
        if len(strappings) >= 2:
            second = strappings[1]
            for method, name in ((0, "device"), (1, "inclinometer")):
                table, n = _pairs(by, method, (None, first), (None, second))
                lines.append(
                    _line(
                        f"test-retest {name}, strapping {first} vs {second}, same tester",
                        table,
                        n,
                        (f"strapping {first}", f"strapping {second}"),
                    )
                )
        if len(testers) >= 2:
            ta, tb = testers[:2]
            for method, name in ((0, "device"), (1, "inclinometer")):
                table, n = _pairs(by, method, (ta, first), (tb, first))
                lines.append(
                    _line(
                        f"between testers {name}, {ta} vs {tb}, strapping {first}",
                        table,
                        n,
                        (ta, tb),
                    )
                )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inclinometer", type=Path, required=True, metavar="CSV")
    parser.add_argument("--device", type=Path, default=None, metavar="DIR_OR_CSV")
    args = parser.parse_args(argv)
    try:
        lines = report(occasions(args.inclinometer, args.device))
    except InputError as exc:
        print(f"validation_report: error: {exc}", file=sys.stderr)
        return 2
    if not lines:
        print("validation_report: error: no occasions to analyse", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
