"""Export a session to the formats other tools read: the CSV import layout and OpenSim tables.

Orientations come from the pipeline's fusion filters and joint angles from
:meth:`hiprot.pipeline.Pipeline.process`, run in batch over the session.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.spatial.transform import Slerp

from hiprot import quat
from hiprot.config import rig_to_toml
from hiprot.csvio import write_imu_csv
from hiprot.errors import RecordingError
from hiprot.pipeline import Pipeline
from hiprot.recording.opensim import imu_label, write_motion, write_orientations
from hiprot.recording.session import Session


def export_csv(session: Session, out_dir: Path) -> list[Path]:
    """``imu.csv`` in the CSV import layout and the session's ``rig.toml``: a session to import."""
    out_dir = _make(out_dir)
    write_imu_csv(out_dir / "imu.csv", session.samples)
    (out_dir / "rig.toml").write_text(rig_to_toml(session.rig))
    return [out_dir / "imu.csv", out_dir / "rig.toml"]


def orientations(session: Session) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each sensor's sample times and orientation ``q_ES`` (n, 4) from the pipeline's filters."""
    pipeline = Pipeline(session.rig)
    return {name: (s.time_s, pipeline.filters[name].update(s))
            for name, s in session.samples.items()}


def common_grid(times: list[np.ndarray], rate_hz: float) -> np.ndarray:
    """A uniform time grid at ``rate_hz`` over the span every sensor covers."""
    start, stop = max(t[0] for t in times), min(t[-1] for t in times)
    if stop < start:
        raise RecordingError("the sensors' recordings do not overlap in time")
    return start + np.arange(int(np.floor((stop - start) * rate_hz + 1e-9)) + 1) / rate_hz


def resample(time_s: np.ndarray, q: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Orientations at ``grid`` by spherical linear interpolation (gaps are bridged)."""
    if len(time_s) == 1:
        return np.repeat(quat.from_rotation(quat.to_rotation(q)), len(grid), axis=0)
    return quat.from_rotation(Slerp(time_s, quat.to_rotation(q))(grid))


def export_sto(session: Session, out_dir: Path) -> list[Path]:
    """``<name>_orientations.sto`` (OpenSense quaternions), ``<name>_angles.mot`` (joint angles)."""
    out_dir = _make(out_dir)
    name = session.path.name
    rate = session.rig.sample_rate_hz
    fused = orientations(session)
    grid = common_grid([t for t, _ in fused.values()], rate)
    columns = {}
    for sensor in session.rig.sensors:
        if sensor.name in fused:
            columns[imu_label(sensor.segment, sensor.side)] = resample(*fused[sensor.name], grid)
    sto = out_dir / f"{name}_orientations.sto"
    write_orientations(sto, grid, columns, rate)
    angles = Pipeline(session.rig).process(session.samples)
    mot = out_dir / f"{name}_angles.mot"
    write_motion(mot, f"{name} joint angles (ISB, degrees)", angles.time_s, angles.columns)
    return [sto, mot]


def _make(out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RecordingError(f"{out_dir}: cannot create the output directory: "
                             f"{exc.strerror}") from exc
    return out_dir
