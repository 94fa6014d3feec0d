"""Scanning the git index and git history: the items from `sources.git` through the `Scanner`.

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

from leakvault.scanner.chunk_scanner import Scanner
from leakvault.scanner.model import Chunk, Finding, ScanResult
from leakvault.scanner.pipeline import POOL_MIN_BYTES, POOL_MIN_FILES, default_jobs, record_skip, sort_findings
from leakvault.scanner.progress import ScanProgress
from leakvault.scanner.sources.expand import expand_chunk
from leakvault.scanner.sources.files import Skipped
from leakvault.scanner.sources.git import (
    BlobChange,
    GitItem,
    GitScope,
    HistoryReader,
    commit_files,
    commit_path_items,
    count_commits,
    iter_commits,
    iter_staged,
    make_scope,
    release_inherited_pipes,
)

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
# reads and scans about this much of a list and hands the rest back (see `_scan_commits`).
SCAN_IN_PLACE_BYTES = 2 << 20
# Items read but handed back unscanned, at most this much at a time (memory).
OVERFLOW_MAX_BYTES = 16 << 20
# Files of one commit handed back to be read apart: about this many bytes per list, and no
# more names than fit a command line comfortably.
PATHS_TASK_BYTES = 2 << 20
PATHS_MAX_FILES = 1000
PATHS_MAX_NAME_BYTES = 64 << 10

# Set in the parent before forking; workers inherit them.
_worker_scanner: Scanner | None = None
_worker_scope: GitScope | None = None
_worker_reader: HistoryReader | None = None  # each worker's own, started on its first task


@dataclass(slots=True)
class _Overflow:
    """Items a worker read but left for the pool to scan, in their order."""

    items: list[GitItem] = field(default_factory=list)
    size: int = 0


@dataclass(frozen=True, slots=True)
class _Commits:
    """Commits of a list a worker did not begin, handed back."""

    commits: list[str]


@dataclass(frozen=True, slots=True)
class _Paths:
    """The files of one commit a worker did not read, in lists for others to read at once."""

    commit: str
    groups: list[list[bytes]]


@dataclass(slots=True)
class _Outcome:
    """What scanning one item gave: its findings and warnings, in the order the scan met them."""

    sha: str
    path: str
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bytes_scanned: int = 0
    timeouts: int = 0


# What a worker returns: parts in item order, each scanned (outcomes) or handed back.
_Part = list[_Outcome | Skipped] | _Overflow | _Commits | _Paths


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
    of a whole tree is often followed by thousands of small commits). What a worker hands back
    goes out again at once, ahead of everything after it."""
    global _worker_scanner, _worker_scope
    # Only for a pool: ~10 ms of imports that a pre-commit run never needs.
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
            if count and all(isinstance(part, list) for part in parts):
                read = sum(_part_bytes(part) for part in parts if isinstance(part, list))
                bytes_per_commit = (bytes_per_commit + read / count) / 2
            expanded: list[tuple[Future[list[_Part]], int] | list[_Outcome | Skipped]] = []
            for part in parts:
                if isinstance(part, _Overflow):
                    expanded.extend((pool.submit(_scan_items, batch), 0) for batch in _item_batches(part.items))
                elif isinstance(part, _Commits):
                    expanded.append((pool.submit(_scan_commits, part.commits), 0))
                elif isinstance(part, _Paths):
                    expanded.extend((pool.submit(_scan_paths, part.commit, group), 0) for group in part.groups)
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


def _part_bytes(part: list[_Outcome | Skipped]) -> int:
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


def _worker() -> tuple[Scanner, HistoryReader, GitScope]:
    """In a worker: the inherited scanner and scope, and the worker's own reader (started once)."""
    global _worker_reader
    if _worker_scanner is None or _worker_scope is None:
        raise RuntimeError("worker started without a scanner; the pool must be forked after it is set")
    if _worker_reader is None:
        from multiprocessing.util import Finalize  # in pool workers only

        _worker_reader = HistoryReader(_worker_scope)
        Finalize(_worker_reader, _worker_reader.close, exitpriority=10)  # stop its git as the worker exits
    return _worker_scanner, _worker_reader, _worker_scope


