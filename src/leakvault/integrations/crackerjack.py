"""leakvault as a Crackerjack quality gate: an adapter in Crackerjack's own shape.

Crackerjack runs its tools through adapters built on ``BaseToolAdapter`` (a command to run, a
parser for its output, a default check configuration). It has no plug-in point for third-party
adapters yet, so this class is ready for Crackerjack to register; until then a project can run
leakvault in place of gitleaks (see docs/crackerjack.md), since ``--format gitleaks`` writes the
report Crackerjack's gitleaks parser reads.

Install with ``pip install 'leakvault[crackerjack]'`` (Crackerjack needs Python >= 3.13).
"""

from __future__ import annotations

import subprocess
import typing as t
from contextlib import suppress
from pathlib import Path
from uuid import UUID

try:
    from crackerjack.adapters._tool_adapter_base import (
        BaseToolAdapter,
        ToolAdapterSettings,
        ToolExecutionResult,
        ToolIssue,
    )
    from crackerjack.models.adapter_metadata import AdapterStatus
    from crackerjack.models.qa_results import QACheckType
except ImportError as exc:  # pragma: no cover - exercised where crackerjack is absent
    raise ImportError(
        "leakvault.integrations.crackerjack needs Crackerjack (Python >= 3.13): pip install 'leakvault[crackerjack]'"
    ) from exc

from leakvault.integrations.gate import DEFAULT_REPORT, default_file_patterns, read_gitleaks_report, scan_command

if t.TYPE_CHECKING:
    from crackerjack.models.qa_config import QACheckConfig

MODULE_ID = UUID("5f0c2b7e-3d41-4c8a-9b6e-1a7d2e4f8c90")
MODULE_STATUS = AdapterStatus.BETA


class LeakvaultSettings(ToolAdapterSettings):  # type: ignore[misc]  # crackerjack ships no type information
    tool_name: str = "leakvault"
    scan_mode: str = "files"  # files | staged | git
    report_path: Path | None = None
    config_file: Path | None = None
    baseline_file: Path | None = None


class LeakvaultAdapter(BaseToolAdapter):  # type: ignore[misc]  # crackerjack ships no type information
    """Secrets detection: ``leakvault scan`` with a gitleaks-format report; exit 0 clean, 1
    secrets found, 2 or more a failure of the scan itself (the report is then discarded)."""

    settings: LeakvaultSettings | None = None

    def __init__(self, settings: LeakvaultSettings | None = None) -> None:
        super().__init__(settings=settings)

    async def init(self) -> None:
        if not self.settings:
            self.settings = LeakvaultSettings(timeout_seconds=300, max_workers=4)
        await super().init()

    @property
    def adapter_name(self) -> str:
        return "leakvault (Secrets)"

    @property
    def module_id(self) -> UUID:
        return MODULE_ID

    @property
    def tool_name(self) -> str:
        return "leakvault"

    def _report_path(self) -> Path:
        return (self.settings.report_path if self.settings else None) or DEFAULT_REPORT

    def build_command(self, files: list[Path], config: QACheckConfig | None = None) -> list[str]:
        if not self.settings:
            raise RuntimeError("Settings not initialized")
        report = self._report_path()
        report.parent.mkdir(parents=True, exist_ok=True)
        with suppress(OSError):
            report.unlink()  # never parse a previous run's report as this one's
        config_file = (
            self.settings.config_file if self.settings.config_file and self.settings.config_file.exists() else None
        )
        baseline = (
            self.settings.baseline_file
            if self.settings.baseline_file and self.settings.baseline_file.exists()
            else None
        )
        return scan_command(
            _git_root() or Path.cwd(),
            report,
            mode=self.settings.scan_mode,
            executable=self.tool_name,
            config=config_file,
            baseline=baseline,
        )

    async def parse_output(self, result: ToolExecutionResult) -> list[ToolIssue]:
        issues = read_gitleaks_report(self._report_path(), result.exit_code, result.raw_stderr)
        return [
            ToolIssue(
                file_path=Path(issue.file_path),
                line_number=issue.line_number,
                column_number=issue.column_number,
                message=issue.message,
                code=issue.code,
                severity=issue.severity,
                suggestion=issue.suggestion,
            )
            for issue in issues
        ]

    def _get_check_type(self) -> QACheckType:
        return QACheckType.SECURITY

    def get_default_config(self) -> QACheckConfig:
        from crackerjack.models.qa_config import QACheckConfig  # optional: Crackerjack, Python >= 3.13

        return QACheckConfig(
            check_id=MODULE_ID,
            check_name=self.adapter_name,
            check_type=QACheckType.SECURITY,
            enabled=True,
            file_patterns=list(default_file_patterns()),
            exclude_patterns=["**/.git/**", "**/.venv/**", "**/venv/**", "**/node_modules/**", "**/.cache/**"],
            timeout_seconds=300,
            parallel_safe=True,
            stage="comprehensive",
            settings={"scan_mode": "files"},
        )


def _git_root() -> Path | None:
    """The repository's top directory (leakvault then finds the project's config there)."""
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    top = completed.stdout.strip()
    return Path(top) if completed.returncode == 0 and top else None
