"""Prefilter soundness: every string a rule's regex can match contains one of its keywords.

The keyword prefilter skips a rule on any chunk that holds none of its keywords, so a regex that can
match keyword-free text silently loses findings. Hypothesis generates matches of each regex
(``st.from_regex``) over Latin-1, the alphabet the scanner's text has (it decodes bytes as
Latin-1), and we check that each one contains a keyword case-insensitively, as the prefilter does.

Lookaround assertions are removed before generating: they consume nothing, so the stripped regex
matches a superset of the original's match texts, and soundness of the superset implies soundness of
the original (and ``st.from_regex`` cannot fullmatch a pattern that ends in a lookahead).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException

from leakvault.patterns.loader import load_builtin_rules
from leakvault.patterns.model import Rule
from leakvault.patterns.regex_text import group_end

RULES = load_builtin_rules()

# Rules whose regex Hypothesis cannot generate from, each with the reason. A rule that newly fails
# to generate must be added here on purpose (test_unsupported_rules_are_listed).
UNSUPPORTED: dict[str, str] = {}

LATIN1 = st.characters(max_codepoint=255)


def strip_lookarounds(pattern: str) -> str:
    """``pattern`` without its (?=...), (?!...), (?<=...) and (?<!...) groups."""
    out: list[str] = []
    index, length = 0, len(pattern)
    in_class = False
    while index < length:
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index : index + 2])
            index += 2
            continue
        if in_class:
            in_class = char != "]"
            out.append(char)
            index += 1
            continue
        if char == "[":
            in_class = True
            out.append(char)
            # A ']' right after '[' or '[^' is a literal member, not the end of the class.
            for lead in ("^", "]"):
                if index + 1 < length and pattern[index + 1] == lead:
                    out.append(lead)
                    index += 1
            index += 1
            continue
        if pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), index):
            index = group_end(pattern, index)
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _strategy(rule: Rule) -> st.SearchStrategy[str]:
    return st.from_regex(strip_lookarounds(rule.regex), fullmatch=True, alphabet=LATIN1)


def _generatable(rule: Rule) -> str | None:
    """None if Hypothesis can generate from the rule's regex, else why not."""
    try:
        re.compile(strip_lookarounds(rule.regex))
        _strategy(rule).validate()
    except (re.error, HypothesisException, ValueError, NotImplementedError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def test_strip_lookarounds() -> None:
    """Lookarounds go, escaped parentheses and character classes with brackets stay."""
    assert strip_lookarounds(r"(?<![A-Z(])(ab)(?![)\]x])c") == "(ab)c"
    assert strip_lookarounds(r"\(?=x(?=y)") == r"\(?=x"
    assert strip_lookarounds(r"[(?=]a") == r"[(?=]a"
    assert strip_lookarounds(r"a(?=(b|c))d") == "ad"


def test_unsupported_rules_are_listed() -> None:
    """Every rule Hypothesis cannot generate from is listed in UNSUPPORTED with a reason, and only those."""
    failing = {rule.id for rule in RULES if _generatable(rule) is not None}
    assert failing == set(UNSUPPORTED), {rule.id: _generatable(rule) for rule in RULES if rule.id in failing}


@pytest.mark.parametrize("rule", [r for r in RULES if r.keywords and r.id not in UNSUPPORTED], ids=lambda r: r.id)
def test_every_match_contains_a_keyword(rule: Rule) -> None:
    """Strings generated from the rule's regex contain one of its keywords, case-insensitively."""

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(_strategy(rule))
    def check(text: str) -> None:
        lowered = text.lower()
        assert any(keyword in lowered for keyword in rule.keywords), (rule.id, text)

    check()
