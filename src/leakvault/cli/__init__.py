"""Command-line interface: argument parsing and exit codes, no detection or vault logic.

The entry point serves the pre-commit hook's call (``leakvault scan --staged FILE ...``, nothing
else) without click: `hook` runs that scan directly, because importing click and building the
command tree is a third of a hook run. Every other command line goes to the click application
in `app`, whose command groups are imported only when invoked.
"""

from __future__ import annotations

import sys
from typing import Any

from leakvault.cli.failures import exit_code_for


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every failure into an exit code and one line on stderr."""
    args = list(sys.argv[1:] if argv is None else argv)
    # Deferred: the hook's command line must not import the click application, and vice versa.
    from leakvault.cli.hook import staged_paths

    paths = staged_paths(args)
    if paths is None:
        from leakvault.cli.app import main as run_app  # click: only off the hook's path

        run_app(args)
        return
    from leakvault.cli.hook import scan_staged_files  # the scanner: only once a command needs it

    try:
        code = scan_staged_files(paths)
    except BaseException as exc:  # every failure becomes an exit code, as in the app
        code = exit_code_for(exc, args)
    sys.exit(code)


def __getattr__(name: str) -> Any:
    """``leakvault.cli.cli`` and the other names of the click application, loaded on first use."""
    if name in ("cli", "LAZY_COMMANDS", "LazyGroup"):
        from leakvault.cli import app  # click: only when these names are asked for

        return getattr(app, name)
    raise AttributeError(f"module 'leakvault.cli' has no attribute {name!r}")
