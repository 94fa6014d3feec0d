"""``leakvault baseline create|update``: record accepted findings, and prune the record later."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import click

from leakvault.cli.options import history_options, write_output
from leakvault.errors import ConfigError, UsageError
from leakvault.scanner.config import load_config
from leakvault.scanner.findings.baseline import (
    DEFAULT_BASELINE,
    Baseline,
    BaselineEntry,
    entries_for,
    load_baseline,
    parse_date,
    render_baseline,
    updated_baseline,
)
from leakvault.scanner.findings.fingerprint import fingerprint_key
from leakvault.scanner.model import ScanResult
from leakvault.scanner.pipeline import build_scanner
from leakvault.scanner.scan_target import ScanTarget, run_target


def _scan(target: ScanTarget, config_path: str | None, cwd: Path) -> ScanResult:
    config = load_config(config_path, cwd)
    return run_target(target, config, build_scanner(config))


def _relative_target(target: ScanTarget, directory: Path) -> ScanTarget:
    """The target with its paths relative to the baseline's directory, as the file records them."""
    if target.staged:
        raise UsageError("a baseline records files or history, not the index; drop --staged")
    base = directory.resolve()
    paths = tuple(Path(os.path.relpath(Path(path).resolve(), base)).as_posix() for path in target.paths)
    return ScanTarget(paths, False, target.git_range, target.since, target.until)


@click.group()
def baseline() -> None:
    """Record today's findings so later scans report only new ones."""


@baseline.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("-o", "--output", default=DEFAULT_BASELINE, show_default=True, metavar="FILE", help="Baseline file.")
@history_options("Record the findings of a history scan instead (default range: all refs).")
@click.option("--config", "config_path", metavar="FILE", help="Config file for the scan.")
@click.option("--reason", help="Why these findings are accepted (stored in every new entry).")
@click.option("--owner", help="Who answers for them (stored in every new entry).")
@click.option("--expires", metavar="YYYY-MM-DD", help="Report them again after this day.")
def create(
    paths: tuple[str, ...],
    output: str,
    git_range: str | None,
    since: str | None,
    until: str | None,
    config_path: str | None,
    reason: str | None,
    owner: str | None,
    expires: str | None,
) -> int:
    """Scan PATHS (default '.') and write every finding's fingerprint to FILE.

    Entries already in FILE keep their reason, owner and expiry."""
    annotate = BaselineEntry("", "", "", reason, owner, parse_date(expires, "--expires") if expires else None)
    target = ScanTarget.from_options(paths or ((".",) if git_range is None else ()), False, git_range, since, until)
    result = _scan(target, config_path, Path.cwd())
    entries = entries_for(result.findings, annotate)
    previous: dict[str, BaselineEntry] = {}
    if os.path.exists(output):
        try:
            previous = load_baseline(output).by_fingerprint()
        except ConfigError:
            previous = {}  # an unreadable old file is replaced, as `create` asks
    entries = [previous.get(entry.fingerprint, entry) for entry in entries]
    recorded = _relative_target(target, Path(output).parent)
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    write_output(render_baseline(Baseline(tuple(entries), fingerprint_key()[1], recorded.describe())), output)
    click.echo(f"leakvault: baseline {output}: {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}", err=True)
    return 0


@baseline.command()
@click.argument("file", default=DEFAULT_BASELINE, type=click.Path())
@click.option("--add-new", is_flag=True, help="Also add findings the baseline does not have yet.")
@click.option("--config", "config_path", metavar="FILE", help="Config file for the scan.")
def update(file: str, add_new: bool, config_path: str | None) -> int:
    """Scan again what FILE was made from; drop entries that no longer occur, keep the reasons."""
    old = load_baseline(file)
    directory = Path(file).parent.resolve()
    recorded = ScanTarget.from_record(old.scan or {"paths": ["."]})
    paths = tuple(str(directory / path) for path in recorded.paths)
    if not paths and recorded.git_range is None:
        paths = (str(directory),)
    target = ScanTarget(paths, False, recorded.git_range, recorded.since, recorded.until)
    config = str(Path(config_path).resolve()) if config_path else None
    previous_cwd = Path.cwd()
    os.chdir(directory)  # the recorded scan ran here (history scans use this repository)
    try:
        result = _scan(target, config, directory)
    finally:
        os.chdir(previous_cwd)
    new, summary = updated_baseline(old, result.findings, add_new=add_new)
    write_output(render_baseline(new), file)
    expired = sum(1 for entry in new.entries if entry.is_expired(date.today()))
    click.echo(
        f"leakvault: baseline {file}: kept {summary.kept}, pruned {summary.pruned}, added {summary.added}"
        + (f"; {expired} expired (scans report them again)" if expired else ""),
        err=True,
    )
    return 0
