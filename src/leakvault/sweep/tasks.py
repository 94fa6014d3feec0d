"""What runs on a Dask worker: preparing one repository, scanning one range of its commits.

Both are plain functions of plain, picklable arguments, so the same code runs on a
`LocalCluster` and on a remote cluster. A worker builds its `Scanner` once per configuration and
keeps it for every task it is given (loading and compiling the rules is the costly part).
Everything a task returns is redacted: no secret value leaves the worker.
"""

from __future__ import annotations

import pickle
from hashlib import sha256

import pathspec

from leakvault.errors import LeakvaultError
from leakvault.scanner.chunk_scanner import Scanner
from leakvault.scanner.config import ScanConfig
from leakvault.scanner.findings.fingerprint import secret_hash
from leakvault.scanner.findings.redact import redact
from leakvault.scanner.git_scan import scan_git_items
from leakvault.scanner.pipeline import build_scanner
from leakvault.scanner.report.common import previews
from leakvault.scanner.sources.git import GitScope, HistoryReader
from leakvault.sweep.model import CommitRange, Failure, Prepared, RangeResult, Repository, SweepLocation
from leakvault.sweep.repos import RepositoryError, current_tips, ensure_mirror, new_commits

_scanners: dict[str, Scanner] = {}  # per worker process: configuration digest -> scanner


def _scanner(config: ScanConfig, engine: str) -> Scanner:
    key = sha256(pickle.dumps((config, engine))).hexdigest()
    scanner = _scanners.get(key)
    if scanner is None:
        scanner = _scanners[key] = build_scanner(config, engine=engine)
    return scanner


def prepare_repository(repository: Repository, scanned_tips: tuple[str, ...]) -> Prepared | Failure:
    """Clone or fetch the repository, then list the commits no finished sweep has scanned."""
    try:
        ensure_mirror(repository)
        tips = current_tips(repository)
        return Prepared(repository, tips, new_commits(repository, tips, scanned_tips))
    except RepositoryError as exc:
        return Failure(repository, str(exc))


def _scope(repository: Repository, config: ScanConfig) -> GitScope:
    # A mirror has no work tree, so the scope is made here rather than from a working directory;
    # paths in findings are then the paths inside the repository.
    spec = pathspec.GitIgnoreSpec.from_lines(config.exclude) if config.exclude else None
    return GitScope(root=repository.git_dir, cwd=repository.git_dir, max_size=config.max_file_size, exclude=spec)


def scan_range(commit_range: CommitRange, config: ScanConfig, engine: str, order_base: int) -> RangeResult | Failure:
    """Scan what the range's commits added, each secret once (as ``scan --git`` does), and return
    redacted locations ordered by where the walk met them."""
    repository = commit_range.repository
    scanner = _scanner(config, engine)
    position = {sha: index for index, sha in enumerate(commit_range.commits)}
    try:
        with HistoryReader(_scope(repository, config)) as reader:
            result = scan_git_items(scanner, reader.items(commit_range.commits), once_per_secret=True)
    except LeakvaultError as exc:  # git refused: the repository changed under us or is damaged
        return Failure(repository, str(exc))
    shown = previews(result.findings, reveal=False)
    locations = []
    for finding, preview in zip(result.findings, shown, strict=True):
        commit = finding.commit
        sha = commit.sha if commit else ""
        locations.append(
            SweepLocation(
                repository=repository.name,
                rule_id=finding.rule_id,
                secret_hash=secret_hash(finding.secret),
                path=finding.path,
                line=finding.line,
                column=finding.column,
                end_line=finding.end_line,
                end_column=finding.end_column,
                commit=sha,
                author=commit.author if commit else "",
                email=commit.email if commit else "",
                date=commit.date if commit else "",
                secret_redacted=redact(finding.secret),
                preview=preview,
                entropy=finding.entropy,
                order=order_base + position.get(sha, 0),
            )
        )
    return RangeResult(
        repository=repository.name,
        index=commit_range.index,
        commits=commit_range.commits,
        locations=tuple(locations),
        files_scanned=result.stats.files_scanned,
        bytes_scanned=result.stats.bytes_scanned,
        warnings=tuple(f"{repository.name}: {warning}" for warning in result.warnings),
    )
