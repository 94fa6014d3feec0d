"""``leakvault scan --fix [--apply]``: plan (a diff, nothing written) or apply, then summarise.

Exit codes follow ``scan``: 0 when nothing is left to fix, 1 when findings remain (always, for a
plan, since it changes nothing), 2 for usage, configuration, vault or I/O errors.
"""

from __future__ import annotations

from pathlib import Path

from leakvault.cli.options import emit_warnings, write_output
from leakvault.errors import UsageError
from leakvault.fix.applier import apply_plan, known_values
from leakvault.fix.history import first_commits
from leakvault.fix.naming import repository_root
from leakvault.fix.planner import plan_fixes
from leakvault.fix.render import Redactor, render_plan, render_summary
from leakvault.scanner.model import ScanResult

MAPPING_HINT = ".leakvault/env.toml"


def run_fix(
    result: ScanResult, *, apply: bool, reveal: bool, exit_zero: bool, cwd: Path | None = None
) -> tuple[str, int]:
    """Plan, and with ``apply`` carry out, the fix of ``result``'s findings: (text to print, exit code)."""
    cwd = cwd or Path.cwd()
    root = repository_root(cwd)
    clean = Redactor([finding.secret for finding in result.findings], reveal)
    if not apply or not result.findings:
        # Planning needs no vault, and an apply with nothing to fix should not ask for a key.
        plan = plan_fixes(result.findings, cwd=cwd, root=root)
        clean = Redactor([*clean.secrets, *plan.all_secret_values()], reveal)
        code = 1 if result.findings and not exit_zero else 0
        return render_plan(plan, clean, applying=False), code

    from leakvault.vault.cli import open_cli_vault  # only to apply: the vault loads cryptography and SQLite

    with open_cli_vault(None) as vault:
        plan = plan_fixes(result.findings, cwd=cwd, root=root, known=known_values(vault, root / MAPPING_HINT))
        clean = Redactor([*clean.secrets, *plan.all_secret_values()], reveal)
        report = apply_plan(plan, vault)
    history = first_commits(root, [secret.value for secret in plan.secrets]) if plan.secrets else {}
    text = render_plan(plan, clean, applying=True) + render_summary(
        plan, report, history, clean, history_checked=(root / ".git").exists()
    )
    remaining = bool(plan.refusals or report.failures)
    return text, 1 if remaining and not exit_zero else 0


def run_fix_command(
    result: ScanResult, *, apply: bool, fix: bool, format_name: str, output: str | None, reveal: bool, exit_zero: bool
) -> int:
    """The ``scan --fix`` branch of the scan command: check the flags, run, print, exit code."""
    if apply and not fix:
        raise UsageError("--apply goes with --fix: leakvault scan --fix --apply [PATH ...]")
    if format_name != "text":
        raise UsageError("--fix prints a unified diff and a summary; drop --format")
    text, code = run_fix(result, apply=apply, reveal=reveal, exit_zero=exit_zero)
    write_output(text, output)
    emit_warnings(result.warnings)
    return code
