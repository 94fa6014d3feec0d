"""``leakvault scan``: the options; `scan_run.run_scan` does the rest."""

from __future__ import annotations

import click

from leakvault.cli.options import history_options
from leakvault.cli.scan_run import ScanRequest, run_scan
from leakvault.scanner.report import FORMATS


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
    return run_scan(
        ScanRequest(
            paths=paths,
            format_name=format_name,
            output=output,
            config_path=config_path,
            jobs=jobs,
            engine=engine,
            reveal=no_redact,
            exit_zero=exit_zero,
            strict=strict,
            color=color,
            progress=not (quiet or no_progress),
            quiet=quiet,
            staged=staged,
            git_range=git_range,
            since=since,
            until=until,
            baseline_path=baseline_path,
            fix=fix,
            apply_fix=apply_fix,
        )
    )
