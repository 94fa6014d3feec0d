"""What ``leakvault scan`` does once its options are parsed: scan, apply the baseline, report,
choose the exit code. No click here: the pre-commit hook's fast path (`hook`) runs the same code
without the option parser."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from leakvault.cli.output import emit_warnings, note, wants_color, write_output
from leakvault.errors import LeakvaultError, UsageError
from leakvault.scanner.config import load_config
from leakvault.scanner.findings.baseline import resolve_baseline_path, use_baseline
from leakvault.scanner.model import ScanResult
from leakvault.scanner.pipeline import build_scanner
from leakvault.scanner.progress import progress_display
from leakvault.scanner.report import render
from leakvault.scanner.scan_target import ScanTarget, run_target


class IncompleteScanError(LeakvaultError):
    """``--strict`` and something was not scanned (exit 2)."""


@dataclass(frozen=True, slots=True)
class ScanRequest:
    """The scan command's options, as the user gave them (defaults: a plain ``leakvault scan``)."""

    paths: tuple[str, ...] = ()
    format_name: str = "text"
    output: str | None = None
    config_path: str | None = None
    jobs: int | None = None
    engine: str = "auto"
    reveal: bool = False
    exit_zero: bool = False
    strict: bool = False
    color: str = "auto"
    progress: bool = True
    quiet: bool = False
    staged: bool = False
    git_range: str | None = None
    since: str | None = None
    until: str | None = None
    baseline_path: str | None = None
    fix: bool = False
    apply_fix: bool = False


def run_scan(request: ScanRequest) -> int:
    """Run the scan ``request`` describes and write its report; returns the exit code."""
    if request.reveal and request.format_name == "html":
        raise UsageError("--no-redact does not apply to --format html: the page is made to be shared; use json")
    target = ScanTarget.from_options(request.paths, request.staged, request.git_range, request.since, request.until)
    config = load_config(request.config_path, Path.cwd())
    scanner = build_scanner(config, engine=request.engine)
    # Never for --staged: a pre-commit run is over before a status line could help.
    unit = "commits" if target.git_range is not None else "files"
    progress = progress_display(enabled=request.progress and not target.staged, unit=unit)
    try:
        result = run_target(target, config, scanner, request.jobs, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    baseline_file = resolve_baseline_path(request.baseline_path, config.raw, config.source)
    if baseline_file is not None:
        note(f"leakvault: {use_baseline(result, baseline_file)}")
    if request.fix or request.apply_fix:
        from leakvault.cli.fix import run_fix_command  # only for --fix: the planner and its rewriters

        return run_fix_command(
            result,
            apply=request.apply_fix,
            fix=request.fix,
            format_name=request.format_name,
            output=request.output,
            reveal=request.reveal,
            exit_zero=request.exit_zero,
        )
    use_color = request.format_name == "text" and wants_color(request.color, request.output)
    rules = [compiled.rule for compiled in scanner.rules]
    write_output(render(request.format_name, result, rules, reveal=request.reveal, color=use_color), request.output)
    if not request.quiet:
        emit_warnings(result.warnings)
    if result.findings and not request.exit_zero:
        return 1
    if request.strict:
        check_complete(result)
    return 0


def check_complete(result: ScanResult) -> None:
    """With ``--strict``: a scan that passed anything over is an error, so CI notices."""
    stats = result.stats
    missed = stats.skipped_too_large + stats.skipped_unreadable + stats.regex_timeouts
    if missed:
        raise IncompleteScanError(
            f"--strict: {missed} file{'s' * (missed != 1)} not fully scanned ({stats.skipped_too_large} too large, "
            f"{stats.skipped_unreadable} unreadable, {stats.regex_timeouts} timed out); see the warnings above"
        )
