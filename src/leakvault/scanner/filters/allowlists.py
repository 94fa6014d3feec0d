"""Allowlists: inline allow markers on the line, the rule's own allowlist, the config's."""

from __future__ import annotations

from leakvault.scanner.filters.context import FilterContext
from leakvault.scanner.model import INLINE_ALLOW_MARKERS


def inline_allow(context: FilterContext) -> str | None:
    for text in (context.line_text, context.end_line_text):
        if any(marker in text for marker in INLINE_ALLOW_MARKERS):
            return "inline allow comment"
    return None


def rule_allowlist(context: FilterContext) -> str | None:
    rule, secret, path = context.rule, context.candidate.secret, context.candidate.chunk.path
    if any(pattern.search(path) for pattern in rule.allow_paths):
        return "rule path allowlist"
    if any(pattern.search(secret) for pattern in rule.allow_values):
        return "rule value allowlist"
    lowered = secret.lower()
    if any(word in lowered for word in rule.rule.allowlist.stopwords):
        return "rule stopword"
    return None


def global_allowlist(context: FilterContext) -> str | None:
    secret, path = context.candidate.secret, context.candidate.chunk.path
    if any(pattern.search(path) for pattern in context.allow_paths):
        return "config path allowlist"
    if any(pattern.search(secret) for pattern in context.allow_values):
        return "config value allowlist"
    lowered = secret.lower()
    if any(word in lowered for word in context.stopwords):
        return "config stopword"
    return None
