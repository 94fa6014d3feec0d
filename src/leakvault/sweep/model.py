"""The plain records that travel between the sweep's client, its workers and its store."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Repository:
    """One repository of a sweep: ``name`` is how reports call it, ``source`` what the user gave
    (a local path or a git URL), ``git_dir`` where its history is read."""

    name: str
    source: str
    git_dir: str
    remote: bool


@dataclass(frozen=True, slots=True)
class CommitRange:
    """A slice of one repository's new commits, in history order: one task's work."""

    repository: Repository
    index: int  # position of this range among the repository's ranges of this run
    commits: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Prepared:
    """What a worker found in a repository: its tips now, and the commits not yet scanned."""

    repository: Repository
    tips: tuple[str, ...]
    new_commits: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Failure:
    """A repository that could not be cloned, fetched or read, with git's reason."""

    repository: Repository
    reason: str


@dataclass(frozen=True, slots=True)
class SweepLocation:
    """One place a secret was met, with no secret value: ``secret_hash`` is the keyed hash the
    scanner's fingerprints use and ``secret_redacted``/``preview`` are already redacted."""

    repository: str
    rule_id: str
    secret_hash: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    commit: str
    author: str
    email: str
    date: str
    secret_redacted: str
    preview: str
    entropy: float
    order: int  # position in the repository's history walk (first range, first commit: smallest)

    @property
    def fingerprint(self) -> str:
        """The scanner's fingerprint form, ``rule:path:hash``, with the path inside the repository."""
        return f"{self.rule_id}:{self.path}:{self.secret_hash}"


@dataclass(frozen=True, slots=True)
class RangeResult:
    """A finished task: the locations it found and what it read."""

    repository: str
    index: int
    commits: tuple[str, ...]
    locations: tuple[SweepLocation, ...]
    files_scanned: int
    bytes_scanned: int
    warnings: tuple[str, ...]
