"""Scanning the git index and git history: the items from `gitsource` through the `Scanner`.

History reports each secret once, at the commit that introduced it: commits arrive parents
first, and a fingerprint (rule, path, secret) met in one commit is not reported again by a later
one (it may appear there again through a merge, a revert, a re-edited line or a cherry-pick).

A large history is scanned by a fork pool. This process scans the first commits itself; once
they pass the directory scan's pool thresholds, it hands the remaining commits out in lists to
``jobs`` workers, each of which reads those commits' patches through its own git process and
scans them with the `Scanner` it inherited (patterns compiled so far included). Outcomes are
taken in the order the lists were handed out, so "the first commit that has it" means the same
as without a pool. A small history (and every ``--staged`` run) stays in this process.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING

from leakvault.scanner.api import POOL_MIN_BYTES, POOL_MIN_FILES, default_jobs, record_skip, sort_findings
from leakvault.scanner.derived import expand_chunk
from leakvault.scanner.engine import Scanner
from leakvault.scanner.gitsource import (
    BlobChange,
    GitItem,
    GitScope,
    HistoryReader,
    iter_commits,
    iter_staged,
    make_scope,
    release_inherited_pipes,
)
from leakvault.scanner.model import Chunk, Finding, ScanResult
from leakvault.scanner.source import Skipped

if TYPE_CHECKING:
    from concurrent.futures import Future

# A worker is handed about this many bytes of added lines at a time (estimated from the commits
# seen so far): enough that handing out costs nothing, little enough to keep both workers busy
# to the end; and at most this many commits (git diffs a small commit in ~0.3 ms, handing out a
# list costs about as much as one).
TASK_BYTES = 1 << 20
TASK_MAX_COMMITS = 64
# Many small commits cost git more than their bytes tell (a diff per commit): a history of this
# many commits goes to a pool whatever its size. A pre-push range of a few commits never does.
POOL_MIN_COMMITS = 256
IN_FLIGHT_PER_JOB = 3
# One commit may add far more than a list's share (an initial import of a whole tree): a worker
# scans this much of a list and hands the rest of its items back, unscanned, to be spread over
# the pool in lists of `TASK_BYTES`; at most `OVERFLOW_MAX_BYTES` at a time (memory).
SCAN_IN_PLACE_BYTES = 2 << 20
OVERFLOW_MAX_BYTES = 16 << 20

# Set in the parent before forking; workers inherit them.
_worker_scanner: Scanner | None = None
_worker_scope: GitScope | None = None
_worker_reader: HistoryReader | None = None  # each worker's own, started on its first task


@dataclass(slots=True)
class _Overflow:
    """Items a worker read but left for the pool to scan, in their order."""

    items: list[GitItem] = field(default_factory=list)
    size: int = 0


@dataclass(slots=True)
class _Outcome:
    """What scanning one item gave: its findings and warnings, in the order the scan met them."""

    sha: str
    path: str
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bytes_scanned: int = 0
    timeouts: int = 0


# What a worker returns: parts in item order, each scanned (outcomes) or left over.
_Part = list[_Outcome | Skipped] | _Overflow


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


def _doubling(commits: Iterator[str]) -> Iterator[list[str]]:
    """Lists of 1, 2, 4, ... 64 commits: the scan can decide on a pool after little work either way."""
    size = 1
    while batch := list(islice(commits, size)):
        yield batch
        size = min(size * 2, TASK_MAX_COMMITS)


def _history_outcomes(
    scanner: Scanner, scope: GitScope, commits: Iterator[str], jobs: int
) -> Iterator[_Outcome | Skipped]:
    """Each history item's outcome, in commit order: the first commits' in this process, the
    rest's from a pool once those pass both of the directory scan's pool thresholds (or are many)."""
    seen_commits = seen_items = seen_bytes = 0
    with HistoryReader(scope) as reader:  # closed before the pool forks: workers start their own
        for batch in _doubling(commits):
            for item in reader.items(batch):
                yield _scan_item(scanner, item)
                seen_items += 1
                seen_bytes += _item_bytes(item)
            seen_commits += len(batch)
            large = seen_items >= POOL_MIN_FILES and seen_bytes >= POOL_MIN_BYTES
            if jobs > 1 and (large or seen_commits >= POOL_MIN_COMMITS):
                break
        else:
            return
    yield from _pooled(scanner, scope, commits, jobs, seen_bytes / seen_commits)


def _task_size(bytes_per_commit: float) -> int:
    return max(1, min(TASK_MAX_COMMITS, int(TASK_BYTES / max(bytes_per_commit, 1.0))))


def _pooled(
    scanner: Scanner, scope: GitScope, commits: Iterator[str], jobs: int, bytes_per_commit: float
) -> Iterator[_Outcome | Skipped]:
    """Hand ``commits`` out to a pool in lists of about `TASK_BYTES` of added lines, as
    estimated from the lists that came back (half the weight to the latest: an initial import
    of a whole tree is often followed by thousands of small commits). Items a worker hands back
    (`_Overflow`) go out again as lists of items, ahead of everything after them."""
    global _worker_scanner, _worker_scope
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    scanner.prepare(int(bytes_per_commit * _task_size(bytes_per_commit) * jobs))
    _worker_scanner, _worker_scope = scanner, scope
    # In order: results to come (with the number of commits asked for; 0 for lists of items)
    # and outcomes already here.
    pending: deque[tuple[Future[list[_Part]], int] | list[_Outcome | Skipped]] = deque()

    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=get_context("fork"), initializer=release_inherited_pipes
    ) as pool:

        def take() -> list[_Outcome | Skipped]:
            nonlocal bytes_per_commit
            entry = pending.popleft()
            if isinstance(entry, list):
                return entry
            future, count = entry
            parts = future.result()
            if count:
                read = sum(_part_bytes(part) for part in parts)
                bytes_per_commit = (bytes_per_commit + read / count) / 2
            expanded: list[tuple[Future[list[_Part]], int] | list[_Outcome | Skipped]] = []
            for part in parts:
                if isinstance(part, _Overflow):
                    expanded.extend((pool.submit(_scan_items, batch), 0) for batch in _item_batches(part.items))
                else:
                    expanded.append(part)
            pending.extendleft(reversed(expanded))
            return []

        def ready() -> bool:
            head = pending[0]
            return isinstance(head, list) or head[0].done()

        while batch := list(islice(commits, _task_size(bytes_per_commit))):
            pending.append((pool.submit(_scan_commits, batch), len(batch)))
            # Take finished lists as they come, in order; wait only when too many are out.
            while pending and (len(pending) > IN_FLIGHT_PER_JOB * jobs or ready()):
                yield from take()
        while pending:
            yield from take()


def _part_bytes(part: _Part) -> int:
    if isinstance(part, _Overflow):
        return part.size
    return sum(outcome.bytes_scanned for outcome in part if isinstance(outcome, _Outcome))


def _item_batches(items: list[GitItem]) -> Iterator[list[GitItem]]:
    batch: list[GitItem] = []
    size = 0
    for item in items:
        batch.append(item)
        size += _item_bytes(item)
        if size >= TASK_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _worker() -> tuple[Scanner, HistoryReader]:
    """In a worker: the inherited scanner, and the worker's own reader (started once)."""
    global _worker_reader
    if _worker_scanner is None or _worker_scope is None:
        raise RuntimeError("worker started without a scanner; the pool must be forked after it is set")
    if _worker_reader is None:
        from multiprocessing.util import Finalize

        _worker_reader = HistoryReader(_worker_scope)
        Finalize(_worker_reader, _worker_reader.close, exitpriority=10)  # stop its git as the worker exits
    return _worker_scanner, _worker_reader


