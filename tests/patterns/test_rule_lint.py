"""Rule lint beyond what the loader enforces, and a snapshot of the rule ids (STYLE.md §5).

The snapshot makes additions, renames and removals visible in review: a rule id is a public
contract (SARIF ruleId, inline suppressions, baselines). After a deliberate change, regenerate it
with ``LEAKVAULT_UPDATE_RULE_IDS=1 pytest tests/patterns/test_rule_lint.py``.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from pathlib import Path

import pytest
from tests.rule_paths import path_for

from leakvault.patterns.examples import expand, has_template
from leakvault.patterns.loader import load_builtin_rules
from leakvault.patterns.model import Rule
from leakvault.scanner.contexts import build_view
from leakvault.scanner.model import Chunk

RULES = load_builtin_rules()
SNAPSHOT = Path(__file__).with_name("rule_ids.txt")


def _ids(rule: Rule) -> str:
    return rule.id


def test_rule_ids_are_unique() -> None:
    """No two rules share an id."""
    duplicates = [rule_id for rule_id, count in Counter(rule.id for rule in RULES).items() if count > 1]
    assert duplicates == []


def test_rule_ids_match_snapshot() -> None:
    """The sorted list of rule ids equals tests/patterns/rule_ids.txt."""
    current = "".join(f"{rule_id}\n" for rule_id in sorted(rule.id for rule in RULES))
    if os.environ.get("LEAKVAULT_UPDATE_RULE_IDS"):
        SNAPSHOT.write_text(current, encoding="utf-8")
    recorded = SNAPSHOT.read_text(encoding="utf-8")
    added = sorted(set(current.split()) - set(recorded.split()))
    removed = sorted(set(recorded.split()) - set(current.split()))
    assert current == recorded, f"rule ids changed: added {added}, removed {removed}; see this module's docstring"


@pytest.mark.parametrize("rule", RULES, ids=_ids)
def test_rule_metadata(rule: Rule) -> None:
    """Keywords lowercase, https references, remediation, tags, and at least two examples and negatives."""
    assert rule.keywords, "a keyword-less rule runs on every chunk; give it keywords"
    assert all(keyword == keyword.lower() and keyword.strip() == keyword and keyword for keyword in rule.keywords)
    assert rule.references and all(reference.startswith("https://") for reference in rule.references)
    assert rule.remediation.strip() and rule.description.strip() and rule.name.strip()
    assert rule.tags and all(tag == tag.lower() for tag in rule.tags)
    assert len(rule.examples) >= 2 and len(rule.negative_examples) >= 2


@pytest.mark.parametrize("rule", RULES, ids=_ids)
def test_examples_are_generated_not_literal(rule: Rule) -> None:
    """Every positive example fills its secret from a template at test time, so no live-looking
    credential is committed."""
    literal = [example for example in rule.examples if not has_template(example)]
    assert literal == []


@pytest.mark.parametrize("rule", RULES, ids=_ids)
def test_examples_contain_a_keyword(rule: Rule) -> None:
    """Each expanded example contains one of the rule's keywords, in its text or in the contexts
    stage's view of it (else the prefilter would skip it)."""
    rng = random.Random(0)
    for example in rule.examples:
        text = expand(example, rule.checksum, rng)
        view = build_view(Chunk(path=path_for(rule) or "example.env", data=text.encode("utf-8")))
        seen = (text + "\n" + (view.chunk.data.decode("utf-8") if view else "")).lower()
        assert any(keyword in seen for keyword in rule.keywords), example
