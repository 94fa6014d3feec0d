"""Which rules run, and which rule reports a secret when several match it."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from leakvault.patterns.examples import expand
from leakvault.patterns.loader import load_builtin_rules
from leakvault.patterns.model import Rule
from leakvault.scanner.chunk_scanner import Scanner, owned_prefixes, select_rules
from leakvault.scanner.config import ScanConfig
from leakvault.scanner.model import Chunk

BUILTIN = load_builtin_rules()


def _ids(config: ScanConfig) -> set[str]:
    return {rule.id for rule in select_rules(BUILTIN, config)}


def test_test_mode_keys_are_off_by_default_and_can_be_enabled() -> None:
    """Stripe test keys are not scanned for by default; enabled_rules turns them on."""
    assert "stripe-test-secret-key" not in _ids(ScanConfig())
    assert "stripe-test-secret-key" in _ids(ScanConfig(enabled_rules=frozenset({"stripe-test-secret-key"})))


def test_disabled_rules_win_over_everything() -> None:
    """A disabled rule does not run even when also enabled."""
    config = ScanConfig(disabled_rules=frozenset({"github-pat"}), enabled_rules=frozenset({"github-pat"}))
    assert "github-pat" not in _ids(config)


def test_owned_prefixes_come_from_specific_rules_only() -> None:
    """Token prefixes of specific rules are owned; generic rules own none."""
    prefixes = owned_prefixes(BUILTIN)
    assert "ghp_" in prefixes and "glpat-" in prefixes
    assert all(not keyword.endswith(("_", "-", ".")) for keyword in ("password", "secret"))


def test_generic_rule_does_not_report_a_value_a_specific_rule_rejected() -> None:
    """A ghp_ token with a wrong checksum assigned to a password name is not reported by the generic
    rule: the GitHub rule owns that format and rejected it."""
    rng = random.Random(45)  # seeded: a failure reproduces
    rules = [rule for rule in BUILTIN if rule.id == "github-pat" or "generic" in rule.tags]
    scanner = Scanner(rules, ScanConfig())
    bad_checksum = expand("ghp_{alnum:36}", None, rng)
    good = expand("{token:ghp_}", "crc32_base62", rng)
    text = f'api_token = "{bad_checksum}"\napi_token = "{good}"\n'
    findings = scanner.scan_chunk(Chunk(path="settings.py", data=text.encode())).findings
    assert [(finding.rule_id, finding.line) for finding in findings] == [("github-pat", 2)]


def test_a_filtered_generic_match_does_not_hide_a_specific_one() -> None:
    """Filters run before overlaps are resolved: when a generic rule's candidate on the same span
    is dropped, the specific rule's finding still stands."""
    specific = Rule(
        id="acme-key",
        name="ACME",
        description="d",
        severity="high",
        regex=r"\b(acme_[a-z0-9]{24})\b",
        keywords=("acme_",),
    )
    generic = Rule(
        id="generic-x",
        name="G",
        description="d",
        severity="low",
        regex=r"key = '([^']+)'",
        keywords=("key",),
        tags=("generic",),
        allowlist=specific.allowlist.__class__(values=(r"^acme_",)),
    )
    scanner = Scanner([generic, specific], ScanConfig())
    value = expand("acme_{lowalnum:24}", None, random.Random(77))
    findings = scanner.scan_chunk(Chunk(path="a.py", data=f"key = '{value}'\n".encode())).findings
    assert [finding.rule_id for finding in findings] == ["acme-key"]


def test_generic_rules_leave_test_mode_keys_alone_while_their_rule_is_off(tmp_path: Path, run_cli: Any) -> None:
    """With the Stripe test-key rule off (the default), a test key assigned to a secret name is not
    reported by a generic rule either; enabled, its own rule reports it."""
    key = expand("sk_test_{alnum:24}", None, random.Random(85))
    (tmp_path / "settings.py").write_text(f'STRIPE_SECRET_KEY = "{key}"\n')
    assert run_cli("scan", ".").returncode == 0
    (tmp_path / ".leakvault.toml").write_text('enabled_rules = ["stripe-test-secret-key"]\n')
    result = run_cli("scan", "--format", "json", ".")
    assert result.returncode == 1 and '"rule_id": "stripe-test-secret-key"' in result.stdout
