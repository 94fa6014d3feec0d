"""The HTML report: one self-contained page (inline CSS, JavaScript and SVG; no CDN, no web font,
no request of any kind) that a security lead can open from ``file://``, filter, sort and share.

Python prepares everything the page shows: summary figures, bar charts as SVG, and one record
per finding with its redacted secret and preview, location, commit and the rule's remediation.
The page's script only sorts and filters those records. Nothing on the page is a secret value:
it holds what the JSON report holds with redaction on, never ``--no-redact`` output.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from importlib import resources
from typing import Any

from leakvault.patterns.model import Rule
from leakvault.scanner.model import Finding, ScanResult
from leakvault.scanner.report.common import previews, shown_secret
from leakvault.version import __version__

SEVERITY_ORDER = ("high", "medium", "low")
SEVERITY_COLOURS = {"high": "#c62828", "medium": "#ef6c00", "low": "#1565c0"}
BAR_COLOUR = "#455a64"
TOP = 10  # bars per chart; the rest are summed into one bar
DEFAULT_REMEDIATION = "Revoke the credential, then move the value into a secret store."


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    colour: str = BAR_COLOUR


def family(finding: Finding, rules: dict[str, Rule]) -> str:
    """A rule's provider family: its first tag, else the name of the file it came from."""
    rule = rules.get(finding.rule_id)
    if rule is not None and rule.tags:
        return rule.tags[0]
    if rule is not None and rule.source:
        return rule.source.rsplit("/", 1)[-1].removesuffix(".toml")
    return finding.rule_id


def top_directory(path: str) -> str:
    head, _, rest = path.partition("/")
    return f"{head}/" if rest else "(top level)"


def _top(counts: Counter[str], top: int = TOP) -> list[Bar]:
    common = counts.most_common(top)
    rest = sum(counts.values()) - sum(value for _, value in common)
    bars = [Bar(label, value) for label, value in common]
    if rest:
        bars.append(Bar(f"{len(counts) - top} more", rest))
    return bars


def bar_chart(title: str, bars: Sequence[Bar], chart_id: str) -> str:
    """A horizontal bar chart as inline SVG, each bar a ``rect`` with a ``title`` for its value."""
    row, label_width, width = 22, 190, 520
    height = row * max(len(bars), 1) + 8
    highest = max((bar.value for bar in bars), default=1) or 1
    parts = [
        f'<svg class="chart" id="{chart_id}" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    if not bars:
        parts.append('<text x="0" y="16" class="empty">nothing to show</text>')
    for index, bar in enumerate(bars):
        y = index * row + 4
        length = max(2.0, (width - label_width - 50) * bar.value / highest)
        label = bar.label if len(bar.label) <= 28 else bar.label[:27] + "…"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="bar" x="{label_width}" y="{y}" width="{length:.1f}" height="{row - 6}" fill="{bar.colour}">'
            f"<title>{escape(bar.label)}: {bar.value}</title></rect>"
            f'<text x="{label_width + length + 6:.1f}" y="{y + 14}">{bar.value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _charts(findings: list[Finding], rules: dict[str, Rule]) -> list[tuple[str, str]]:
    by_severity = Counter(f.severity for f in findings)
    charts = [
        ("Findings by severity", [Bar(s, by_severity[s], SEVERITY_COLOURS[s]) for s in SEVERITY_ORDER]),
        ("Findings by rule family", _top(Counter(family(f, rules) for f in findings))),
    ]
    if any(f.repository for f in findings):
        charts.append(("Findings by repository", _top(Counter(f.repository or "" for f in findings))))
    charts.append(("Findings by top directory", _top(Counter(top_directory(f.path) for f in findings))))
    with_commits = [f for f in findings if f.commit]
    if with_commits:
        months = Counter(f.commit.date[:7] for f in with_commits if f.commit)
        charts.append(("Secrets introduced, by month", [Bar(month, months[month]) for month in sorted(months)]))
        commits = Counter(f"{f.commit.sha[:10]} {f.commit.author}" for f in with_commits if f.commit)
        charts.append(("Commits that introduced the most", _top(commits)))
    return [(title, bar_chart(title, bars, f"chart-{index}")) for index, (title, bars) in enumerate(charts)]


def _record(finding: Finding, preview: str, status: str, rules: dict[str, Rule]) -> dict[str, Any]:
    rule = rules.get(finding.rule_id)
    commit = finding.commit
    return {
        "rule": finding.rule_id,
        "name": finding.rule_name,
        "family": family(finding, rules),
        "severity": finding.severity,
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
        "repository": finding.repository or "",
        "location": finding.location or "",
        "secret": shown_secret(finding, reveal=False),
        "preview": preview,
        "commit": commit.sha[:12] if commit else "",
        "author": commit.author if commit else "",
        "date": commit.date[:10] if commit else "",
        "status": status,
        "remediation": (rule.remediation if rule and rule.remediation else DEFAULT_REMEDIATION),
        "also": len(finding.also_seen_at),
    }


def _script_json(value: Any) -> str:
    """JSON that is safe inside a <script> element (no ``</script>``, no HTML comment openers)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_html(result: ScanResult, rules: Sequence[Rule], *, title: str = "leakvault report") -> str:
    """The report page. Always redacted: there is no ``reveal`` here on purpose."""
    import jinja2  # only for this format: it costs start-up time every other format would pay

    by_id = {rule.id: rule for rule in rules}
    new = result.findings
    baselined = result.baselined
    records = [
        _record(finding, preview, "new", by_id) for finding, preview in zip(new, previews(new, False), strict=True)
    ] + [
        _record(finding, preview, "baselined", by_id)
        for finding, preview in zip(baselined, previews(baselined, False), strict=True)
    ]
    everything = [*new, *baselined]
    cards = [
        ("New findings", len(new)),
        ("High severity", sum(f.severity == "high" for f in new)),
        ("Baselined", len(baselined)),
        ("Files with findings", len({f.path for f in everything})),
        ("Files scanned", result.stats.files_scanned),
    ]
    if any(f.repository for f in everything):
        cards.append(("Repositories with findings", len({f.repository for f in everything})))
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("leakvault.scanner.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    template = environment.get_template("report.html.j2")
    return template.render(
        title=title,
        version=__version__,
        cards=cards,
        charts=_charts(everything, by_id),
        data=_script_json(records),
        warnings=result.warnings,
        stats=result.stats,
    )


def report(result: ScanResult, rules: Sequence[Rule], *, reveal: bool, color: bool) -> str:
    """The `Format.HTML` reporter (see `leakvault.scanner.report.Reporter`): ``reveal`` is refused
    by the CLI for this format and ignored here, so a page never holds a secret value."""
    return render_html(result, rules)


def template_text() -> str:
    """The page template's source (tests read it to check it loads nothing from outside)."""
    return resources.files("leakvault.scanner.report").joinpath("templates/report.html.j2").read_text("utf-8")
