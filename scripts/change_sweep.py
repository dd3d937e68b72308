"""The change verdict on the simulator (realistic defaults): false alarms, power, trend, speed.

Every session is simulated and analysed in memory as ``hiprot analyze`` does
(:func:`hiprot.analysis.batch.analyse`), then judged by
:func:`hiprot.analysis.compare.compare` and :func:`hiprot.analysis.history.history`.
A new ``session`` number of the same seed is another day of the same person:
modules re-strapped, another sitting posture and effort
(:mod:`hiprot.sim.realism`, between-session SEM of seated IR pinned to 1.95°).

1. Re-strapped, same true IR (seated test, prone test, walk without and with a pelvis
   sensor): share of pairs "within measurement error" on every measure (target ≥ 95 %).
2. Seated IR gains of 10° and 8° (passive range 30° → 40° / 38°): share "probable
   change" (targets ≥ 90 %, ≥ 75 %), mean reported change against the true change of
   the trial peaks (target within 1°), spread of the reported change / √2 against the
   stated SEM (target within 20 %).
3. Eight weekly seated tests, passive IR +1°/week: share of seeds whose 90 % interval
   contains 1°/week (target 85–95 %) and excludes 0 (target ≥ 70 %).
4. ``hiprot analyze --history`` of ten one-minute walks: from scratch, then again with
   every result cached; the ratio (target ≤ 0.1).

``--pelvis`` wears a pelvis sensor in the seated and prone tests too (parts 1-3), whose
pelvis-referenced IR leaves out the pelvis' compensation that a thigh-only rig counts.

    python scripts/change_sweep.py [--seeds 20] [--jobs 2] [--skip 4] [--pelvis]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from hiprot.analysis.batch import analyse
from hiprot.analysis.comparability import angle_between_deg, session_facts
from hiprot.analysis.compare import compare
from hiprot.analysis.history import history
from hiprot.cli.simulate import build_rig
from hiprot.config import load_rig
from hiprot.recording import Session
from hiprot.sim import simulate
from hiprot.sim.session import SCENARIO_ACTIVITY, write_session

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NULL_CASES = {  # name → (scenario, pelvis, duration)
    "seated test": ("seated-ir", False, None),
    "prone test": ("prone-ir", False, None),
    "walk, thigh + shank": ("walk", False, 60.0),
    "walk, + pelvis": ("walk", True, 60.0),
}


def report(scenario, seed, session, pelvis=False, duration=None, ir_max=None, day=0) -> tuple:
    """The report of one simulated session and the true mean of its trial IR peaks."""
    rig = build_rig(
        load_rig(ROOT / "config" / "sim.toml"),
        scenario,
        seed,
        duration,
        "right",
        pelvis,
        ir_max,
        None,
        None,
        session,
    )
    sim = simulate(rig)
    start = START + timedelta(days=day)
    meta = {
        "activity": SCENARIO_ACTIVITY[scenario],
        "complete": True,
        "start_utc": start.isoformat(),
    }
    result = analyse(Session(Path(f"s{seed}-{session}"), rig, meta, sim.samples)).report
    true_ir = [e.time_s for e in sim.events if e.event == "ir_peak"]
    column = next((c for c in sim.truth_deg if c.endswith("hip_ir_deg")), None)
    peaks = np.interp(true_ir, sim.time_s, sim.truth_deg[column]) if true_ir else []
    return result, float(np.mean(peaks)) if len(peaks) else None


def outcome(a: dict, b: dict, key: str | None = None) -> tuple[str, dict | None]:
    """The pair's outcome — "within measurement error" / "probable change" on every (or the
    ``key``) measure, "not comparable: why", or "no result: why" — and the change of ``key``."""
    try:
        result = compare(a, b)
    except Exception as exc:  # noqa: BLE001 - a pair without a verdict is counted, not fatal
        return f"no result: {str(exc).split(':')[0]}", None
    if result["verdict"]:
        return f"not comparable: {'; '.join(result['reasons'])}", None
    changes = [c for c in result["changes"] if key is None or c["key"] == key]
    if not changes:
        return "no result: measure missing", None
    verdicts = {c["verdict"] for c in changes}
    return ("probable change" if "probable change" in verdicts else verdicts.pop()), changes[0]


def strap_move_deg(a: dict, b: dict) -> float | None:
    """The largest move of a module's calibrated segment axes between two sessions."""
    fa, fb = session_facts(None, a), session_facts(None, b)
    moves = [
        angle_between_deg(fa.mountings[n][k], fb.mountings[n][k])
        for n in set(fa.mountings) & set(fb.mountings)
        for k in (0, 1)
    ]
    return max(moves) if moves else None


