"""What every language rewriter provides, and the helpers several of them share.

A rewriter is built for one file's text. ``locate`` turns a secret's span into a `Target` or a
reason it cannot be rewritten safely; ``render`` gives the reference text for a chosen name;
``finish`` makes file-level additions (``import os``, an ``ARG`` line) once all references are in;
``check`` parses the result again and says which parser did it and what went wrong.
"""

from __future__ import annotations

import bisect
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from leakvault.fix.model import Target
from leakvault.vault.config import without_credentials

CHECK_TIMEOUT_SECONDS = 30


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Which parser looked at the rewritten file ("" when none exists) and the error it found."""

    parser: str
    error: str | None = None


class Rewriter(Protocol):
    language: str

    def locate(self, start: int, end: int) -> Target | str: ...

    def render(self, target: Target, name: str) -> str: ...

    def finish(self, text: str, names: Sequence[str]) -> str: ...

    def check(self, rewritten: str, placed: Sequence[tuple[Target, str]]) -> CheckResult: ...


class LineIndex:
    """Offsets of line starts, to go between (line, column) and string offsets."""

    def __init__(self, text: str) -> None:
        self.starts = [0]
        newline = text.find("\n")
        while newline >= 0:
            self.starts.append(newline + 1)
            newline = text.find("\n", newline + 1)
        self.length = len(text)

    def offset(self, line: int, column: int) -> int:
        """1-based line and column to a 0-based offset (clamped to the text)."""
        if line < 1 or line > len(self.starts):
            return -1
        return min(self.starts[line - 1] + column - 1, self.length)

    def line_of(self, offset: int) -> int:
        """1-based line number of ``offset``."""
        return bisect.bisect_right(self.starts, offset)

    def line_start(self, offset: int) -> int:
        return self.starts[self.line_of(offset) - 1]

    def line_end(self, text: str, offset: int) -> int:
        """Offset just past the line's newline (or the end of the text)."""
        newline = text.find("\n", offset)
        return len(text) if newline < 0 else newline + 1


def substitute(data: object, replacements: dict[str, str]) -> object:
    """``data`` (parsed JSON/YAML/TOML) with every secret in every string replaced by its reference."""
    if isinstance(data, str):
        for secret, reference in replacements.items():
            data = data.replace(secret, reference)
        return data
    if isinstance(data, dict):
        return {substitute(k, replacements): substitute(v, replacements) for k, v in data.items()}
    if isinstance(data, list):
        return [substitute(item, replacements) for item in data]
    return data


def external_check(command: Sequence[str], original: str, rewritten: str, parser: str) -> CheckResult:
    """Parse with an external tool reading standard input. Only a rewrite that turns a file the
    tool accepted into one it rejects counts as an error: a tool that cannot read the original
    (a dialect it does not know) proves nothing either way."""
    if shutil.which(command[0]) is None:
        return CheckResult("")
    if _run_check(command, original) is not None:
        return CheckResult("")
    error = _run_check(command, rewritten)
    return CheckResult(parser, error)


def _run_check(command: Sequence[str], text: str) -> str | None:
    try:
        completed = subprocess.run(
            list(command),
            input=text,
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT_SECONDS,
            check=False,
            env=without_credentials(os.environ),  # a parser found on PATH has no use for the vault key
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{command[0]} did not run: {type(exc).__name__}"
    if completed.returncode == 0:
        return None
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"{command[0]} exited with {completed.returncode}"


def concatenation(target: Target, reference: str) -> str:
    """``head + reference + tail`` for a literal split around a secret, in parentheses where the
    surrounding expression would otherwise bind differently (form ``concat-paren``)."""
    expression = " + ".join(part for part in (target.head, reference, target.tail) if part)
    return f"({expression})" if target.form == "concat-paren" else expression


def has_odd_backslashes(text: str) -> bool:
    """Whether ``text`` ends inside an escape (an odd run of trailing backslashes)."""
    count = len(text) - len(text.rstrip("\\"))
    return count % 2 == 1
