"""The human report: findings grouped by file, then line and column; colour only on a TTY."""

from __future__ import annotations

from itertools import groupby

import click

from leakvault.scanner.model import Finding, ScanResult
from leakvault.scanner.report.common import previews, shown_secret

SEVERITY_COLOURS = {"high": "red", "medium": "yellow", "low": "cyan"}


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
    parts = [f"scanned {stats.files_scanned} files ({_size(stats.bytes_scanned)})"]
    skipped = [
        (stats.skipped_binary, "binary"),
        (stats.skipped_too_large, "too large"),
        (stats.skipped_unreadable, "unreadable"),
    ]
    parts.extend(f"skipped {count} {what}" for count, what in skipped if count)
    if stats.regex_timeouts:
        parts.append(f"{stats.regex_timeouts} regex time-outs")
    count = len(result.findings)
    head = (
        "no secrets found"
        if count == 0
        else f"{count} secret{'s' * (count != 1)} found in {files} file{'s' * (files != 1)}"
    )
    return f"{head}; {', '.join(parts)}"


PLACES_SHOWN = 5


def _places(finding: Finding) -> str:
    """Where else a sweep met the same secret: the first few places and how many more."""
    places = [
        f"{place.repository + '/' if place.repository else ''}{place.path}:{place.line}"
        for place in finding.also_seen_at[:PLACES_SHOWN]
    ]
    more = len(finding.also_seen_at) - PLACES_SHOWN
    return ", ".join(places) + (f" and {more} more" if more > 0 else "")


def render_text(result: ScanResult, *, reveal: bool = False, color: bool = False) -> str:
    def style(text: str, **kwargs: object) -> str:
        return click.style(text, **kwargs) if color else text  # type: ignore[arg-type]

    lines: list[str] = []
    shown = previews(result.findings, reveal)
    indexed = list(zip(result.findings, shown, strict=True))
    for path, group in groupby(indexed, key=lambda pair: pair[0].path):
        lines.append(style(path, bold=True))
        for finding, line_preview in group:
            where = f"{finding.line}:{finding.column}"
            origin = ""
            if finding.commit:
                origin = f" in {finding.commit.sha[:12]} by {finding.commit.author} on {finding.commit.date[:10]}"
            if finding.location:
                origin += f" ({finding.location})"
            severity = style(finding.severity.ljust(6), fg=SEVERITY_COLOURS.get(finding.severity, "white"))
            lines.append(f"  {where:<9} {severity} {finding.rule_name} [{finding.rule_id}]{origin}")
            lines.append(f"            secret: {shown_secret(finding, reveal)}")
            lines.append(style(f"            {line_preview}", dim=True))
            if finding.also_seen_at:
                lines.append(f"            also in {_places(finding)}")
        lines.append("")
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"
