"""Driving a sweep on a Dask cluster: prepare every repository, scan every range, store each
result the moment it arrives.

Dask does the scheduling and the fault handling: a task whose worker dies is run again on
another worker (up to Dask's ``allowed-failures``), and only the client writes the store, one
transaction per finished task, so a task run twice cannot count twice. Without ``--scheduler`` a
`LocalCluster` of worker processes runs on this machine; with it, the same tasks go to a remote
scheduler, whose workers must see the repositories and the state folder at the same paths.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any

from leakvault.errors import UsageError
from leakvault.scanner.config import ScanConfig
from leakvault.sweep.model import Failure, Prepared, RangeResult, Repository
from leakvault.sweep.plan import DEFAULT_RANGE_COMMITS, split_commits
from leakvault.sweep.repos import check_source, name_repositories
from leakvault.sweep.store import ResultsStore
from leakvault.sweep.tasks import prepare_repository, scan_range

if TYPE_CHECKING:
    from distributed import Client


@dataclass(frozen=True, slots=True)
class SweepOptions:
    sources: tuple[str, ...]
    state_dir: str
    config: ScanConfig = field(default_factory=ScanConfig)
    engine: str = "auto"
    scheduler: str | None = None  # a Dask scheduler address; None starts a LocalCluster
    workers: int | None = None  # LocalCluster size; None: the number of CPUs
    range_commits: int = DEFAULT_RANGE_COMMITS


@dataclass(slots=True)
class SweepProgress:
    """Counts for a progress display, updated as results arrive."""

    repositories: int = 0
    done: int = 0
    failed: int = 0
    ranges_done: int = 0
    ranges_total: int = 0
    commits_scanned: int = 0
    bytes_scanned: int = 0
    findings: int = 0
    started: float = field(default_factory=time.monotonic)


@dataclass(slots=True)
class SweepSummary:
    repositories: list[Repository]
    failed: dict[str, str]
    progress: SweepProgress
    warnings: list[str]


def _distributed() -> Any:
    try:
        import distributed  # optional and slow (~1 s): only a sweep imports it
    except ImportError:
        raise UsageError("leakvault sweep needs Dask: pip install 'leakvault[distributed]'") from None
    return distributed


@contextmanager
def _client(options: SweepOptions) -> Iterator[Client]:
    distributed = _distributed()
    if os.environ.get("LEAKVAULT_DEBUG") != "1":  # Dask's own chatter only when debugging
        logging.getLogger("distributed").setLevel(logging.ERROR)
    if options.scheduler:
        try:
            client = distributed.Client(options.scheduler, timeout="20s")
        except OSError as exc:
            raise UsageError(
                f"cannot reach the Dask scheduler at {options.scheduler} ({exc}); check the address"
            ) from None
        with client:
            yield client
        return
    workers = options.workers or len(os.sched_getaffinity(0))
    with (
        distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops a sweep the way Ctrl-C does: what finished is already stored."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _failure_reason(exc: BaseException) -> str:
    if type(exc).__name__ == "KilledWorker":
        return "its task killed every worker that ran it (out of memory?); see the Dask worker logs"
    # Only the type: a message raised while scanning might quote what was being scanned.
    return f"scanning failed ({type(exc).__name__}); rerun with --debug on one worker to see why"


def run_sweep(options: SweepOptions, on_progress: Callable[[SweepProgress], None] | None = None) -> SweepSummary:
    """Sweep ``options.sources`` into the store in ``options.state_dir``; what finished stays
    stored if the sweep is interrupted."""
    for source in options.sources:
        check_source(source)
    repositories = name_repositories(options.sources, options.state_dir)
    if not repositories:
        raise UsageError("no repositories to sweep: name paths or URLs, or --repos-file FILE")
    store = ResultsStore(options.state_dir)
    summary = SweepSummary(repositories, {}, SweepProgress(repositories=len(repositories)), [])
    try:
        for repository in repositories:
            store.register(repository.name, repository.source)
            store.mark_pending(repository.name)
        with _sigterm_as_interrupt(), _client(options) as client:
            _Sweep(client, store, options, summary, on_progress).run()
    finally:
        store.close()
    return summary


class _Sweep:
    """One run's bookkeeping: which futures belong to which repository, what each still awaits."""

    def __init__(
        self,
        client: Client,
        store: ResultsStore,
        options: SweepOptions,
        summary: SweepSummary,
        on_progress: Callable[[SweepProgress], None] | None,
    ) -> None:
        self.client: Any = client  # distributed leaves much of Client unannotated
        self.store = store
        self.options = options
        self.summary = summary
        self.on_progress = on_progress
        self.order_base = store.next_order_base()
        self.outstanding: dict[str, int] = {}  # repository -> ranges not yet stored
        self.tips: dict[str, tuple[str, ...]] = {}
        self.futures_of: dict[str, list[Any]] = {}  # repository -> its range futures (to cancel on failure)
        self.owner: dict[object, Repository] = {}  # future key -> repository

    def run(self) -> None:
        distributed = _distributed()
        # Sent to every worker once, not with each of thousands of tasks.
        self.config = self.client.scatter(self.options.config, broadcast=True)
        pending = distributed.as_completed()
        for repository in self.summary.repositories:
            future = self.client.submit(
                prepare_repository, repository, self.store.scanned_tips(repository.name), pure=False
            )
            self.owner[future.key] = repository
            pending.add(future)
        for future in pending:
            repository = self.owner[future.key]
            if repository.name in self.summary.failed:
                continue
            try:
                outcome = future.result()
            except Exception as exc:  # the task raised, or killed its workers
                outcome = Failure(repository, _failure_reason(exc))
            if isinstance(outcome, Prepared):
                for new in self._ranges(outcome):
                    pending.add(new)
            elif isinstance(outcome, RangeResult):
                self._store(repository, outcome)
            else:
                self._fail(outcome)
            if self.on_progress is not None:
                self.on_progress(self.summary.progress)

    def _ranges(self, prepared: Prepared) -> list[Any]:
        repository = prepared.repository
        self.tips[repository.name] = prepared.tips
        already = self.store.scanned_commits(repository.name)  # ranges an interrupted sweep finished
        commits = [sha for sha in prepared.new_commits if sha not in already]
        ranges = split_commits(repository, commits, self.options.range_commits)
        if not ranges:
            self._finish(repository)
            return []
        self.outstanding[repository.name] = len(ranges)
        self.summary.progress.ranges_total += len(ranges)
        futures = []
        for commit_range, offset in ranges:
            future = self.client.submit(
                scan_range, commit_range, self.config, self.options.engine, self.order_base + offset, pure=False
            )
            self.owner[future.key] = repository
            futures.append(future)
        self.futures_of[repository.name] = futures
        return futures

    def _store(self, repository: Repository, result: RangeResult) -> None:
        self.store.add(result)
        progress = self.summary.progress
        progress.ranges_done += 1
        progress.commits_scanned += len(result.commits)
        progress.bytes_scanned += result.bytes_scanned
        progress.findings += len(result.locations)
        self.summary.warnings.extend(result.warnings)
        self.outstanding[repository.name] -= 1
        if self.outstanding[repository.name] == 0:
            self._finish(repository)

    def _finish(self, repository: Repository) -> None:
        self.store.finish(repository.name, self.tips[repository.name])
        self.summary.progress.done += 1

    def _fail(self, failure: Failure) -> None:
        name = failure.repository.name
        self.summary.failed[name] = failure.reason
        self.summary.progress.failed += 1
        self.store.fail(name, failure.reason)
        for future in self.futures_of.get(name, []):
            future.cancel()
