"""Writing a report and one-line notes, without click: the hook's fast path uses these too."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from leakvault.errors import UsageError

MAX_WARNINGS_SHOWN = 20


def note(line: str) -> None:
    """One line for the person at the terminal, on stderr."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


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
        note(f"leakvault: warning: {warning}")
    if len(warnings) > MAX_WARNINGS_SHOWN:
        note(f"leakvault: warning: ... and {len(warnings) - MAX_WARNINGS_SHOWN} more (see the JSON report)")


def wants_color(choice: str, output: str | None) -> bool:
    """``--color always|never``, or for auto: a terminal on stdout and no ``NO_COLOR`` (no-color.org)."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    return (output is None or output == "-") and sys.stdout.isatty()
