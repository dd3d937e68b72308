"""Benchmark the raw recording format against CSV for a 1-hour, 3-sensor, 200 Hz session.

Write: the same samples go (a) through the writer thread's own code path
(:class:`~hiprot.recording.writer.BlockAppender`: 0.05 s chunks in, one block
per sensor appended every 0.25 s and an fsync every 0.5 s of data, as in a live
recording) into
``imu.bin`` and (b) into CSV in the import layout the way the first recorder
did (``format_imu_rows`` per chunk). Read: ``load_session`` of the binary
session against ``numpy.loadtxt`` of the CSV. CPU times, one run, ratios
printed; reading the hour must take under 5 s.

Usage: ``.venv/bin/python scripts/bench_recording.py [--minutes 60] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from hiprot.config import parse_rig, rig_to_toml
from hiprot.csvio import IMU_COLUMNS, format_imu_rows
from hiprot.recording import load_session
from hiprot.recording.metadata import MetaFile, start_meta
from hiprot.recording.raw import RawFileWriter
from hiprot.recording.writer import RAW_FILE, SYNC_INTERVAL_S, WRITE_INTERVAL_S, BlockAppender
from hiprot.samples import ImuSamples

RATE_HZ = 200
CHUNK = 10  # samples per sensor per chunk: 0.05 s, as the live sources yield
CHUNKS_PER_WRITE = round(WRITE_INTERVAL_S * RATE_HZ / CHUNK)  # the writer's write interval
CHUNKS_PER_SYNC = round(SYNC_INTERVAL_S * RATE_HZ / CHUNK)  # the writer's sync interval
READ_TARGET_S = 5.0
SENSORS = (
    ("pelvis", "pelvis", None, 0x68),
    ("right_thigh", "thigh", "right", 0x69),
    ("right_shank", "shank", "right", 0x6A),
)


def bench_rig(path: Path):
    return parse_rig(
        {
            "device_id": "bench",
            "sample_rate_hz": RATE_HZ,
            "sensors": [
                {
                    "name": n,
                    "segment": seg,
                    "chip": "icm42688",
                    "bus": 1,
                    "address": a,
                    **({"side": side} if side else {}),
                }
                for n, seg, side, a in SENSORS
            ],
        },
        path,
    )


def hour_of_samples(minutes: float) -> dict[str, ImuSamples]:
    n = int(minutes * 60 * RATE_HZ)
    rng = np.random.default_rng(1)
    t = np.arange(n) / RATE_HZ
    return {
        name: ImuSamples(t + 1e-4 * i, rng.normal(0, 9.81, (n, 3)), rng.normal(0, 1.5, (n, 3)))
        for i, (name, *_) in enumerate(SENSORS)
    }


def chunks(samples: dict[str, ImuSamples]):
    n = len(next(iter(samples.values())))
    for start in range(0, n, CHUNK):
        yield {name: s[start : start + CHUNK] for name, s in samples.items()}


def write_binary(rig, samples, directory: Path) -> float:
    """Session directory with imu.bin written as a live recording would; returns CPU seconds."""
    (directory / "rig.toml").write_text(rig_to_toml(rig))
    meta = start_meta(rig, datetime.now(UTC), RAW_FILE, None, "benchmark")
    MetaFile(directory).write(meta)
    pieces = list(chunks(samples))
    cpu = time.process_time()
    raw = RawFileWriter(directory / RAW_FILE, [s.name for s in rig.sensors], rig_to_toml(rig), {})
    blocks = BlockAppender(raw, rig, meta["samples"], meta["gaps"])
    for i, chunk in enumerate(pieces, start=1):
        blocks.add(chunk)
        if i % CHUNKS_PER_SYNC == 0:
            blocks.flush()
        elif i % CHUNKS_PER_WRITE == 0:
            blocks.write()
    blocks.flush()
    raw.close()
    cpu = time.process_time() - cpu
    MetaFile(directory).write(dict(meta, complete=True), final=True)
    return cpu


def write_csv(samples, path: Path) -> float:
    """CSV in the import layout, chunk by chunk like the first recorder; returns CPU seconds."""
    pieces = list(chunks(samples))
    cpu = time.process_time()
    with open(path, "w", newline="") as f:
        f.write(",".join(IMU_COLUMNS) + "\n")
        for chunk in pieces:
            rows = format_imu_rows(chunk)
            rows.sort(key=lambda r: r[0])
            f.writelines(line + "\n" for _, line in rows)
    return time.process_time() - cpu


def timed(function, *args):
    cpu, wall = time.process_time(), time.perf_counter()
    result = function(*args)
    return result, time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--keep", type=Path, help="keep the files in this directory")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-recording-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    try:
        session_dir = work / "session"
        session_dir.mkdir(exist_ok=True)
        rig = bench_rig(session_dir / "rig.toml")
        samples = hour_of_samples(args.minutes)
        total = sum(len(s) for s in samples.values())
        print(f"{args.minutes:g} min, {len(SENSORS)} sensors at {RATE_HZ} Hz: {total:,} samples")

        bin_cpu = write_binary(rig, samples, session_dir)
        csv_path = work / "imu.csv"
        csv_cpu = write_csv(samples, csv_path)
        bin_mb = (session_dir / RAW_FILE).stat().st_size / 1e6
        csv_mb = csv_path.stat().st_size / 1e6
        print(
            f"write imu.bin (blocks every {WRITE_INTERVAL_S:g} s, fsync every {SYNC_INTERVAL_S:g} s): "
            f"{1e6 * bin_cpu / total:7.2f} us/sample "
            f"CPU, {bin_mb:6.1f} MB"
        )
        print(
            f"write CSV import layout:                                  "
            f"{1e6 * csv_cpu / total:7.2f} us/sample "
            f"CPU, {csv_mb:6.1f} MB"
        )
        print(f"  binary writes {csv_cpu / bin_cpu:.1f}x cheaper per sample")

        session, bin_read_cpu, bin_read_wall = timed(load_session, session_dir)
        assert all(np.array_equal(session.samples[n].gyr, s.gyr) for n, s in samples.items())
        table, csv_read_cpu, csv_read_wall = timed(
            np.loadtxt, csv_path, float, "#", ",", None, 1, (0, 2, 3, 4, 5, 6, 7)
        )
        assert len(table) == total
        print(
            f"read load_session(imu.bin): {bin_read_wall:7.2f} s wall, {bin_read_cpu:7.2f} s CPU,"
            f" {total / bin_read_wall / 1e6:7.2f} M samples/s ({session.recovery.summary()})"
        )
        print(
            f"read numpy.loadtxt(CSV):    {csv_read_wall:7.2f} s wall, {csv_read_cpu:7.2f} s CPU,"
            f" {total / csv_read_wall / 1e6:7.2f} M samples/s"
        )
        print(f"  binary reads {csv_read_wall / bin_read_wall:.0f}x faster")
        hour = bin_read_wall * 60.0 / args.minutes
        verdict = "meets" if hour < READ_TARGET_S else "MISSES"
        print(f"reading one hour takes {hour:.2f} s: {verdict} the < {READ_TARGET_S:g} s target")
    finally:
        if args.keep is None:
            shutil.rmtree(work)


if __name__ == "__main__":
    main()
