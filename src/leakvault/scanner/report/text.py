"""The human report: findings grouped by file, then line and column; colour only on a TTY."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from leakvault.patterns.model import Rule
from leakvault.scanner.model import ScanResult
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


def render_text(result: ScanResult, *, reveal: bool = False, color: bool = False) -> str:
    def style(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if color else text

    lines: list[str] = []
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
        lines.append("")
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"


def report(result: ScanResult, rules: Sequence[Rule], *, reveal: bool, color: bool) -> str:
    """The `Format.TEXT` reporter (see `leakvault.scanner.report.Reporter`)."""
    return render_text(result, reveal=reveal, color=color)
