"""Export a session to the formats other tools read: the CSV import layout and OpenSim tables.

Orientations and joint angles come from batch processing
(:func:`hiprot.processing.process_session`), on its common time grid. This module
sits above both processing and :mod:`hiprot.recording` (which only writes and reads
the formats, :mod:`hiprot.recording.opensim`), so storage never depends on processing.
"""

from __future__ import annotations

from pathlib import Path

from hiprot.config import rig_to_toml
from hiprot.csvio import write_imu_csv
from hiprot.errors import RecordingError
from hiprot.processing import process_session
from hiprot.recording.opensim import imu_label, write_motion, write_orientations
from hiprot.recording.session import Session


def export_csv(session: Session, out_dir: Path) -> list[Path]:
    """``imu.csv`` in the CSV import layout and the session's ``rig.toml``: a session to import."""
    out_dir = _make(out_dir)
    write_imu_csv(out_dir / "imu.csv", session.samples)
    (out_dir / "rig.toml").write_text(rig_to_toml(session.rig))
    return [out_dir / "imu.csv", out_dir / "rig.toml"]


def export_sto(session: Session, out_dir: Path) -> list[Path]:
    """``<name>_orientations.sto`` (OpenSense quaternions), ``<name>_angles.mot`` (joint angles)."""
    out_dir = _make(out_dir)
    name = session.path.name
    processed = process_session(session)
    grid = processed.grid
    columns = {
        imu_label(s.segment, s.side): grid.tracks[s.name].q_es
        for s in session.rig.sensors
        if s.name in grid.tracks
    }
    sto = out_dir / f"{name}_orientations.sto"
    write_orientations(sto, grid.time_s, columns, session.rig.sample_rate_hz)
    if processed.angles is None:
        raise RecordingError(
            f"{session.path}: orientations written to {sto}, but no joint angles: "
            + "; ".join(processed.warnings)
        )
    mot = out_dir / f"{name}_angles.mot"
    angles = processed.angles
    write_motion(mot, f"{name} joint angles (ISB, degrees)", angles.time_s, angles.columns)
    return [sto, mot]


def _make(out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RecordingError(
            f"{out_dir}: cannot create the output directory: {exc.strerror}"
        ) from exc
    return out_dir
