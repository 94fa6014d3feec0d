"""Values passed between `SecretVault` and its backends, and the rules for secret paths."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType

from leakvault.vault.errors import InvalidPathError

# A path is '/'-separated segments. Segments start with a letter, digit or '_' so that '.', '..' and
# hidden names are impossible, and so that internal paths (which start with RESERVED_PREFIX) never
# collide with a user's. The character set is the intersection that every supported service can
# store after at most a reversible encoding (Azure Key Vault names are the narrowest).
_SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9_.\-]*"
_PATH_RE = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")
MAX_PATH_LENGTH = 512

# Where SecretVault keeps its own records (the RBAC policy) in any backend.
RESERVED_PREFIX = ".leakvault/"


_SEGMENT_START = re.compile(r"[A-Za-z0-9_]")
_SEGMENT_BAD = re.compile(r"[^A-Za-z0-9_.\-]")


def _path_problem(path: str) -> str:
    """What is wrong with an invalid path, without repeating it: a string that fails validation is
    often a value pasted in the wrong place, and this message reaches terminals and CI logs."""
    for number, segment in enumerate(path.split("/"), start=1):
        if not segment:
            return f"segment {number} is empty"
        if not _SEGMENT_START.match(segment):
            return f"segment {number} starts with {segment[0]!r}"
        bad = _SEGMENT_BAD.search(segment)
        if bad is not None:
            return f"segment {number} contains {bad.group()!r}"
    return "it is malformed"


def validate_path(path: str) -> str:
    """Return `path` unchanged if it is a valid user secret path, else raise InvalidPathError."""
    if not isinstance(path, str) or not path:
        raise InvalidPathError("secret path is empty")
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidPathError(f"secret path is longer than {MAX_PATH_LENGTH} characters")
    if not _PATH_RE.fullmatch(path):
        raise InvalidPathError(
            f"invalid secret path ({_path_problem(path)}; the path is not shown, in case it is a value): "
            "use '/'-separated segments of letters, digits, '_', '.', '-' each starting with a letter, digit or '_'"
        )
    return path


def validate_prefix(prefix: str) -> str:
    """Return a list prefix ('' or a path, optionally ending in '/') or raise InvalidPathError."""
    if prefix == "":
        return prefix
    validate_path(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (the only clock the vault reads by default)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One version of a secret, without its value."""

    version: int
    created: datetime
    deleted: datetime | None = None  # soft-deleted at; None while live
    destroyed: bool = False


@dataclass(frozen=True, slots=True)
class SecretValue:
    """A decrypted secret version. The value never appears in repr()."""

    path: str
    version: int
    value: bytes = field(repr=False)
    created: datetime

    def text(self) -> str:
        """The value decoded as UTF-8 (raises UnicodeDecodeError for binary secrets)."""
        return self.value.decode("utf-8")


def _frozen(mapping: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True)
class SecretMetadata:
    """Everything about a secret except its values.

    `current_version` is the newest version (KV v2 semantics: it may be soft-deleted, in which case a
    read of the current value fails until it is undeleted or a new version is written); 0 when every
    version was removed. `custom` holds small string annotations that SecretVault maintains, such as
    ``rotated_at`` (ISO 8601 UTC).
    """

    path: str
    current_version: int
    created: datetime
    updated: datetime
    max_versions: int  # 0 = the backend's default / unlimited
    versions: tuple[VersionInfo, ...]
    custom: Mapping[str, str] = field(default_factory=lambda: _frozen(None))
    has_pending: bool = False

    def version(self, number: int) -> VersionInfo | None:
        for info in self.versions:
            if info.version == number:
                return info
        return None

    @property
    def rotated(self) -> datetime | None:
        raw = self.custom.get("rotated_at")
        return datetime.fromisoformat(raw) if raw else None


def freeze_custom(mapping: Mapping[str, str] | None) -> Mapping[str, str]:
    """An immutable copy of a custom-metadata mapping, for building SecretMetadata."""
    return _frozen(mapping)