def _scan_commits(commits: list[str]) -> list[_Part]:
    """In a worker: read and scan what ``commits`` added, up to about `SCAN_IN_PLACE_BYTES`.
    Past that, at the next file, hand the rest back, in order: the commits not begun; or the
    files not read of the commit being read, for other workers to read at the same time; or, for
    a commit whose files cannot be read apart (it deletes or renames), its items, read but not
    scanned."""
    scanner, reader, scope = _worker()
    parts = _Parts()
    scanned = in_commit = files_in_commit = 0
    last: tuple[str, bytes] | None = None  # (commit, path) of the file being read
    overflowing = False
    entries = reader.entries(commits)
    try:
        for info, path, item in entries:
            sha = info.sha if info is not None else ""
            if (sha, path) != last:  # a file starts
                if last is None or last[0] != sha:
                    in_commit = files_in_commit = 0
                    overflowing = False
                    if scanned >= SCAN_IN_PLACE_BYTES and sha in commits:
                        return parts.done(_Commits(commits[commits.index(sha) :]))
                elif scanned >= SCAN_IN_PLACE_BYTES and not overflowing and sha in commits:
                    groups = _rest_of_commit(scope, sha, path, in_commit / files_in_commit)
                    if groups is not None:
                        later = commits[commits.index(sha) + 1 :]
                        return parts.done(_Paths(sha, groups), *([_Commits(later)] if later else []))
                    overflowing = True
                last = (sha, path)
                files_in_commit += 1
            size = _item_bytes(item)
            in_commit += size
            if overflowing and parts.handed_back + size <= OVERFLOW_MAX_BYTES:
                parts.hand_back(item, size)
            else:
                parts.scanned(_scan_item(scanner, item))
                scanned += size
    finally:
        entries.close()  # if left early: stops this worker's git, which starts again for the next list
    return parts.done()


class _Parts:
    """A worker's result being built: runs of outcomes and of items handed back, in order."""

    def __init__(self) -> None:
        self._parts: list[_Part] = []
        self.handed_back = 0

    def scanned(self, outcome: _Outcome | Skipped) -> None:
        last = self._parts[-1] if self._parts else None
        if not isinstance(last, list):
            last = []
            self._parts.append(last)
        last.append(outcome)

    def hand_back(self, item: GitItem, size: int) -> None:
        last = self._parts[-1] if self._parts else None
        if not isinstance(last, _Overflow):
            last = _Overflow()
            self._parts.append(last)
        last.items.append(item)
        last.size += size
        self.handed_back += size

    def done(self, *rest: _Part) -> list[_Part]:
        return [*self._parts, *rest]


def _rest_of_commit(scope: GitScope, commit: str, path: bytes, bytes_per_file: float) -> list[list[bytes]] | None:
    """The files of ``commit`` from ``path`` on, in lists of about `PATHS_TASK_BYTES`; None if
    they cannot be read apart."""
    files = commit_files(scope, commit)
    if files is None or path not in files:
        return None
    per_list = max(1, min(PATHS_MAX_FILES, int(PATHS_TASK_BYTES / max(bytes_per_file, 1.0))))
    groups: list[list[bytes]] = [[]]
    names = 0
    for name in files[files.index(path) :]:
        if len(groups[-1]) >= per_list or names + len(name) > PATHS_MAX_NAME_BYTES:
            groups.append([])
            names = 0
        groups[-1].append(name)
        names += len(name) + 16
    return groups


def _scan_paths(commit: str, paths: list[bytes]) -> list[_Part]:
    """In a worker: read and scan some files of one commit."""
    scanner, _, scope = _worker()
    return [[_scan_item(scanner, item) for item in commit_path_items(scope, commit, paths)]]


def _scan_items(items: list[GitItem]) -> list[_Part]:
    """In a worker: scan items another worker read."""
    scanner, _, _ = _worker()
    return [[_scan_item(scanner, item) for item in items]]


def _collect(
    outcomes: Iterable[_Outcome | Skipped], *, once_per_secret: bool, progress: ScanProgress | None = None
) -> ScanResult:
    """The scan result of outcomes in source order. With ``once_per_secret`` (history) a
    fingerprint is reported only in the first commit that has it. ``progress`` counts commits."""
    result = ScanResult()
    first_commit: dict[str, str] = {}  # fingerprint -> the commit that introduced it
    last_file: tuple[str, str] | None = None
    for outcome in outcomes:
        if isinstance(outcome, Skipped):
            record_skip(outcome, result.stats, result.warnings)
            continue
        if (outcome.sha, outcome.path) != last_file:  # one file of one commit may come as several hunks
            if progress is not None and (last_file is None or last_file[0] != outcome.sha):
                progress.done(items=1)
            last_file = (outcome.sha, outcome.path)
            result.stats.files_scanned += 1
        result.stats.bytes_scanned += outcome.bytes_scanned
        result.stats.regex_timeouts += outcome.timeouts
        if progress is not None:
            progress.done(size=outcome.bytes_scanned, findings=len(outcome.findings))
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
    progress: ScanProgress | None = None,
) -> ScanResult:
    """Every line added in ``rev_range`` (default: all refs), each secret once
    (``leakvault scan --git``); ``jobs`` workers (default: the CPUs) for a large history."""
    config = scanner.config
    scope = make_scope(config.exclude, config.max_file_size, paths, cwd)
    if progress is not None:
        progress.planned(items=count_commits(scope, rev_range, since, until))
    commits = iter_commits(scope, rev_range, since, until)
    outcomes = _history_outcomes(scanner, scope, commits, default_jobs() if jobs is None else jobs)
    return _collect(outcomes, once_per_secret=True, progress=progress)
