"""Speed and memory of ``hiprot analyze`` for a long three-sensor 200 Hz session, as ratios
measured in one run.

The session: the simulator's ``walk`` scenario (realistic conditions, seed 1) on a pelvis,
right thigh and right shank at 200 Hz, written twice: as a recorded session (``imu.bin``
appended block by block as the recorder does, see ``scripts/bench_recording.py``) and as an
imported one (``imu.csv`` in the import layout and ``rig.toml``). Each measurement runs in a
fresh process (peak memory = that process's maximum resident set):

CPU seconds (``time.process_time``: the machine may be shared), the modules' imports apart:

- baseline: a bare VQF six-axis pass (``vqf.VQF.updateBatch``) over the same samples;
- ``analyze_to`` of the recorded session with charts, as ``hiprot analyze`` runs it, split
  into loading, processing and analysis, and writing the outputs (CSV tables, charts);
- the same for the imported session.

Targets (issue 22): analysis ≤ 5 × the VQF pass and ≤ 600 MB peak; CSV import ≤ 1.5 × the
recorded path; output writing a small share of the time.

Usage: ``.venv/bin/python scripts/bench_analyze.py [--minutes 60]``
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO, SEED = "walk", 1


def bench_rig(minutes: float):
    from hiprot.config import SimulationConfig, load_rig

    base = load_rig(ROOT / "config" / "sim.toml")
    thigh = base.sensors[0]
    pelvis = replace(thigh, name="pelvis", segment="pelvis", side=None, address=0x6A)
    simulation = SimulationConfig(scenario=SCENARIO, seed=SEED, duration_s=minutes * 60.0)
    return replace(base, sensors=(pelvis, *base.sensors), simulation=simulation)


def make_sessions(minutes: float, work: Path) -> int:
    """The recorded and the imported session under ``work``; returns the number of samples."""
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_recording import write_binary

    from hiprot.config import rig_to_toml
    from hiprot.csvio import write_imu_csv
    from hiprot.sim import simulate

    rig = bench_rig(minutes)
    samples = simulate(rig).samples
    recorded = replace(rig, simulation=None)
    (work / "recorded").mkdir()
    write_binary(recorded, samples, work / "recorded")
    (work / "imported").mkdir()
    (work / "imported" / "rig.toml").write_text(rig_to_toml(recorded))
    write_imu_csv(work / "imported" / "imu.csv", samples)
    return sum(len(s) for s in samples.values())


def child(kind: str, session_dir: Path, out_dir: Path) -> dict:
    """One measurement in this (fresh) process: CPU seconds per stage (imports apart) and the
    peak resident set in MB."""
    times: dict[str, float] = {}
    clock = time.process_time
    start = clock()
    if kind == "vqf":
        from vqf import VQF

        from hiprot.recording import load_session

        session = load_session(session_dir)
        rate = session.rig.sample_rate_hz
        start = clock()
        for s in session.samples.values():
            VQF(1.0 / rate).updateBatch(s.gyr, s.acc)
        times["vqf"] = clock() - start
    else:
        from hiprot.analysis import batch, plots  # noqa: F401  (imports timed apart)

        times["imports"] = clock() - start
        stage = {"name": "load", "at": clock()}
        start = stage["at"]

        def mark(name: str) -> None:
            now = clock()
            times[stage["name"]] = times.get(stage["name"], 0.0) + now - stage["at"]
            stage.update(name=name, at=now)

        def wrap(function, name: str):
            def run(*args, **kwargs):
                previous = stage["name"]
                mark(name)
                try:
                    return function(*args, **kwargs)
                finally:
                    mark(previous)

            return run

        load = batch.load_session

        def load_then_process(*args, **kwargs):
            result = load(*args, **kwargs)
            mark("process")  # what follows loading, up to the outputs, is processing
            return result

        batch.load_session = load_then_process
        for name in ("write_orientations", "write_angles_csv", "write_table"):
            setattr(batch, name, wrap(getattr(batch, name), "write"))
        batch._charts = wrap(batch._charts, "charts")
        batch.analyze_to(session_dir, out_dir)
        mark("end")
        times.pop("end", None)
    times["total"] = clock() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"times": times, "peak_mb": peak_mb}


def measure(kind: str, session_dir: Path, out_dir: Path) -> dict:
    command = [sys.executable, __file__, "--child", kind, str(session_dir), str(out_dir)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, session_dir, out_dir = args.child
        print(json.dumps(child(kind, Path(session_dir), Path(out_dir))))
        return
    work = Path(tempfile.mkdtemp(prefix="bench-analyze-"))
    try:
        total = make_sessions(args.minutes, work)
        print(f"{args.minutes:g} min of {SCENARIO}, 3 sensors at 200 Hz: {total:,} samples")
        vqf = measure("vqf", work / "recorded", work / "out-vqf")
        recorded = measure("recorded", work / "recorded", work / "out-recorded")
        imported = measure("imported", work / "imported", work / "out-imported")
    finally:
        shutil.rmtree(work)
    base = vqf["times"]["vqf"]
    print(f"  bare VQF six-axis pass: {base:7.2f} s (baseline)")
    for name, result in (("recorded (imu.bin)", recorded), ("imported (imu.csv)", imported)):
        t = result["times"]
        stages = ", ".join(
            f"{k} {v:.2f} s ({v / t['total']:.0%})"
            for k, v in t.items()
            if k not in ("total", "imports")
        )
        print(
            f"  analyze {name}: {t['total']:7.2f} s = {t['total'] / base:5.1f} × VQF, "
            f"peak {result['peak_mb']:5.0f} MB  [{stages}; imports {t['imports']:.2f} s apart]"
        )
    r, i = recorded["times"], imported["times"]
    print(f"analysis / VQF pass:               {r['total'] / base:5.2f} (target ≤ 5)")
    print(f"peak memory (recorded):            {recorded['peak_mb']:5.0f} MB (target ≤ 600)")
    print(f"CSV import / recorded, whole:      {i['total'] / r['total']:5.2f} (target ≤ 1.5)")
    print(f"CSV import / recorded, loading:    {i['load'] / r['load']:5.2f}")
    print(f"output writing share (recorded):   {r.get('write', 0.0) / r['total']:5.1%}")


if __name__ == "__main__":
    main()
