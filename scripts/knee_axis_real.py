"""The knee axis and the calibration verdict on real recordings (development only).

For each clean HuGaDB walking file (Chereshnev & Kertész-Farkas, AIST 2017; read as
``scripts/real_data.py`` does) and leg, prints:

- the walking-only knee-axis fits ("up" = the mean accelerometer direction, HuGaDB has no
  standing phase) by the plain hinge fit (Seel et al. 2014, ``seel``) and by
  :func:`hiprot.calibration.knee_axis.knee_axes` (``robust``): residual (per cent of the
  rate), the thigh axis' inclination, the heading between the two methods' thigh axes
  about the thigh's long axis, and each method's agreement between the first and second
  half of the walk (heading about the long axis);
- the product's calibration and verdict with each knee axis, a 5-s still standing phase
  put before the walk (the figures the verdict uses, its label).

BROAD (Laidig et al., Data 2021) holds one module per trial, with no knee: it is listed
and skipped.

    python scripts/knee_axis_real.py --hugadb DIR [--broad DIR]
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

import numpy as np
from real_data import read_hugadb

from hiprot import processing
from hiprot.analysis.verdict import leg_figures, verdict
from hiprot.calibration import calibrate
from hiprot.calibration.leg import knee_fit
from hiprot.calibration.segments import tilt_from_vertical

CLEAN = ("01_00", "06_00", "08_02-Test", "10_00-Test", "11_03-Test")
MOVING_RAD_S = np.radians(20.0)
METHODS = ("seel", "robust")


def heading_deg(u: np.ndarray, v: np.ndarray, up: np.ndarray) -> float:
    """Angle (0-90°) between two axes about ``up`` (projected on its perpendicular plane)."""
    u, v = u - (u @ up) * up, v - (v @ up) * up
    return float(
        np.degrees(np.arccos(min(1.0, abs(u @ v) / np.linalg.norm(u) / np.linalg.norm(v))))
    )


def walking_fits(session, side: str) -> dict:
    thigh, shank = (session.samples[f"{side}_{s}"] for s in ("thigh", "shank"))
    up = [a.acc.mean(axis=0) / np.linalg.norm(a.acc.mean(axis=0)) for a in (thigh, shank)]
    moving = (np.linalg.norm(thigh.gyr, axis=1) > MOVING_RAD_S) | (
        np.linalg.norm(shank.gyr, axis=1) > MOVING_RAD_S
    )
    g1, g2 = thigh.gyr[moving], shank.gyr[moving]
    out = {}
    for method in METHODS:
        fit = knee_fit(method, g1, g2, *up)
        half = len(g1) // 2
        a = knee_fit(method, g1[:half], g2[:half], *up)
        b = knee_fit(method, g1[half:], g2[half:], *up)
        out[method] = {
            "axis": fit.axis_1,
            "residual_pct": 100 * fit.rms_residual / fit.rms_rate,
            "tilt_deg": tilt_from_vertical(up[0], fit.axis_1),
            "halves_deg": heading_deg(a.axis_1, b.axis_1, up[0]),
        }
    out["between_deg"] = heading_deg(out["seel"]["axis"], out["robust"]["axis"], up[0])
    return out


def verdicts(session) -> dict[str, dict]:
    out = {}
    for method in METHODS:
        processing.calibrate = partial(calibrate, knee_axis=method)
        processed = processing.process_session(session)
        processing.calibrate = calibrate
        if processed.calibration is None:
            out[method] = {"failed": "; ".join(processed.warnings)}
            continue
        out[method] = {
            side: verdict(leg_figures(processed.calibration.quality, processed.angles, side))
            for side in processed.rig.sides
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hugadb", type=Path, required=True)
    parser.add_argument("--broad", type=Path)
    args = parser.parse_args()
    if not args.hugadb.is_dir():
        raise SystemExit(f"{args.hugadb}: not a directory")
    print(
        f"{'file':12} {'leg':5} {'method':6} {'resid %':>8} {'tilt°':>6} {'halves°':>8}  "
        f"{'seel↔robust°':>12}  verdict (figures)"
    )
    for tag in CLEAN:
        path = args.hugadb / f"HuGaDB_v1_walking_{tag}.txt"
        if not path.exists():
            print(f"{tag}: missing")
            continue
        session, _ = read_hugadb(path, standing_s=5.0)
        judged = verdicts(session)
        for side in ("right", "left"):
            fits = walking_fits(session, side)
            for method in METHODS:
                f = fits[method]
                v = judged[method].get(side) if "failed" not in judged[method] else None
                label = (
                    f"{v['verdict']} ({', '.join(f'{k} {x:g}' for k, x in v['figures'].items())})"
                    if v
                    else judged[method].get("failed", "no verdict")
                )
                print(
                    f"{tag:12} {side:5} {method:6} {f['residual_pct']:8.1f} {f['tilt_deg']:6.1f} "
                    f"{f['halves_deg']:8.1f}  {fits['between_deg']:12.1f}  {label}"
                )
    if args.broad is not None:
        trials = sorted(args.broad.glob("*.npz"))
        print(
            f"\nBROAD: {len(trials)} single-module trials, no knee: no knee axis or verdict to check"
        )


if __name__ == "__main__":
    main()
