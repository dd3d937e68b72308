"""Every real recording given, through hiprot's batch analysis: what it makes of real people.

Takes directories (or files) holding recordings: hiprot session directories, the
full-body example recording of the qmt toolbox (a ``.mat`` file; Laidig et al., TU Berlin),
and HuGaDB walking files (Chereshnev & Kertész-Farkas, "HuGaDB: Human Gait Database for
Activity Recognition from Wearable Inertial Sensor Networks", AIST 2017: tab-separated
int16 counts at about 58.8 Hz, accelerometer ±2 g (count / 16384 × g), gyroscope
±2000 °/s (count / 16.4), thigh, shank and foot modules on both legs). HuGaDB's thigh
and shank modules become a hiprot rig (MPU-9250 modules: the ``mpu6050`` chip, its
register family); its foot modules are left out of the rig and give an independent
stride count: one swing peak of the foot gyroscope per stride (the same peak search
as the shank's, about the foot's own principal axis).

Prints per recording and leg: the calibration (verdict when the analysis gives one,
else the hinge residual, or why it failed), return to zero at rests when the report has
it, heel strikes found against the foot's swings, the median time from the foot's swing
peak to heel strike, the median stance share (normal walking: about 60 %) and, as a
cross-check, the stance share the same rules find on the foot module and the median time
from the foot's toe off (and heel strike) by those rules to the shank's, stride by stride —
a bias of the shank's toe off would show there (one sample is 17 ms) — and the samples at
full scale per sensor.

Usage: ``.venv/bin/python scripts/real_data.py [--standing-s 5] DIR_OR_FILE [...]``
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
from scipy.signal import find_peaks

from hiprot.analysis.batch import analyse
from hiprot.analysis.session_files import is_session
from hiprot.config import parse_rig
from hiprot.errors import HiprotError
from hiprot.kinematics.shank_events import ShankEventDetector, shank_events, swing_axis
from hiprot.recording import Session, load_session
from hiprot.samples import ImuSamples

HUGADB_RATE_HZ = 58.8
G = 9.80665
SIDES = {"R": "right", "L": "left"}
SEGMENTS = {"T": "thigh", "S": "shank"}


def read_hugadb(path: Path, standing_s: float = 0.0) -> tuple[Session, dict[str, ImuSamples]]:
    """A HuGaDB file as a hiprot session (thighs and shanks) and its foot modules' samples;
    with ``standing_s``, that long a still standing phase is put before the walk (each
    module at rest along its mean acceleration over the walk), so that calibration runs."""
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    header = lines[0].split()
    data = np.array([line.split() for line in lines[1:]], float)
    columns = {}
    for i, name in enumerate(header):  # "RS_acc_x" or "acc_rs_x"
        parts = name.lower().split("_")
        if len(parts) == 3:
            if parts[0] in ("acc", "gyro"):
                parts = [parts[1], parts[0], parts[2]]
            columns[(parts[0].upper(), parts[1], parts[2])] = data[:, i]
    still = int(round(standing_s * HUGADB_RATE_HZ))
    time_s = np.arange(still + len(data)) / HUGADB_RATE_HZ
    noise = np.random.default_rng(0)

    def module(code: str) -> ImuSamples:
        acc = np.column_stack([columns[(code, "acc", a)] for a in "xyz"]) / 16384 * G
        gyr = np.radians(np.column_stack([columns[(code, "gyro", a)] for a in "xyz"]) / 16.4)
        down = acc.mean(axis=0) / np.linalg.norm(acc.mean(axis=0)) * G
        acc = np.concatenate([down + noise.normal(0, 0.02, (still, 3)), acc])
        gyr = np.concatenate([noise.normal(0, 0.002, (still, 3)), gyr])
        return ImuSamples(time_s, acc, gyr)

    sensors, samples, health = [], {}, {}
    for i, (side_code, side) in enumerate(SIDES.items()):
        for j, (segment_code, segment) in enumerate(SEGMENTS.items()):
            name = f"{side}_{segment}"
            sensors.append(
                {"name": name, "segment": segment, "side": side, "chip": "mpu6050"}
                | {"address": 0x68 + j, "mux_channel": i}
            )
            samples[name] = module(side_code + segment_code)
            health[name] = {"full_scale": {"accel_g": 2.0, "gyro_dps": 2000.0}}
    rig = parse_rig(
        {"device_id": "hugadb", "sample_rate_hz": HUGADB_RATE_HZ, "sensors": sensors},
        path,
    )
    feet = {side: module(code + "F") for code, side in SIDES.items()}
    meta = {"health": health, "complete": True}  # the activity is left to the analysis
    return Session(path, rig, meta, samples, kind="imported"), feet


QMT_SEGMENTS = {"upper_leg": "thigh", "lower_leg": "shank"}


def read_qmt_full_body(path: Path) -> tuple[Session, dict[str, ImuSamples]]:
    """The full-body example recording of the qmt toolbox (Laidig et al., TU Berlin; a
    MATLAB file, MIT licence: one Xsens-type module per segment at 100 Hz, acceleration in
    m/s², rates in rad/s, no optical truth) as a hiprot session — the module on the
    pelvis (``hip``), thighs (``upper_leg``) and shanks (``lower_leg``) — and its foot
    modules' samples."""
    from scipy.io import loadmat

    data = loadmat(path, simplify_cells=True)
    wanted = ["t", "hip", "foot_left", "foot_right"] + [
        f"{code}_{side}" for code in QMT_SEGMENTS for side in SIDES.values()
    ]
    if missing := [key for key in wanted if key not in data]:
        raise HiprotError(f"not the qmt full-body recording (no {', '.join(missing)})")
    time_s = np.asarray(data["t"], float) - float(data["t"][0])
    rate_hz = 1 / float(np.median(np.diff(time_s)))

    def module(name: str) -> ImuSamples:
        return ImuSamples(time_s, np.asarray(data[name]["acc"]), np.asarray(data[name]["gyr"]))

    sensors = [{"name": "pelvis", "segment": "pelvis", "chip": "icm42688", "address": 0x68}]
    samples = {"pelvis": module("hip")}
    for i, side in enumerate(SIDES.values()):
        for j, (code, segment) in enumerate(QMT_SEGMENTS.items()):
            name = f"{side}_{segment}"
            sensors.append(
                {"name": name, "segment": segment, "side": side, "chip": "icm42688"}
                | {"address": 0x68 + j, "mux_channel": i + 1}
            )
            samples[name] = module(f"{code}_{side}")
    rig = parse_rig({"device_id": "qmt", "sample_rate_hz": rate_hz, "sensors": sensors}, path)
    feet = {side: module(f"foot_{side}") for side in SIDES.values()}
    return Session(path, rig, {"complete": True}, samples, kind="imported"), feet


