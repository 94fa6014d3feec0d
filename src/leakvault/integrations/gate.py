"""What a quality gate needs from leakvault, without importing the gate's framework.

`scan_command` builds the command a gate runs (gitleaks-compatible JSON report, exit codes 0
clean / 1 findings / 2 error), and `read_gitleaks_report` turns the report back into plain issue
records, honouring that exit-code contract: after an exit of 2 or more the report is not
trusted (it may be stale or half written) and a single gate-failure issue stands in for it.
The Crackerjack adapter (`leakvault.integrations.crackerjack`) is a thin shell over these; other
gates can use them directly, or call `leakvault.scan` in-process.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_REPORT = Path(".cache/leakvault-report.json")
SCAN_MODES = ("files", "staged", "git")
BLOCKING_SEVERITIES = frozenset({"high", "medium"})
SUGGESTION = (
    "Revoke the credential, then move the value into the vault (leakvault scan --fix) "
    "or, if it is not a secret, accept it in the baseline (leakvault baseline create)."
)


@dataclass(frozen=True, slots=True)
class GateIssue:
    """One problem for the gate to show: a secret, or the scanner itself failing."""

    file_path: str
    line_number: int | None
    column_number: int | None
    message: str
    code: str
    severity: str  # "error" blocks, "warning" informs
    suggestion: str


def scan_command(
    root: Path,
    report: Path,
    *,
    mode: str = "files",
    executable: str = "leakvault",
    config: Path | None = None,
    baseline: Path | None = None,
) -> list[str]:
    """The command line that scans ``root`` and writes a gitleaks-format report to ``report``."""
    if mode not in SCAN_MODES:
        raise ValueError(f"scan mode must be one of {', '.join(SCAN_MODES)}, not {mode!r}")
    command = [executable, "scan"]
    if mode == "files":
        command.append(str(root))
    else:
        command.append("--staged" if mode == "staged" else "--git")
    command += ["--format", "gitleaks", "-o", str(report)]
    if config is not None:
        command += ["--config", str(config)]
    if baseline is not None:
        command += ["--baseline", str(baseline)]
    return command


def _failure(message: str) -> GateIssue:
    return GateIssue("", None, None, message, "leakvault-gate-failure", "error", "Run the command by hand to see why.")


def read_gitleaks_report(report: Path, exit_code: int, stderr: str = "") -> list[GateIssue]:
    """The issues in a leakvault (gitleaks-format) report, given the scan's exit code."""
    if exit_code not in (0, 1):
        detail = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit code {exit_code}"
        return [_failure(f"leakvault could not scan: {detail}")]
    try:
        text = report.read_text(encoding="utf-8")
    except OSError:
        return [] if exit_code == 0 else [_failure("leakvault reported findings but wrote no report")]
    try:
        records = json.loads(text) if text.strip() else []
    except ValueError:
        return [_failure(f"leakvault's report {report} is not valid JSON")]
    if not isinstance(records, list):
        return [_failure(f"leakvault's report {report} is not a list of findings")]
    return [_issue(record) for record in records if isinstance(record, dict)]


def _issue(record: dict[str, object]) -> GateIssue:
    rule = str(record.get("RuleID", "secret"))
    severity = str(record.get("Severity", "high")).lower()
    line, column = record.get("StartLine"), record.get("StartColumn")
    return GateIssue(
        file_path=str(record.get("File", "")),
        line_number=line if isinstance(line, int) else None,
        column_number=column if isinstance(column, int) else None,
        message=f"{record.get('Description', 'Secret')} (Rule: {rule})",
        code=rule,
        severity="error" if severity in BLOCKING_SEVERITIES else "warning",
        suggestion=SUGGESTION,
    )


def default_file_patterns() -> Sequence[str]:
    """Globs a gate uses to decide whether there is anything to scan (leakvault walks the tree
    itself, honouring .gitignore and its own excludes)."""
    return [
        f"**/*.{ext}"
        for ext in (
            "py",
            "ipynb",
            "toml",
            "yaml",
            "yml",
            "json",
            "env",
            "ini",
            "cfg",
            "conf",
            "properties",
            "sh",
            "js",
            "ts",
            "go",
            "java",
            "rb",
            "php",
            "tf",
            "md",
            "txt",
            "xml",
        )
    ]
