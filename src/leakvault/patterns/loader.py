"""Parse rule TOML into `Rule` objects, lint them, and compile them for the engines.

Built-in rules ship as package data (``leakvault/patterns/rules/*.toml``); users add rules in their
config with the same fields. Linting happens at load time so a broken rule is a clear error naming
the file and the rule, never a silent miss.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import regex

from leakvault.errors import RuleError
from leakvault.patterns.model import SEVERITIES, Rule, RuleAllowlist, Severity
from leakvault.patterns.validators import VALIDATORS

RULE_KEYS = frozenset(
    {
        "id",
        "name",
        "description",
        "severity",
        "confidence",
        "keywords",
        "regex",
        "entropy",
        "checksum",
        "path",
        "gate",
        "references",
        "remediation",
        "tags",
        "examples",
        "negative_examples",
        "known_misses",
        "allowlist",
        "enabled",
    }
)
ALLOWLIST_KEYS = frozenset({"paths", "values", "stopwords"})
ID_PATTERN = regex.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MIN_EXAMPLES = 2

# Bounds every regex call in the scanner; a pathological input costs at most this per rule and file.
REGEX_TIMEOUT_SECONDS = 2.0


def _strings(value: Any, where: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RuleError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def parse_rule(table: Mapping[str, Any], source: str, *, require_examples: bool = True) -> Rule:
    """Build one `Rule` from a TOML table, raising `RuleError` naming ``source`` on any defect."""
    rule_id = table.get("id")
    where = f"{source}: rule {rule_id!r}" if rule_id else f"{source}: a [[rule]] without an id"
    unknown = sorted(set(table) - RULE_KEYS)
    if unknown:
        raise RuleError(f"{where}: unknown key '{unknown[0]}' (allowed: {', '.join(sorted(RULE_KEYS))})")
    if not isinstance(rule_id, str) or not ID_PATTERN.match(rule_id):
        raise RuleError(f"{where}: 'id' must be kebab-case ([a-z0-9-]+)")
    for key in ("regex",) + (("name", "description") if require_examples else ()):
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise RuleError(f"{where}: '{key}' is required and must be a non-empty string")
    severity = table.get("severity", "medium")
    confidence = table.get("confidence", "high")
    for key, value in (("severity", severity), ("confidence", confidence)):
        if value not in SEVERITIES:
            raise RuleError(f"{where}: '{key}' must be one of {', '.join(SEVERITIES)}")
    keywords = _strings(table.get("keywords", []), where, "keywords")
    if any(not keyword or keyword != keyword.lower() for keyword in keywords):
        raise RuleError(f"{where}: keywords must be non-empty and lowercase")
    pattern = table["regex"]
    try:
        compiled = regex.compile(pattern)
    except regex.error as exc:
        raise RuleError(f"{where}: regex does not compile: {exc}") from None
    if compiled.groups < 1:
        raise RuleError(f"{where}: regex needs a capture group 1 holding the secret")
    entropy = table.get("entropy")
    if entropy is not None and (not isinstance(entropy, int | float) or not 0 <= entropy <= 8):
        raise RuleError(f"{where}: 'entropy' must be a number of bits per character between 0 and 8")
    checksum = table.get("checksum")
    if checksum is not None and checksum not in VALIDATORS:
        raise RuleError(f"{where}: unknown checksum validator '{checksum}' (known: {', '.join(VALIDATORS)})")
    path = table.get("path")
    if path is not None:
        try:
            regex.compile(path)
        except regex.error as exc:
            raise RuleError(f"{where}: 'path' regex does not compile: {exc}") from None
    gate = _parse_gate(table.get("gate"), where)
    references = _strings(table.get("references", []), where, "references")
    if any(not reference.startswith(("https://", "http://")) for reference in references):
        raise RuleError(f"{where}: references must be URLs")
    examples = _strings(table.get("examples", []), where, "examples")
    negatives = _strings(table.get("negative_examples", []), where, "negative_examples")
    if require_examples and (len(examples) < MIN_EXAMPLES or len(negatives) < MIN_EXAMPLES):
        raise RuleError(f"{where}: needs at least {MIN_EXAMPLES} examples and {MIN_EXAMPLES} negative_examples")
    allowlist = _parse_allowlist(table.get("allowlist", {}), where)
    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        raise RuleError(f"{where}: 'enabled' must be true or false")
    fingerprint = hashlib.sha256(repr((pattern, keywords, entropy, checksum, path, allowlist)).encode()).hexdigest()[
        :16
    ]
    return Rule(
        id=rule_id,
        name=table.get("name", rule_id),
        description=table.get("description", ""),
        severity=_severity(severity),
        confidence=_severity(confidence),
        regex=pattern,
        keywords=keywords,
        entropy=float(entropy) if entropy is not None else None,
        checksum=checksum,
        path=path,
        gate=gate,
        references=references,
        remediation=str(table.get("remediation", "")),
        tags=_strings(table.get("tags", []), where, "tags"),
        examples=examples,
        negative_examples=negatives,
        known_misses=_strings(table.get("known_misses", []), where, "known_misses"),
        allowlist=allowlist,
        enabled=enabled,
        source=source,
        fingerprint=fingerprint,
    )


def _parse_gate(value: Any, where: str) -> str | None:
    """A rule's gate: ASCII, compiles as a case-insensitive bytes pattern of Python's `re`."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise RuleError(f"{where}: 'gate' must be a non-empty string")
    try:
        compile_gate(f"(?:{value})")  # gates of one keyword's owners are joined as alternatives
    except (UnicodeEncodeError, re.error) as exc:
        raise RuleError(f"{where}: 'gate' must be an ASCII pattern of Python's re module: {exc}") from None
    return value


