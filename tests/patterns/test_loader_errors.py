"""The rule loader refuses defective rules with a message naming the source and the rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from leakvault.errors import RuleError
from leakvault.patterns.loader import check_unique, parse_rule, parse_rules_document

VALID: dict[str, Any] = {
    "id": "acme-key",
    "name": "ACME key",
    "description": "An ACME key.",
    "severity": "high",
    "keywords": ["acme_"],
    "regex": r"\b(acme_[a-z0-9]{32})\b",
    "examples": ["k = acme_{lowalnum:32}", "ACME=acme_{lowalnum:32}"],
    "negative_examples": ["acme_short", "acme_{upper:32}"],
}


def test_valid_rule_parses() -> None:
    """A complete rule parses, with a fingerprint of its matching fields."""
    rule = parse_rule(VALID, "acme.toml")
    assert rule.id == "acme-key" and len(rule.fingerprint) == 16


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "Bad_Id"}, "kebab-case"),
        ({"regex": "(unclosed"}, "does not compile"),
        ({"regex": r"acme_[a-z]+"}, "capture group 1"),
        ({"keywords": ["ACME_"]}, "lowercase"),
        ({"severity": "critical"}, "severity"),
        ({"examples": ["only one"]}, "at least 2 examples"),
        ({"negative_examples": []}, "negative_examples"),
        ({"checksum": "no_such_validator"}, "unknown checksum validator"),
        ({"references": ["not a url"]}, "URLs"),
        ({"entropy": 12}, "entropy"),
        ({"regexp": "typo"}, "unknown key 'regexp'"),
        ({"allowlist": {"paths": ["(bad"]}}, "allowlist regex"),
    ],
)
def test_defective_rule_is_refused(change: dict[str, Any], message: str) -> None:
    """Each kind of defect is a RuleError that names the file, the rule and the problem."""
    with pytest.raises(RuleError) as error:
        parse_rule({**VALID, **change}, "acme.toml")
    assert "acme.toml" in str(error.value) and message in str(error.value)


def test_duplicate_ids_are_refused() -> None:
    """Two rules with one id are an error naming both files."""
    rules = [parse_rule(VALID, "a.toml"), parse_rule(VALID, "b.toml")]
    with pytest.raises(RuleError, match=r"duplicate rule id 'acme-key' in b.toml \(first in a.toml\)"):
        check_unique(rules)


def test_user_rules_need_no_examples() -> None:
    """Rules in a user's config may omit examples and descriptions (built-in ones may not)."""
    rules = parse_rules_document({"rule": [{"id": "mine", "regex": "(x+)"}]}, "cfg", require_examples=False)
    assert rules[0].name == "mine"


def test_config_rules_replace_and_extend_builtins(tmp_path: Path, run_cli: Any) -> None:
    """A [[rule]] in the config is scanned for; with use_default = false only config rules run."""
    (tmp_path / "a.txt").write_text("key = acme_0123456789abcdef0123456789abcdef\n")
    (tmp_path / ".leakvault.toml").write_text(
        "[extend]\nuse_default = false\n[[rule]]\nid = \"acme-key\"\nregex = '''\\b(acme_[a-f0-9]{32})\\b'''\n"
        'keywords = ["acme_"]\nseverity = "low"\n'
    )
    result = run_cli("scan", "--format", "json", ".")
    assert result.returncode == 1, result.stderr
    assert '"rule_id": "acme-key"' in result.stdout and '"severity": "low"' in result.stdout
