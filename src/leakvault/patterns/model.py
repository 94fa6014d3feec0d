"""The rule as the rest of the program sees it: plain, frozen data loaded from TOML."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("high", "medium", "low")


@dataclass(frozen=True, slots=True)
class RuleAllowlist:
    """Per-rule exceptions: a finding is dropped when its path or its secret matches one of these."""

    paths: tuple[str, ...] = ()  # regexes over the normalised relative path
    values: tuple[str, ...] = ()  # regexes over the secret (group 1)
    stopwords: tuple[str, ...] = ()  # lowercase substrings; a secret containing one is dropped


@dataclass(frozen=True, slots=True)
class Rule:
    """One detector. ``regex`` group 1 is the secret; see STYLE.md §2 for the meaning of each field."""

    id: str
    name: str
    description: str
    severity: Severity
    regex: str
    keywords: tuple[str, ...]
    confidence: Severity = "high"
    entropy: float | None = None
    checksum: str | None = None
    path: str | None = None  # only files whose relative path matches this regex
    # A cheap necessary condition for the reference engine: a Python `re` pattern (always
    # case-insensitive) that matches at the start of the first keyword occurrence inside every
    # match. Keyword hits where it fails are not searched (see scanner/prefilter.py).
    gate: str | None = None
    references: tuple[str, ...] = ()
    remediation: str = ""
    tags: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    negative_examples: tuple[str, ...] = ()
    known_misses: tuple[str, ...] = ()
    allowlist: RuleAllowlist = field(default_factory=RuleAllowlist)
    enabled: bool = True  # False: runs only when the config's enabled_rules names it
    source: str = ""  # the file the rule came from, for error messages
    fingerprint: str = ""  # hash of the fields that decide what the rule matches

    @property
    def security_severity(self) -> str:
        """The numeric score GitHub code scanning reads from SARIF (0.1-10)."""
        return {"high": "8.5", "medium": "5.5", "low": "2.5"}[self.severity]
