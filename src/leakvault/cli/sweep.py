"""``leakvault sweep``: many repositories' histories on a Dask cluster, one report."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from leakvault.cli.options import emit_warnings, write_output
from leakvault.scanner.report import FORMATS
from leakvault.sweep.plan import DEFAULT_RANGE_COMMITS
from leakvault.sweep.runner import SweepProgress


def _show_progress(enabled: bool) -> bool:
    return enabled and sys.stderr.isatty() and os.environ.get("CI", "").lower() not in ("1", "true")


def _status(progress: SweepProgress) -> str:
    elapsed = max(time.monotonic() - progress.started, 1e-6)
    remaining = progress.repositories - progress.done - progress.failed
    rate = progress.commits_scanned / elapsed
    return (
        f"repositories {progress.done} done, {progress.failed} failed, {remaining} to go; "
        f"ranges {progress.ranges_done}/{progress.ranges_total}; {progress.findings} findings; "
        f"{rate:.0f} commits/s"
    )


@click.command()
@click.argument("repos", nargs=-1)
@click.option("--repos-file", metavar="FILE", help="Read repositories (paths or git URLs) from FILE, one per line.")
@click.option(
    "--state",
    "state_dir",
    metavar="DIR",
    required=True,
    help="Folder for mirrors and results; a rerun with the same folder scans only new commits.",
)
@click.option("--scheduler", metavar="ADDRESS", help="A Dask scheduler (tcp://host:8786); default: a local cluster.")
@click.option("--workers", type=click.IntRange(min=1), help="Local cluster workers (default: number of CPUs).")
@click.option("--format", "format_name", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("-o", "--output", metavar="FILE", help="Write the report to FILE instead of stdout.")
@click.option("--config", "config_path", metavar="FILE", help="Scan config (rules, excludes) for every repository.")
@click.option("--baseline", "baseline_path", metavar="FILE", help="Do not report findings accepted in FILE.")
@click.option(
    "--engine", type=click.Choice(["auto", "hyperscan", "regex"]), default="auto", show_default=True, hidden=True
)
@click.option(
    "--range-commits",
    type=click.IntRange(min=1),
    default=DEFAULT_RANGE_COMMITS,
    show_default=True,
    help="Commits per task: a longer history is split into ranges scanned in parallel.",
)
@click.option("--exit-zero", is_flag=True, help="Report findings but exit 0 (failed repositories still exit 2).")
@click.option("--no-progress", is_flag=True, help="No progress line on stderr.")
def sweep(
    repos: tuple[str, ...],
    repos_file: str | None,
    state_dir: str,
    scheduler: str | None,
    workers: int | None,
    format_name: str,
    output: str | None,
    config_path: str | None,
    baseline_path: str | None,
    engine: str,
    range_commits: int,
    exit_zero: bool,
    no_progress: bool,
) -> int:
    """Scan the full history of many repositories on a Dask cluster into one report.

    Exit 0 clean, 1 findings, 2 errors or a repository that could not be scanned."""
    # Deferred: the scanner, rules and reports load only when this command runs, not for --help.
    from leakvault.errors import UsageError
    from leakvault.patterns.loader import load_builtin_rules
    from leakvault.scanner.config import load_config
    from leakvault.scanner.findings.baseline import use_baseline
    from leakvault.scanner.report import render
    from leakvault.sweep.report import sweep_result
    from leakvault.sweep.repos import read_repos_file
    from leakvault.sweep.runner import SweepOptions, run_sweep
    from leakvault.sweep.store import ResultsStore

    sources = [*repos, *(read_repos_file(repos_file) if repos_file else [])]
    if not sources:
        raise UsageError("no repositories to sweep: name paths or URLs, or --repos-file FILE")
    if scheduler and workers:
        raise UsageError("--workers sizes the local cluster; it cannot be used with --scheduler")
    config = load_config(config_path, Path.cwd())
    options = SweepOptions(
        sources=tuple(sources),
        state_dir=os.path.abspath(state_dir),
        config=config,
        engine=engine,
        scheduler=scheduler,
        workers=workers,
        range_commits=range_commits,
    )
    live = _show_progress(not no_progress)

    def show(progress: SweepProgress) -> None:
        click.echo(f"\r\033[K{_status(progress)}", err=True, nl=False)

    latest = SweepProgress()

    def watch(progress: SweepProgress) -> None:
        nonlocal latest
        latest = progress
        if live:
            show(progress)

    try:
        summary = run_sweep(options, on_progress=watch)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: every finished range is already stored
        click.echo(
            f"{chr(10) if live else ''}leakvault: sweep interrupted after {latest.ranges_done} ranges "
            f"({latest.commits_scanned} commits), all stored; rerun the same command to resume",
            err=True,
        )
        return 130
    if live:
        click.echo("", err=True)
    store = ResultsStore(options.state_dir)
    try:
        names = [repository.name for repository in summary.repositories]
        rules = [*load_builtin_rules(), *config.extra_rules]
        result = sweep_result(store.locations(names), rules)
    finally:
        store.close()
    result.stats.bytes_scanned = summary.progress.bytes_scanned
    result.warnings.extend(summary.warnings)
    for name, reason in summary.failed.items():
        result.warnings.append(f"{name}: not scanned: {reason}")
    if baseline_path is not None:
        click.echo(f"leakvault: {use_baseline(result, baseline_path)}", err=True)
    write_output(render(format_name, result, rules, reveal=False), output)
    emit_warnings(result.warnings)
    progress = summary.progress
    click.echo(
        f"leakvault: swept {progress.done} of {progress.repositories} repositories "
        f"({progress.failed} failed), {progress.commits_scanned} new commits, {len(result.findings)} findings",
        err=True,
    )
    if result.findings and not exit_zero:
        return 1
    return 2 if summary.failed else 0
