"""The click application: every command (the hook's fast path aside, see `leakvault.cli`).

Sub-command groups that pull in heavy modules (the vault, git) are registered by import path and
loaded only when invoked, so ``leakvault scan`` on three files starts fast.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from leakvault.cli.failures import exit_code_for
from leakvault.version import __version__

# name -> "module:attribute" of a click command, imported on first use.
LAZY_COMMANDS: dict[str, str] = {
    "scan": "leakvault.cli.scan:scan",
    "rules": "leakvault.cli.rules:rules",
    "baseline": "leakvault.cli.baseline:baseline",
    "vault": "leakvault.vault.cli:vault",
    "run": "leakvault.vault.inject_cli:run",
    "inject": "leakvault.vault.inject_cli:inject",
    "sweep": "leakvault.cli.sweep:sweep",
    "init": "leakvault.cli.init:init",
}


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported only when they are invoked or listed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module_name, attribute = LAZY_COMMANDS[cmd_name].split(":")
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name == module_name:  # not built yet in this checkout
                    return None
                raise
            command = getattr(module, attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{LAZY_COMMANDS[cmd_name]} is not a click command")
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="leakvault")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Find secrets in code, and move them into an encrypted vault."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main(args: list[str]) -> None:
    """Run the click application and turn every failure into an exit code and one line on stderr."""
    try:
        result: Any = cli.main(args=args, prog_name="leakvault", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("leakvault: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        # Usage errors: click's own message, one line, exit 2.
        click.echo(f"leakvault: error: {exc.format_message()}", err=True)
        sys.exit(2 if isinstance(exc, click.UsageError) else exc.exit_code)
    except BaseException as exc:  # the shared one-line ending (cli/failures.py)
        sys.exit(exit_code_for(exc, args))
    sys.exit(result if isinstance(result, int) else 0)
