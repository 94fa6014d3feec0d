"""Gate soundness: a rule's gate passes at a keyword hit inside every match of the rule.

The reference engine drops keyword hits where the rule's gate (a cheap Python `re` pattern, tried
at the hit) fails, so a gate that fails inside a real match loses a finding. What must hold, for
every match M of the rule: some occurrence of one of the rule's keywords lies inside M, the gate
matches at its start, and, for a keyword-anchored rule, that occurrence starts no further into M
than the rule's anchor distance for its keyword (the engine tries starts only that far before a
kept hit).

Checked on every example of every gated rule (filled several times) and on Hypothesis-generated
matches of the rule's regex placed in random surroundings. The differential test
(tests/scanner/test_engine_differential.py) then compares whole scans with and without gates.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from tests.patterns.test_prefilter_soundness import UNSUPPORTED, strip_lookarounds

from leakvault.patterns.examples import expand
from leakvault.patterns.loader import load_builtin_rules
from leakvault.patterns.model import Rule
from leakvault.scanner.engine.gate_check import gate_violations

RULES = load_builtin_rules()
GATED = [rule for rule in RULES if rule.gate]
SURROUNDINGS = st.sampled_from(["", " ", "\n", "x = ", "\t", "# ", '"', "'", "(", "--", "\n  ", "{", "<a>", ": "])


def test_some_rules_are_gated() -> None:
    """The generic family and the keywords that hit most often carry gates (a rule file edit that
    drops them would make the reference engine several times slower without failing anything else)."""
    gated = {rule.id for rule in GATED}
    for rule_id in ("generic-secret-assignment", "generic-xml-secret", "generic-secret-setter", "twilio-api-key"):
        assert rule_id in gated


@pytest.mark.parametrize("rule", GATED, ids=lambda r: r.id)
def test_gate_passes_inside_every_example_match(rule: Rule) -> None:
    rng = random.Random(f"gate:{rule.id}")
    for template in rule.examples + rule.known_misses + rule.negative_examples:
        for _ in range(5):
            text = expand(template, rule.checksum, rng).encode("utf-8")
            assert gate_violations(rule, text) == [], (rule.id, template)


@pytest.mark.parametrize("rule", [r for r in GATED if r.id not in UNSUPPORTED], ids=lambda r: r.id)
def test_gate_passes_inside_generated_matches(rule: Rule) -> None:
    strategy = st.from_regex(strip_lookarounds(rule.regex), fullmatch=True, alphabet=st.characters(max_codepoint=127))

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(SURROUNDINGS, strategy, SURROUNDINGS)
    def check(before: str, body: str, after: str) -> None:
        text = (before + body + after).encode("latin-1")
        try:
            violations = gate_violations(rule, text)
        except TimeoutError:
            reject()
        assert violations == [], (rule.id, text)

    check()


def test_a_wrong_gate_is_caught() -> None:
    """The check itself can fail: a gate demanding a colon misses an example written with '='."""
    rule = next(rule for rule in RULES if rule.id == "generic-secret-assignment")
    wrong = Rule(**{**{f: getattr(rule, f) for f in rule.__dataclass_fields__}, "gate": r"[\w.-]*:"})
    value = expand("{alnum:24}", None, random.Random(7))  # generated: never a committed credential
    text = b'api_key = "' + value.encode() + b'"'
    assert gate_violations(wrong, text) != []
    assert gate_violations(rule, text) == []
