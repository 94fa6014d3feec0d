"""What a scan reads: paths (the default), the git index, or a range of git history.

One place turns the command-line choices into a scan, so ``leakvault scan``, ``leakvault
baseline create/update`` and the GitHub Action agree on what each choice means.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from leakvault.errors import UsageError
from leakvault.scanner.chunk_scanner import Scanner
from leakvault.scanner.config import ScanConfig
from leakvault.scanner.model import ScanResult
from leakvault.scanner.pipeline import scan
from leakvault.scanner.progress import ScanProgress

# pre-commit sets these for pre-push hooks (and for `pre-commit run --from-ref X --to-ref Y`).
PRE_COMMIT_FROM = "PRE_COMMIT_FROM_REF"
PRE_COMMIT_TO = "PRE_COMMIT_TO_REF"


# What a history bound may be: git reads almost any text as a date ("notadate" as now), so a typo
# would silently scan nothing. Accepted: ISO 8601 dates and times, @<unix seconds>, "N units ago"
# (spaces or dots), and the words git documents.
_GIT_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"
    r"|@\d+"
    r"|\d+[ .]+(second|minute|hour|day|week|month|year)s?[ .]+ago"
    r"|yesterday|today|now|noon|midnight",
    re.IGNORECASE,
)


def check_git_date(option: str, value: str) -> None:
    """A `UsageError` unless ``value`` is a date git reads as the user meant."""
    if not _GIT_DATE.fullmatch(value.strip()):
        raise UsageError(f"{option} {value!r} is not a date: use 2024-01-31, '2 weeks ago' or @<unix seconds>")


@dataclass(frozen=True, slots=True)
class ScanTarget:
    """Paths, or ``staged``, or a history range (``git_range`` "" = every ref; None = not history)."""

    paths: tuple[str, ...] = ()
    staged: bool = False
    git_range: str | None = None
    since: str | None = None
    until: str | None = None

    @classmethod
    def from_options(
        cls, paths: tuple[str, ...], staged: bool, git_range: str | None, since: str | None, until: str | None
    ) -> ScanTarget:
        """Check the combination of options; a contradiction is a `UsageError`."""
        if staged and git_range is not None:
            raise UsageError("--staged and --git cannot be combined: scan the index or history, not both")
        if (since or until) and git_range is None:
            raise UsageError("--since/--until need --git: they bound the commits of a history scan")
        if (staged or git_range is not None) and "-" in paths:
            raise UsageError("'-' (stdin) cannot be combined with --staged or --git")
        for option, value in (("--since", since), ("--until", until)):
            if value is not None:
                check_git_date(option, value)
        return cls(paths=paths, staged=staged, git_range=git_range, since=since, until=until)

    def history_range(self) -> str | None:
        """The range to scan: as given, else the pushed range pre-commit announces, else all refs."""
        if self.git_range:
            return self.git_range
        start, end = os.environ.get(PRE_COMMIT_FROM), os.environ.get(PRE_COMMIT_TO)
        if start and end:
            return f"{start}..{end}"
        return None

    def describe(self) -> dict[str, Any]:
        """A JSON-ready record of the target (stored in baselines so `update` can repeat it)."""
        if self.staged:
            return {"staged": True}
        if self.git_range is not None:
            record: dict[str, Any] = {"git": self.git_range}
            if self.since:
                record["since"] = self.since
            if self.until:
                record["until"] = self.until
            if self.paths:
                record["paths"] = list(self.paths)
            return record
        return {"paths": list(self.paths or (".",))}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ScanTarget:
        paths = record.get("paths", [])
        if not isinstance(paths, list) or not all(isinstance(path, str) for path in paths):
            raise UsageError("the baseline's 'scan.paths' must be a list of strings")
        git = record.get("git")
        return cls.from_options(
            tuple(paths),
            bool(record.get("staged")),
            git if isinstance(git, str) else None,
            record.get("since"),
            record.get("until"),
        )


def run_target(
    target: ScanTarget,
    config: ScanConfig,
    scanner: Scanner,
    jobs: int | None = None,
    progress: ScanProgress | None = None,
) -> ScanResult:
    """Scan ``target`` with ``scanner`` (built from ``config``); ``progress`` hears of long work."""
    if target.staged:
        from leakvault.scanner.git_scan import scan_staged  # git plumbing only for --staged and --git: start-up

        return scan_staged(scanner, target.paths)
    if target.git_range is not None:
        from leakvault.scanner.git_scan import scan_history  # as above

        return scan_history(
            scanner,
            target.history_range(),
            since=target.since,
            until=target.until,
            paths=target.paths,
            jobs=jobs,
            progress=progress,
        )
    return scan(list(target.paths) or ["."], config, jobs=jobs, scanner=scanner, progress=progress)
