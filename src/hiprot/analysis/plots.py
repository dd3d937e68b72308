"""PNG charts for people: every chart has a title, axis labels with units and a legend (a
session chart with nothing to draw says so instead).

Drawn from report content (the dicts of ``report.json``, a comparison, a
history), so any of them can be redrawn later from saved reports. Each function draws
on a :class:`~matplotlib.figure.Figure` of its own and writes one file: no pyplot, so no
GUI backend, no global figure state, and half a second less to start a command.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from hiprot.analysis.envelope import envelope
from hiprot.columns import (
    DETECTABLE_CHANGE,
    HIP_ER_MAX,
    HIP_IR,
    HIP_IR_MAX,
    HIP_IR_ROM,
    PELVIS_OBLIQUITY,
    PELVIS_ROTATION,
    PELVIS_TILT,
    PERCENT,
    SD,
    STANCE,
    TEST_DIRECTIONS,
    VALUE,
    WALKING_RENAMES,
    mean_key,
    sd_key,
    split_column,
    trial_summary_key,
)

COLOURS = {"right": "#d9480f", "left": "#1c7ed6"}
IR_AXIS = "Hip rotation (°)\n+ internal / − external"
DPI = 110
TICK_CHARS = 28  # a bar's label is wrapped at this width, so that neighbours never overlap
SLICES_PER_PIXEL = 4  # a session-long line keeps its envelope in slices finer than a pixel


def _figure(width: float, height: float, rows: int | None = None):
    """A figure of ``width`` × ``height`` inches and its axes (a column of ``rows``, as a
    2-D array, when given)."""
    fig = Figure(figsize=(width, height))
    return fig, fig.subplots(rows, 1, squeeze=False) if rows else fig.subplots()


def _timeline(fig, ax, time_s: np.ndarray, values: np.ndarray, **style) -> None:
    """A session-long line, drawn from the samples the figure's width can show
    (:func:`~hiprot.analysis.envelope.envelope`): the same pixels for a fraction of the work."""
    slices = SLICES_PER_PIXEL * round(fig.get_figwidth() * DPI)
    ax.plot(*envelope(time_s, values, slices), **style)


def _legend(ax, nothing: str, **style) -> None:
    """The legend of what was drawn; on a chart with nothing drawn, ``nothing`` says why in its
    middle instead (matplotlib warns about a legend without labelled artists)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**style)
    else:
        ax.text(0.5, 0.5, nothing, transform=ax.transAxes, ha="center", va="center")


def _finish(fig, ax, path: Path, title: str) -> Path:
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    return path


THIGH_AXIS = "Thigh rotation to the walking direction (°)\n+ internal / − external"


