"""Helpers shared by the report writers."""

from __future__ import annotations

from collections import defaultdict

from leakvault.scanner.model import Finding
from leakvault.scanner.redact import preview, redact


def shown_secret(finding: Finding, reveal: bool) -> str:
    return finding.secret if reveal else redact(finding.secret)


def previews(findings: list[Finding], reveal: bool) -> list[str]:
    """Each finding's line, with every secret found on that same line redacted (not just its own)."""
    on_line: dict[tuple[str, str, int], list[str]] = defaultdict(list)
    for finding in findings:
        on_line[(finding.path, finding.commit.sha if finding.commit else "", finding.line)].append(finding.secret)
    result = []
    for finding in findings:
        key = (finding.path, finding.commit.sha if finding.commit else "", finding.line)
        others = [s for s in on_line[key] if s != finding.secret]
        result.append(preview(finding.line_text, [finding.secret, *others], reveal))
    return result
