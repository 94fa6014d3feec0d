"""The storage protocol every vault backend implements (local SQLite, HashiCorp/OpenBao, AWS, ...).

A backend stores and returns *plaintext* values; whether it encrypts them itself (the local SQLite
store, with `_crypto`) or relies on the service (KV v2, Secrets Manager) is its own business.
RBAC, auditing, path validation and rotation logic live above it in `SecretVault`, so a backend
must not implement them, and may assume every path it receives is valid (`model.validate_path`,
or an internal path under `model.RESERVED_PREFIX`).

Semantics, modelled on HashiCorp Vault KV v2 so that every service can honour them:

Versions
    Every `write` creates a new version numbered ``current + 1``, starting at 1; numbers are never
    reused, not even after `destroy`. The *current* version is the newest one. If the current
    version is soft-deleted, reading the current value raises `VersionDeletedError` (it does not
    fall back to an older version), exactly like KV v2.

Check-and-set
    ``cas=None`` writes unconditionally. ``cas=0`` writes only if the path has no versions yet.
    ``cas=N`` writes only if the current version is N. The check and the write are one atomic step;
    on mismatch nothing is written and `CasConflictError` is raised. Two writers with the same `cas`
    can therefore never both succeed.

Soft delete, undelete, destroy
    `delete` marks versions deleted (reads fail, the ciphertext stays); `undelete` reverses that;
    `destroy` erases the values of versions for good (the version numbers and their timestamps stay
    in `metadata`, flagged ``destroyed``). Deleting an already-deleted or destroyed version is a
    no-op; undeleting a destroyed version is a no-op; naming a version that never existed raises
    `SecretNotFoundError`.

Pending values (rotation staging)
    A path may hold one *pending* value beside its versions, invisible to `read`. `stage_pending`
    sets or replaces it; `promote_pending` turns it into the new current version (the previous
    current stays as an ordinary older version) under the same check-and-set rule as `write`; and
    `discard_pending` drops it. Services with native staging (AWS Secrets Manager's AWSPENDING) map
    onto it directly; others may keep the pending value under an internal path.

Listing
    `list(prefix)` returns, sorted, every path that starts with `prefix` (a plain string prefix)
    and has metadata, including paths whose current version is deleted. Internal paths are included;
    `SecretVault` filters them.

Metadata
    `metadata` returns versions and timestamps, ``max_versions`` and a small string mapping
    ``custom`` that `SecretVault` uses for annotations such as ``rotated_at``. When a write makes
    the number of versions exceed a positive ``max_versions``, the oldest versions are removed.

Errors
    Raise the classes in `leakvault.vault.errors`: `SecretNotFoundError` and its subclasses,
    `CasConflictError`, `IntegrityError` (a stored value failed authentication; name the path),
    `AccessDeniedError` for a refusal by the service itself, and `BackendError` for anything else
    (unreachable, throttled after bounded retries). Messages never include a secret value.

Every method is one atomic operation as far as the service allows. Backends are used from one
thread at a time; `close` releases connections and is idempotent.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from leakvault.vault.model import SecretMetadata, SecretValue, VersionInfo


@runtime_checkable
class SecretBackend(Protocol):
    """Storage for versioned secrets. See the module docstring for the exact semantics."""

    @property
    def name(self) -> str:
        """Short backend id as used in ``MAHAVISHNU_SECRETS__BACKEND`` (``local``, ``hashicorp``, ...)."""
        ...

    def read(self, path: str, version: int | None = None) -> SecretValue:
        """The value of `version`, or of the current version when None.

        Raises SecretNotFoundError (no such path or version), VersionDeletedError,
        VersionDestroyedError, IntegrityError.
        """
        ...

    def write(self, path: str, value: bytes, *, cas: int | None = None) -> VersionInfo:
        """Store `value` as a new current version and return its info; see check-and-set above."""
        ...

    def delete(self, path: str, versions: Sequence[int] | None = None) -> None:
        """Soft-delete `versions` (the current version when None)."""
        ...

    def undelete(self, path: str, versions: Sequence[int]) -> None:
        """Restore soft-deleted `versions`."""
        ...

    def destroy(self, path: str, versions: Sequence[int]) -> None:
        """Irreversibly erase the values of `versions`; their metadata stays, marked destroyed."""
        ...

    def list(self, prefix: str = "") -> list[str]:
        """Sorted paths starting with `prefix` that have metadata."""
        ...

    def metadata(self, path: str) -> SecretMetadata:
        """Versions, timestamps, max_versions and custom annotations; SecretNotFoundError if none."""
        ...

    def update_metadata(
        self,
        path: str,
        *,
        max_versions: int | None = None,
        custom: Mapping[str, str | None] | None = None,
    ) -> SecretMetadata:
        """Set `max_versions` (if given) and merge `custom` (a None value removes that key)."""
        ...

    def stage_pending(self, path: str, value: bytes) -> None:
        """Set or replace the pending value of `path` (which may not exist yet)."""
        ...

    def read_pending(self, path: str) -> SecretValue | None:
        """The pending value (with ``version == 0``), or None if there is none."""
        ...

    def promote_pending(self, path: str, *, cas: int | None = None) -> VersionInfo:
        """Make the pending value the new current version, clearing it; SecretNotFoundError if none."""
        ...

    def discard_pending(self, path: str) -> None:
        """Drop the pending value, if any."""
        ...

    def close(self) -> None:
        """Release connections and key material; safe to call twice."""
        ...


class CheckedMetadataUpdate:
    """Mixin: `update_metadata` with its arguments checked here, once, for every backend.

    The backend supplies `_update_metadata`, which applies arguments already known to be valid.
    """

    def update_metadata(
        self,
        path: str,
        *,
        max_versions: int | None = None,
        custom: Mapping[str, str | None] | None = None,
    ) -> SecretMetadata:
        if max_versions is not None and max_versions < 0:
            raise ValueError("max_versions must be >= 0")
        return self._update_metadata(path, max_versions, custom)

    @abstractmethod
    def _update_metadata(
        self, path: str, max_versions: int | None, custom: Mapping[str, str | None] | None
    ) -> SecretMetadata: ...
