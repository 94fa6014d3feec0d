"""False-positive filters: each a small predicate that says why a candidate is not a finding.

A filter returns a short reason string when it drops the candidate and None when it lets it
through; the reasons are there for debugging and tests, never shown with the secret.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import regex

from leakvault.patterns.loader import CompiledRule
from leakvault.scanner.model import Candidate

INLINE_ALLOW_MARKERS = ("leakvault:allow", "gitleaks:allow", "pragma: allowlist secret")

# Values that stand for a secret rather than being one: templating, variable references,
# obvious fillers. Anchored where a partial hit would drop real secrets.
PLACEHOLDER = regex.compile(
    r"""(?ix)
    ^\$\{[^}]*\}$ | ^\$\([^)]*\)$ | \{\{[^}]*\}\} | \{%[^%]*%\} | ^<[^<>]*>$ | ^%\(?[a-z_]+\)?s$
    | ^\$[a-z_][a-z0-9_]*$ | ^%[a-z_][a-z0-9_]*%$ | ^\{[a-z_][a-z0-9_.]*\}$
    | ^[x*.#_\-]{4,}$ | x{6,} | \*{4,}
    | changeme | change[_-]me | replace[_-]?me | your[_-]?(?:own[_-]?)?(?:api[_-]?)?(?:key|token|secret|pass)
    | placeholder | redacted | dummy | insert[_-]?(?:your|key|token|here) | example | sample
    | ^(?:password|passwd|secret|token|none|null|undefined|true|false)$
    """
)


@dataclass(frozen=True, slots=True)
class FilterContext:
    """What a filter may look at: the candidate, its rule, the line it is on, the global allowlist."""

    candidate: Candidate
    rule: CompiledRule
    line_text: str  # the line the secret starts on (no line terminator)
    end_line_text: str  # the line the whole match ends on (differs for multi-line secrets)
    allow_paths: Sequence[regex.Pattern[str]]
    allow_values: Sequence[regex.Pattern[str]]
    stopwords: Sequence[str]


def inline_allow(context: FilterContext) -> str | None:
    for text in (context.line_text, context.end_line_text):
        if any(marker in text for marker in INLINE_ALLOW_MARKERS):
            return "inline allow comment"
    return None


def placeholder(context: FilterContext) -> str | None:
    return "placeholder" if PLACEHOLDER.search(context.candidate.secret) else None


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


Filter = Callable[[FilterContext], "str | None"]

# Cheapest and most decisive first.
DEFAULT_FILTERS: tuple[Filter, ...] = (inline_allow, rule_allowlist, global_allowlist, placeholder)


def drop_reason(context: FilterContext, filters: Sequence[Filter] = DEFAULT_FILTERS) -> str | None:
    """The first reason to drop the candidate, or None to keep it."""
    for check in filters:
        reason = check(context)
        if reason is not None:
            return reason
    return None