def null_pair(
    case: str, seed: int, tests_pelvis: bool = False
) -> tuple[str, float | None, float | None]:
    """The outcome, the largest strap move and the largest |change| of a re-strapped pair
    (``tests_pelvis``: the rotation tests with a pelvis sensor)."""
    scenario, pelvis, duration = NULL_CASES[case]
    pelvis = pelvis or (tests_pelvis and scenario != "walk")
    (a, _), (b, _) = (report(scenario, seed, s, pelvis, duration) for s in (1, 2))
    verdict, _ = outcome(a, b)
    try:
        changes = [abs(c["change_deg"]) for c in compare(a, b)["changes"]]
    except Exception:  # noqa: BLE001 - no change to measure
        changes = []
    return verdict, strap_move_deg(a, b), max(changes) if changes else None


def gain_pair(gain: float, seed: int, pelvis: bool = False) -> tuple:
    (a, ta), (b, tb) = (
        report("seated-ir", seed, s, pelvis, ir_max=ir) for s, ir in ((1, 30.0), (2, 30.0 + gain))
    )
    verdict, change = outcome(a, b, "hip_ir_max_deg")
    if change is None:
        return verdict, None, None, None
    return verdict, change["change_deg"], tb - ta, change["sem_deg"]


def weekly(seed: int, pelvis: bool = False) -> dict | None:
    entries = []
    for week in range(8):
        r, _ = report("seated-ir", seed, week + 1, pelvis, ir_max=30.0 + week, day=7 * week)
        entries.append((r, session_facts(None, r)))
    series = [s for s in history(entries)["series"] if s["key"] == "hip_ir_max_deg"]
    return series[0]["trend"] if series else None


def _pct(flags) -> str:
    flags = list(flags)
    return f"{100 * np.mean(flags):5.1f} % of {len(flags)}" if flags else "  -  "


def _reasons(outcome: str) -> str:
    """An outcome with its reasons once each and without session names."""
    head, _, reasons = outcome.partition(": ")
    if not reasons:
        return outcome
    return f"{head}: " + "; ".join(
        sorted({re.sub(r"^s\d+-\d+: ", "", r) for r in reasons.split("; ")})
    )


def _counts(outcomes) -> str:
    counts: dict[str, int] = {}
    for o in (_reasons(o) for o in outcomes):
        counts[o] = counts.get(o, 0) + 1
    return "; ".join(f"{n} {o}" for o, n in sorted(counts.items(), key=lambda x: -x[1]))


def part_null(pool, seeds, pelvis: bool) -> None:
    print("1. re-strapped, same true IR: share within measurement error (of pairs with a verdict)")
    for case in NULL_CASES:
        results = list(pool.map(null_pair, [case] * len(seeds), seeds, [pelvis] * len(seeds)))
        rows = [r[0] for r in results]
        judged = [r for r in rows if r in ("within measurement error", "probable change")]
        print(
            f"   {case:22} {_pct(r == 'within measurement error' for r in judged)} "
            f"(target ≥ 95 %); all {len(rows)} pairs: {_counts(rows)}"
        )
        moved = np.array([(m, c) for _, m, c in results if m is not None and c is not None])
        if len(moved) > 2:
            far = moved[:, 0] > np.median(moved[:, 0])
            print(
                f"     strap moved {moved[:, 0].min():.0f}-{moved[:, 0].max():.0f}° "
                f"(median {np.median(moved[:, 0]):.0f}°); largest |change| "
                f"{moved[far, 1].mean():.2f}° above the median move, {moved[~far, 1].mean():.2f}° "
                f"below; correlation {np.corrcoef(moved[:, 0], moved[:, 1])[0, 1]:+.2f}"
            )


