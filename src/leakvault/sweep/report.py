"""The store as a `ScanResult`, so the scanner's reporters (text, JSON, SARIF, gitleaks) write
the sweep's report: one finding per secret (rule and keyed hash), at its first place, with every
other repository, path and line where it was met."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from leakvault.patterns.model import Rule
from leakvault.scanner.model import CommitInfo, Finding, ScanResult, SeenAt
from leakvault.sweep.model import SweepLocation


def _finding(first: SweepLocation, others: list[SweepLocation], rule: Rule | None) -> Finding:
    commit = CommitInfo(first.commit, first.author, first.email, first.date) if first.commit else None
    return Finding(
        rule_id=first.rule_id,
        rule_name=rule.name if rule else first.rule_id,
        description=rule.description if rule else "",
        severity=rule.severity if rule else "medium",
        confidence=rule.confidence if rule else "medium",
        # The repository leads the path, so every format (text, SARIF, gitleaks) names it.
        path=f"{first.repository}/{first.path}",
        line=first.line,
        column=first.column,
        end_line=first.end_line,
        end_column=first.end_column,
        fingerprint=first.fingerprint,
        entropy=first.entropy,
        secret=first.secret_redacted,
        line_text=first.preview,
        commit=commit,
        tags=rule.tags if rule else (),
        repository=first.repository,
        also_seen_at=tuple(SeenAt(place.repository, place.path, place.line, place.commit or None) for place in others),
        redacted=True,
    )


def sweep_result(locations: Iterable[SweepLocation], rules: Iterable[Rule]) -> ScanResult:
    """One finding per (rule, secret hash), at the place that sorts first by repository, then by
    where the history walk met it; the other places ride along."""
    by_id = {rule.id: rule for rule in rules}
    groups: dict[tuple[str, str], list[SweepLocation]] = defaultdict(list)
    for location in locations:
        groups[(location.rule_id, location.secret_hash)].append(location)
    result = ScanResult()
    for places in groups.values():
        places.sort(key=lambda place: (place.repository, place.order, place.path, place.line))
        result.findings.append(_finding(places[0], places[1:], by_id.get(places[0].rule_id)))
    result.findings.sort(key=lambda f: (f.path, f.line, f.column, f.rule_id))
    return result
