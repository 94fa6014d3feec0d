"""The in-process scanning API: ``leakvault.scan(paths, config) -> ScanResult``.

Small scans (a pre-commit run) stay in this process and import nothing they do not use; larger
ones stream batches of paths, sized by bytes, to a pool of forked workers that inherit the
`Scanner` and its engine, while this process goes on walking the tree.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from leakvault.errors import UsageError
from leakvault.scanner.chunk_scanner import GENERIC_TAG, Scanner, owned_prefixes, select_rules
from leakvault.scanner.config import ScanConfig, load_config
from leakvault.scanner.engine.builtin_rules import builtin_rules
from leakvault.scanner.model import Chunk, ScanResult, ScanStats
from leakvault.scanner.progress import ScanProgress
from leakvault.scanner.sources.base64_values import drop_encoded_twins
from leakvault.scanner.sources.files import FileRef, Skipped, SkipReason, iter_file_chunks, iter_files, read_stdin

if TYPE_CHECKING:
    from concurrent.futures import Future

# A pool pays off only past both (forking and pickling cost ~10 ms; the engines read 80+ MB/s).
POOL_MIN_FILES = 16
POOL_MIN_BYTES = 4 << 20
# A batch closes at this many bytes or files: small enough to balance two workers on a tree
# with a few big files, large enough that per-batch overhead stays under 1%.
BATCH_BYTES = 2 << 20
BATCH_FILES = 256
IN_FLIGHT_PER_JOB = 3

_worker_scanner: Scanner | None = None  # set in the parent before forking; workers inherit it


def build_scanner(config: ScanConfig, engine: str = "auto") -> Scanner:
    """A scanner over the built-in rules as the config selects them (loaded from the rule cache)."""
    builtin = builtin_rules() if config.use_default_rules else ()
    # Formats owned by built-in rules stay owned when those rules are off (test-mode keys are off
    # by default precisely so that they are not reported, by the generic rules either).
    prefixes = owned_prefixes([*builtin, *config.extra_rules])
    return Scanner(select_rules(builtin, config), config, engine=engine, prefixes=prefixes)


def record_skip(skipped: Skipped, stats: ScanStats, warnings: list[str]) -> None:
    """Count a skipped file; warn about the ones the user would want to know about."""
    if skipped.reason is SkipReason.BINARY:
        stats.skipped_binary += 1
    elif skipped.reason is SkipReason.TOO_LARGE:
        stats.skipped_too_large += 1
        warnings.append(
            f"{skipped.display}: skipped, larger than the size cap ({skipped.detail}); raise max_file_size to scan it"
        )
    else:
        stats.skipped_unreadable += 1
        warnings.append(f"{skipped.display}: skipped, cannot be read ({skipped.detail})")


def scan_chunks(
    scanner: Scanner, chunks: Iterable[Chunk | Skipped], result: ScanResult, progress: ScanProgress | None = None
) -> None:
    """Scan chunks in this process, accumulating into ``result``."""
    for item in chunks:
        if isinstance(item, Skipped):
            record_skip(item, result.stats, result.warnings)
            if progress is not None:
                progress.done(items=1)
            continue
        if item.location is None:  # derived chunks (notebook cells, decoded values) belong to a counted file
            result.stats.files_scanned += 1
        result.stats.bytes_scanned += len(item.data)
        outcome = scanner.scan_chunk(item)
        result.findings.extend(outcome.findings)
        result.warnings.extend(outcome.warnings)
        result.stats.regex_timeouts += outcome.timeouts
        if progress is not None:
            progress.done(items=int(item.location is None), size=len(item.data), findings=len(outcome.findings))


def _scan_batch(refs: list[FileRef]) -> ScanResult:
    if _worker_scanner is None:
        raise RuntimeError("worker started without a scanner; the pool must be forked after build_scanner")
    result = ScanResult()
    max_size = _worker_scanner.config.max_file_size
    scan_chunks(_worker_scanner, iter_file_chunks(refs, max_size), result)
    return result


def _sized(refs: Iterable[FileRef], progress: ScanProgress | None = None) -> Iterator[tuple[FileRef, int]]:
    for ref in refs:
        try:
            size = os.stat(ref.absolute).st_size
        except OSError:
            size = 0  # the worker's read reports it
        if progress is not None:
            progress.planned(items=1, size=size)
        yield ref, size


def _batches(sized: Iterable[tuple[FileRef, int]]) -> Iterator[list[FileRef]]:
    batch: list[FileRef] = []
    batch_bytes = 0
    for ref, size in sized:
        batch.append(ref)
        batch_bytes += size
        if batch_bytes >= BATCH_BYTES or len(batch) >= BATCH_FILES:
            yield batch
            batch, batch_bytes = [], 0
    if batch:
        yield batch


def _merge(result: ScanResult, partial: ScanResult, progress: ScanProgress | None = None) -> None:
    result.findings.extend(partial.findings)
    result.warnings.extend(partial.warnings)
    result.stats.merge(partial.stats)
    if progress is not None:
        stats = partial.stats
        files = stats.files_scanned + stats.skipped_binary + stats.skipped_too_large + stats.skipped_unreadable
        progress.done(items=files, size=stats.bytes_scanned, findings=len(partial.findings))


def _scan_files(
    scanner: Scanner, refs: Iterable[FileRef], jobs: int, result: ScanResult, progress: ScanProgress | None = None
) -> None:
    max_size = scanner.config.max_file_size
    if jobs <= 1:
        counted = refs if progress is None else (ref for ref, _ in _sized(refs, progress))
        scan_chunks(scanner, iter_file_chunks(counted, max_size), result, progress)
        return
    sized = _sized(refs, progress)
    head: list[tuple[FileRef, int]] = []
    head_bytes = 0
    for ref, size in sized:
        head.append((ref, size))
        head_bytes += size
        if len(head) >= POOL_MIN_FILES and head_bytes >= POOL_MIN_BYTES:
            break
    else:  # the whole scan fits under the thresholds: no pool
        scan_chunks(scanner, iter_file_chunks((ref for ref, _ in head), max_size), result, progress)
        return
    _scan_in_pool(scanner, _batches(chain(head, sized)), jobs, head_bytes, result, progress)


def _scan_in_pool(
    scanner: Scanner,
    batches: Iterator[list[FileRef]],
    jobs: int,
    expected: int,
    result: ScanResult,
    progress: ScanProgress | None = None,
) -> None:
    global _worker_scanner
    # Only for a pool: ~10 ms of imports that a pre-commit run never needs.
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from multiprocessing import get_context

    scanner.prepare(expected)
    _worker_scanner = scanner
    pending: set[Future[ScanResult]] = set()
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as pool:
        for batch in batches:
            pending.add(pool.submit(_scan_batch, batch))
            if len(pending) >= IN_FLIGHT_PER_JOB * jobs:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    _merge(result, future.result(), progress)
        for future in pending:
            _merge(result, future.result(), progress)


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def sort_findings(result: ScanResult) -> None:
    """The last step of every scan: one finding per base64 secret (see `drop_encoded_twins`), then
    a stable order."""
    result.findings[:] = drop_encoded_twins(result.findings, GENERIC_TAG)
    result.findings.sort(key=lambda f: (f.path, f.commit.sha if f.commit else "", f.line, f.column, f.rule_id))


def scan(
    paths: Sequence[str | os.PathLike[str]] = (".",),
    config: ScanConfig | None = None,
    *,
    jobs: int | None = None,
    scanner: Scanner | None = None,
    progress: ScanProgress | None = None,
) -> ScanResult:
    """Scan files and directories (``"-"`` is standard input) and return every finding, sorted.

    Raises `UsageError` for a path that does not exist and `ConfigError` for a bad config.
    """
    names = [os.fspath(path) for path in paths] or ["."]
    for name in names:
        if name != "-" and not os.path.lexists(name):
            raise UsageError(f"path '{name}' does not exist; check the spelling or the working directory")
    config = config if config is not None else load_config(None, Path.cwd())
    scanner = scanner or build_scanner(config)
    result = ScanResult()
    file_names = [name for name in names if name != "-"]
    if "-" in names:
        scan_chunks(scanner, [read_stdin(config.max_file_size)], result)
    if file_names:
        _scan_files(
            scanner,
            iter_files(file_names, config.exclude),
            jobs if jobs is not None else default_jobs(),
            result,
            progress,
        )
    sort_findings(result)
    return result