def part_gain(pool, seeds, pelvis: bool) -> None:
    print("2. seated IR gain, re-strapped (passive 30° → 30° + gain)")
    for gain, target in ((10.0, 90), (8.0, 75)):
        rows = list(pool.map(gain_pair, [gain] * len(seeds), seeds, [pelvis] * len(seeds)))
        judged = [r for r in rows if r[1] is not None]
        others = [r[0] for r in rows if r[1] is None]
        if not judged:
            print(f"   +{gain:.0f}°: no pair gave a verdict ({_counts(others)})")
            continue
        verdicts, changes, true, sem = (np.array(x) for x in zip(*judged))
        changes, true, sem = changes.astype(float), true.astype(float), sem.astype(float)
        spread = np.std(changes, ddof=1) / np.sqrt(2)
        print(
            f"   +{gain:.0f}°: probable change {_pct(verdicts == 'probable change')} "
            f"(target ≥ {target} %); reported change {changes.mean():+.2f}° vs true "
            f"{true.mean():+.2f}° of the trial peaks (passive +{gain:.0f}°; per pair off by "
            f"{np.mean(changes - true):+.2f}° on average); spread/√2 {spread:.2f}° vs stated "
            f"SEM {sem.mean():.2f}° ({100 * (spread / sem.mean() - 1):+.0f} %); without a "
            f"verdict: {_counts(others) or 'none'}"
        )


def part_trend(pool, seeds, pelvis: bool) -> None:
    trends = [t for t in pool.map(weekly, seeds, [pelvis] * len(seeds)) if t]
    inside = [t["ci90_deg_per_week"][0] <= 1.0 <= t["ci90_deg_per_week"][1] for t in trends]
    above = [t["ci90_deg_per_week"][0] > 0 for t in trends]
    slopes = np.array([t["slope_deg_per_week"] for t in trends])
    print(
        f"3. eight weekly seated tests, +1°/week: interval contains 1°/week {_pct(inside)} "
        f"(target 85-95 %), excludes 0 {_pct(above)} (target ≥ 70 %); slope "
        f"{slopes.mean():+.2f} ± {slopes.std(ddof=1):.2f}°/week"
    )


def part_speed(jobs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "sessions"
        for k in range(10):
            rig = build_rig(
                load_rig(ROOT / "config" / "sim.toml"), "walk", 40 + k, 60.0, "right", False,
                None, None, None, k,
            )  # fmt: skip
            write_session(rig, simulate(rig), root / f"walk{k}", START + timedelta(days=7 * k))
        hiprot = [sys.executable, "-m", "hiprot", "analyze", "--jobs", str(jobs)]
        history = [*hiprot, "--history", str(root)]

        def timed(command: list[str]) -> float:
            began = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            return time.perf_counter() - began

        scratch = timed(history)
        cached = timed(history)
        (root / "history" / "history.json").unlink()  # the history itself computed and drawn again
        redrawn = timed(history)
        compared = timed([*hiprot, "--compare", str(root / "walk0"), str(root / "walk9")])
    print(
        f"4. ten one-minute walks: history from scratch {scratch:.1f} s; again, all cached "
        f"{cached:.2f} s (ratio {cached / scratch:.3f}); sessions cached, history recomputed and "
        f"redrawn {redrawn:.2f} s (ratio {redrawn / scratch:.3f}); compare of two cached "
        f"{compared:.2f} s (ratio {compared / scratch:.3f}); target ≤ 0.1"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--skip", type=int, nargs="*", default=[], help="parts to skip (1-4)")
    parser.add_argument(
        "--pelvis", action="store_true", help="the rotation tests with a pelvis sensor"
    )
    args = parser.parse_args()
    seeds = list(range(1, args.seeds + 1))
    with ProcessPoolExecutor(args.jobs) as pool:
        for part, run in ((1, part_null), (2, part_gain), (3, part_trend)):
            if part not in args.skip:
                began = time.perf_counter()
                run(pool, seeds, args.pelvis)
                print(f"   ({time.perf_counter() - began:.0f} s)", flush=True)
    if 4 not in args.skip:
        part_speed(args.jobs)


if __name__ == "__main__":
    main()
