"""A gitleaks-compatible JSON report, so tools built for gitleaks (Crackerjack among them) read ours.

Field names and types follow gitleaks 8's report: a JSON array of objects.
"""

from __future__ import annotations

import json
from typing import Any

from leakvault.scanner.model import ScanResult
from leakvault.scanner.report.common import previews, shown_secret


def render_gitleaks(result: ScanResult, *, reveal: bool = False) -> str:
    records: list[dict[str, Any]] = []
    for finding, line_preview in zip(result.findings, previews(result.findings, reveal), strict=True):
        commit = finding.commit
        records.append(
            {
                "RuleID": finding.rule_id,
                "Description": finding.rule_name,
                "StartLine": finding.line,
                "EndLine": finding.end_line,
                "StartColumn": finding.column,
                "EndColumn": finding.end_column,
                "Line": line_preview,
                "Match": shown_secret(finding, reveal),
                "Secret": shown_secret(finding, reveal),
                "File": finding.path,
                "SymlinkFile": "",
                "Commit": commit.sha if commit else "",
                "Link": "",
                "Entropy": finding.entropy,
                "Author": commit.author if commit else "",
                "Email": commit.email if commit else "",
                "Date": commit.date if commit else "",
                "Message": "",
                "Tags": list(finding.tags),
                "Severity": finding.severity,
                "Fingerprint": finding.fingerprint,
            }
        )
    return json.dumps(records, indent=1, ensure_ascii=False) + "\n"
