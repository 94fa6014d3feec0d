"""Scanner configuration: `.leakvault.toml`, or ``[tool.leakvault]`` in pyproject.toml.

Every key is checked; an unknown or ill-typed key is a `ConfigError` naming the file and the key,
because a typo that silently disables an exclude or an allowlist is worse than a refusal to run.
"""

from __future__ import annotations

import os
import random
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex

from leakvault.errors import ConfigError, RuleError
from leakvault.patterns.examples import expand
from leakvault.patterns.loader import parse_rules_document
from leakvault.patterns.model import Rule
from leakvault.scanner.engine.gate_check import gate_violations

DEFAULT_MAX_FILE_SIZE = 25 * 1024 * 1024
CONFIG_FILE_NAME = ".leakvault.toml"
TOP_LEVEL_KEYS = frozenset(
    {
        "exclude",
        "max_file_size",
        "disabled_rules",
        "enabled_rules",
        "extend",
        "rule",
        "allowlist",
        "vault",
        "baseline",
        "rotation",
    }
)
ALLOWLIST_KEYS = frozenset({"paths", "values", "stopwords"})
SIZE_UNITS = {"": 1, "b": 1, "kb": 1024, "k": 1024, "mb": 1024**2, "m": 1024**2, "gb": 1024**3, "g": 1024**3}


@dataclass(frozen=True, slots=True)
class ScanConfig:
    """Settings for one scan. The defaults are what `leakvault scan` uses with no config file."""

    exclude: tuple[str, ...] = ()  # gitignore-style patterns, relative to the scan root
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    disabled_rules: frozenset[str] = frozenset()
    enabled_rules: frozenset[str] = frozenset()  # rules that are off by default (test-mode keys)
    use_default_rules: bool = True
    extra_rules: tuple[Rule, ...] = ()
    allow_paths: tuple[str, ...] = ()  # regexes over relative paths
    allow_values: tuple[str, ...] = ()  # regexes over secrets
    stopwords: tuple[str, ...] = ()
    source: str | None = None  # the file this came from, for messages
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def parse_size(value: Any, where: str) -> int:
    """Turn ``10485760``, ``"10MB"`` or ``"512 kb"`` into bytes."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str):
        match = regex.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", value)
        if match and match[2].lower() in SIZE_UNITS:
            return int(float(match[1]) * SIZE_UNITS[match[2].lower()])
    raise ConfigError(f"{where}: 'max_file_size' must be a positive number of bytes or a size like \"10MB\"")


def _check_gate(rule: Rule, source: str) -> None:
    """A custom rule's gate must hold inside the matches of the rule's own examples: a wrong gate
    would make the reference engine skip real findings without a word."""
    where = f"{source}: rule '{rule.id}'"
    if not rule.examples:
        raise ConfigError(f"{where}: a 'gate' needs 'examples' to be checked against; add examples or drop the gate")
    rng = random.Random(0)  # noqa: S311 - fills example templates, nothing secret
    for number, example in enumerate(rule.examples, 1):
        try:
            violations = gate_violations(rule, expand(example, rule.checksum, rng).encode("utf-8"))
        except (TimeoutError, ValueError):
            continue  # the example itself is the problem; the rule tests will say so
        if violations:
            raise ConfigError(
                f"{where}: its gate fails inside the match of example {number}, so the regex engine would miss it; "
                "fix the gate (see docs/provider-rules.md) or remove it"
            )


def _string_list(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def _regex_list(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = _string_list(table, key, where)
    for expression in values:
        try:
            regex.compile(expression)
        except regex.error as exc:
            raise ConfigError(f"{where}: '{key}' has a regex that does not compile ({expression!r}: {exc})") from None
    return values


def config_from_table(table: dict[str, Any], source: str) -> ScanConfig:
    """Validate one configuration table (the whole `.leakvault.toml`, or ``[tool.leakvault]``)."""
    unknown = sorted(set(table) - TOP_LEVEL_KEYS)
    if unknown:
        raise ConfigError(f"{source}: unknown key '{unknown[0]}' (allowed: {', '.join(sorted(TOP_LEVEL_KEYS))})")
    extend = table.get("extend", {})
    if not isinstance(extend, dict) or set(extend) - {"use_default"}:
        raise ConfigError(f"{source}: '[extend]' takes only 'use_default = true|false'")
    use_default = extend.get("use_default", True)
    if not isinstance(use_default, bool):
        raise ConfigError(f"{source}: 'extend.use_default' must be true or false")
    allowlist = table.get("allowlist", {})
    if not isinstance(allowlist, dict):
        raise ConfigError(f"{source}: 'allowlist' must be a table")
    unknown = sorted(set(allowlist) - ALLOWLIST_KEYS)
    if unknown:
        raise ConfigError(f"{source}: unknown key 'allowlist.{unknown[0]}' (allowed: paths, values, stopwords)")
    try:
        extra_rules = tuple(parse_rules_document(table, source, require_examples=False))
    except RuleError as exc:
        raise ConfigError(str(exc)) from None
    for rule in extra_rules:
        if rule.gate:
            _check_gate(rule, source)
    return ScanConfig(
        exclude=_string_list(table, "exclude", source),
        max_file_size=parse_size(table["max_file_size"], source) if "max_file_size" in table else DEFAULT_MAX_FILE_SIZE,
        disabled_rules=frozenset(_string_list(table, "disabled_rules", source)),
        enabled_rules=frozenset(_string_list(table, "enabled_rules", source)),
        use_default_rules=use_default,
        extra_rules=extra_rules,
        allow_paths=_regex_list(allowlist, "paths", f"{source}: allowlist"),
        allow_values=_regex_list(allowlist, "values", f"{source}: allowlist"),
        stopwords=tuple(word.lower() for word in _string_list(allowlist, "stopwords", source)),
        source=source,
        raw=table,
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}; check the path and its permissions") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc}); fix the syntax or pass another --config") from None


def load_config_file(path: Path) -> ScanConfig:
    """Load an explicit config file: a `.leakvault.toml`, or a pyproject.toml with [tool.leakvault]."""
    document = _read_toml(path)
    if path.name == "pyproject.toml":
        document = document.get("tool", {}).get("leakvault", {})
        if not isinstance(document, dict):
            raise ConfigError(f"{path}: [tool.leakvault] must be a table")
    return config_from_table(document, str(path))


def find_config_file(start: Path) -> Path | None:
    """The nearest `.leakvault.toml` (or pyproject.toml with [tool.leakvault]) from ``start`` up to the
    repository root (the first directory holding ``.git``)."""
    directory = start.resolve()
    while True:
        candidate = directory / CONFIG_FILE_NAME
        if candidate.is_file():
            return candidate
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            try:
                if "leakvault" in _read_toml(pyproject).get("tool", {}):
                    return pyproject
            except ConfigError:
                pass  # a broken pyproject.toml that does not configure us is not our business
        if (directory / ".git").exists() or directory.parent == directory:
            return None
        directory = directory.parent


def load_config(explicit: str | None, start: Path | None = None) -> ScanConfig:
    """The config for a scan: ``--config`` if given, else the nearest config file, else defaults."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"config file {explicit} does not exist; check the --config path")
        return load_config_file(path)
    found = find_config_file(start or Path(os.getcwd()))
    return load_config_file(found) if found else ScanConfig()
