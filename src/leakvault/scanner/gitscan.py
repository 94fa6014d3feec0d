"""Scanning the git index and git history: the items from `gitsource` through the `Scanner`.

History reports each secret once, at the commit that introduced it: commits arrive parents
first, and a fingerprint (rule, path, secret) met in one commit is not reported again by a later
one (it may appear there again through a merge, a revert, a re-edited line or a cherry-pick).

A large history is scanned by a fork pool: this process parses git's output and sends the items
in batches to ``jobs`` workers, which inherit the `Scanner`; their outcomes come back and are
taken in the order the items were sent, so "the first commit that has it" means the same as in a
scan without a pool. A small history (and every ``--staged`` run) stays in this process.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from leakvault.scanner.api import POOL_MIN_BYTES, POOL_MIN_FILES, default_jobs, record_skip, sort_findings
from leakvault.scanner.derived import expand_chunk
from leakvault.scanner.engine import Scanner
from leakvault.scanner.gitsource import (
    BlobChange,
    GitItem,
    iter_history,
    iter_staged,
    make_scope,
    release_inherited_pipes,
)
from leakvault.scanner.model import Chunk, Finding, ScanResult
from leakvault.scanner.source import Skipped

if TYPE_CHECKING:
    from concurrent.futures import Future

# A batch closes at this many bytes or items. History items are hunks, often a few hundred
# bytes; a batch of ~1 MB costs the pool well under 1% and leaves at most ~1 MB of scanning to
# one worker at the end.
BATCH_BYTES = 1 << 20
BATCH_ITEMS = 2048
IN_FLIGHT_PER_JOB = 3

_worker_scanner: Scanner | None = None  # set in the parent before forking; workers inherit it


@dataclass(slots=True)
class _Outcome:
    """What scanning one item gave: its findings and warnings, in the order the scan met them."""

    sha: str
    path: str
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bytes_scanned: int = 0
    timeouts: int = 0


def _scan(scanner: Scanner, chunk: Chunk, outcome: _Outcome) -> list[Finding]:
    findings: list[Finding] = []
    for part in expand_chunk(chunk):
        outcome.bytes_scanned += len(part.data)
        result = scanner.scan_chunk(part)
        findings.extend(result.findings)
        outcome.warnings.extend(result.warnings)
        outcome.timeouts += result.timeouts
    return findings


def _blob_findings(scanner: Scanner, change: BlobChange, outcome: _Outcome) -> list[Finding]:
    """Findings in the new version whose fingerprint the old version did not have."""
    new = _scan(scanner, Chunk(path=change.path, data=change.new, commit=change.commit), outcome)
    if change.old is None or not new:
        return new
    scratch = _Outcome(outcome.sha, outcome.path)  # the old version's findings are only compared
    old = {f.fingerprint for f in _scan(scanner, Chunk(path=change.path, data=change.old), scratch)}
    return [finding for finding in new if finding.fingerprint not in old]


def _scan_item(scanner: Scanner, item: GitItem) -> _Outcome | Skipped:
    if isinstance(item, Skipped):
        return item
    outcome = _Outcome(item.commit.sha if item.commit else "", item.path)
    if isinstance(item, BlobChange):
        outcome.findings = _blob_findings(scanner, item, outcome)
    else:
        outcome.findings = _scan(scanner, item, outcome)
    return outcome


def _item_bytes(item: GitItem) -> int:
    if isinstance(item, Chunk):
        return len(item.data)
    if isinstance(item, BlobChange):
        return len(item.new) + len(item.old or b"")
    return 0


def _scan_batch(items: list[GitItem]) -> list[_Outcome | Skipped]:
    if _worker_scanner is None:
        raise RuntimeError("worker started without a scanner; the pool must be forked after it is set")
    return [_scan_item(_worker_scanner, item) for item in items]


def _batches(items: Iterable[GitItem]) -> Iterator[list[GitItem]]:
    batch: list[GitItem] = []
    size = 0
    for item in items:
        batch.append(item)
        size += _item_bytes(item)
        if size >= BATCH_BYTES or len(batch) >= BATCH_ITEMS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _outcomes(scanner: Scanner, items: Iterable[GitItem], jobs: int) -> Iterator[_Outcome | Skipped]:
    """Each item's outcome, in the items' order. The first items are scanned in this process;
    once they pass both of the directory scan's pool thresholds, the rest go to a pool, whose
    workers inherit the patterns this process compiled meanwhile (instead of each compiling them)."""
    items = iter(items)
    size = 0
    for count, item in enumerate(items, 1):
        yield _scan_item(scanner, item)
        size += _item_bytes(item)
        if jobs > 1 and count >= POOL_MIN_FILES and size >= POOL_MIN_BYTES:
            yield from _pooled(scanner, _batches(items), jobs, size)
            return


def _pooled(
    scanner: Scanner, batches: Iterator[list[GitItem]], jobs: int, expected: int
) -> Iterator[_Outcome | Skipped]:
    global _worker_scanner
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    scanner.prepare(expected)
    _worker_scanner = scanner
    in_flight: deque[Future[list[_Outcome | Skipped]]] = deque()
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=get_context("fork"), initializer=release_inherited_pipes
    ) as pool:
        for batch in batches:
            in_flight.append(pool.submit(_scan_batch, batch))
            # Take finished batches as they come, in order; wait only when too many are out.
            while in_flight and (len(in_flight) > IN_FLIGHT_PER_JOB * jobs or in_flight[0].done()):
                yield from in_flight.popleft().result()
        while in_flight:
            yield from in_flight.popleft().result()


def scan_git_items(scanner: Scanner, items: Iterable[GitItem], *, once_per_secret: bool, jobs: int = 1) -> ScanResult:
    """Scan what a git source yields. With ``once_per_secret`` (history) a fingerprint is
    reported only in the first commit that has it. ``jobs`` > 1 allows a pool of that many
    workers when the items are many."""
    result = ScanResult()
    first_commit: dict[str, str] = {}  # fingerprint -> the commit that introduced it
    last_file: tuple[str, str] | None = None
    for outcome in _outcomes(scanner, items, jobs):
        if isinstance(outcome, Skipped):
            record_skip(outcome, result.stats, result.warnings)
            continue
        if (outcome.sha, outcome.path) != last_file:  # one file of one commit may come as several hunks
            last_file = (outcome.sha, outcome.path)
            result.stats.files_scanned += 1
        result.stats.bytes_scanned += outcome.bytes_scanned
        result.stats.regex_timeouts += outcome.timeouts
        result.warnings.extend(outcome.warnings)
        for finding in outcome.findings:
            if once_per_secret:
                introduced = first_commit.setdefault(finding.fingerprint, outcome.sha)
                if introduced != outcome.sha:
                    continue
            result.findings.append(finding)
    sort_findings(result)
    return result


def scan_staged(
    scanner: Scanner, paths: Sequence[str] = (), *, exclude: Sequence[str] | None = None, cwd: str | None = None
) -> ScanResult:
    """What the next commit would add (``leakvault scan --staged``); ``paths`` restrict the scan to
    those files (pre-commit passes the staged file names). Always in this process."""
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
    jobs: int | None = None,
) -> ScanResult:
    """Every line added in ``rev_range`` (default: all refs), each secret once
    (``leakvault scan --git``); ``jobs`` workers (default: the CPUs) for a large history."""
    config = scanner.config
    scope = make_scope(config.exclude, config.max_file_size, paths, cwd)
    items = iter_history(scope, rev_range, since, until)
    return scan_git_items(scanner, items, once_per_secret=True, jobs=default_jobs() if jobs is None else jobs)
