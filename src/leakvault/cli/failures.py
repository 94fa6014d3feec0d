"""How a failure ends a run: one line on stderr and an exit code (DESIGN.md §2), never a
traceback (``--debug`` or ``LEAKVAULT_DEBUG=1`` shows it) and never an exception's message that
might quote a value we were handling. Shared by the click application and the hook's fast path."""

from __future__ import annotations

import os
import sys

from leakvault.errors import LeakvaultError


def debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("LEAKVAULT_DEBUG") == "1"


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def exit_code_for(exc: BaseException, argv: list[str]) -> int:
    """Print the one line ``exc`` deserves and return the exit code; re-raise under --debug."""
    if isinstance(exc, SystemExit):
        raise exc
    if isinstance(exc, LeakvaultError):
        if debug_requested(argv):
            raise exc
        _say(f"leakvault: error: {exc}")
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        _say("leakvault: interrupted")
        return 130
    if isinstance(exc, BrokenPipeError):
        # `leakvault scan | head`: the reader went away; that is not our error.
        sys.stderr.close()
        return 1
    if isinstance(exc, OSError):
        # Disk full, a path that vanished mid-run: the OS's words and the file, not a traceback.
        if debug_requested(argv):
            raise exc
        where = f": {exc.filename}" if exc.filename else ""
        _say(f"leakvault: error: {exc.strerror or type(exc).__name__}{where}")
        return 2
    if debug_requested(argv):
        raise exc
    # A bug of ours. The message is not printed: it might quote a value we were handling.
    _say(f"leakvault: internal error ({type(exc).__name__}); rerun with --debug for the traceback and report it")
    return 2
