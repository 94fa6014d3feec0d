"""Baselines: findings a team has looked at and accepted, recorded so scans stop reporting them.

An entry is a fingerprint (rule id, repository path, keyed hash of the secret) with the rule and
path spelled out for reviewers, and optionally a reason, an owner and an expiry date. It holds
no secret and no line number: moving code around does not invalidate it, and two branches that
baseline different findings merge without conflicts (entries are sorted, one per fingerprint,
and the file carries no timestamps or tool version that would churn).

Matching is by fingerprint only, so a *different* secret on a baselined line is reported (its
hash differs), and an entry past its expiry date stops suppressing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from leakvault.errors import ConfigError
from leakvault.scanner.findings.fingerprint import fingerprint_key, repository_path
from leakvault.scanner.model import Finding, ScanResult

BASELINE_VERSION = 1
DEFAULT_BASELINE = ".leakvault-baseline.json"
ENTRY_KEYS = ("fingerprint", "rule", "path", "reason", "owner", "expires")
TOP_KEYS = frozenset({"version", "generated_by", "key_id", "scan", "entries"})


@dataclass(frozen=True, slots=True)
class BaselineEntry:
    """One accepted finding."""

    fingerprint: str
    rule: str
    path: str
    reason: str | None = None
    owner: str | None = None
    expires: date | None = None  # suppresses up to and including this day

    def is_expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires

    def sort_key(self) -> tuple[str, str, str]:
        return (self.path, self.rule, self.fingerprint)


@dataclass(frozen=True, slots=True)
class Baseline:
    """A baseline file's contents. ``scan`` records what was scanned, so `update` can redo it."""

    entries: tuple[BaselineEntry, ...] = ()
    key_id: str = "v1"
    scan: dict[str, Any] = field(default_factory=dict)

    def by_fingerprint(self) -> dict[str, BaselineEntry]:
        return {entry.fingerprint: entry for entry in self.entries}


@dataclass(frozen=True, slots=True)
class BaselineOutcome:
    """What applying a baseline did: findings kept, how many were suppressed, expired entries hit."""

    suppressed: int
    expired: tuple[BaselineEntry, ...]


# ---------------------------------------------------------------------------------------------
# Reading and writing