def _hip_names(data):
    """Walking measures under the hip IR names, and what they measure: hip rotation, or the
    thigh's rotation to the walking direction (no pelvis sensor,
    :data:`~hiprot.columns.WALKING_RENAMES`)."""
    text = json.dumps(data)
    if not any(f'"{name}"' in text for name in WALKING_RENAMES.values()):
        return data, "Hip rotation", IR_AXIS
    back = {v: k for k, v in WALKING_RENAMES.items()}

    def renamed(value):
        if isinstance(value, dict):
            return {back.get(k, k): renamed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [renamed(v) for v in value]
        return value

    return renamed(data), "Thigh rotation (to the walking direction, not hip IR)", THIGH_AXIS


def _mid_sentence(title: str) -> str:
    """``title`` inside a sentence: its first letter small, the rest (e.g. "IR") kept."""
    return title[:1].lower() + title[1:]


def pelvis_timeline(time_s: np.ndarray, columns: dict[str, np.ndarray], session: str, path: Path):
    """The pelvis' tilt, obliquity and rotation to the walking direction over the session."""
    fig, ax = _figure(10, 4.2)
    for name, label in (
        (PELVIS_TILT, "tilt (anterior +)"),
        (PELVIS_OBLIQUITY, "obliquity (right side up +)"),
        (PELVIS_ROTATION, "rotation to the walking direction (right side forward +)"),
    ):
        _timeline(fig, ax, time_s, columns[name], lw=1, label=label)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("Time since the start of the session (s)")
    ax.set_ylabel("Pelvis (°), zero standing")
    _legend(ax, "no pelvis angles", fontsize=8, loc="best")
    return _finish(fig, ax, path, f"Pelvis over the session — {session}")


def gait_cycle(summary: dict, path: Path, session: str) -> Path:
    """Hip rotation over the gait cycle (0-100 % from heel strike): mean ± SD per leg, toe off."""
    summary, what, axis = _hip_names(summary)
    fig, ax = _figure(8, 4.8)
    for side, leg in summary["legs"].items():
        curves = leg.get("curves")
        if not curves or mean_key(HIP_IR) not in curves:
            continue
        x, mean, sd = (
            np.array(curves[k], float) for k in (PERCENT, mean_key(HIP_IR), sd_key(HIP_IR))
        )
        colour = COLOURS.get(side, "grey")
        ax.plot(
            x,
            mean,
            color=colour,
            lw=2,
            label=f"{side} leg: mean of {leg['straight_strides']} straight strides",
        )
        ax.fill_between(
            x, mean - sd, mean + sd, color=colour, alpha=0.2, label=f"{side} leg: ± 1 SD"
        )
        if STANCE in leg:
            ax.axvline(
                leg[STANCE]["mean"],
                color=colour,
                ls="--",
                lw=1,
                label=f"{side} toe off ({leg[STANCE]['mean']:.0f} %)",
            )
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Gait cycle (% of the stride, from heel strike)")
    ax.set_ylabel(axis)
    _legend(ax, f"no straight stride with {_mid_sentence(what)}", fontsize=8, loc="best")
    return _finish(
        fig,
        ax,
        path,
        f"{what} during walking — {session}\n(stance left of the toe-off line, swing right)",
    )


def stride_peaks(strides: dict[str, list[dict]], path: Path, session: str) -> Path:
    """Per stride: peak IR and peak ER over time; turning strides drawn hollow."""
    strides, what, axis = _hip_names(strides)
    fig, ax = _figure(9, 5.5)
    for side, rows in strides.items():
        if not rows:
            continue
        colour = COLOURS.get(side, "grey")
        for turning, style in (
            (False, {"color": colour}),
            (True, {"facecolors": "none", "edgecolors": colour}),
        ):
            chosen = [r for r in rows if bool(r["turning"]) == turning]
            if not chosen:
                continue
            t = [r["start_s"] for r in chosen]
            kind = "turning" if turning else "straight"
            ax.scatter(
                t,
                [r[HIP_IR_MAX] for r in chosen],
                marker="^",
                s=22,
                label=f"{side}: peak internal rotation ({kind})",
                **style,
            )
            ax.scatter(
                t,
                [-r[HIP_ER_MAX] for r in chosen],
                marker="v",
                s=22,
                label=f"{side}: peak external rotation ({kind})",
                **style,
            )
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("Time since the start of the session (s)")
    ax.set_ylabel(axis)
    _legend(
        ax,
        f"no stride with {_mid_sentence(what)}",
        fontsize=7,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.16),
        ncol=2,
    )
    return _finish(fig, ax, path, f"Peaks of {_mid_sentence(what)}, every stride — {session}")


def rep_bars(reps: list[dict], path: Path, session: str) -> Path:
    """One bar per repetition: IR range in the leg's colour, sets told apart by hatching, one
    panel per leg; peak IR marked."""
    sides = sorted({r["side"] for r in reps}) or ["right"]
    fig, axes = _figure(9, 3.2 * len(sides), rows=len(sides))
    hatches = ("", "//", "..", "xx", "\\\\", "++")
    for ax, side in zip(axes[:, 0], sides):
        mine = [r for r in reps if r["side"] == side]
        for number in sorted({r["set"] for r in mine}):
            chosen = [r for r in mine if r["set"] == number]
            ax.bar(
                [r["index"] for r in chosen],
                [r[HIP_IR_ROM] for r in chosen],
                color=COLOURS.get(side, "grey"),
                hatch=hatches[(number - 1) % len(hatches)],
                edgecolor="white",
                alpha=0.8,
                label=f"set {number}: range of internal rotation",
            )
        if mine:
            ax.plot(
                [r["index"] for r in mine],
                [r[HIP_IR_MAX] for r in mine],
                "k_",
                ms=14,
                mew=2,
                label="peak internal rotation",
            )
        ax.set_xlabel("Repetition")
        ax.set_ylabel("Hip internal rotation (°)")
        ax.legend(fontsize=8, loc="lower right")
        exercise = mine[0]["exercise"] if mine else ""
        ax.set_title(f"{side} leg: {len(mine)} repetitions ({exercise})")
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle(f"Exercise repetitions — {session}")
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    return path


