"""What several commands share: the history options, writing a report, printing warnings."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from leakvault.errors import UsageError

MAX_WARNINGS_SHOWN = 20

_Command = TypeVar("_Command", bound=Callable[..., Any])


def history_options(git_help: str) -> Callable[[_Command], _Command]:
    """``--git [REV_RANGE]``, ``--since``, ``--until``: the history options of ``scan`` and
    ``baseline create``."""
    options = (
        click.option(
            "--git", "git_range", is_flag=False, flag_value="", default=None, metavar="[REV_RANGE]", help=git_help
        ),
        click.option("--since", metavar="DATE", help="With --git: only commits after DATE (as git log --since)."),
        click.option("--until", metavar="DATE", help="With --git: only commits before DATE (as git log --until)."),
    )

    def decorate(command: _Command) -> _Command:
        for option in reversed(options):  # listed in --help in this order
            command = option(command)
        return command

    return decorate


def write_output(text: str, output: str | None) -> None:
    """Write the report to stdout, or atomically to ``output`` (temp file + rename)."""
    if output is None or output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    target = Path(output)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"cannot write {output}: directory {directory} does not exist")
    if target.exists() and not target.is_file():
        # /dev/null, a FIFO, /dev/stdout: write into it; renaming over it would replace the device
        # (as root, `-o /dev/null` turned /dev/null into a regular file for the whole machine).
        try:
            with open(target, "w", encoding="utf-8") as stream:
                stream.write(text)
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror}; check the path and its permissions") from None
        return
    try:
        import tempfile  # only for -o FILE: it costs ~5 ms of every run's start-up

        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=directory, delete=False, prefix=f".{target.name}."
        ) as handle:
            handle.write(text)
        os.replace(handle.name, target)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}; check the path and its permissions") from None


def emit_warnings(warnings: list[str]) -> None:
    for warning in warnings[:MAX_WARNINGS_SHOWN]:
        click.echo(f"leakvault: warning: {warning}", err=True)
    if len(warnings) > MAX_WARNINGS_SHOWN:
        click.echo(
            f"leakvault: warning: ... and {len(warnings) - MAX_WARNINGS_SHOWN} more (see the JSON report)", err=True
        )
