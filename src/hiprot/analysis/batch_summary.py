"""``summary.csv`` of a batch: every analysed session's measures per leg, in one table.

One row per session, leg and measure (:data:`hiprot.columns.SUMMARY_COLUMNS`): the count,
mean, sample SD, minimum and maximum of the measure over the session's straight strides (as
the gait summary and the history take them: turning strides are excluded), its repetitions
or its test trials. Measures are the keys of :mod:`hiprot.columns`; a measure without any
value in a leg (no pelvis sensor, angles withheld) has no row.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from hiprot.analysis.formatting import rounded, sample_sd
from hiprot.columns import (
    COUNT,
    HIP_ER_MAX,
    HIP_ER_MAX_GRAVITY,
    HIP_IR_MAX,
    HIP_IR_MAX_GRAVITY,
    HIP_IR_ROM,
    KNEE_FLEXION_MAX,
    KNEE_FLEXION_ROM,
    PELVIC_COMPENSATION,
    SIDES,
    STRIDE_METRICS,
    SUMMARY_COLUMNS,
    WALKING_RENAMES,
    current_names,
)

MEASURES = {
    "strides": STRIDE_METRICS
    + tuple(WALKING_RENAMES[m] for m in STRIDE_METRICS if m in WALKING_RENAMES),
    "reps": (HIP_IR_MAX, HIP_IR_ROM, KNEE_FLEXION_MAX, KNEE_FLEXION_ROM),
    "tests": (
        HIP_IR_MAX,
        HIP_ER_MAX,
        HIP_IR_MAX_GRAVITY,
        HIP_ER_MAX_GRAVITY,
        PELVIC_COMPENSATION,
    ),
}  # report listing → the measure keys summarised from its rows


def _rows_of(report: dict, source: str, side: str) -> list[dict]:
    if source == "strides":
        return [s for s in (report["strides"] or {}).get(side, []) if not s.get("turning")]
    return [r for r in report[source] if r.get("side") == side]


def summary_rows(results: list[tuple[str, dict]]) -> list[dict]:
    """The rows of ``summary.csv`` for ``(results directory, report)`` pairs, in that order."""
    out = []
    for where, report in results:
        report = current_names(report)
        info = report["session"]
        for side in SIDES:
            for source, measures in MEASURES.items():
                rows = _rows_of(report, source, side)
                for measure in measures:
                    values = np.array(
                        [r[measure] for r in rows if r.get(measure) is not None], float
                    )
                    if not len(values):
                        continue
                    stats = rounded(
                        {
                            "mean": values.mean(),
                            "sd": sample_sd(values),
                            "min": values.min(),
                            "max": values.max(),
                        },
                        measure,
                    )
                    out.append(
                        {
                            "session": info["name"],
                            "results": where,
                            "activity": info["activity"],
                            "side": side,
                            "source": source,
                            "measure": measure,
                            COUNT: len(values),
                            **stats,
                        }
                    )
    return out


def write_summary_csv(path: Path, rows: list[dict]) -> None:
    """Write the rows of :func:`summary_rows` (an empty SD: fewer than two values)."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, SUMMARY_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
