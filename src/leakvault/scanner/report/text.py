"""The human report: findings grouped by file, then line and column; colour only on a TTY."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import groupby

from leakvault.patterns.model import Rule
from leakvault.scanner.model import Finding, ScanResult
from leakvault.scanner.report.common import previews, shown_secret

# ANSI SGR codes (the ones click.style writes): the report needs no terminal library.
SEVERITY_COLOURS = {"high": "31", "medium": "33", "low": "36"}  # red, yellow, cyan
BOLD, DIM, WHITE = "1", "2", "37"


def _size(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError


def summary_line(result: ScanResult) -> str:
    stats = result.stats
    files = len({f.path for f in result.findings})
    parts = [f"scanned {_count(stats.files_scanned, 'file')} ({_size(stats.bytes_scanned)})"]
    skipped = [
        (stats.skipped_binary, "binary"),
        (stats.skipped_too_large, "too large"),
        (stats.skipped_unreadable, "unreadable"),
    ]
    parts.extend(f"skipped {count} {what}" for count, what in skipped if count)
    if stats.regex_timeouts:
        parts.append(_count(stats.regex_timeouts, "regex time-out"))
    count = len(result.findings)
    head = "no secrets found" if count == 0 else f"{_count(count, 'secret')} found in {_count(files, 'file')}"
    if result.baselined:
        head += f" ({len(result.baselined)} more accepted by the baseline)"
    return f"{head}; {', '.join(parts)}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' * (number != 1)}"


def first_sentence(text: str) -> str:
    """A remediation's first sentence: the one-line fix a terminal has room for."""
    text = " ".join(text.split())
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def summary_table(result: ScanResult) -> list[str]:
    """Findings by rule: severity, how many are new and how many a baseline accepted."""
    new = Counter(f.rule_id for f in result.findings)
    accepted = Counter(f.rule_id for f in result.baselined)
    severity = {f.rule_id: f.severity for f in [*result.findings, *result.baselined]}
    rank = {"high": 0, "medium": 1, "low": 2}
    rules = sorted(severity, key=lambda rule: (rank.get(severity[rule], 3), -new[rule], rule))
    if not rules:
        return []
    width = max(len("rule"), *(len(rule) for rule in rules))
    lines = [f"{'rule'.ljust(width)}  severity  {'new':>5}  {'baselined':>9}"]
    lines += [f"{rule.ljust(width)}  {severity[rule]:<8}  {new[rule]:>5}  {accepted[rule]:>9}" for rule in rules]
    lines.append(f"{'total'.ljust(width)}  {'':<8}  {sum(new.values()):>5}  {sum(accepted.values()):>9}")
    return lines


PLACES_SHOWN = 5


def _places(finding: Finding) -> str:
    """Where else a sweep met the same secret: the first few places and how many more."""
    places = [
        f"{place.repository + '/' if place.repository else ''}{place.path}:{place.line}"
        for place in finding.also_seen_at[:PLACES_SHOWN]
    ]
    more = len(finding.also_seen_at) - PLACES_SHOWN
    return ", ".join(places) + (f" and {more} more" if more > 0 else "")


def render_text(result: ScanResult, rules: Sequence[Rule] = (), *, reveal: bool = False, color: bool = False) -> str:
    def style(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if color else text

    lines: list[str] = []
    fixes = {rule.id: first_sentence(rule.remediation) for rule in rules if rule.remediation}
    shown = previews(result.findings, reveal)
    indexed = list(zip(result.findings, shown, strict=True))
    for path, group in groupby(indexed, key=lambda pair: pair[0].path):
        lines.append(style(path, BOLD))
        for finding, line_preview in group:
            where = f"{finding.line}:{finding.column}"
            origin = ""
            if finding.commit:
                origin = f" in {finding.commit.sha[:12]} by {finding.commit.author} on {finding.commit.date[:10]}"
            if finding.location:
                origin += f" ({finding.location})"
            severity = style(finding.severity.ljust(6), SEVERITY_COLOURS.get(finding.severity, WHITE))
            lines.append(f"  {where:<9} {severity} {finding.rule_name} [{finding.rule_id}]{origin}")
            lines.append(f"            secret: {shown_secret(finding, reveal)}")
            lines.append(style(f"            {line_preview}", DIM))
            if finding.also_seen_at:
                lines.append(f"            also in {_places(finding)}")
            if finding.rule_id in fixes:
                lines.append(f"            fix: {fixes[finding.rule_id]}")
        lines.append("")
    table = summary_table(result)
    if table:
        lines.append(style(table[0], BOLD))
        lines.extend(table[1:])
        lines.append("")
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"


def report(result: ScanResult, rules: Sequence[Rule], *, reveal: bool, color: bool) -> str:
    """The `Format.TEXT` reporter (see `leakvault.scanner.report.Reporter`)."""
    return render_text(result, rules, reveal=reveal, color=color)
