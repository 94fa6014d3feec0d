"""``leakvault scan``: parse options, run the scan, write the report, pick the exit code."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from leakvault.cli.options import emit_warnings, history_options, write_output
from leakvault.errors import LeakvaultError, UsageError
from leakvault.scanner.config import load_config
from leakvault.scanner.findings.baseline import resolve_baseline_path, use_baseline
from leakvault.scanner.model import ScanResult
from leakvault.scanner.pipeline import build_scanner
from leakvault.scanner.progress import progress_display
from leakvault.scanner.report import FORMATS, render
from leakvault.scanner.scan_target import ScanTarget, run_target


class IncompleteScanError(LeakvaultError):
    """``--strict`` and something was not scanned (exit 2)."""


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format",
    "format_name",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Report format; gitleaks = gitleaks-compatible JSON.",
)
@click.option("-o", "--output", metavar="FILE", help="Write the report to FILE instead of stdout.")
@click.option(
    "--config",
    "config_path",
    metavar="FILE",
    help="Config file (default: .leakvault.toml, then [tool.leakvault] in pyproject.toml).",
)
@click.option("--jobs", type=click.IntRange(min=1), help="Worker processes (default: number of CPUs).")
@click.option(
    "--engine",
    type=click.Choice(["auto", "hyperscan", "regex"]),
    default="auto",
    show_default=True,
    help="Matching engine: Hyperscan where installed, else Aho-Corasick + regex.",
)
@click.option("--no-redact", is_flag=True, help="Print whole secrets (never the default).")
@click.option("--exit-zero", is_flag=True, help="Report findings but exit 0.")
@click.option(
    "--strict", is_flag=True, help="Exit 2 when any file could not be scanned (too large, unreadable, timed out)."
)
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour the text report; auto: on a terminal, unless NO_COLOR is set.",
)
@click.option("--no-progress", is_flag=True, help="No live progress line on stderr.")
@click.option("-q", "--quiet", is_flag=True, help="No progress line and no warnings on stderr (errors still).")
@click.option("--staged", is_flag=True, help="Scan the git index: only the lines the next commit adds.")
@history_options("Scan git history: every line added in REV_RANGE (default: all refs); PATHS limit it.")
@click.option("--baseline", "baseline_path", metavar="FILE", help="Do not report findings accepted in FILE.")
@click.option("--fix", is_flag=True, help="Plan moving each secret into the vault: print the diff, write nothing.")
@click.option("--apply", "apply_fix", is_flag=True, help="With --fix: store values, rewrite files, update the mapping.")
def scan(
    paths: tuple[str, ...],
    format_name: str,
    output: str | None,
    config_path: str | None,
    jobs: int | None,
    engine: str,
    no_redact: bool,
    exit_zero: bool,
    strict: bool = False,
    color: str = "auto",
    no_progress: bool = False,
    quiet: bool = False,
    staged: bool = False,
    git_range: str | None = None,
    since: str | None = None,
    until: str | None = None,
    baseline_path: str | None = None,
    fix: bool = False,
    apply_fix: bool = False,
) -> int:
    """Scan files and directories for secrets ('-' reads stdin). Exit 0 clean, 1 findings, 2 errors."""
    if no_redact and format_name == "html":
        raise UsageError("--no-redact does not apply to --format html: the page is made to be shared; use json")
    target = ScanTarget.from_options(paths, staged, git_range, since, until)
    config = load_config(config_path, Path.cwd())
    scanner = build_scanner(config, engine=engine)
    # Never for --staged: a pre-commit run is over before a status line could help.
    unit = "commits" if target.git_range is not None else "files"
    progress = progress_display(enabled=not (quiet or no_progress or target.staged), unit=unit)
    try:
        result = run_target(target, config, scanner, jobs, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    baseline_file = resolve_baseline_path(baseline_path, config.raw, config.source)
    if baseline_file is not None:
        click.echo(f"leakvault: {use_baseline(result, baseline_file)}", err=True)
    if fix or apply_fix:
        from leakvault.cli.fix import run_fix_command  # only for --fix: the planner and its rewriters

        return run_fix_command(
            result,
            apply=apply_fix,
            fix=fix,
            format_name=format_name,
            output=output,
            reveal=no_redact,
            exit_zero=exit_zero,
        )
    use_color = format_name == "text" and wants_color(color, output)
    rules = [compiled.rule for compiled in scanner.rules]
    write_output(render(format_name, result, rules, reveal=no_redact, color=use_color), output)
    if not quiet:
        emit_warnings(result.warnings)
    if result.findings and not exit_zero:
        return 1
    if strict:
        check_complete(result)
    return 0


def wants_color(choice: str, output: str | None) -> bool:
    """``--color always|never``, or for auto: a terminal on stdout and no ``NO_COLOR`` (no-color.org)."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    return (output is None or output == "-") and sys.stdout.isatty()


def check_complete(result: ScanResult) -> None:
    """With ``--strict``: a scan that passed anything over is an error, so CI notices."""
    stats = result.stats
    missed = stats.skipped_too_large + stats.skipped_unreadable + stats.regex_timeouts
    if missed:
        raise IncompleteScanError(
            f"--strict: {missed} file{'s' * (missed != 1)} not fully scanned ({stats.skipped_too_large} too large, "
            f"{stats.skipped_unreadable} unreadable, {stats.regex_timeouts} timed out); see the warnings above"
        )
