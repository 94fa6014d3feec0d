"""One finding per secret across a chunk and its view.

A view line repeats text the chunk's own scan has seen (a commented line that a rule matched
anyway, the first piece of a concatenation that was long enough on its own). A view finding is
kept only where no chunk finding overlaps it, or where it extends generic chunk findings (the
joined value contains each of their secrets): then it replaces them.
"""

from __future__ import annotations

from collections.abc import Sequence

from leakvault.scanner.model import Finding


def _span(finding: Finding) -> tuple[tuple[int, int], tuple[int, int]]:
    return (finding.line, finding.column), (finding.end_line, finding.end_column)


def _overlaps(one: Finding, other: Finding) -> bool:
    (start, end), (other_start, other_end) = _span(one), _span(other)
    return start < other_end and other_start < end


def merge_view_findings(
    chunk_findings: Sequence[Finding], view_findings: Sequence[Finding], generic_tag: str
) -> list[Finding]:
    """``chunk_findings`` with the view's new findings added (those it replaces removed)."""
    kept = list(chunk_findings)
    for finding in view_findings:
        overlapping = [other for other in kept if _overlaps(finding, other)]
        if all(
            generic_tag in other.tags and other.secret in finding.secret and len(other.secret) < len(finding.secret)
            for other in overlapping
        ):
            kept = [other for other in kept if not any(other is gone for gone in overlapping)]
            kept.append(finding)
    return kept
