"""Charts people read: labels that do not overlap, names kept as written."""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from hiprot.analysis import plots
from hiprot.columns import HIP_ER_MAX, HIP_IR_MAX, WALKING_RENAMES

MEASURE = "thigh rotation range per stride, to the walking direction (not hip IR)"


def _drawn(monkeypatch) -> list[Figure]:
    """The figures the plotting functions save, kept for inspection."""
    saved: list[Figure] = []
    original = Figure.savefig

    def keep(self, *args, **kwargs):
        saved.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    return saved


def _change(side: str, measure: str) -> dict:
    values = {"value_deg": 11.7, "sd_deg": 0.9, "n": 37}
    return {
        "side": side,
        "measure": measure,
        "before": values,
        "after": values | {"value_deg": 11.5},
        "change_deg": -0.2,
        "detectable_change_deg": 5.0,
        "verdict": "within measurement error",
    }


def test_a_comparisons_bar_labels_neither_overlap_nor_leave_the_chart(monkeypatch, tmp_path):
    saved = _drawn(monkeypatch)
    result = {
        "before": {"name": "monday"},
        "after": {"name": "friday"},
        "changes": [
            _change("right", MEASURE),
            _change("right", MEASURE.replace("per stride", "in stance")),
        ],
    }
    plots.comparison(result, tmp_path / "compare.png")
    (fig,) = saved
    renderer = FigureCanvasAgg(fig).get_renderer()  # as the PNG was drawn
    ax = fig.axes[0]
    boxes = [label.get_window_extent(renderer) for label in ax.get_xticklabels()]
    assert len(boxes) == 2
    assert boxes[0].x1 < boxes[1].x0  # side by side, not over each other
    width = fig.bbox.width
    assert all(0 <= box.x0 and box.x1 <= width for box in boxes)
    legend = ax.get_legend().get_window_extent(renderer)
    assert legend.y1 < min(box.y0 for box in boxes) or legend.x1 < boxes[0].x0  # off the bars


def test_a_stride_chart_without_a_pelvis_sensor_keeps_ir_in_capitals(monkeypatch, tmp_path):
    saved = _drawn(monkeypatch)
    stride = {"start_s": 1.0, "turning": False}
    stride |= {WALKING_RENAMES[HIP_IR_MAX]: 5.0, WALKING_RENAMES[HIP_ER_MAX]: 6.0}
    plots.stride_peaks({"right": [stride]}, tmp_path / "strides.png", "walk")
    title = saved[0].axes[0].get_title()
    assert "not hip IR" in title and title.startswith("Peaks of thigh rotation")
