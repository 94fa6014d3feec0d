"""Scanning the git index and git history: the items from `gitsource` through the `Scanner`.

History reports each secret once, at the commit that introduced it: commits arrive parents
first, and a fingerprint (rule, path, secret) met in one commit is not reported again by a later
one (it may appear there again through a merge, a revert, a re-edited line or a cherry-pick).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from leakvault.scanner.api import record_skip, sort_findings
from leakvault.scanner.derived import expand_chunk
from leakvault.scanner.engine import Scanner
from leakvault.scanner.gitsource import BlobChange, GitItem, iter_history, iter_staged, make_scope
from leakvault.scanner.model import Chunk, Finding, ScanResult
from leakvault.scanner.source import Skipped


def _scan(scanner: Scanner, chunk: Chunk, result: ScanResult) -> list[Finding]:
    findings: list[Finding] = []
    for part in expand_chunk(chunk):
        result.stats.bytes_scanned += len(part.data)
        outcome = scanner.scan_chunk(part)
        findings.extend(outcome.findings)
        result.warnings.extend(outcome.warnings)
        result.stats.regex_timeouts += outcome.timeouts
    return findings


def _blob_findings(scanner: Scanner, change: BlobChange, result: ScanResult) -> list[Finding]:
    """Findings in the new version whose fingerprint the old version did not have."""
    new = _scan(scanner, Chunk(path=change.path, data=change.new, commit=change.commit), result)
    if change.old is None or not new:
        return new
    scratch = ScanResult()  # the old version's findings are only compared, never reported
    old = {f.fingerprint for f in _scan(scanner, Chunk(path=change.path, data=change.old), scratch)}
    return [finding for finding in new if finding.fingerprint not in old]


def scan_git_items(scanner: Scanner, items: Iterable[GitItem], *, once_per_secret: bool) -> ScanResult:
    """Scan what a git source yields. With ``once_per_secret`` (history) a fingerprint is
    reported only in the first commit that has it."""
    result = ScanResult()
    first_commit: dict[str, str] = {}  # fingerprint -> the commit that introduced it
    last_file: tuple[str, str] | None = None
    for item in items:
        if isinstance(item, Skipped):
            record_skip(item, result.stats, result.warnings)
            continue
        sha = item.commit.sha if item.commit else ""
        if (sha, item.path) != last_file:  # one file of one commit may come as several hunks
            last_file = (sha, item.path)
            result.stats.files_scanned += 1
        if isinstance(item, BlobChange):
            findings = _blob_findings(scanner, item, result)
        else:
            findings = _scan(scanner, item, result)
        for finding in findings:
            if once_per_secret:
                introduced = first_commit.setdefault(finding.fingerprint, sha)
                if introduced != sha:
                    continue
            result.findings.append(finding)
    sort_findings(result)
    return result


def scan_staged(
    scanner: Scanner, paths: Sequence[str] = (), *, exclude: Sequence[str] | None = None, cwd: str | None = None
) -> ScanResult:
    """What the next commit would add (``leakvault scan --staged``); ``paths`` restrict the scan to
    those files (pre-commit passes the staged file names)."""
    config = scanner.config
    scope = make_scope(config.exclude if exclude is None else exclude, config.max_file_size, paths, cwd)
    return scan_git_items(scanner, iter_staged(scope), once_per_secret=False)


def scan_history(
    scanner: Scanner,
    rev_range: str | None = None,
    *,
    since: str | None = None,
    until: str | None = None,
    paths: Sequence[str] = (),
    cwd: str | None = None,
) -> ScanResult:
    """Every line added in ``rev_range`` (default: all refs), each secret once
    (``leakvault scan --git``)."""
    config = scanner.config
    scope = make_scope(config.exclude, config.max_file_size, paths, cwd)
    return scan_git_items(scanner, iter_history(scope, rev_range, since, until), once_per_secret=True)
