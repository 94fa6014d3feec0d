"""Azure Key Vault secrets as a leakvault backend (``MAHAVISHNU_SECRETS__BACKEND=azure``).

Mapping (docs/backends.md has the table of differences):

- A path is the secret named ``PREFIX + path`` spelled with `_names.AZURE_NAMES` (Key Vault names
  are ``[0-9a-zA-Z-]`` and case-insensitive: ``prod/DB`` -> ``prod---d-b``).
- Key Vault versions are opaque ids; each version leakvault writes carries the tag
  ``leakvault-version=N``. Versions written by other tools are numbered by creation time.
- Soft delete is Key Vault's *disable* (the service itself refuses to return the value), tagged
  with the time; undelete is *enable*. Key Vault cannot erase a single version, so destroy
  disables it for good and tags it destroyed: leakvault never returns it again, but the value
  stays in the vault until the whole secret is deleted and purged.
- Check-and-set: Key Vault has no conditional write, so a writer checks the current version,
  writes N+1, then lists the versions; if two writers both wrote N+1, the later one (by creation
  time, then id) disables its version, tags it void and raises `CasConflictError`.
- ``max_versions`` and custom annotations are tags on the newest version (``leakvault-max``,
  ``lvc-<key>``), copied forward on every write; Key Vault allows 15 tags of 256 characters.
- Binary and empty values are stored base64-encoded / as a placeholder, flagged by the version's
  content type; text values are stored as they are.
- Pending values (rotation staging) are companion secrets under ``.leakvault/pending/``.

Settings (``MAHAVISHNU_SECRETS__AZURE__*``): ``VAULT_URL`` (``https://NAME.vault.azure.net``,
required), ``PREFIX``; credentials: `DefaultAzureCredential` (environment, workload identity,
managed identity, Azure CLI) unless ``TOKEN`` gives a bearer token; TLS: ``CA_CERT`` (a PEM bundle
to trust, for private endpoints behind inspecting proxies), ``CLIENT_CERT`` (a PEM file holding
certificate and key, for mTLS proxies); ``VERIFY_CHALLENGE_RESOURCE`` (default true); ``TIMEOUT``,
``MAX_RETRIES``, ``RETRY_BASE_DELAY``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from leakvault.vault.backend import CheckedMetadataUpdate
from leakvault.vault.backends._bookkeeping import now_iso
from leakvault.vault.backends._names import AZURE_NAMES
from leakvault.vault.backends._pending import InternalPending, is_pending_path
from leakvault.vault.backends._support import (
    RetryPolicy,
    Section,
    b64decode,
    b64encode,
    check_transport,
    describe,
    import_sdk,
    is_text,
    with_retries,
    write_with_retries,
)
from leakvault.vault.backends.errors import BackendAuthError, BackendDeniedError, BackendUnreachableError
from leakvault.vault.config import VaultSettings
from leakvault.vault.errors import (
    BackendError,
    CasConflictError,
    IntegrityError,
    SecretNotFoundError,
    VersionDeletedError,
    VersionDestroyedError,
)
from leakvault.vault.model import SecretMetadata, SecretValue, VersionInfo, freeze_custom, utcnow

T = TypeVar("T")

SERVICE = "Azure Key Vault"
TAG_VERSION = "leakvault-version"
TAG_DELETED = "leakvault-deleted"
TAG_DESTROYED = "leakvault-destroyed"
TAG_VOID = "leakvault-void"
TAG_MAX = "leakvault-max"
TAG_FLOOR = "leakvault-floor"
CUSTOM_PREFIX = "lvc-"
TYPE_BASE64 = "application/vnd.leakvault.base64"
TYPE_EMPTY = "application/vnd.leakvault.empty"
_EMPTY_PLACEHOLDER = "empty"
_MAX_TAGS = 15
# Tags that describe the secret as a whole; they travel with the newest version.
_SECRET_LEVEL = (TAG_MAX, TAG_FLOOR)


class StaticTokenCredential:
    """An azure-core credential that returns one bearer token (``MAHAVISHNU_SECRETS__AZURE__TOKEN``).

    For a token minted elsewhere (``az account get-access-token --resource https://vault.azure.net``)
    and for test servers; it is never refreshed, so long-running processes should use the default
    credential chain instead.
    """

    def __init__(self, token: str, *, lifetime: int = 3600) -> None:
        self._token = token
        self._expires = int(time.time()) + lifetime

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        credentials = import_sdk("azure.core.credentials", backend="azure", package="azure-core", extra="azure")
        return credentials.AccessToken(self._token, self._expires)

    def close(self) -> None:
        return None

    def __repr__(self) -> str:
        return "StaticTokenCredential(<token hidden>)"


@dataclass(frozen=True, slots=True)
class _Version:
    number: int
    vid: str
    created: datetime
    enabled: bool
    tags: Mapping[str, str]

    @property
    def void(self) -> bool:
        return TAG_VOID in self.tags

    @property
    def destroyed(self) -> bool:
        return TAG_DESTROYED in self.tags

    @property
    def deleted(self) -> datetime | None:
        if self.destroyed or self.enabled:
            return None
        raw = self.tags.get(TAG_DELETED)
        return datetime.fromisoformat(raw) if raw else self.created


_Versions = list[_Version]  # `list` is a method name inside the backend class


def _created(raw: Any) -> datetime:
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=UTC)
    return utcnow()


class AzureBackend(InternalPending, CheckedMetadataUpdate):
    """SecretBackend over Azure Key Vault secrets."""

    _service = SERVICE

    def __init__(self, client: Any, *, prefix: str = "", retry: RetryPolicy | None = None) -> None:
        self._client = client
        self._prefix = prefix
        self._retry = retry or RetryPolicy()
        self._errors = import_sdk("azure.core.exceptions", backend="azure", package="azure-core", extra="azure")

    @property
    def name(self) -> str:
        return "azure"

    def _secret(self, path: str) -> str:
        return AZURE_NAMES.encode(self._prefix + path)

    # -- plumbing --------------------------------------------------------------------------------

    def _call(self, operation: str, path: str | None, function: Callable[[], T]) -> T:
        errors = self._errors

        def retryable(exc: BaseException) -> bool:
            return isinstance(exc, errors.HttpResponseError) and getattr(exc, "status_code", None) in (
                429,
                502,
                503,
                504,
            )

        try:
            return with_retries(function, policy=self._retry, is_retryable=retryable, service=SERVICE)
        except errors.ClientAuthenticationError as exc:
            raise BackendAuthError(
                f"{SERVICE} rejected the credentials ({_summary(exc)}); check MAHAVISHNU_SECRETS__AZURE__TOKEN "
                "or the Azure credential chain (AZURE_CLIENT_ID, managed identity, az login)"
            ) from None
        except errors.ServiceRequestError as exc:
            raise BackendUnreachableError(
                f"cannot reach {SERVICE} ({describe(exc, 160)}); check MAHAVISHNU_SECRETS__AZURE__VAULT_URL, "
                "__CA_CERT and the network"
            ) from None
        except errors.ServiceResponseError as exc:
            raise BackendUnreachableError(f"{SERVICE} did not answer properly ({describe(exc, 160)})") from None
        except errors.HttpResponseError as exc:
            if getattr(exc, "status_code", None) == 403 and "disabled" not in str(exc).lower():
                raise BackendDeniedError(SERVICE, operation, path, _summary(exc)) from None
            raise

    def _versions(self, path: str) -> _Versions:
        """Every version of `path`, numbered, oldest first; SecretNotFoundError if there is none."""
        name = self._secret(path)
        try:
            items = self._call(
                "list versions", path, lambda: list(self._client.list_properties_of_secret_versions(name))
            )
        except self._errors.ResourceNotFoundError:
            raise SecretNotFoundError(path) from None
        if not items:
            raise SecretNotFoundError(path)

        def order(props: Any) -> tuple[datetime, int, str]:
            tags = props.tags or {}
            tagged = str(tags.get(TAG_VERSION, ""))
            return (_created(props.created_on), int(tagged) if tagged.isdigit() else 1 << 62, str(props.version))

        numbered: _Versions = []
        previous = 0
        for props in sorted(items, key=order):
            tags = {str(k): str(v) for k, v in (props.tags or {}).items()}
            tagged = tags.get(TAG_VERSION, "")
            # Versions another tool wrote (no tag) follow the one created before them.
            number = int(tagged) if tagged.isdigit() else previous + 1
            previous = max(previous, number)
            numbered.append(_Version(number, str(props.version), _created(props.created_on), bool(props.enabled), tags))
        numbered.sort(key=lambda v: (v.number, v.created, v.vid))
        return numbered

    @staticmethod
    def _live(versions: _Versions) -> _Versions:
        """Versions that count: not void, above the max_versions floor, one per number."""
        newest = [v for v in versions if not v.void]
        floor = int(newest[-1].tags.get(TAG_FLOOR, "0")) if newest else 0
        seen: set[int] = set()
        out = []
        for version in newest:
            if version.number > floor and version.number not in seen:
                seen.add(version.number)
                out.append(version)
        return out

    def _find(self, path: str, versions: _Versions, number: int) -> _Version:
        for found in versions:
            if found.number == number:
                return found
        raise SecretNotFoundError(path, number)

    def _set_tags(self, path: str, version: _Version, tags: Mapping[str, str], *, enabled: bool | None = None) -> None:
        if len(tags) > _MAX_TAGS:
            raise BackendError(
                f"{path!r} would need {len(tags)} tags in {SERVICE} (the limit is {_MAX_TAGS}); "
                "remove custom annotations or destroy old versions"
            )
        kwargs: dict[str, Any] = {"version": version.vid, "tags": dict(tags)}
        if enabled is not None:
            kwargs["enabled"] = enabled
        name = self._secret(path)
        self._call("update", path, lambda: self._client.update_secret_properties(name, **kwargs))

    # -- reads -----------------------------------------------------------------------------------

    def read(self, path: str, version: int | None = None) -> SecretValue:
        live = self._live(self._versions(path))
        if not live:
            raise SecretNotFoundError(path, version)
        found = live[-1] if version is None else self._find(path, live, version)
        if found.destroyed:
            raise VersionDestroyedError(path, found.number)
        if not found.enabled:
            raise VersionDeletedError(path, found.number)
        name = self._secret(path)
        try:
            secret = self._call("read", path, lambda: self._client.get_secret(name, found.vid))
        except self._errors.ResourceNotFoundError:
            raise SecretNotFoundError(path, found.number) from None
        except self._errors.HttpResponseError:  # disabled since we listed it
            raise VersionDeletedError(path, found.number) from None
        return SecretValue(
            path=path,
            version=found.number,
            value=_decode(path, found.number, secret.value, secret.properties.content_type),
            created=found.created,
        )

    def list(self, prefix: str = "") -> list[str]:
        wanted = self._prefix + prefix
        items = self._call("list", prefix or None, lambda: list(self._client.list_properties_of_secrets()))
        found = []
        for props in items:
            decoded = AZURE_NAMES.decode(str(props.name))
            if decoded is None or not decoded.startswith(wanted):
                continue
            path = decoded[len(self._prefix) :]
            if not is_pending_path(path):
                found.append(path)
        return sorted(found)

    def metadata(self, path: str) -> SecretMetadata:
        live = self._live(self._versions(path))
        if not live:
            raise SecretNotFoundError(path)
        newest = live[-1]
        custom = {k[len(CUSTOM_PREFIX) :]: v for k, v in newest.tags.items() if k.startswith(CUSTOM_PREFIX)}
        changes = [v.created for v in live] + [
            datetime.fromisoformat(v.tags[t]) for v in live for t in (TAG_DELETED, TAG_DESTROYED) if t in v.tags
        ]
        return SecretMetadata(
            path=path,
            current_version=newest.number,
            created=live[0].created,
            updated=max(changes),
            max_versions=int(newest.tags.get(TAG_MAX, "0")),
            versions=tuple(
                VersionInfo(version=v.number, created=v.created, deleted=v.deleted, destroyed=v.destroyed) for v in live
            ),
            custom=freeze_custom(custom),
            has_pending=False if is_pending_path(path) else self.has_pending(path),
        )

    # -- writes ----------------------------------------------------------------------------------

    def write(self, path: str, value: bytes, *, cas: int | None = None) -> VersionInfo:
        return write_with_retries(path, lambda: self._try_write(path, value, cas))

    def _try_write(self, path: str, value: bytes, cas: int | None) -> VersionInfo | None:
        try:
            versions = self._versions(path)
        except SecretNotFoundError:
            versions = []
        live = self._live(versions)
        current = live[-1].number if live else 0
        if cas is not None and cas != current:
            raise CasConflictError(path, cas, current)
        number = max((v.number for v in versions), default=0) + 1
        tags = {TAG_VERSION: str(number)}
        if live:  # secret-level tags travel with the newest version
            tags.update({k: v for k, v in live[-1].tags.items() if k in _SECRET_LEVEL or k.startswith(CUSTOM_PREFIX)})
        text, content_type = _encode(value)
        name = self._secret(path)
        try:
            written = self._call(
                "write", path, lambda: self._client.set_secret(name, text, content_type=content_type, tags=tags)
            )
        except self._errors.ResourceExistsError:
            raise BackendError(
                f"{SERVICE} secret {name!r} is deleted but recoverable; recover or purge it, or use another path"
            ) from None
        mine = str(written.properties.version)
        # No conditional writes in Key Vault: look for a rival that wrote the same number. Whoever
        # sees a rival steps back (disables its version, tags it void). The first writer to check
        # can have seen no rival and won, so stepping back is the only safe move; when both see
        # each other both step back, and nothing is accepted twice.
        rivals = [v for v in self._versions(path) if v.number == number and not v.void and v.vid != mine]
        if rivals:
            own = next((v for v in self._versions(path) if v.vid == mine), None)
            if own is not None:
                self._set_tags(path, own, {**own.tags, TAG_VOID: now_iso()}, enabled=False)
            if cas is not None:
                raise CasConflictError(path, cas, number)
            time.sleep(random.uniform(0.01, 0.2))  # noqa: S311 - jitter to break the symmetry, not a secret
            return None
        self._prune(path, number, tags)
        return VersionInfo(version=number, created=_created(written.properties.created_on))

    def _prune(self, path: str, newest: int, tags: Mapping[str, str]) -> None:
        limit = int(tags.get(TAG_MAX, "0"))
        floor = int(tags.get(TAG_FLOOR, "0"))
        if limit <= 0 or newest - limit <= floor:
            return
        versions = self._versions(path)
        head = self._find(path, self._live(versions), newest)
        self._set_tags(path, head, {**head.tags, TAG_FLOOR: str(newest - limit)})
        # Key Vault cannot delete a version: pruned ones are disabled so they can never be read.
        for version in versions:
            if version.number <= newest - limit and version.enabled:
                self._set_tags(path, version, version.tags, enabled=False)

    def _chosen(self, path: str, versions: Sequence[int] | None) -> _Versions:
        live = self._live(self._versions(path))
        if versions is None:
            if not live:
                raise SecretNotFoundError(path)
            return [live[-1]]
        return [self._find(path, live, number) for number in versions]

    def delete(self, path: str, versions: Sequence[int] | None = None) -> None:
        now = now_iso()
        for version in self._chosen(path, versions):
            if version.enabled and not version.destroyed:
                self._set_tags(path, version, {**version.tags, TAG_DELETED: now}, enabled=False)

    def undelete(self, path: str, versions: Sequence[int]) -> None:
        for version in self._chosen(path, versions):
            if not version.enabled and not version.destroyed:
                tags = {k: v for k, v in version.tags.items() if k != TAG_DELETED}
                self._set_tags(path, version, tags, enabled=True)

    def destroy(self, path: str, versions: Sequence[int]) -> None:
        now = now_iso()
        for version in self._chosen(path, versions):
            if not version.destroyed:
                tags = {k: v for k, v in version.tags.items() if k != TAG_DELETED}
                self._set_tags(path, version, {**tags, TAG_DESTROYED: now}, enabled=False)

    def _update_metadata(
        self, path: str, max_versions: int | None, custom: Mapping[str, str | None] | None
    ) -> SecretMetadata:
        live = self._live(self._versions(path))
        if not live:
            raise SecretNotFoundError(path)
        newest = live[-1]
        tags = dict(newest.tags)
        if max_versions is not None:
            tags[TAG_MAX] = str(max_versions)
        for key, value in (custom or {}).items():
            if value is None:
                tags.pop(CUSTOM_PREFIX + key, None)
            else:
                tags[CUSTOM_PREFIX + key] = value
        self._set_tags(path, newest, tags)
        return self.metadata(path)

    # -- pending ---------------------------------------------------------------------------------

    def _clear_pending(self, companion: str) -> None:
        # Deleting a Key Vault secret keeps its name reserved for the retention period, so the
        # companion is never deleted: its newest version is disabled instead.
        live = self._live(self._versions(companion))
        if live and live[-1].enabled:
            self._set_tags(companion, live[-1], {**live[-1].tags, TAG_DELETED: now_iso()}, enabled=False)

    def close(self) -> None:
        self._client.close()


def _encode(value: bytes) -> tuple[str, str | None]:
    if not value:
        return _EMPTY_PLACEHOLDER, TYPE_EMPTY
    if is_text(value):
        return value.decode("utf-8"), None
    return b64encode(value), TYPE_BASE64


def _decode(path: str, version: int, text: str | None, content_type: str | None) -> bytes:
    if content_type == TYPE_EMPTY:
        return b""
    if content_type == TYPE_BASE64:
        try:
            return b64decode(text or "")
        except ValueError:
            raise IntegrityError(path, version, "the base64 value is damaged") from None
    return (text or "").encode("utf-8")


def _summary(exc: BaseException) -> str:
    # azure-core messages carry the whole response; the first line holds code and message.
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return describe(Exception(first), 160)


def open_backend(settings: VaultSettings) -> AzureBackend:
    """The factory `leakvault.vault.factory` calls for ``MAHAVISHNU_SECRETS__BACKEND=azure``."""
    section = Section("azure", settings.section("azure"))
    vault_url = section.required("vault_url", "the vault address, e.g. https://my-vault.vault.azure.net")
    check_transport(section, "vault_url", vault_url)
    secrets_mod = import_sdk("azure.keyvault.secrets", backend="azure", package="azure-keyvault-secrets", extra="azure")
    token = section.text("token")
    if token is not None:
        credential: Any = StaticTokenCredential(token)
    else:
        identity = import_sdk("azure.identity", backend="azure", package="azure-identity", extra="azure")
        credential = identity.DefaultAzureCredential()
    timeout = section.number("timeout", 10.0, minimum=0.1)
    kwargs: dict[str, Any] = {
        "retry_total": 0,  # our own bounded retry loop handles throttling
        "connection_timeout": timeout,
        "read_timeout": timeout,
        # The SDK checks that the resource a 401 challenge names belongs to the vault's domain, so a
        # token is never sent where it does not belong; only a vault outside Azure's domains (a
        # test server) needs VERIFY_CHALLENGE_RESOURCE=false.
        "verify_challenge_resource": section.flag("verify_challenge_resource", True),
    }
    ca_cert = section.file("ca_cert")
    if ca_cert is not None:
        kwargs["connection_verify"] = str(ca_cert)
    client_cert = section.file("client_cert")
    if client_cert is not None:
        kwargs["connection_cert"] = str(client_cert)
    client = secrets_mod.SecretClient(vault_url=vault_url, credential=credential, **kwargs)
    return AzureBackend(client, prefix=section.prefix(), retry=RetryPolicy.from_section(section))
