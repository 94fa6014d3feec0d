"""What several commands share: the history options (and, re-exported from `output`, writing a
report and printing warnings)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from leakvault.cli.output import emit_warnings, write_output

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


__all__ = ["emit_warnings", "history_options", "write_output"]
