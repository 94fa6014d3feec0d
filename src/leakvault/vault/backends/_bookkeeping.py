"""leakvault's own per-secret state, for services that cannot hold it natively.

AWS Secrets Manager has no per-version soft delete; no cloud service has ``max_versions`` or
KV-style custom metadata beside the value; GCP and Azure cannot mark a version that lost a
check-and-set race. Such facts are kept as one small JSON document stored with the secret itself
(AWS: the Description; GCP: an annotation; Azure: a tag), so they live and die with it, and every
leakvault client reading the secret enforces them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leakvault.vault.errors import BackendError
from leakvault.vault.model import utcnow


def now_iso() -> str:
    return utcnow().astimezone(UTC).isoformat()


@dataclass
class Bookkeeping:
    max_versions: int = 0
    floor: int = 0  # versions <= floor were pruned by max_versions and no longer exist for leakvault
    deleted: dict[int, str] = field(default_factory=dict)  # version -> soft-deleted at (ISO 8601)
    destroyed: dict[int, str] = field(default_factory=dict)  # version -> destroyed at
    empty: set[int] = field(default_factory=set)  # versions holding an empty value (stored as a placeholder)
    void: set[int] = field(default_factory=set)  # versions that lost a check-and-set race (disabled)
    empty_pending: str | None = None  # id of an empty pending value
    custom: dict[str, str] = field(default_factory=dict)
    updated: str | None = None
    text: str | None = None  # a description that was there before leakvault managed the secret

    @classmethod
    def from_json(cls, text: str | None, *, where: str) -> Bookkeeping:
        if not text:
            return cls()
        try:
            raw = json.loads(text)
            return cls(
                max_versions=int(raw.get("max", 0)),
                floor=int(raw.get("floor", 0)),
                deleted={int(k): str(v) for k, v in raw.get("deleted", {}).items()},
                destroyed={int(k): str(v) for k, v in raw.get("destroyed", {}).items()},
                empty={int(v) for v in raw.get("empty", [])},
                void={int(v) for v in raw.get("void", [])},
                empty_pending=raw.get("empty_pending"),
                custom={str(k): str(v) for k, v in raw.get("custom", {}).items()},
                updated=raw.get("updated"),
                text=raw.get("text"),
            )
        except (ValueError, TypeError, AttributeError):
            raise BackendError(f"{where} holds damaged leakvault metadata; fix or clear it in the service") from None

    def to_json(self) -> str:
        raw: dict[str, Any] = {"v": 1}
        for key, value in (
            ("max", self.max_versions),
            ("floor", self.floor),
            ("deleted", {str(k): v for k, v in sorted(self.deleted.items())}),
            ("destroyed", {str(k): v for k, v in sorted(self.destroyed.items())}),
            ("empty", sorted(self.empty)),
            ("void", sorted(self.void)),
            ("empty_pending", self.empty_pending),
            ("custom", dict(sorted(self.custom.items()))),
            ("updated", self.updated),
            ("text", self.text),
        ):
            if value:
                raw[key] = value
        return json.dumps(raw, separators=(",", ":"))

    def touch(self) -> None:
        self.updated = now_iso()

    def merge_custom(self, custom: dict[str, str | None]) -> None:
        for key, value in custom.items():
            if value is None:
                self.custom.pop(key, None)
            else:
                self.custom[key] = value

    def prune_below(self, newest: int) -> bool:
        """Apply max_versions after `newest` was written; True if the floor moved."""
        if self.max_versions <= 0 or newest - self.max_versions <= self.floor:
            return False
        self.floor = newest - self.max_versions
        for table in (self.deleted, self.destroyed):
            for number in [n for n in table if n <= self.floor]:
                del table[number]
        self.empty = {n for n in self.empty if n > self.floor}
        return True

    def deleted_at(self, number: int) -> datetime | None:
        raw = self.deleted.get(number)
        return datetime.fromisoformat(raw) if raw else None

    def updated_at(self, fallback: datetime) -> datetime:
        return max(fallback, datetime.fromisoformat(self.updated)) if self.updated else fallback
