"""``hiprot export``: a session as CSV (the import layout) or OpenSim tables."""

from __future__ import annotations

from pathlib import Path

import click

from hiprot.export import export_csv, export_sto
from hiprot.recording import load_session


@click.command()
@click.argument("session_dir", metavar="SESSION", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "sto"]),
    required=True,
    help="csv: imu.csv in the import layout + rig.toml; sto: OpenSense orientations "
    "(.sto) and joint angles (.mot).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output directory (default: SESSION/export).",
)
def export(session_dir, fmt, out_dir) -> None:
    """Export SESSION for other tools: CSV, or OpenSim/OpenSense tables."""
    session = load_session(session_dir)
    if not session.recovery.complete:
        click.echo(f"warning: {session.path}: {session.recovery.summary()}", err=True)
    if session.timeline_error:
        click.echo(f"warning: {session.timeline_error}: exported without its segments", err=True)
    out_dir = out_dir if out_dir is not None else session.path / "export"
    paths = (export_csv if fmt == "csv" else export_sto)(session, out_dir)
    for path in paths:
        click.echo(f"wrote {path}")
