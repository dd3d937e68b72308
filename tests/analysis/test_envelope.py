"""A session-long line reduced to what a chart can show: each slice's first, last, lowest and
highest sample of every unbroken stretch, and the gaps that break it."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hiprot.analysis import plots
from hiprot.analysis.envelope import envelope


def _stretches(x, y, columns, span):
    """(slice, values) of each unbroken stretch of finite samples within a slice of ``span``."""
    first, last = span
    column = np.minimum(((x - first) * (columns / (last - first))).astype(int), columns - 1)
    out, previous, broken = [], None, True
    for c, v in zip(column, y):
        if not np.isfinite(v):
            broken = True
            continue
        if broken or c != previous:
            out.append((c, []))
        out[-1][1].append(v)
        previous, broken = c, False
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(st.floats(-90, 90), st.just(float("nan"))), min_size=41, max_size=400),
    st.integers(1, 10),
)
def test_every_stretch_of_every_slice_keeps_its_ends_and_extremes(values, columns):
    y = np.array(values)
    x = np.arange(len(y)) / 200.0
    ex, ey = envelope(x, y, columns)
    assert np.all(np.diff(ex) > 0)  # samples of the line, in their order
    assert np.all(np.isin(ex, x))
    span = x[0], x[-1]
    kept, whole = _stretches(ex, ey, columns, span), _stretches(x, y, columns, span)
    assert len(kept) == len(whole)  # no gap closed, none opened
    for (c, mine), (d, all_) in zip(kept, whole):
        assert c == d
        assert (mine[0], mine[-1], min(mine), max(mine)) == (
            all_[0],
            all_[-1],
            min(all_),
            max(all_),
        )
        assert len(mine) <= 4


def test_a_line_no_longer_than_the_slices_stays_as_given():
    x = np.arange(40.0)
    y = np.sin(x)
    ex, ey = envelope(x, y, columns=10)
    assert np.array_equal(ex, x) and np.array_equal(ey, y)


def test_a_long_timeline_draws_the_chart_width_not_the_sessions_length(tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(plots, "envelope", lambda *a: drawn.append(envelope(*a)) or drawn[-1])
    time_s = np.arange(120_000) / 200.0
    columns = {"right_hip_ir_deg": 5 * np.sin(time_s)}
    report = {"reps": [], "tests": [], "session": {"name": "long", "activity": "walk"}}
    plots.hip_ir_timeline(time_s, columns, report, tmp_path / "hip_ir.png")
    ((x, y),) = drawn
    assert len(x) <= 4 * plots.SLICES_PER_PIXEL * 10 * plots.DPI < len(time_s)
    assert (y.min(), y.max()) == (
        columns["right_hip_ir_deg"].min(),
        columns["right_hip_ir_deg"].max(),
    )
