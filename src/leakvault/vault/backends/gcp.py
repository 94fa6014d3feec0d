"""Google Cloud Secret Manager as a leakvault backend (``MAHAVISHNU_SECRETS__BACKEND=gcp``).

Mapping (docs/backends.md has the table of differences):

- A path is the secret ``projects/PROJECT/secrets/ID`` where ID is ``PREFIX + path`` spelled with
  `_names.GCP_NAMES` (``prod/db`` -> ``prod--db``).
- Versions are Secret Manager's own, numbered 1, 2, ... by the service; soft delete is *disable*,
  undelete is *enable*, destroy is *destroy* (the payload is erased by Google). The current version
  is the newest one, as Secret Manager's ``latest`` alias.
- Check-and-set: Secret Manager assigns the number, so a writer checks the current version, adds
  its version, and verifies it got exactly the next number. If another writer slipped in between,
  the late version is disabled, recorded as void (never shown, never current) and the caller gets
  `CasConflictError`; nothing is lost silently.
- ``max_versions``, custom annotations, void versions, soft-delete times and empty values (which
  Secret Manager cannot store; kept as one NUL byte) live in the secret annotation ``leakvault``
  (`_bookkeeping`), updated with the secret's etag so concurrent updates cannot overwrite each other.
- Payloads carry a CRC32C both ways, so corruption in transit or at rest is detected.
- Pending values (rotation staging) are companion secrets under ``.leakvault/pending/``.

Settings (``MAHAVISHNU_SECRETS__GCP__*``): ``PROJECT`` (required), ``PREFIX``, ``ENDPOINT`` (a
regional endpoint, or an emulator's ``http://host:port``), ``TRANSPORT`` (``grpc`` default, ``rest``;
``rest`` is implied by an http:// endpoint), credentials: Application Default Credentials unless
``CREDENTIALS_FILE`` (a service-account or external-account JSON), ``TOKEN`` (a short-lived access
token) or ``ANONYMOUS=true`` (emulators only); ``TIMEOUT``, ``MAX_RETRIES``, ``RETRY_BASE_DELAY``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from leakvault.errors import ConfigError
from leakvault.vault.backend import CheckedMetadataUpdate
from leakvault.vault.backends._bookkeeping import Bookkeeping, now_iso
from leakvault.vault.backends._names import GCP_NAMES
from leakvault.vault.backends._pending import InternalPending, is_pending_path
from leakvault.vault.backends._support import (
    RetryPolicy,
    Section,
    check_transport,
    crc32c,
    describe,
    import_sdk,
    with_retries,
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

SERVICE = "GCP Secret Manager"
BOOKKEEPING_KEY = "leakvault"
_EMPTY_PLACEHOLDER = b"\x00"
_ENABLED, _DISABLED, _DESTROYED = "ENABLED", "DISABLED", "DESTROYED"
_MUTATE_ATTEMPTS = 8
_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]


@dataclass(frozen=True, slots=True)
class _Version:
    number: int
    state: str
    created: datetime


_Versions = list[_Version]  # `list` is a method name inside the backend class


def _state_name(raw: Any) -> str:
    return str(getattr(raw, "name", raw)).rsplit(".", 1)[-1]


def _status(exc: Any) -> str:
    """The canonical status (FAILED_PRECONDITION, ...) of an API error, over gRPC or REST.

    Over REST the SDK picks the exception class from the HTTP status alone (400 covers both
    INVALID_ARGUMENT and FAILED_PRECONDITION), so the status is read from the error body.
    """
    code = getattr(exc, "grpc_status_code", None)
    if code is not None:
        return str(getattr(code, "name", code))
    response = getattr(exc, "response", None)
    try:
        return str(response.json()["error"]["status"])  # type: ignore[union-attr]
    except (AttributeError, KeyError, TypeError, ValueError):
        return ""


def _number(name: Any) -> int:
    return int(str(name).rsplit("/", 1)[-1])


def _datetime(raw: Any) -> datetime:
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=UTC)
    return utcnow()


class GcpBackend(InternalPending, CheckedMetadataUpdate):
    """SecretBackend over Google Cloud Secret Manager."""

    _service = SERVICE

    def __init__(
        self,
        client: Any,
        *,
        project: str,
        prefix: str = "",
        retry: RetryPolicy | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._client = client
        self._parent = f"projects/{project}"
        self._prefix = prefix
        self._retry = retry or RetryPolicy()
        self._timeout = timeout
        self._errors = import_sdk(
            "google.api_core.exceptions", backend="gcp", package="google-cloud-secret-manager", extra="gcp"
        )
        self._auth_errors = import_sdk("google.auth.exceptions", backend="gcp", package="google-auth", extra="gcp")

    @property
    def name(self) -> str:
        return "gcp"

    def _secret(self, path: str) -> str:
        return f"{self._parent}/secrets/{GCP_NAMES.encode(self._prefix + path)}"

    def _version_name(self, path: str, number: int) -> str:
        return f"{self._secret(path)}/versions/{number}"

    # -- plumbing --------------------------------------------------------------------------------

    def _call(self, operation: str, path: str | None, function: Callable[..., T], **kwargs: Any) -> T:
        errors = self._errors

        def run() -> T:
            return function(**kwargs, retry=None, timeout=self._timeout)

        def retryable(exc: BaseException) -> bool:
            if isinstance(exc, errors.ServiceUnavailable) and "connect" in str(exc).lower():
                return False  # nothing listens there: waiting will not help
            return isinstance(
                exc, (errors.ResourceExhausted, errors.TooManyRequests, errors.ServiceUnavailable, errors.BadGateway)
            )

        requests_errors = import_sdk("requests.exceptions", backend="gcp", package="requests", extra="gcp")
        try:
            return with_retries(run, policy=self._retry, is_retryable=retryable, service=SERVICE)
        except errors.Forbidden as exc:  # PermissionDenied over gRPC, plain 403 over REST
            raise BackendDeniedError(SERVICE, operation, path, describe(exc, 120)) from None
        except (errors.Unauthorized, self._auth_errors.RefreshError) as exc:  # Unauthenticated over gRPC
            raise BackendAuthError(
                f"{SERVICE} rejected the Google credentials ({describe(exc, 120)}); check "
                "MAHAVISHNU_SECRETS__GCP__CREDENTIALS_FILE / __TOKEN or the application default credentials"
            ) from None
        except (requests_errors.ConnectionError, requests_errors.Timeout, self._auth_errors.TransportError) as exc:
            raise BackendUnreachableError(
                f"cannot reach {SERVICE} ({describe(exc, 160)}); "
                "check MAHAVISHNU_SECRETS__GCP__ENDPOINT and the network"
            ) from None
        except errors.ServiceUnavailable as exc:
            raise BackendUnreachableError(f"cannot reach {SERVICE} ({describe(exc, 160)})") from None
        except errors.DeadlineExceeded:
            raise BackendUnreachableError(f"{SERVICE} did not answer within {self._timeout:g} s") from None

    def _get_secret(self, path: str) -> Any:
        try:
            return self._call("read metadata", path, self._client.get_secret, name=self._secret(path))
        except self._errors.NotFound:
            raise SecretNotFoundError(path) from None

    def _bookkeeping(self, path: str, secret: Any) -> Bookkeeping:
        annotations = dict(getattr(secret, "annotations", None) or {})
        return Bookkeeping.from_json(
            annotations.get(BOOKKEEPING_KEY), where=f"the {BOOKKEEPING_KEY!r} annotation of {path!r}"
        )

    def _mutate(self, path: str, change: Callable[[Bookkeeping], None]) -> Bookkeeping:
        """Read-modify-write the bookkeeping annotation, guarded by the secret's etag."""
        for _attempt in range(_MUTATE_ATTEMPTS):
            secret = self._get_secret(path)
            meta = self._bookkeeping(path, secret)
            change(meta)
            meta.touch()
            annotations = dict(getattr(secret, "annotations", None) or {})
            annotations[BOOKKEEPING_KEY] = meta.to_json()
            update = {"name": self._secret(path), "annotations": annotations, "etag": secret.etag}
            try:
                self._call(
                    "update metadata",
                    path,
                    self._client.update_secret,
                    secret=update,
                    update_mask={"paths": ["annotations"]},
                )
            except self._errors.BadRequest as exc:
                if _status(exc) == "FAILED_PRECONDITION":
                    continue  # the etag moved: someone else updated it; re-read and apply again
                raise BackendError(f"{SERVICE} refused leakvault's metadata for {path!r}: {describe(exc)}") from None
            return meta
        raise BackendError(f"could not update the metadata of {path!r}: it kept changing under concurrent writers")

    def _versions(self, path: str) -> _Versions:
        """Every version the service holds for `path` (void and pruned ones included), oldest first."""
        try:
            pager = self._call("list versions", path, self._client.list_secret_versions, parent=self._secret(path))
            raw = list(pager)
        except self._errors.NotFound:
            raise SecretNotFoundError(path) from None
        versions = [
            _Version(
                number=int(str(v.name).rsplit("/", 1)[-1]), state=_state_name(v.state), created=_datetime(v.create_time)
            )
            for v in raw
        ]
        return sorted(versions, key=lambda v: v.number)

    @staticmethod
    def _visible(versions: _Versions, meta: Bookkeeping) -> _Versions:
        return [v for v in versions if v.number > meta.floor and v.number not in meta.void]

    def _find(self, path: str, versions: _Versions, number: int) -> _Version:
        for found in versions:
            if found.number == number:
                return found
        raise SecretNotFoundError(path, number)

    # -- reads -----------------------------------------------------------------------------------

    def read(self, path: str, version: int | None = None) -> SecretValue:
        meta = self._bookkeeping(path, self._get_secret(path))
        visible = self._visible(self._versions(path), meta)
        if not visible:
            raise SecretNotFoundError(path, version)
        found = visible[-1] if version is None else self._find(path, visible, version)
        if found.state == _DESTROYED:
            raise VersionDestroyedError(path, found.number)
        if found.state == _DISABLED:
            raise VersionDeletedError(path, found.number)
        try:
            response = self._call(
                "read", path, self._client.access_secret_version, name=self._version_name(path, found.number)
            )
        except self._errors.NotFound:
            raise SecretNotFoundError(path, found.number) from None
        except self._errors.BadRequest:  # FAILED_PRECONDITION: disabled or destroyed since we listed it
            raise VersionDeletedError(path, found.number) from None
        data = bytes(response.payload.data)
        checksum = getattr(response.payload, "data_crc32c", None)
        if checksum and int(checksum) != crc32c(data):
            raise IntegrityError(path, found.number, "the payload does not match its CRC32C checksum")
        if found.number in meta.empty and data == _EMPTY_PLACEHOLDER:
            data = b""
        return SecretValue(path=path, version=found.number, value=data, created=found.created)

    def list(self, prefix: str = "") -> list[str]:
        pager = self._call("list", prefix or None, self._client.list_secrets, parent=self._parent)
        wanted = self._prefix + prefix
        found = []
        for secret in pager:
            decoded = GCP_NAMES.decode(str(secret.name).rsplit("/", 1)[-1])
            if decoded is None or not decoded.startswith(wanted):
                continue
            path = decoded[len(self._prefix) :]
            if not is_pending_path(path):
                found.append(path)
        return sorted(found)

    def metadata(self, path: str) -> SecretMetadata:
        secret = self._get_secret(path)
        meta = self._bookkeeping(path, secret)
        visible = self._visible(self._versions(path), meta)
        if not visible:
            raise SecretNotFoundError(path)
        created = _datetime(secret.create_time)
        newest = max((v.created for v in visible), default=created)
        return SecretMetadata(
            path=path,
            current_version=visible[-1].number,
            created=created,
            updated=meta.updated_at(max(created, newest)),
            max_versions=meta.max_versions,
            versions=tuple(
                VersionInfo(
                    version=v.number,
                    created=v.created,
                    deleted=(meta.deleted_at(v.number) or v.created) if v.state == _DISABLED else None,
                    destroyed=v.state == _DESTROYED,
                )
                for v in visible
            ),
            custom=freeze_custom(meta.custom),
            has_pending=False if is_pending_path(path) else self.has_pending(path),
        )

    # -- writes ----------------------------------------------------------------------------------

    def write(self, path: str, value: bytes, *, cas: int | None = None) -> VersionInfo:
        try:
            meta = self._bookkeeping(path, self._get_secret(path))
        except SecretNotFoundError:
            if cas not in (None, 0):
                raise CasConflictError(path, cas, 0) from None
            self._create(path)
            meta = Bookkeeping()
        versions = self._versions(path)
        visible = self._visible(versions, meta)
        current = visible[-1].number if visible else 0
        if cas is not None and cas != current:
            raise CasConflictError(path, cas, current)
        expected = (versions[-1].number if versions else 0) + 1
        if not value and expected not in meta.empty:
            meta = self._mutate(path, lambda m: m.empty.add(expected))
        data = value or _EMPTY_PLACEHOLDER
        payload: dict[str, Any] = {"data": data, "data_crc32c": crc32c(data)}
        added = self._call("write", path, self._client.add_secret_version, parent=self._secret(path), payload=payload)
        number = _number(added.name)
        if number != expected:
            if cas is not None:
                self._void(path, number)
                actual = self._visible(self._versions(path), self._bookkeeping(path, self._get_secret(path)))
                raise CasConflictError(path, cas, actual[-1].number if actual else 0)
            if not value:

                def move_empty_mark(meta: Bookkeeping) -> None:
                    meta.empty.discard(expected)
                    meta.empty.add(number)

                self._mutate(path, move_empty_mark)
        elif value and number in meta.empty:
            self._mutate(path, lambda m: m.empty.discard(number))
        self._prune(path, number)
        return VersionInfo(version=number, created=_datetime(getattr(added, "create_time", None)))

    def _create(self, path: str) -> None:
        secret = {
            "replication": {"automatic": {}},
            "annotations": {BOOKKEEPING_KEY: Bookkeeping(updated=now_iso()).to_json()},
        }
        # AlreadyExists: another writer created it a moment ago; the versions decide who wins.
        with contextlib.suppress(self._errors.Conflict):  # AlreadyExists over gRPC, 409 over REST
            self._call(
                "create",
                path,
                self._client.create_secret,
                parent=self._parent,
                secret_id=GCP_NAMES.encode(self._prefix + path),
                secret=secret,
            )

    def _void(self, path: str, number: int) -> None:
        """Take a version that lost a check-and-set race out of play for good."""
        self._call("disable", path, self._client.disable_secret_version, name=self._version_name(path, number))
        self._mutate(path, lambda m: m.void.add(number))

    def _prune(self, path: str, newest: int) -> None:
        meta = self._bookkeeping(path, self._get_secret(path))
        if meta.max_versions <= 0 or newest - meta.max_versions <= meta.floor:
            return

        def prune(meta: Bookkeeping) -> None:
            meta.prune_below(newest)

        meta = self._mutate(path, prune)
        for version in self._versions(path):
            if version.number <= meta.floor and version.state != _DESTROYED:
                self._destroy_version(path, version.number)

    def _destroy_version(self, path: str, number: int) -> None:
        self._call("destroy", path, self._client.destroy_secret_version, name=self._version_name(path, number))

    def _chosen(self, path: str, versions: Sequence[int] | None) -> tuple[_Versions, Bookkeeping]:
        meta = self._bookkeeping(path, self._get_secret(path))
        visible = self._visible(self._versions(path), meta)
        if versions is None:
            if not visible:
                raise SecretNotFoundError(path)
            return [visible[-1]], meta
        return [self._find(path, visible, number) for number in versions], meta

    def delete(self, path: str, versions: Sequence[int] | None = None) -> None:
        chosen, _meta = self._chosen(path, versions)
        now = now_iso()
        changed = [v.number for v in chosen if v.state == _ENABLED]
        for number in changed:
            self._call("delete", path, self._client.disable_secret_version, name=self._version_name(path, number))
        if changed:
            self._mutate(path, lambda m: m.deleted.update(dict.fromkeys(changed, now)))

    def undelete(self, path: str, versions: Sequence[int]) -> None:
        chosen, _meta = self._chosen(path, versions)
        changed = [v.number for v in chosen if v.state == _DISABLED]
        for number in changed:
            self._call("undelete", path, self._client.enable_secret_version, name=self._version_name(path, number))
        if changed:

            def forget(meta: Bookkeeping) -> None:
                for number in changed:
                    meta.deleted.pop(number, None)

            self._mutate(path, forget)

    def destroy(self, path: str, versions: Sequence[int]) -> None:
        chosen, _meta = self._chosen(path, versions)
        for version in chosen:
            if version.state != _DESTROYED:
                self._destroy_version(path, version.number)

        def forget(meta: Bookkeeping) -> None:
            for version in chosen:
                meta.deleted.pop(version.number, None)

        self._mutate(path, forget)

    def _update_metadata(
        self, path: str, max_versions: int | None, custom: Mapping[str, str | None] | None
    ) -> SecretMetadata:

        def change(meta: Bookkeeping) -> None:
            if max_versions is not None:
                meta.max_versions = max_versions
            meta.merge_custom(dict(custom or {}))

        self._mutate(path, change)
        return self.metadata(path)

    # -- pending ---------------------------------------------------------------------------------

    def _clear_pending(self, companion: str) -> None:
        try:
            self._call("discard pending value", companion, self._client.delete_secret, name=self._secret(companion))
        except self._errors.NotFound:
            raise SecretNotFoundError(companion) from None

    def close(self) -> None:
        transport = getattr(self._client, "transport", None)
        close = getattr(transport, "close", None)
        if callable(close):
            close()


