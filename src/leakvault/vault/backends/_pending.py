"""Rotation staging for services without a native "pending" slot: an internal companion secret.

HashiCorp KV v2, Azure Key Vault and GCP Secret Manager have no equivalent of AWS's AWSPENDING
stage, so the pending value of ``app/db`` lives in the same service as the secret
``.leakvault/pending/app/db``: encrypted and access-controlled by the service like any other
value, invisible to `read`, and hidden from `list`. Promotion is two service calls (write the
value, then clear the companion); if the second fails the new version stands and the error says
the stale pending value is still there, so nothing is left half-done without a report.
"""

from __future__ import annotations

import contextlib
from abc import abstractmethod

from leakvault.vault.backends.errors import BackendNotInstalledError
from leakvault.vault.errors import BackendError, SecretNotFoundError
from leakvault.vault.model import RESERVED_PREFIX, SecretValue, VersionInfo

PENDING_PREFIX = RESERVED_PREFIX + "pending/"

# A pending value is reported as version 0, as the protocol asks; real versions start at 1.
_PENDING_VERSION = 0


def pending_path(path: str) -> str:
    return PENDING_PREFIX + path


def is_pending_path(path: str) -> bool:
    return path.startswith(PENDING_PREFIX)


class InternalPending:
    """Mixin: `stage_pending` and friends on top of the backend's own read/write.

    The backend supplies `read`, `write`, `_clear_pending` (remove the companion for good, or
    make it unreadable where the service cannot delete and re-create names quickly) and
    `_service` (its display name for messages).
    """

    _service: str

    @abstractmethod
    def read(self, path: str, version: int | None = None) -> SecretValue: ...

    @abstractmethod
    def write(self, path: str, value: bytes, *, cas: int | None = None) -> VersionInfo: ...

    @abstractmethod
    def _clear_pending(self, companion: str) -> None: ...

    def stage_pending(self, path: str, value: bytes) -> None:
        self.write(pending_path(path), value)

    def read_pending(self, path: str) -> SecretValue | None:
        try:
            staged = self.read(pending_path(path))
        except SecretNotFoundError:  # also a deleted or destroyed companion: nothing is staged
            return None
        return SecretValue(path=path, version=_PENDING_VERSION, value=staged.value, created=staged.created)

    def promote_pending(self, path: str, *, cas: int | None = None) -> VersionInfo:
        staged = self.read_pending(path)
        if staged is None:
            raise SecretNotFoundError(path, _PENDING_VERSION)
        info = self.write(path, staged.value, cas=cas)
        try:
            self._clear_pending(pending_path(path))
        except (BackendError, BackendNotInstalledError) as exc:
            raise BackendError(
                f"{path!r} version {info.version} now holds the promoted value, but clearing the pending "
                f"value in {self._service} failed ({exc}); run discard_pending or rotate again"
            ) from None
        return info

    def discard_pending(self, path: str) -> None:
        with contextlib.suppress(SecretNotFoundError):
            self._clear_pending(pending_path(path))

    def has_pending(self, path: str) -> bool:
        return self.read_pending(path) is not None
