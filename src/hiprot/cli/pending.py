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


analyze = _pending("analyze", "Compute joint angles, strides, reps and test results",
                   "the orientation and analysis issues (#5, #6)")
