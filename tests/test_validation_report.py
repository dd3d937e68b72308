"""scripts/validation_report.py against published worked examples, and end to end on files.

- ICC(2,1): Shrout & Fleiss (1979), Table 2 — 6 targets rated by 4 judges; their ANOVA gives
  BMS 11.24, JMS 32.49, EMS 1.02 and ICC(2,1) = 0.29. The 95 % CI 0.019–0.761 is what R's
  ``psych::ICC`` (Revelle) prints for the same table (its ``sf`` example), an independent
  implementation of the same F-based interval.
- Bland–Altman: Bland & Altman (1986), Table 1 — peak expiratory flow by the Wright and the
  mini Wright meter (first readings, 17 subjects): mean difference −2.1 l/min, SD 38.8, limits
  −79.7 to 75.5 (they took bias ± 2 SD; the script takes ± 1.96 SD, Bland & Altman 1999).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest
from hiprot_testing import ROOT

SCRIPT = ROOT / "scripts" / "validation_report.py"

SHROUT_FLEISS = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
)
WRIGHT = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
MINI_WRIGHT = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451]


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("validation_report", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True
    )


def test_icc_2_1_of_shrout_and_fleiss_table(script):
    icc = script.icc_2_1(SHROUT_FLEISS)
    assert (round(icc.ms_rows, 2), round(icc.ms_columns, 2), round(icc.ms_error, 2)) == (
        11.24,
        32.49,
        1.02,
    )
    assert round(icc.icc, 2) == 0.29
    assert (round(icc.low, 3), round(icc.high, 3)) == (0.019, 0.761)
    assert icc.sem == pytest.approx(np.sqrt(icc.ms_error))
    assert icc.mdc95 == pytest.approx(1.96 * np.sqrt(2) * icc.sem, rel=1e-4)
    assert script.koo_li(icc) == "poor to good"


def test_bland_altman_of_the_peak_flow_example(script):
    ba = script.bland_altman(WRIGHT, MINI_WRIGHT)
    assert (round(ba.bias, 1), round(ba.sd, 1)) == (-2.1, 38.8)
    bias, sd = round(ba.bias, 1), round(ba.sd, 1)  # the paper's limits are from these roundings
    assert (round(bias - 2 * sd, 1), round(bias + 2 * sd, 1)) == (-79.7, 75.5)
    assert (ba.low, ba.high) == pytest.approx(
        (ba.bias - 1.96 * ba.sd, ba.bias + 1.96 * ba.sd), 1e-4
    )


def sheet(rows: list[dict], path):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def readings(subjects=10, seed=3):
    """A full protocol: 2 testers × 2 strappings × 3 trials of IR and ER on the right leg."""
    rng = np.random.default_rng(seed)
    rows, device = [], {}
    for s in range(subjects):
        true = {"ir": rng.uniform(20, 45), "er": rng.uniform(25, 50)}
        for tester in ("A", "B"):
            for strapping in (1, 2):
                session = f"P{s:02d}-{tester}{strapping}"
                for trial in (1, 2, 3):
                    for direction in ("ir", "er"):
                        incl = true[direction] + rng.normal(0, 2)
                        value = incl + 1.5 + rng.normal(0, 1.5)
                        device[(session, direction, trial)] = round(value, 2)
                        rows.append(
                            {
                                "subject": f"P{s:02d}",
                                "tester": tester,
                                "strapping": strapping,
                                "session": session,
                                "side": "right",
                                "direction": direction,
                                "trial": trial,
                                "inclinometer_deg": round(incl, 2),
                            }
                        )
    return rows, device


def occasion_means(rows, device, direction, tester=None, strapping="1"):
    """(device, inclinometer) means per subject of one occasion, computed here independently."""
    out = {}
    for r in rows:
        if r["direction"] != direction or str(r["strapping"]) != strapping:
            continue
        if tester is not None and r["tester"] != tester:
            continue
        key = (r["subject"], r["tester"])
        out.setdefault(key, []).append(
            (device[(r["session"], direction, r["trial"])], r["inclinometer_deg"])
        )
    return {k: np.mean(v, axis=0) for k, v in out.items()}


def test_the_report_from_analysed_sessions_and_from_a_device_csv(tmp_path, script):
    rows, device = readings()
    incl = sheet(rows, tmp_path / "readings.csv")
    # analysed sessions: report.json's tests (the fields hiprot analyze writes)
    for session in {r["session"] for r in rows}:
        tests = [
            {
                "test": "seated-ir",
                "side": "right",
                "trial": t,
                "hip_ir_max_deg": device[(session, "ir", t)],
                "hip_er_max_deg": device[(session, "er", t)],
            }
            for t in (1, 2, 3)
        ]
        out = tmp_path / "analysed" / session / "analysis"
        out.mkdir(parents=True)
        (out / "report.json").write_text(json.dumps({"session": {"name": session}, "tests": tests}))
    from_reports = run("--inclinometer", incl, "--device", tmp_path / "analysed")
    assert from_reports.returncode == 0, from_reports.stderr
    device_csv = sheet(
        [
            {"session": s, "side": "right", "direction": d, "trial": t, "device_deg": v}
            for (s, d, t), v in device.items()
        ],
        tmp_path / "device.csv",
    )
    from_csv = run("--inclinometer", incl, "--device", device_csv)
    assert from_csv.returncode == 0 and from_csv.stdout == from_reports.stdout

    text = from_csv.stdout
    pairs = np.array(list(occasion_means(rows, device, "ir").values()))
    d = pairs[:, 0] - pairs[:, 1]
    bias, sd = d.mean(), d.std(ddof=1)
    assert f"bias {bias:+.2f}°" in text
    assert (
        f"limits of agreement {bias - 1.959964 * sd:+.2f} to {bias + 1.959964 * sd:+.2f}°" in text
    )
    icc = script.icc_2_1(pairs)
    assert f"ICC(2,1) {icc.icc:.3f} (95 % CI {icc.low:.3f} to {icc.high:.3f}" in text
    assert "concurrent validity, strapping 1 (n = 20 pairs, 10 subjects)" in text
    for label in (
        "test-retest device, strapping 1 vs 2, same tester (n = 20 pairs",
        "test-retest inclinometer, strapping 1 vs 2",
        "between testers device, A vs B, strapping 1 (n = 10 pairs",
    ):
        assert label in text, text
    assert text.count("hip IR") == 1 and text.count("hip ER") == 1
    # the re-strap SEM and MDC95 of the device, from the same table built here
    s1 = occasion_means(rows, device, "ir", strapping="1")
    s2 = occasion_means(rows, device, "ir", strapping="2")
    retest = script.icc_2_1(np.array([[s1[k][0], s2[k][0]] for k in sorted(s1)]))
    assert f"SEM {retest.sem:.2f}°, MDC95 {retest.mdc95:.2f}°" in text


def test_the_device_figures_may_be_typed_into_the_sheet(tmp_path):
    rows, device = readings(subjects=3)
    for r in rows:
        r["device_deg"] = device[(r["session"], r["direction"], r["trial"])]
    result = run("--inclinometer", sheet(rows, tmp_path / "r.csv"))
    assert result.returncode == 0, result.stderr
    assert "n = 6 pairs, 3 subjects" in result.stdout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda rows: [{k: v for k, v in r.items() if k != "tester"} for r in rows],
            "missing column(s) tester",
        ),
        (lambda rows: [{**r, "inclinometer_deg": "12,5"} for r in rows], "'12,5' is not a number"),
        (lambda rows: [{**r, "side": "both"} for r in rows], "side 'both' is not one of"),
        (
            lambda rows: [{**r, "session": "P99"} for r in rows],
            "the device has no ir figure for session 'P99'",
        ),
        (lambda rows: [{**r, "trial": "0"} for r in rows], "is not a trial number"),
        (
            lambda rows: [{**r, "inclinometer_deg": "nan"} for r in rows],
            "'nan' is not a finite number",
        ),
    ],
)
def test_bad_input_is_one_line_and_status_2(tmp_path, change, message):
    rows, device = readings(subjects=2)
    device_csv = sheet(
        [
            {"session": s, "side": "right", "direction": d, "trial": t, "device_deg": v}
            for (s, d, t), v in device.items()
        ],
        tmp_path / "device.csv",
    )
    bad = sheet(change(rows), tmp_path / "bad.csv")
    result = run("--inclinometer", bad, "--device", device_csv)
    assert result.returncode == 2, result.stdout
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_missing_or_unreadable_files_are_one_line_and_status_2(tmp_path):
    for args, message in (
        (["--inclinometer", tmp_path / "none.csv"], "not a file"),
        (["--inclinometer", tmp_path], "not a file"),
    ):
        result = run(*args)
        assert (
            result.returncode == 2 and result.stderr.count("\n") == 1 and message in result.stderr
        )
    (tmp_path / "empty.csv").write_text("")
    empty = run("--inclinometer", tmp_path / "empty.csv")
    assert empty.returncode == 2 and empty.stderr.count("\n") == 1
    rows, _ = readings(subjects=2)
    incl = sheet(rows, tmp_path / "r.csv")
    no_device = run("--inclinometer", incl)  # no --device, no device_deg column
    assert no_device.returncode == 2 and "missing column(s) device_deg" in no_device.stderr
    (tmp_path / "analysed").mkdir()
    no_reports = run("--inclinometer", incl, "--device", tmp_path / "analysed")
    assert no_reports.returncode == 2 and "no report.json" in no_reports.stderr