def trial_bars(trials: list[dict], summary: dict, path: Path, session: str) -> Path:
    """Peak IR and peak ER of each trial per leg, best trial and mean ± SD."""
    sides = sorted({t["side"] for t in trials})
    fig, ax = _figure(8, 4.8)
    fig.set_size_inches(8, 5.4)
    width = 0.8 / max(1, max(len([t for t in trials if t["side"] == s]) for s in sides))
    labelled: set[str] = set()

    def once(label: str) -> str | None:
        """The legend label for the first artist of its kind drawn (a trial without a peak
        IR draws nothing in the IR group: its leg is labelled by its first ER bar)."""
        if label in labelled:
            return None
        labelled.add(label)
        return label

    for group, (name, key) in enumerate(TEST_DIRECTIONS.items()):
        for k, side in enumerate(sides):
            mine = [t for t in trials if t["side"] == side]
            base = group * (len(sides) + 0.5) + k
            for j, t in enumerate(mine):
                if t[key] is None:
                    continue
                ax.bar(
                    base + (j - (len(mine) - 1) / 2) * width,
                    t[key],
                    width * 0.9,
                    color=COLOURS.get(side, "grey"),
                    alpha=0.45 + 0.5 * j / max(1, len(mine)),
                    label=once(f"{side} leg, trials 1-{len(mine)}"),
                )
            leg = summary.get(side, {})
            if leg.get(trial_summary_key(name, "best")) is not None:
                ax.plot(
                    [base - 0.42, base + 0.42],
                    [leg[trial_summary_key(name, "best")]] * 2,
                    color="black",
                    lw=1.5,
                    label=once("best trial"),
                )
                sd = leg.get(trial_summary_key(name, "sd")) or 0.0
                ax.errorbar(
                    base,
                    leg[trial_summary_key(name, "mean")],
                    yerr=sd,
                    fmt="o",
                    color="black",
                    ms=4,
                    capsize=4,
                    label=once("mean ± SD of trials"),
                )
    ax.set_xticks(
        [(len(sides) - 1) / 2, len(sides) + 0.5 + (len(sides) - 1) / 2],
        ["internal rotation (foot out)", "external rotation (foot in)"],
    )
    ax.set_ylabel("Peak hip rotation (°)")
    _legend(
        ax,
        "no trial with a peak",
        fontsize=8,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.1),
        ncol=4,
    )
    test = trials[0]["test"] if trials else "rotation test"
    return _finish(fig, ax, path, f"Hip rotation test ({test}) — {session}")


def hip_ir_timeline(
    time_s: np.ndarray, columns: dict[str, np.ndarray], report: dict, path: Path
) -> Path:
    """Hip rotation of each leg over the session, with the repetitions and trials found shaded."""
    fig, ax = _figure(10, 4.2)
    for name, values in columns.items():
        side, angle = split_column(name)
        if angle == HIP_IR:
            _timeline(
                fig,
                ax,
                time_s,
                values,
                color=COLOURS.get(side, "grey"),
                lw=1,
                label=f"{side} hip rotation",
            )
    shaded = [
        (r["start_s"], r["end_s"], COLOURS.get(r["side"], "grey"), "repetition")
        for r in report["reps"]
    ]
    shaded += [
        (t["start_s"], t["end_s"], COLOURS.get(t["side"], "grey"), "test trial")
        for t in report["tests"]
    ]
    for k, (a, b, colour, what) in enumerate(shaded):
        ax.axvspan(
            a, b, color=colour, alpha=0.12, label=f"{what} found (shaded)" if k == 0 else None
        )
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("Time since the start of the session (s)")
    ax.set_ylabel(IR_AXIS)
    _legend(ax, "no hip rotation", fontsize=8, loc="best")
    info = report["session"]
    return _finish(
        fig, ax, path, f"Hip rotation over the session — {info['name']} ({info['activity']})"
    )


