"""Report writers, one module per format. Each takes a `ScanResult` and returns text."""

from __future__ import annotations

from collections.abc import Sequence

from leakvault.patterns.model import Rule
from leakvault.scanner.model import ScanResult

FORMATS = ("text", "json", "sarif", "gitleaks", "html")


def render(
    format_name: str, result: ScanResult, rules: Sequence[Rule], *, reveal: bool = False, color: bool = False
) -> str:
    """Render ``result`` in ``format_name``; secrets are redacted unless ``reveal``."""
    if format_name == "text":
        from leakvault.scanner.report.text import render_text

        return render_text(result, rules, reveal=reveal, color=color)
    if format_name == "json":
        from leakvault.scanner.report.json import render_json

        return render_json(result, reveal=reveal)
    if format_name == "sarif":
        from leakvault.scanner.report.sarif import render_sarif

        return render_sarif(result, rules, reveal=reveal)
    if format_name == "gitleaks":
        from leakvault.scanner.report.gitleaks import render_gitleaks

        return render_gitleaks(result, reveal=reveal)
    if format_name == "html":  # always redacted: a page is shared, so --no-redact does not apply
        from leakvault.scanner.report.html import render_html

        return render_html(result, rules)
    raise ValueError(format_name)
