"""``leakvault scan``: parse options, run the scan, write the report, pick the exit code."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from leakvault.cli.options import emit_warnings, history_options, write_output
from leakvault.scanner.config import load_config
from leakvault.scanner.findings.baseline import resolve_baseline_path, use_baseline
from leakvault.scanner.pipeline import build_scanner
from leakvault.scanner.report import FORMATS, render
from leakvault.scanner.scan_target import ScanTarget, run_target


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
    staged: bool = False,
    git_range: str | None = None,
    since: str | None = None,
    until: str | None = None,
    baseline_path: str | None = None,
    fix: bool = False,
    apply_fix: bool = False,
) -> int:
    """Scan files and directories for secrets ('-' reads stdin). Exit 0 clean, 1 findings, 2 errors."""

    config = load_config(config_path, Path.cwd())
    scanner = build_scanner(config, engine=engine)
    result = run_target(ScanTarget.from_options(paths, staged, git_range, since, until), config, scanner, jobs)
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
    color = format_name == "text" and output is None and sys.stdout.isatty()
    rules = [compiled.rule for compiled in scanner.rules]
    write_output(render(format_name, result, rules, reveal=no_redact, color=color), output)
    emit_warnings(result.warnings)
    if result.findings and not exit_zero:
        return 1
    return 0
