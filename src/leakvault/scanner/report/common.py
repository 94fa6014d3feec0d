"""Helpers shared by the report writers."""

from __future__ import annotations

from collections import defaultdict

from leakvault.scanner.model import Finding
from leakvault.scanner.redact import preview, redact


def shown_secret(finding: Finding, reveal: bool) -> str:
    return finding.secret if reveal else redact(finding.secret)


def previews(findings: list[Finding], reveal: bool) -> list[str]:
    """Each finding's line, with every secret found anywhere in the same file redacted (a line can
    hold a second secret that was reported on another line of the file)."""
    in_file: dict[str, set[str]] = defaultdict(set)
    for finding in findings:
        in_file[finding.path].add(finding.secret)
    result = []
    for finding in findings:
        others = [
            secret for secret in in_file[finding.path] if secret != finding.secret and secret in finding.line_text
        ]
        result.append(preview(finding.line_text, [finding.secret, *others], reveal))
    return result