def _scan_commits(commits: list[str]) -> list[_Part]:
    """In a worker: read what ``commits`` added; scan the first `SCAN_IN_PLACE_BYTES` of it and
    hand back what follows (up to `OVERFLOW_MAX_BYTES`; past that, scan again), all in order."""
    scanner, reader = _worker()
    parts: list[_Part] = []
    scanned = handed_back = 0
    for item in reader.items(commits):
        size = _item_bytes(item)
        last = parts[-1] if parts else None
        if scanned >= SCAN_IN_PLACE_BYTES and handed_back + size <= OVERFLOW_MAX_BYTES:
            if not isinstance(last, _Overflow):
                last = _Overflow()
                parts.append(last)
            last.items.append(item)
            last.size += size
            handed_back += size
            continue
        if not isinstance(last, list):
            last = []
            parts.append(last)
        last.append(_scan_item(scanner, item))
        scanned += size
    return parts


def _scan_items(items: list[GitItem]) -> list[_Part]:
    """In a worker: scan items another worker read."""
    scanner, _ = _worker()
    return [[_scan_item(scanner, item) for item in items]]


def _collect(outcomes: Iterable[_Outcome | Skipped], *, once_per_secret: bool) -> ScanResult:
    """The scan result of outcomes in source order. With ``once_per_secret`` (history) a
    fingerprint is reported only in the first commit that has it."""
    result = ScanResult()
    first_commit: dict[str, str] = {}  # fingerprint -> the commit that introduced it
    last_file: tuple[str, str] | None = None
    for outcome in outcomes:
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


def scan_git_items(scanner: Scanner, items: Iterable[GitItem], *, once_per_secret: bool) -> ScanResult:
    """Scan what a git source yields, in this process (see `_collect`)."""
    return _collect((_scan_item(scanner, item) for item in items), once_per_secret=once_per_secret)


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
    commits = iter_commits(scope, rev_range, since, until)
    outcomes = _history_outcomes(scanner, scope, commits, default_jobs() if jobs is None else jobs)
    return _collect(outcomes, once_per_secret=True)
