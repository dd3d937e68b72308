"""The ``hiprot`` command line: one module per command, imported only when that command runs.

``hiprot --help`` lists the commands from their modules' source (the command function's
docstring) without importing them: a command imports what it uses (numpy, scipy, the
pipeline, matplotlib), and no other command pays for it.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os

import click

from hiprot.errors import HiprotError

PRIVATE_UMASK = 0o077
COMMANDS = (
    "scan",
    "record",
    "command",
    "demo",
    "simulate",
    "analyze",
    "replay",
    "export",
    "monitor",
    "dashboard",
    "subject",
)  # each is the function of that name in hiprot.cli.<name>


def command_help(name: str) -> str:
    """The docstring of command ``name``, read from its module's source without importing it."""
    spec = importlib.util.find_spec(f"{__name__}.{name}")
    if spec is None or spec.origin is None:
        return ""
    with open(spec.origin, encoding="utf-8") as f:
        tree = ast.parse(f.read(), spec.origin)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.get_docstring(node) or ""
    return ""


class HiprotGroup(click.Group):
    """Turns expected failures and bad command lines into one line on stderr and exit status 2.

    Commands run with umask 077: movement data is personal, so whatever a command creates —
    sessions, exports, analyses, the MQTT outbox, files made by SQLite or matplotlib — is
    its owner's alone, whatever the user's umask (the code that writes sessions sets 0700/0600
    itself as well).

    Commands are loaded when named (:meth:`get_command`); the list in ``--help`` comes from
    their docstrings (:func:`command_help`), so ``hiprot --help`` imports none of them.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        return getattr(importlib.import_module(f"{__name__}.{cmd_name}"), cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Click's list of commands, each summarised from its docstring as click would."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [  # a bare command with the docstring summarises it as the real one would
            (name, click.Command(name, help=command_help(name)).get_short_help_str(limit))
            for name in names
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """``--version``, as click's version option prints it (the version is looked up only then)."""
    if not value or ctx.resilient_parsing:
        return
    from hiprot import __version__

    click.echo(f"hiprot, version {__version__}")
    ctx.exit()


@click.group(cls=HiprotGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
def main() -> None:
    """Measure hip internal rotation with IMUs on a Raspberry Pi."""
    from hiprot.cli.common import install_log_handler

    install_log_handler()  # library code logs; only the command line prints
