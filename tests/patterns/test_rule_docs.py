"""docs/rules.md is generated from the rule data and never drifts from it."""

from __future__ import annotations

from pathlib import Path

from leakvault.patterns.docs import render_rule, render_rules
from leakvault.patterns.loader import load_builtin_rules
from leakvault.patterns.model import Rule

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_committed_rules_page_matches_the_rule_data() -> None:
    """The committed docs/rules.md equals a fresh generation (run scripts/gen_rule_docs.py if not)."""
    expected = render_rules(load_builtin_rules())
    assert DOCS.read_text(encoding="utf-8") == expected, "docs/rules.md is stale: run python scripts/gen_rule_docs.py"


def test_every_rule_has_an_entry() -> None:
    """Each rule id has its own heading on the page."""
    text = render_rules(load_builtin_rules())
    for rule in load_builtin_rules():
        assert f"### `{rule.id}`" in text


def test_sections_come_in_ruff_order() -> None:
    """An entry reads: what it finds, why it matters, example, fix, references."""
    rule = Rule(
        id="demo-token",
        name="Demo token",
        description="Grants access to demo accounts.",
        severity="high",
        regex=r"\b(demo_[a-z0-9]{20})\b",
        keywords=("demo_",),
        references=("https://example.org/demo",),
        remediation="Revoke it in the demo console.",
        examples=("TOKEN=demo_{lowalnum:20}",),
        source="rules/demo.toml",
    )
    text = "\n".join(render_rule(rule))
    order = [
        text.index(marker)
        for marker in ("**What it finds.**", "**Why it matters.**", "**Example.**", "**Fix.**", "**References.**")
    ]
    assert order == sorted(order)
    assert "TOKEN=demo_{lowalnum:20}" in text


def test_examples_are_shown_as_templates_only() -> None:
    """A literal example (no template) is never printed: the page holds no real-looking token."""
    rule = Rule(
        id="literal",
        name="Literal",
        description="d",
        severity="low",
        regex=r"(x)",
        keywords=("x",),
        examples=("key = abcdefghijklmnopqrstuvwxyz012345",),
        source="rules/demo.toml",
    )
    text = "\n".join(render_rule(rule))
    assert "abcdefghijklmnopqrstuvwxyz012345" not in text
    assert "**Example.**" not in text
