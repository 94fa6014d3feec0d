"""Render the rule catalogue (docs/rules.md) from the rule data, in ruff's order: what the rule
finds, why it matters, an example, the fix, references.

The examples shown are the rule's own templates (``{alnum:36}``, ``{token:ghp_}``), never a filled
in, real-looking token, so the page can be read, searched and scanned without tripping anything.
Regenerate with ``python scripts/gen_rule_docs.py``; a test fails when the committed page drifts.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from leakvault.patterns.examples import has_template
from leakvault.patterns.model import Rule

HEADER = """\
# Rules

<!-- Generated from src/leakvault/patterns/rules/*.toml by scripts/gen_rule_docs.py. Do not edit by
hand: change the rule data and regenerate (a test checks that this page matches the rules). -->

leakvault ships {count} rules in {families} files. `leakvault rules list` prints them and
`leakvault rules show ID` prints one. Each entry says what the rule finds, why that matters, what a
match looks like, and how to fix a leak.

Examples are templates, not tokens: `{{alnum:36}}` stands for 36 random letters and digits,
`{{hex:32}}` for 32 hex digits, `{{b64:N}}`/`{{b64url:N}}` for base64 characters, and `{{token:ghp_}}`
for a checksum-valid token with that prefix. The tests fill them in with fresh random values on
every run, so no real-looking credential is ever committed.

A rule marked *checksum* verifies the token's built-in checksum and reports nothing for look-alikes;
an *entropy* floor (bits per character) drops values too regular to be random. Rules tagged
`generic` give way to a provider-specific rule that matches the same text.
"""

_SEVERITY_WHY = {
    "high": "Severity high: anyone who reads the repository can use it directly.",
    "medium": "Severity medium: it grants access, but narrower or needs a second piece to use.",
    "low": "Severity low: limited or test-only access; worth cleaning up, rarely an incident.",
}

# Past this many, a rule's keywords are summed up (the generic rules list over a hundred names).
MAX_KEYWORDS_SHOWN = 12


def family(rule: Rule) -> str:
    """The rule file a rule came from, without directory and extension (``rules/aws.toml`` -> aws)."""
    name = rule.source.rsplit("/", 1)[-1]
    return name[:-5] if name.endswith(".toml") else name or "custom"


def _code_block(text: str) -> list[str]:
    fence = "~~~~" if "```" in text else "```"
    return [fence + "text", *text.splitlines(), fence]


def _shown_example(rule: Rule) -> str | None:
    """The first example written as a template; literal examples are left out of the docs."""
    return next((example for example in rule.examples if has_template(example)), None)


def _matching(rule: Rule) -> str:
    shown = rule.keywords[:MAX_KEYWORDS_SHOWN]
    more = len(rule.keywords) - len(shown)
    listed = ", ".join(f"`{k}`" for k in shown) + (f" and {more} more (`leakvault rules show`)" if more else "")
    parts = [f"keywords {listed}" if rule.keywords else "no keywords"]
    if rule.checksum:
        parts.append(f"checksum `{rule.checksum}`")
    if rule.entropy is not None:
        parts.append(f"entropy ≥ {rule.entropy:g}")
    if rule.path:
        parts.append(f"only in paths matching `{rule.path}`")
    return "; ".join(parts)


def render_rule(rule: Rule) -> list[str]:
    lines = [f"### `{rule.id}`", "", f"**{rule.name}** · severity {rule.severity} · confidence {rule.confidence}"]
    if rule.tags:
        lines[-1] += " · tags " + ", ".join(f"`{tag}`" for tag in rule.tags)
    lines += ["", f"**What it finds.** {rule.name}: {_matching(rule)}.", ""]
    why = rule.description.strip()
    lines += [f"**Why it matters.** {why} {_SEVERITY_WHY[rule.severity]}".strip(), ""]
    example = _shown_example(rule)
    if example is not None:
        lines += ["**Example.**", "", *_code_block(example), ""]
    if rule.remediation:
        lines += [f"**Fix.** {rule.remediation.strip()}", ""]
    if rule.references:
        lines += ["**References.**", "", *(f"- <{reference}>" for reference in rule.references), ""]
    return lines


def render_rules(rules: Sequence[Rule]) -> str:
    """The whole catalogue as Markdown, grouped by rule file in load order."""
    groups = [(name, list(members)) for name, members in groupby(rules, key=family)]
    lines = HEADER.format(count=len(rules), families=len(groups)).splitlines()
    lines += ["", "## Contents", ""]
    for name, members in groups:
        ids = ", ".join(f"[`{rule.id}`](#{rule.id})" for rule in members)
        lines.append(f"- **{name}** ({len(members)}): {ids}")
    for name, members in groups:
        lines += ["", f"## {name}", ""]
        for rule in members:
            lines += render_rule(rule)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"
