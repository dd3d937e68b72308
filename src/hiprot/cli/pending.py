"""Commands whose issue has not landed yet: each says so in one line and exits 2."""

from __future__ import annotations

import click

from hiprot.errors import NotYetAvailable

_LOOSE = {"ignore_unknown_options": True, "allow_extra_args": True}


def _pending(name: str, summary: str, issue: str) -> click.Command:
    @click.command(name, context_settings=_LOOSE, help=f"{summary} (not available yet: {issue}).")
    @click.pass_context
    def command(ctx: click.Context) -> None:
        raise NotYetAvailable(f"`hiprot {name}` is not available yet; it arrives with {issue}")

    return command


scan = _pending("scan", "Scan the I2C bus and multiplexer channels for IMUs", "the sensors issue (#4)")
simulate = _pending("simulate", "Write a simulated session with ground truth", "the simulator issue (#3)")
analyze = _pending("analyze", "Compute joint angles, strides, reps and test results",
                   "the orientation and analysis issues (#5, #6)")
monitor = _pending("monitor", "Show a device's live MQTT topics in the terminal", "the MQTT issue (#8)")
dashboard = _pending("dashboard", "Serve the live web dashboard", "the MQTT issue (#8)")