@cache
def compile_gate(source: str) -> re.Pattern[bytes]:
    """A gate compiled once per process (rules of one family share theirs). Python's `re`, not
    `regex`: gates are short, linear and run at every keyword hit, where `re` is ~2x faster and
    needs no timeout."""
    return re.compile(source.encode("ascii"), re.IGNORECASE)


def _severity(value: str) -> Severity:
    for severity in SEVERITIES:
        if value == severity:
            return severity
    raise AssertionError(value)  # parse_rule checked membership already


def _parse_allowlist(value: Any, where: str) -> RuleAllowlist:
    if not isinstance(value, dict):
        raise RuleError(f"{where}: 'allowlist' must be a table")
    unknown = sorted(set(value) - ALLOWLIST_KEYS)
    if unknown:
        raise RuleError(f"{where}: unknown allowlist key '{unknown[0]}'")
    allow = RuleAllowlist(
        paths=_strings(value.get("paths", []), where, "allowlist.paths"),
        values=_strings(value.get("values", []), where, "allowlist.values"),
        stopwords=tuple(word.lower() for word in _strings(value.get("stopwords", []), where, "allowlist.stopwords")),
    )
    for expression in allow.paths + allow.values:
        try:
            regex.compile(expression)
        except regex.error as exc:
            raise RuleError(f"{where}: allowlist regex {expression!r} does not compile: {exc}") from None
    return allow


def parse_rules_document(document: Mapping[str, Any], source: str, *, require_examples: bool = True) -> list[Rule]:
    """Parse the ``[[rule]]`` array of one TOML document."""
    tables = document.get("rule", [])
    if not isinstance(tables, list):
        raise RuleError(f"{source}: 'rule' must be an array of tables ([[rule]])")
    return [parse_rule(table, source, require_examples=require_examples) for table in tables]


def check_unique(rules: Iterable[Rule]) -> None:
    """Raise `RuleError` if two rules share an id."""
    seen: dict[str, str] = {}
    for rule in rules:
        if rule.id in seen:
            raise RuleError(f"duplicate rule id '{rule.id}' in {rule.source} (first in {seen[rule.id]})")
        seen[rule.id] = rule.source


@lru_cache(maxsize=1)
def load_builtin_rules() -> tuple[Rule, ...]:
    """Every rule shipped with leakvault, linted, in a stable order (file name, then file order)."""
    rules: list[Rule] = []
    directory = resources.files("leakvault.patterns") / "rules"
    for entry in sorted(directory.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".toml"):
            continue
        source = f"rules/{entry.name}"
        try:
            document = tomllib.loads(entry.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise RuleError(f"{source}: invalid TOML: {exc}") from None
        rules.extend(parse_rules_document(document, source))
    check_unique(rules)
    return tuple(rules)


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule with its regexes compiled and its checksum validator resolved."""

    rule: Rule
    path_pattern: regex.Pattern[str] | None
    allow_paths: tuple[regex.Pattern[str], ...]
    allow_values: tuple[regex.Pattern[str], ...]
    validator: Callable[[str], bool] | None


def compile_rule(rule: Rule) -> CompiledRule:
    """Compile one rule's regexes (group 1 is the secret)."""
    return CompiledRule(
        rule=rule,
        path_pattern=regex.compile(rule.path) if rule.path else None,
        allow_paths=tuple(regex.compile(p) for p in rule.allowlist.paths),
        allow_values=tuple(regex.compile(p) for p in rule.allowlist.values),
        validator=VALIDATORS[rule.checksum] if rule.checksum else None,
    )
