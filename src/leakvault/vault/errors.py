"""Errors raised by the vault and its backends.

Every message names the vault path (and version) it concerns and never contains a secret value:
these strings reach terminals, CI logs and the audit trail (which records only the class name).
"""

from __future__ import annotations

from collections.abc import Iterable

from leakvault.errors import LeakvaultError

REDACTED = "<redacted>"


def scrub(message: str, values: Iterable[bytes | str]) -> str:
    """`message` with every known secret value in it (as is, or as a repr would escape it) replaced.

    For messages built from exceptions we did not write (a template engine, a user's verify
    callable), which may quote the data they failed on.
    """
    forms: set[str] = set()
    for value in values:
        text = value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value
        if text:
            forms.update((text, repr(text)[1:-1]))
    for form in sorted(forms, key=len, reverse=True):
        message = message.replace(form, REDACTED)
    return message


class VaultError(LeakvaultError):
    """Base class of every vault failure."""


class InvalidPathError(VaultError, ValueError):
    """A secret path is malformed (empty segment, '..', a character outside the allowed set)."""


class VaultFormatError(VaultError):
    """The file is not a leakvault vault, is truncated, or uses an unsupported format version."""


class VaultNotInitializedError(VaultError):
    """No vault exists at the configured location yet (run ``leakvault vault init``)."""


class UnlockError(VaultError):
    """The passphrase or master key does not open this vault; nothing was changed."""


class KeySourceError(VaultError):
    """No usable key was supplied (missing variable, malformed key, key file readable by others)."""


class IntegrityError(VaultError):
    """A stored ciphertext failed authentication: it was altered, truncated, or moved to another row."""

    def __init__(self, path: str, version: int | None, detail: str = "authentication failed") -> None:
        self.path = path
        self.version = version
        where = f"{path!r}" if version is None else f"{path!r} version {version}"
        super().__init__(f"integrity check failed for {where}: {detail}")


class SecretNotFoundError(VaultError, KeyError):
    """The path, or the requested version of it, does not exist."""

    def __init__(self, path: str, version: int | None = None) -> None:
        self.path = path
        self.version = version
        super().__init__(self._message())

    def _message(self) -> str:
        if self.version is None:
            return f"secret {self.path!r} does not exist"
        return f"version {self.version} of secret {self.path!r} does not exist"

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


class VersionDeletedError(SecretNotFoundError):
    """The version is soft-deleted: ``undelete`` brings it back."""

    def _message(self) -> str:
        return f"version {self.version} of secret {self.path!r} is deleted (undelete restores it)"


class VersionDestroyedError(SecretNotFoundError):
    """The version was destroyed: its value is gone for good."""

    def _message(self) -> str:
        return f"version {self.version} of secret {self.path!r} was destroyed"


class CasConflictError(VaultError):
    """A check-and-set write lost a race: the current version is not the one the writer expected."""

    def __init__(self, path: str, expected: int, actual: int) -> None:
        self.path = path
        self.expected = expected
        self.actual = actual
        exp = "no secret" if expected == 0 else f"version {expected}"
        act = "no secret" if actual == 0 else f"version {actual}"
        super().__init__(
            f"check-and-set conflict on {path!r}: expected {exp}, found {act}; "
            "someone else wrote it first, re-read and retry"
        )


class AccessDeniedError(VaultError, PermissionError):
    """The vault policy does not grant this identity the capability on this path."""

    def __init__(self, identity: str, capability: str, path: str | None) -> None:
        self.identity = identity
        self.capability = capability
        self.path = path
        target = "the vault" if path is None else repr(path)
        super().__init__(f"access denied: {identity!r} lacks {capability!r} on {target}")

    def __str__(self) -> str:  # OSError's str() would add errno formatting
        return str(self.args[0])


class BackendError(VaultError):
    """A storage backend failed (unreachable server, bad credentials, throttling after retries)."""


class RotationError(VaultError):
    """A rotation could not complete; the current version is unchanged."""


class InjectionError(VaultError):
    """Secrets could not be delivered to a child process, file or template."""
