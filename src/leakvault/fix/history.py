"""Which stored values are already in git history, and the commit that first added each.

A value that was ever committed is burnt: rewriting the working tree does not take it out of the
clones and forks that have it, so it must be rotated. The history scanner (`sources.git`) streams
every commit's added lines oldest first, and we look for the values in them ourselves rather than
run ``git log -S<value>`` per value: that would put each secret on a command line, where any
local user can read it in the process table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from leakvault.scanner.config import DEFAULT_MAX_FILE_SIZE
from leakvault.scanner.model import Chunk
from leakvault.scanner.sources.git import BlobChange, GitError, iter_history, make_scope


@dataclass(frozen=True, slots=True)
class FirstCommit:
    sha: str
    date: str  # ISO 8601
    author: str
    path: str  # the file it was added to


def first_commits(root: Path, values: Iterable[str]) -> dict[str, FirstCommit]:
    """For each value found in a line any commit added (all refs), the oldest such commit.
    Empty when ``root`` is not a git repository or has no commits."""
    # A multi-line value (a PEM key) is looked for by its longest line, as history comes in hunks
    # that may split it.
    probes = {max(value.splitlines(), key=len).encode("utf-8"): value for value in values if value.strip()}
    found: dict[str, FirstCommit] = {}
    if not probes:
        return found
    try:
        scope = make_scope([], DEFAULT_MAX_FILE_SIZE, cwd=str(root))
        for item in iter_history(scope):
            if isinstance(item, Chunk):
                data, path, commit = item.data, item.path, item.commit
            elif isinstance(item, BlobChange):
                data, path, commit = item.new, item.path, item.commit
            else:
                continue
            if commit is None:
                continue
            for probe in [p for p in probes if p in data]:
                found[probes.pop(probe)] = FirstCommit(commit.sha, commit.date, commit.author, path)
            if not probes:
                break  # closing the generator stops git
    except GitError:
        return found  # not a repository (or git failed): nothing known about history
    return found