def _optional_text(raw: dict[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: '{key}' must be a string")
    return value


def parse_date(value: str, where: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{where}: 'expires' must be a date like 2030-12-31, not {value!r}") from None


def _entry(raw: Any, where: str) -> BaselineEntry:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be an object with fingerprint, rule and path")
    unknown = sorted(set(raw) - set(ENTRY_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key '{unknown[0]}' (allowed: {', '.join(ENTRY_KEYS)})")
    for key in ("fingerprint", "rule", "path"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise ConfigError(f"{where}: '{key}' is missing or not a string")
    expires = _optional_text(raw, "expires", where)
    return BaselineEntry(
        fingerprint=raw["fingerprint"],
        rule=raw["rule"],
        path=raw["path"],
        reason=_optional_text(raw, "reason", where),
        owner=_optional_text(raw, "owner", where),
        expires=parse_date(expires, where) if expires is not None else None,
    )


def load_baseline(path: str | os.PathLike[str]) -> Baseline:
    """Read and validate a baseline file; every problem is a `ConfigError` naming the file."""
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as handle:
            document = json.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            f"baseline {name} does not exist; create it with 'leakvault baseline create -o {name}'"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read baseline {name}: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"baseline {name} is not valid JSON ({exc}); fix it or create it again") from None
    if not isinstance(document, dict) or not isinstance(document.get("entries"), list):
        raise ConfigError(f"baseline {name}: expected an object with an 'entries' list")
    unknown = sorted(set(document) - TOP_KEYS)
    if unknown:
        raise ConfigError(f"baseline {name}: unknown key '{unknown[0]}' (allowed: {', '.join(sorted(TOP_KEYS))})")
    if document.get("version", BASELINE_VERSION) != BASELINE_VERSION:
        raise ConfigError(f"baseline {name}: version {document.get('version')!r} is not supported (expected 1)")
    scan = document.get("scan", {})
    if not isinstance(scan, dict):
        raise ConfigError(f"baseline {name}: 'scan' must be an object")
    entries = tuple(_entry(raw, f"baseline {name}: entry {index}") for index, raw in enumerate(document["entries"], 1))
    key_id = document.get("key_id", "v1")
    if not isinstance(key_id, str):
        raise ConfigError(f"baseline {name}: 'key_id' must be a string")
    return Baseline(entries=entries, key_id=key_id, scan=scan)


def render_baseline(baseline: Baseline) -> str:
    """The file's text: keys in a fixed order, entries sorted, optional fields left out when empty,
    so the same baseline always serialises to the same bytes."""
    entries = []
    unique = {entry.fingerprint: entry for entry in baseline.entries}
    for entry in sorted(unique.values(), key=BaselineEntry.sort_key):
        record: dict[str, str] = {"fingerprint": entry.fingerprint, "rule": entry.rule, "path": entry.path}
        if entry.reason:
            record["reason"] = entry.reason
        if entry.owner:
            record["owner"] = entry.owner
        if entry.expires is not None:
            record["expires"] = entry.expires.isoformat()
        entries.append(record)
    document = {
        "version": BASELINE_VERSION,
        "generated_by": "leakvault",
        "key_id": baseline.key_id,
        "scan": baseline.scan,
        "entries": entries,
    }
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


# ---------------------------------------------------------------------------------------------
# Using a baseline


def check_key(baseline: Baseline, name: str) -> None:
    """Refuse a baseline made under another fingerprint key: none of its entries could match."""
    _, current = fingerprint_key()
    if baseline.key_id != current:
        raise ConfigError(
            f"baseline {name} was made with fingerprint key '{baseline.key_id}' but this run uses '{current}'; "
            "set LEAKVAULT_FINGERPRINT_KEY as it was when the baseline was made, or create it again"
        )


def apply_baseline(result: ScanResult, baseline: Baseline, today: date) -> BaselineOutcome:
    """Drop from ``result`` the findings the baseline accepts (in place); expired entries don't."""
    entries = baseline.by_fingerprint()
    kept: list[Finding] = []
    suppressed = 0
    expired: dict[str, BaselineEntry] = {}
    for finding in result.findings:
        entry = entries.get(finding.fingerprint)
        if entry is None:
            kept.append(finding)
        elif entry.is_expired(today):
            expired[entry.fingerprint] = entry
            kept.append(finding)
        else:
            suppressed += 1
            result.baselined.append(finding)
    result.findings[:] = kept
    return BaselineOutcome(suppressed=suppressed, expired=tuple(sorted(expired.values(), key=BaselineEntry.sort_key)))


def entries_for(findings: Iterable[Finding], annotate: BaselineEntry | None = None) -> list[BaselineEntry]:
    """A baseline entry per distinct fingerprint among ``findings``; ``annotate`` supplies the
    reason, owner and expiry for all of them."""
    entries: dict[str, BaselineEntry] = {}
    for finding in findings:
        entry = BaselineEntry(finding.fingerprint, finding.rule_id, repository_path(finding.path))
        if annotate is not None:
            entry = replace(entry, reason=annotate.reason, owner=annotate.owner, expires=annotate.expires)
        entries.setdefault(entry.fingerprint, entry)
    return list(entries.values())


@dataclass(frozen=True, slots=True)
class UpdateSummary:
    kept: int
    pruned: int
    added: int


def updated_baseline(
    old: Baseline, findings: Sequence[Finding], *, add_new: bool, scan: dict[str, Any] | None = None
) -> tuple[Baseline, UpdateSummary]:
    """``old`` with entries that no longer occur pruned (reason, owner and expiry of the others
    kept), and, with ``add_new``, today's new findings added."""
    current = {entry.fingerprint: entry for entry in entries_for(findings)}
    kept = [entry for entry in old.entries if entry.fingerprint in current]
    known = {entry.fingerprint for entry in kept}
    added = [entry for fp, entry in current.items() if fp not in known] if add_new else []
    _, key_id = fingerprint_key()
    new = Baseline(entries=tuple(kept + added), key_id=key_id, scan=old.scan if scan is None else scan)
    return new, UpdateSummary(kept=len(kept), pruned=len(old.entries) - len(kept), added=len(added))


def resolve_baseline_path(explicit: str | None, config_raw: dict[str, Any], config_source: str | None) -> str | None:
    """``--baseline FILE``, else ``baseline = "FILE"`` in the config (relative to the config file)."""
    if explicit is not None:
        return explicit
    configured = config_raw.get("baseline")
    if configured is None:
        return None
    if not isinstance(configured, str) or not configured:
        raise ConfigError(f"{config_source}: 'baseline' must be the path of a baseline file")
    base = Path(config_source).parent if config_source else Path()
    return str(base / configured)


def use_baseline(result: ScanResult, name: str, today: date | None = None) -> str:
    """Apply the baseline file ``name`` to ``result``: accepted findings are dropped, expired
    entries become warnings. Returns a one-line note on what the baseline did."""
    baseline = load_baseline(name)
    check_key(baseline, name)
    outcome = apply_baseline(result, baseline, today or date.today())
    for entry in outcome.expired:
        result.warnings.append(
            f"{entry.path}: baseline entry for {entry.rule} expired on {entry.expires}; the finding is reported again"
        )
    return f"{outcome.suppressed} finding{'s' * (outcome.suppressed != 1)} accepted by baseline {name}"