def _credentials(section: Section) -> Any:
    if section.flag("anonymous", False):
        credentials_mod = import_sdk("google.auth.credentials", backend="gcp", package="google-auth", extra="gcp")
        return credentials_mod.AnonymousCredentials()
    token = section.text("token")
    if token is not None:
        oauth2 = import_sdk("google.oauth2.credentials", backend="gcp", package="google-auth", extra="gcp")
        return oauth2.Credentials(token=token)
    google_auth = import_sdk("google.auth", backend="gcp", package="google-auth", extra="gcp")
    auth_errors = import_sdk("google.auth.exceptions", backend="gcp", package="google-auth", extra="gcp")
    file = section.file("credentials_file")
    try:
        if file is not None:
            credentials, _project = google_auth.load_credentials_from_file(str(file), scopes=_SCOPES)
        else:
            credentials, _project = google_auth.default(scopes=_SCOPES)
    except auth_errors.DefaultCredentialsError as exc:
        raise BackendAuthError(
            f"no usable Google credentials ({describe(exc, 120)}): run 'gcloud auth application-default login', "
            f"set GOOGLE_APPLICATION_CREDENTIALS or {section.variable('credentials_file')}"
        ) from None
    return credentials


def open_backend(settings: VaultSettings) -> GcpBackend:
    """The factory `leakvault.vault.factory` calls for ``MAHAVISHNU_SECRETS__BACKEND=gcp``."""
    section = Section("gcp", settings.section("gcp"))
    project = section.required("project", "the Google Cloud project id that holds the secrets")
    secretmanager = import_sdk(
        "google.cloud.secretmanager_v1", backend="gcp", package="google-cloud-secret-manager", extra="gcp"
    )
    client_options = import_sdk("google.api_core.client_options", backend="gcp", package="google-api-core", extra="gcp")
    endpoint = section.text("endpoint")
    if endpoint is not None:
        check_transport(section, "endpoint", endpoint)
    transport = (
        section.text("transport") or ("rest" if endpoint and endpoint.startswith("http://") else "grpc")
    ).lower()
    if transport not in ("grpc", "rest"):
        raise ConfigError(f"{section.variable('transport')} must be grpc or rest, got {transport!r}")
    options = client_options.ClientOptions(api_endpoint=endpoint) if endpoint else None
    client = secretmanager.SecretManagerServiceClient(
        credentials=_credentials(section), transport=transport, client_options=options
    )
    return GcpBackend(
        client,
        project=project,
        prefix=section.prefix(),
        retry=RetryPolicy.from_section(section),
        timeout=section.number("timeout", 10.0, minimum=0.1),
    )