def comparison(result: dict, path: Path) -> Path:
    """Before/after bars per leg and measure (mean ± SD), the change, its threshold and verdict."""
    rows = result["changes"]
    fig, ax = _figure(max(6, 2.2 * len(rows)), 4.8)
    x = np.arange(len(rows))
    for offset, when, alpha in ((-0.2, "before", 0.45), (0.2, "after", 0.9)):
        values = [r[when][VALUE] for r in rows]
        errors = [r[when].get(SD) or 0.0 for r in rows]
        ax.bar(
            x + offset,
            values,
            0.38,
            yerr=errors,
            capsize=4,
            alpha=alpha,
            color=[COLOURS.get(r["side"], "grey") for r in rows],
            label=f"{when}: {result[when]['name']} (mean ± SD)",
        )
    for k, r in enumerate(rows):
        top = np.nanmax(
            [r[w][VALUE] + np.nan_to_num(r[w].get(SD) or 0.0) for w in ("before", "after")]
        )
        ax.annotate(
            f"{r['change_deg']:+.1f}° vs {r[DETECTABLE_CHANGE]:.1f}°\n{r['verdict']}",
            (k, top),
            textcoords="offset points",
            xytext=(0, 10),
            ha="center",
            fontsize=8,
        )
    names = [textwrap.fill(f"{r['side']} {r['measure']}", TICK_CHARS) for r in rows]
    ax.set_xticks(x, names, fontsize=8)
    ax.set_ylabel("Hip rotation (°)")
    ax.margins(y=0.25)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2)  # off the bars
    return _finish(
        fig, ax, path, f"Before and after: {result['before']['name']} → {result['after']['name']}"
    )


# Normal ranges drawn on history charts: (kind of session, measure key) → (mean, label).
# Kouyoumdjian et al., Orthop Traumatol Surg Res 98:17-23 (2012), 120 adults 20-60 years,
# photographic method: seated IR 37.9°, ER 40.6° (78.5° arc less IR), prone IR 35.2°, ER 41.8°.
# The abstract gives means only, so the line is a mean, not a band.
NORMS = {
    ("seated-test", HIP_IR_MAX): 37.9,
    ("seated-test", HIP_ER_MAX): 40.6,
    ("prone-test", HIP_IR_MAX): 35.2,
    ("prone-test", HIP_ER_MAX): 41.8,
}
NORM_SOURCE = "adult mean, Kouyoumdjian 2012"


def history(result: dict, path: Path) -> Path:
    """One panel per kind of session, reference and measure: each leg's session means (± SD)
    on a date axis, the trend line and the adult norm for the tests."""
    from datetime import datetime

    series = result["series"]
    panels = sorted(
        {(s["activity"], s["reference"], s["key"], s["measure"]) for s in series}, key=str
    )
    if not panels:
        panels = [(None, None, None, "no measures")]
    fig, axes = _figure(9, 3.2 * len(panels), rows=len(panels))
    for ax, (kind, reference, key, measure) in zip(axes[:, 0], panels):
        for s in (
            s for s in series if (s["activity"], s["reference"], s["key"]) == (kind, reference, key)
        ):
            dated = [p for p in s["points"] if p["start_utc"]]
            when = [datetime.fromisoformat(p["start_utc"]) for p in dated]
            colour = COLOURS.get(s["side"], "grey")
            who = f"{s['subject']} " if s["subject"] else ""
            ax.errorbar(
                when,
                [p[VALUE] for p in dated],
                yerr=[p.get(SD) or 0.0 for p in dated],
                fmt="o",
                color=colour,
                capsize=3,
                label=f"{who}{s['side']} leg",
            )
            trend = s.get("trend")
            if trend and len(when) >= 2:
                days = np.array([(w - when[0]).total_seconds() / 86400 / 7 for w in when])
                values = np.array([p[VALUE] for p in dated])
                fit = trend["slope_deg_per_week"] * (days - days.mean()) + values.mean()
                lo, hi = trend["ci90_deg_per_week"]
                ax.plot(
                    when,
                    fit,
                    "-",
                    color=colour,
                    alpha=0.6,
                    label=f"{s['side']} trend {trend['slope_deg_per_week']:+.2f}°/week "
                    f"(90 %: {lo:+.2f} to {hi:+.2f})",
                )
        norm = NORMS.get((kind, key))
        if norm is not None:
            ax.axhline(norm, color="green", ls="--", lw=1, label=f"{NORM_SOURCE}: {norm:.1f}°")
        ax.set_title(f"{measure} — {kind or ''}, {reference or 'reference unknown'}", fontsize=9)
        ax.set_ylabel("Hip rotation (°)")
        ax.set_xlabel("Date")
        ax.legend(fontsize=7, loc="best")
        ax.grid(True, alpha=0.3)
    fig.autofmt_xdate()
    fig.suptitle("Hip rotation over the weeks (session mean ± SD)")
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    return path
