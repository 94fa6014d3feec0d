"""The JSON report (schema in docs/json-report.md; field names are stable)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from leakvault.patterns.model import Rule
from leakvault.scanner.model import ScanResult
from leakvault.scanner.report.common import previews, shown_secret
from leakvault.version import __version__

SCHEMA_VERSION = 1


def finding_records(result: ScanResult, reveal: bool) -> list[dict[str, Any]]:
    records = []
    for finding, line_preview in zip(result.findings, previews(result.findings, reveal), strict=True):
        record: dict[str, Any] = {}
        if finding.repository is not None:  # a sweep's findings; absent from a one-repository scan
            record["repository"] = finding.repository
        records.append(
            record
            | {
                "rule_id": finding.rule_id,
                "rule_name": finding.rule_name,
                "severity": finding.severity,
                "confidence": finding.confidence,
                "path": finding.path,
                "line": finding.line,
                "column": finding.column,
                "end_line": finding.end_line,
                "end_column": finding.end_column,
                "secret": shown_secret(finding, reveal),
                "redacted": not reveal or finding.redacted,
                "preview": line_preview,
                "fingerprint": finding.fingerprint,
                "entropy": finding.entropy,
                "commit": asdict(finding.commit) if finding.commit else None,
                "location": finding.location,
                "tags": list(finding.tags),
            }
            | ({"also_seen_at": [asdict(place) for place in finding.also_seen_at]} if finding.also_seen_at else {})
        )
    return records


def render_json(result: ScanResult, *, reveal: bool = False) -> str:
    document = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "leakvault", "version": __version__},
        "findings": finding_records(result, reveal),
        "stats": asdict(result.stats),
        "warnings": list(result.warnings),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def report(result: ScanResult, rules: Sequence[Rule], *, reveal: bool, color: bool) -> str:
    """The `Format.JSON` reporter (see `leakvault.scanner.report.Reporter`)."""
    return render_json(result, reveal=reveal)
