"""``leakvault rules list|show``: what the scanner looks for."""

from __future__ import annotations

import json

import click

from leakvault.errors import UsageError
from leakvault.patterns.loader import load_builtin_rules
from leakvault.patterns.model import Rule
from leakvault.scanner.engine.hyperscan_locator import hyperscan_fallbacks


def rule_record(rule: Rule) -> dict[str, object]:
    return {
        "id": rule.id,
        "name": rule.name,
        "description": rule.description,
        "severity": rule.severity,
        "confidence": rule.confidence,
        "keywords": list(rule.keywords),
        "regex": rule.regex,
        "entropy": rule.entropy,
        "checksum": rule.checksum,
        "path": rule.path,
        "gate": rule.gate,
        "tags": list(rule.tags),
        "references": list(rule.references),
        "remediation": rule.remediation,
        "fingerprint": rule.fingerprint,
        "source": rule.source,
    }


@click.group()
def rules() -> None:
    """List and explain the detection rules."""


@rules.command("list")
@click.option("--format", "format_name", type=click.Choice(["text", "json"]), default="text", show_default=True)
def list_rules(format_name: str) -> None:
    """Id, name, severity and keywords of every rule."""
    loaded = load_builtin_rules()
    fallbacks = hyperscan_fallbacks(loaded)  # None: no Hyperscan here, every rule runs on regex
    engine = {rule.id: "regex" if fallbacks is None or rule.id in fallbacks else "hyperscan" for rule in loaded}
    if format_name == "json":
        click.echo(json.dumps([{**rule_record(rule), "engine": engine[rule.id]} for rule in loaded], indent=2))
        return
    width = max(len(rule.id) for rule in loaded)
    for rule in loaded:
        fallback = "  (regex only: Hyperscan cannot run it)" if fallbacks and rule.id in fallbacks else ""
        click.echo(f"{rule.id:<{width}}  {rule.severity:<6}  {rule.name}  [{_keywords_summary(rule)}]" + fallback)
    click.echo(f"{len(loaded)} rules" + (f"; {len(fallbacks)} run on the regex engine only" if fallbacks else ""))


def _keywords_summary(rule: Rule, shown: int = 6) -> str:
    """A line's worth of keywords (the generic rules have over a hundred; `rules show` has all)."""
    if not rule.keywords:
        return "no keywords"
    more = len(rule.keywords) - shown
    return ", ".join(rule.keywords[:shown]) + (f", +{more} more" if more > 0 else "")


@rules.command("show")
@click.argument("rule_id")
def show_rule(rule_id: str) -> None:
    """Everything about one rule: what it finds, why it matters, the fix, references."""
    for rule in load_builtin_rules():
        if rule.id == rule_id:
            record = rule_record(rule)
            for key, value in record.items():
                if isinstance(value, list):
                    value = ", ".join(str(item) for item in value) or "-"
                click.echo(f"{key + ':':<13} {value if value is not None else '-'}")
            return
    raise UsageError(f"no rule with id '{rule_id}'; 'leakvault rules list' shows them all")
