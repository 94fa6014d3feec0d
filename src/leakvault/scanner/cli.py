"""``leakvault scan``: parse options, run the scan, write the report, pick the exit code."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from leakvault.errors import UsageError
from leakvault.scanner.report import FORMATS

MAX_WARNINGS_SHOWN = 20


def write_output(text: str, output: str | None) -> None:
    """Write the report to stdout, or atomically to ``output`` (temp file + rename)."""
    if output is None or output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    target = Path(output)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"cannot write {output}: directory {directory} does not exist")
    try:
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=directory, delete=False, prefix=f".{target.name}."
        ) as handle:
            handle.write(text)
        os.replace(handle.name, target)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}; check the path and its permissions") from None


def emit_warnings(warnings: list[str]) -> None:
    for warning in warnings[:MAX_WARNINGS_SHOWN]:
        click.echo(f"leakvault: warning: {warning}", err=True)
    if len(warnings) > MAX_WARNINGS_SHOWN:
        click.echo(
            f"leakvault: warning: ... and {len(warnings) - MAX_WARNINGS_SHOWN} more (see the JSON report)", err=True
        )


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
def scan(
    paths: tuple[str, ...],
    format_name: str,
    output: str | None,
    config_path: str | None,
    jobs: int | None,
    engine: str,
    no_redact: bool,
    exit_zero: bool,
) -> int:
    """Scan files and directories for secrets ('-' reads stdin). Exit 0 clean, 1 findings, 2 errors."""
    from leakvault.scanner.api import build_scanner
    from leakvault.scanner.api import scan as run_scan
    from leakvault.scanner.config import load_config
    from leakvault.scanner.report import render

    config = load_config(config_path, Path.cwd())
    scanner = build_scanner(config)
    result = run_scan(list(paths) or ["."], config, jobs=jobs, scanner=scanner)
    color = format_name == "text" and output is None and sys.stdout.isatty()
    rules = [compiled.rule for compiled in scanner.rules]
    write_output(render(format_name, result, rules, reveal=no_redact, color=color), output)
    emit_warnings(result.warnings)
    if result.findings and not exit_zero:
        return 1
    return 0
