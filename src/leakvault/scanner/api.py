"""The in-process scanning API: ``leakvault.scan(paths, config) -> ScanResult``.

Small scans (a pre-commit run) stay in this process; larger ones fan batches of paths out to a
pool of forked workers that inherit the already-compiled `Scanner`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from leakvault.errors import UsageError
from leakvault.patterns.loader import load_builtin_rules
from leakvault.scanner.config import ScanConfig, load_config
from leakvault.scanner.engine import Scanner, select_rules
from leakvault.scanner.model import Chunk, ScanResult, ScanStats
from leakvault.scanner.source import FileRef, Skipped, SkipReason, iter_file_chunks, iter_files, read_stdin

# Below this many files a pool costs more (fork + pickling) than it saves.
POOL_THRESHOLD_FILES = 48
BATCH_FILES = 32

_worker_scanner: Scanner | None = None  # set in the parent before forking; workers inherit it


def build_scanner(config: ScanConfig) -> Scanner:
    """A scanner over the built-in rules as the config selects them."""
    return Scanner(select_rules(load_builtin_rules(), config), config)


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


def scan_chunks(scanner: Scanner, chunks: Iterable[Chunk | Skipped], result: ScanResult) -> None:
    """Scan chunks in this process, accumulating into ``result``."""
    for item in chunks:
        if isinstance(item, Skipped):
            record_skip(item, result.stats, result.warnings)
            continue
        if item.location is None:  # derived chunks (notebook cells, decoded values) belong to a counted file
            result.stats.files_scanned += 1
        result.stats.bytes_scanned += len(item.data)
        outcome = scanner.scan_chunk(item)
        result.findings.extend(outcome.findings)
        result.warnings.extend(outcome.warnings)
        result.stats.regex_timeouts += outcome.timeouts


def _scan_batch(refs: list[FileRef]) -> ScanResult:
    if _worker_scanner is None:
        raise RuntimeError("worker started without a scanner; the pool must be forked after build_scanner")
    result = ScanResult()
    max_size = _worker_scanner.config.max_file_size
    scan_chunks(_worker_scanner, iter_file_chunks(refs, max_size), result)
    return result


def _scan_files(scanner: Scanner, refs: list[FileRef], jobs: int, result: ScanResult) -> None:
    global _worker_scanner
    max_size = scanner.config.max_file_size
    if jobs <= 1 or len(refs) < POOL_THRESHOLD_FILES:
        scan_chunks(scanner, iter_file_chunks(refs, max_size), result)
        return
    _worker_scanner = scanner
    batches = [refs[i : i + BATCH_FILES] for i in range(0, len(refs), BATCH_FILES)]
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as pool:
        for partial in pool.map(_scan_batch, batches):
            result.findings.extend(partial.findings)
            result.warnings.extend(partial.warnings)
            result.stats.merge(partial.stats)


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def sort_findings(result: ScanResult) -> None:
    result.findings.sort(key=lambda f: (f.path, f.commit.sha if f.commit else "", f.line, f.column, f.rule_id))


def scan(
    paths: Sequence[str | os.PathLike[str]] = (".",),
    config: ScanConfig | None = None,
    *,
    jobs: int | None = None,
    scanner: Scanner | None = None,
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
    refs = list(iter_files(file_names, config.exclude)) if file_names else []
    _scan_files(scanner, refs, jobs if jobs is not None else default_jobs(), result)
    sort_findings(result)
    return result
