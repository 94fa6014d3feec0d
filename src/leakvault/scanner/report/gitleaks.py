"""A gitleaks-compatible JSON report, so tools built for gitleaks (Crackerjack among them) read ours.

Checked against the report gitleaks 8.30 writes (``gitleaks git|dir -f json``): a JSON array of
objects with the same field names, in the same order, with the same types. Differences, on
purpose: ``Secret`` and ``Match`` are redacted our way (``ghp_*****``) unless ``--no-redact``;
``Match`` is the secret, not the whole regex match; ``Fingerprint`` is our stable
``rule:path:hash`` (gitleaks uses ``[commit:]file:rule:line``); columns are exact 1-based
character columns with ``EndColumn`` inclusive, as gitleaks means them (gitleaks itself reports
one column too many on every line but the first); and ``Severity`` (high/medium/low) is added,
which betterleaks and Crackerjack read. ``Link`` is left out when empty, as gitleaks does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from leakvault.patterns.model import Rule
from leakvault.scanner.model import ScanResult
from leakvault.scanner.report.common import shown_secret


def render_gitleaks(result: ScanResult, *, reveal: bool = False) -> str:
    records: list[dict[str, Any]] = []
    for finding in result.findings:
        commit = finding.commit
        secret = shown_secret(finding, reveal)
        records.append(
            {
                "RuleID": finding.rule_id,
                "Description": finding.rule_name,
                "StartLine": finding.line,
                "EndLine": finding.end_line,
                "StartColumn": finding.column,
                "EndColumn": max(finding.end_column - 1, 1),  # gitleaks' end column is inclusive
                "Match": secret,
                "Secret": secret,
                "File": finding.path,
                "SymlinkFile": "",
                "Commit": commit.sha if commit else "",
                "Entropy": finding.entropy,
                "Author": commit.author if commit else "",
                "Email": commit.email if commit else "",
                "Date": commit.date if commit else "",
                "Message": "",
                "Tags": list(finding.tags),
                "Fingerprint": finding.fingerprint,
                "Severity": finding.severity,
            }
        )
    return json.dumps(records, indent=1, ensure_ascii=False) + "\n"


def report(result: ScanResult, rules: Sequence[Rule], *, reveal: bool, color: bool) -> str:
    """The `Format.GITLEAKS` reporter (see `leakvault.scanner.report.Reporter`)."""
    return render_gitleaks(result, reveal=reveal)