def foot_rate(foot: ImuSamples, shank_rate: np.ndarray, detector: ShankEventDetector):
    """The foot's rate about its principal axis, signed to turn with the shank (foot and
    shank swing forward together); None when the foot never turned fast."""
    axis = swing_axis(foot.gyr, detector.min_peak_rad_s)
    if axis is None:
        return None
    rate = foot.gyr @ axis
    n = min(len(rate), len(shank_rate))
    return -rate if np.dot(rate[:n], shank_rate[:n]) < 0 else rate


def foot_swings(rate: np.ndarray, time_s: np.ndarray, detector: ShankEventDetector):
    """Times of the foot's swing peaks, one per stride."""
    rate_hz = 1 / np.median(np.diff(time_s))
    peaks, _ = find_peaks(
        detector.smooth(rate, rate_hz),
        height=detector.min_peak_rad_s,
        distance=max(1, int(detector.min_stride_s * rate_hz)),
        prominence=detector.min_peak_rad_s,
    )
    return time_s[peaks]


def offsets(shank: np.ndarray, foot: np.ndarray, within_s: float = 0.25) -> float:
    """Median time (ms) from each foot event to the nearest shank event within ``within_s``."""
    if len(shank) == 0 or len(foot) == 0:
        return float("nan")
    nearest = shank[np.clip(np.searchsorted(shank, foot), 1, len(shank) - 1)[:, None] - [1, 0]]
    gaps = nearest - foot[:, None]
    gap = gaps[np.arange(len(foot)), np.argmin(np.abs(gaps), axis=1)]
    gap = gap[np.abs(gap) <= within_s]
    return 1000 * float(np.median(gap)) if len(gap) else float("nan")


def median_stance(heel_strike: np.ndarray, toe_off: np.ndarray) -> float:
    """Median stance share (%) of the strides with one toe off between their heel strikes."""
    shares = []
    for start, end in zip(heel_strike[:-1], heel_strike[1:]):
        toe = toe_off[(toe_off > start) & (toe_off < end)]
        if len(toe) == 1:
            shares.append(100 * (toe[0] - start) / (end - start))
    return float(np.median(shares)) if shares else float("nan")


def recordings(paths: list[Path]) -> list[Path]:
    out = []
    for path in paths:
        if is_session(path) or path.is_file():
            out.append(path)
        elif path.is_dir():
            out += sorted(p for p in path.iterdir() if is_session(p))
            out += sorted(path.glob("HuGaDB_*walking*.txt"))
            out += sorted(path.glob("*.mat"))
    return out


