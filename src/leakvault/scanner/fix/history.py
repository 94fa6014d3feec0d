"""Which stored values are already in git history, and the commit that first added each.

A value that was ever committed is burnt: rewriting the working tree does not take it out of the
clones and forks that have it, so it must be rotated. We read ``git log -p`` once and look for the
values in added lines ourselves rather than running ``git log -S<value>`` per value: that would put
each secret on a command line, where any local user can read it in the process table.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Commit headers start with NULs (git's %x00), which no diff line can.
COMMIT_FORMAT = "%x00commit%x00%H%x00%aI%x00%an"
COMMIT_MARK = "\x00commit\x00"
HISTORY_TIMEOUT_SECONDS = 300


@dataclass(frozen=True, slots=True)
class FirstCommit:
    sha: str
    date: str  # ISO 8601
    author: str
    path: str  # the file it was added to


def first_commits(root: Path, values: Iterable[str]) -> dict[str, FirstCommit]:
    """For each value found in an added line of any commit (all refs), the oldest such commit.
    Empty when ``root`` is not a git repository or has no commits."""
    # A multi-line value (a PEM key) is looked for by its longest line, as diffs go line by line.
    probes = {max(value.splitlines(), key=len): value for value in values if value.strip()}
    remaining = set(probes)
    found: dict[str, FirstCommit] = {}
    if not remaining:
        return found
    command = [
        "git",
        "-c",
        "core.quotepath=off",
        "log",
        "--all",
        "--reverse",
        "-p",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        f"--format={COMMIT_FORMAT}",
    ]
    try:
        process = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError:
        return found
    assert process.stdout is not None  # noqa: S101 - stdout=PIPE guarantees it
    commit: tuple[str, str, str] | None = None
    path = ""
    try:
        for raw in process.stdout:
            line = raw.decode("utf-8", "replace")
            if line.startswith(COMMIT_MARK):
                parts = line[len(COMMIT_MARK) :].rstrip("\n").split("\x00")
                commit = (parts[0], parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else "")
            elif line.startswith("+++ "):
                path = line[4:].rstrip("\n").removeprefix("b/")
            elif line.startswith("+") and commit is not None:
                for probe in [p for p in remaining if p in line]:
                    found[probes[probe]] = FirstCommit(commit[0], commit[1], commit[2], path)
                    remaining.discard(probe)
                if not remaining:
                    break
    finally:
        process.kill()
        process.wait(timeout=HISTORY_TIMEOUT_SECONDS)
        process.stdout.close()
    return found
