"""The ``hiprot`` command line: one module per command."""

from __future__ import annotations

import importlib
import os

import click

from hiprot import __version__
from hiprot.cli.common import install_log_handler
from hiprot.errors import HiprotError

PRIVATE_UMASK = 0o077
# command → its module under hiprot.cli (imported when the command runs or lists its help:
# the commands' dependencies are heavy, and ``hiprot analyze --history`` of cached results
# should not pay for the recorder's)
COMMANDS = (
    "scan",
    "record",
    "demo",
    "simulate",
    "analyze",
    "replay",
    "export",
    "monitor",
    "dashboard",
)


class HiprotGroup(click.Group):
    """Turns expected failures and bad command lines into one line on stderr and exit status 2.

    Commands run with umask 077: movement data is personal, so whatever a command creates —
    sessions, exports, analyses, the MQTT outbox, files made by SQLite or matplotlib — is
    its owner's alone, whatever the user's umask (the code that writes sessions sets 0700/0600
    itself as well).
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        return getattr(importlib.import_module(f"hiprot.cli.{name}"), name)

    def invoke(self, ctx: click.Context):
        umask = os.umask(PRIVATE_UMASK)
        try:
            return super().invoke(ctx)
        except HiprotError as exc:
            click.echo(f"hiprot: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx is not None else ctx.command_path
            click.echo(f"hiprot: error: {exc.format_message()} (see {command} --help)", err=True)
            ctx.exit(exc.exit_code)
        finally:
            os.umask(umask)


@click.group(cls=HiprotGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hiprot")
def main() -> None:
    """Measure hip internal rotation with IMUs on a Raspberry Pi."""
    install_log_handler()  # library code logs; only the command line prints