def report_recording(path: Path, standing_s: float) -> None:
    feet: dict[str, ImuSamples] = {}
    if path.suffix == ".mat":
        session, feet = read_qmt_full_body(path)
    elif path.is_file():
        session, feet = read_hugadb(path, standing_s)
    else:
        session = load_session(path)
    done = analyse(session)
    processed, analysis, report = done.processed, done.analysis, done.report
    print(f"{path.name}: {analysis.activity} ({analysis.activity_source})")
    calibration = report["calibration"]
    failed = [w for w in report["warnings"] if w.startswith("calibration failed")]
    detector = ShankEventDetector()
    grid = processed.grid
    for side in processed.rig.sides:
        strides = [s for s in analysis.strides if s.side == side]
        shank = processed.rig.find("shank", side)
        heel, shank_rate, shank_times = np.empty(0), np.empty(0), {}
        if shank is not None:
            track = grid.tracks[shank.name]
            shank_rate, events = shank_events(track.gyr, track.acc, grid.rate_hz, detector)
            shank_times = events.times(grid.time_s)
            heel = shank_times["heel_strike"]
        print(f"  {side}: {_calibration(calibration, side, failed)}")
        print(f"    return to zero: {_return_to_zero(report.get('return_to_zero'), side)}")
        rate = foot_rate(feet[side], shank_rate, detector) if side in feet else None
        if rate is not None:
            foot = feet[side]
            swings = foot_swings(rate, foot.time_s, detector)
            lag = [heel[heel > t][0] - t for t in swings if (heel > t).any()]
            print(
                f"    heel strikes {len(heel)}, foot swings {len(swings)} "
                f"(difference {len(heel) - len(swings):+d}); foot swing peak to heel strike "
                f"median {1000 * np.median(lag):.0f} ms"
            )
            foot_hz = 1 / float(np.median(np.diff(foot.time_s)))
            by_foot = detector.detect(rate, foot_hz, foot.acc).times(foot.time_s)
            toe = offsets(shank_times.get("toe_off", np.empty(0)), by_foot["toe_off"])
            strike = offsets(heel, by_foot["heel_strike"])
            print(
                "    the same rules on the foot module (a cross-check): median stance "
                f"{median_stance(by_foot['heel_strike'], by_foot['toe_off']):.1f} %; shank "
                f"less foot, median: toe off {toe:+.0f} ms, heel strike {strike:+.0f} ms"
            )
        else:
            print(f"    heel strikes {len(heel)} (no foot module to count swings)")
        if strides:
            stance = np.median([s.stance_percent for s in strides])
            cadence = np.median([s.cadence_steps_per_min for s in strides])
            print(
                f"    strides {len(strides)}: median stance {stance:.1f} %, "
                f"cadence {cadence:.0f} steps/min"
            )
        else:
            print("    strides 0")
    for name, entry in report["recording"]["sensors"].items():
        counts = entry["saturated"]
        print(
            f"  {name}: {counts['acc']} accelerometer ({100 * counts['acc'] / entry['samples']:.1f} %)"
            f" and {counts['gyr']} gyroscope samples at full scale"
        )
    for warning in report["warnings"]:
        if not warning.startswith("sensor "):  # the counts are above
            print(f"  warning: {warning}")


def _calibration(calibration: dict | None, side: str, failed: list[str]) -> str:
    if calibration is None:
        return failed[0] if failed else "no calibration"
    residual = calibration.get("quality", {}).get(side, {}).get("hinge_residual_pct")
    verdict = (calibration.get("verdict") or {}).get(side)
    if verdict is None:
        return f"calibration without verdict, hinge residual {residual} %"
    reasons = f" ({', '.join(verdict['reasons'])})" if verdict["reasons"] else ""
    return f"calibration {verdict['verdict']}{reasons}, hinge residual {residual} %"


def _return_to_zero(check: dict | None, side: str) -> str:
    """The report's return-to-zero check of ``side``'s columns: per later still standing
    rest, what each angle reads against the first standing."""
    rests = []
    for rest in (check or {}).get("rests", []):
        readings = ", ".join(
            f"{name.removeprefix(side + '_').removesuffix('_deg')} {value:+.1f}°"
            for name, value in rest["angles_deg"].items()
            if name.startswith(side + "_")
        )
        if readings:
            rests.append(f"{rest['start_s']:.0f}-{rest['end_s']:.0f} s: {readings}")
    return "; ".join(rests) if rests else "no rests to compare"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="recording directories or files")
    parser.add_argument(
        "--standing-s",
        type=float,
        default=0.0,
        help="put this long a still standing phase before each HuGaDB walk (they have none)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    found = recordings(args.paths)
    if not found:
        raise SystemExit(f"no recordings in {', '.join(map(str, args.paths))}")
    for path in found:
        try:
            report_recording(path, args.standing_s)
        except HiprotError as exc:
            print(f"{path.name}: {exc}")


if __name__ == "__main__":
    main()
