"""AWS Secrets Manager as a leakvault backend (``MAHAVISHNU_SECRETS__BACKEND=aws``), with boto3.

Mapping (docs/backends.md has the full table of differences):

- A leakvault path is a secret named ``PREFIX + path``.
- Version N is the secret version whose ``VersionId`` (the ``ClientRequestToken`` we send) is
  ``leakvault-v`` + N in 21 digits. Secrets Manager refuses a second, different value under the
  same token, so two writers racing for version N+1 cannot both win: that is our check-and-set.
  Versions written by other tools (random UUIDs) are numbered by creation order.
- The current version is the one labelled AWSCURRENT; Secrets Manager moves AWSPREVIOUS itself.
- A pending value is a version labelled AWSPENDING (token ``leakvault-pending-<uuid>``), the
  native rotation stage; promotion writes it as the next numbered version (AWSCURRENT moves to
  it, AWSPREVIOUS to the old one) and removes the AWSPENDING label.
- Secrets Manager has no per-version soft delete or destroy. leakvault keeps that state (and
  ``max_versions``, custom annotations) as JSON in the secret's Description, and enforces it on
  every read. Destroy also strips the version's staging labels so AWS deprecates it and later
  deletes it on its own schedule; the value is not erased at once.
- Secrets Manager cannot store an empty value: an empty value is stored as one NUL byte and the
  version is listed as empty in the Description.

Settings (``MAHAVISHNU_SECRETS__AWS__*``): ``REGION`` (else AWS_REGION / the profile's region),
``ENDPOINT_URL`` (VPC endpoints, LocalStack, moto), ``PROFILE``, ``PREFIX``, ``KMS_KEY_ID`` (for
new secrets), ``TIMEOUT``, ``MAX_RETRIES``, ``RETRY_BASE_DELAY``. Credentials come from the usual
AWS chain (environment, profile, SSO, instance or task role), never from leakvault settings.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from leakvault.errors import ConfigError
from leakvault.vault.backend import CheckedMetadataUpdate
from leakvault.vault.backends._bookkeeping import Bookkeeping, now_iso
from leakvault.vault.backends._support import (
    RetryPolicy,
    Section,
    check_transport,
    describe,
    import_sdk,
    is_text,
    with_retries,
    write_with_retries,
)
from leakvault.vault.backends.errors import (
    BackendAuthError,
    BackendDeniedError,
    BackendUnreachableError,
)
from leakvault.vault.config import VaultSettings
from leakvault.vault.errors import (
    BackendError,
    CasConflictError,
    SecretNotFoundError,
    VersionDeletedError,
    VersionDestroyedError,
)
from leakvault.vault.model import SecretMetadata, SecretValue, VersionInfo, freeze_custom, utcnow

T = TypeVar("T")

SERVICE = "AWS Secrets Manager"
CURRENT, PENDING, PREVIOUS = "AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"
_VERSION_ID = re.compile(r"leakvault-v(\d{21})")
_PENDING_ID_PREFIX = "leakvault-pending-"
_DESCRIPTION_PREFIX = "leakvault:"
_DESCRIPTION_LIMIT = 2048
_EMPTY_PLACEHOLDER = b"\x00"

_AUTH_CODES = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredTokenException",
    "ExpiredToken",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "AuthFailure",
}
_THROTTLE_CODES = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "InternalServiceError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
}


def version_id(number: int) -> str:
    return f"leakvault-v{number:021d}"


def _is_pending_id(vid: str) -> bool:
    return vid.startswith(_PENDING_ID_PREFIX)


def _parse_description(description: str | None, *, name: str) -> Bookkeeping:
    if not description:
        return Bookkeeping()
    if not description.startswith(_DESCRIPTION_PREFIX):
        return Bookkeeping(text=description)  # kept, and restored in our JSON
    return Bookkeeping.from_json(description[len(_DESCRIPTION_PREFIX) :], where=f"the Description of {name!r}")


def _render_description(meta: Bookkeeping, *, path: str) -> str:
    text = _DESCRIPTION_PREFIX + meta.to_json()
    if len(text) > _DESCRIPTION_LIMIT:
        raise BackendError(
            f"leakvault's metadata for {path!r} no longer fits the {_DESCRIPTION_LIMIT}-character AWS "
            "Description (too many deleted/destroyed versions or annotations); destroy or prune old versions"
        )
    return text


@dataclass(frozen=True, slots=True)
class _Version:
    number: int
    vid: str
    created: datetime
    stages: tuple[str, ...]


@dataclass
class _State:
    name: str
    created: datetime
    changed: datetime
    meta: Bookkeeping
    stages: dict[str, list[str]]  # VersionId -> labels, for versions that have labels
    versions: list[_Version] | None = None  # filled on demand (one more request)

    def labelled(self, label: str) -> str | None:
        for vid, labels in self.stages.items():
            if label in labels:
                return vid
        return None


class AwsBackend(CheckedMetadataUpdate):
    """SecretBackend over AWS Secrets Manager."""

    def __init__(
        self, client: Any, *, prefix: str = "", retry: RetryPolicy | None = None, kms_key_id: str | None = None
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._retry = retry or RetryPolicy()
        self._kms_key_id = kms_key_id
        self._botocore = import_sdk("botocore.exceptions", backend="aws", package="boto3", extra="aws")

    @property
    def name(self) -> str:
        return "aws"

    def _name(self, path: str) -> str:
        return self._prefix + path

    # -- plumbing --------------------------------------------------------------------------------

    def _call(self, operation: str, path: str | None, function: Callable[[], T]) -> T:
        errors = self._botocore

        def retryable(exc: BaseException) -> bool:
            return isinstance(exc, errors.ClientError) and (
                _code(exc) in _THROTTLE_CODES
                or int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0) in (429, 502, 503, 504)
            )

        try:
            return with_retries(function, policy=self._retry, is_retryable=retryable, service=SERVICE)
        except errors.ClientError as exc:
            code = _code(exc)
            if code in _AUTH_CODES:
                raise BackendAuthError(
                    f"{SERVICE} rejected the AWS credentials ({code}); check AWS_PROFILE / "
                    "AWS_ACCESS_KEY_ID or the instance role, and that they are not expired"
                ) from None
            if code in ("AccessDeniedException", "AccessDenied"):
                raise BackendDeniedError(SERVICE, operation, path, code) from None
            if code in ("DecryptionFailure", "EncryptionFailure"):
                raise BackendDeniedError(SERVICE, operation, path, f"{code}: the KMS key refused") from None
            raise
        except (errors.NoCredentialsError, errors.PartialCredentialsError):
            raise BackendAuthError(
                "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "or run with an instance or task role"
            ) from None
        except errors.SSLError as exc:
            raise BackendUnreachableError(f"TLS with {SERVICE} failed ({describe(exc, 120)})") from None
        except (errors.EndpointConnectionError, errors.ConnectTimeoutError, errors.ReadTimeoutError) as exc:
            raise BackendUnreachableError(
                f"cannot reach {SERVICE} ({describe(exc, 160)}); check MAHAVISHNU_SECRETS__AWS__ENDPOINT_URL / "
                "__REGION and the network"
            ) from None
        except errors.ConnectionClosedError as exc:
            raise BackendUnreachableError(f"{SERVICE} closed the connection ({describe(exc, 120)})") from None

    def _missing(self, exc: BaseException) -> bool:
        return isinstance(exc, self._botocore.ClientError) and _code(exc) == "ResourceNotFoundException"

    def _state(self, path: str) -> _State:
        """Description, dates and staging labels of `path`; SecretNotFoundError if there is no secret."""
        name = self._name(path)
        try:
            raw = self._call("describe", path, lambda: self._client.describe_secret(SecretId=name))
        except self._botocore.ClientError as exc:
            if self._missing(exc):
                raise SecretNotFoundError(path) from None
            raise self._unexpected("describe", path, exc) from None
        if raw.get("DeletedDate"):
            raise BackendError(
                f"{SERVICE} secret {name!r} is scheduled for deletion; restore it "
                "(aws secretsmanager restore-secret) or use another path"
            )
        created = raw.get("CreatedDate") or utcnow()
        return _State(
            name=name,
            created=created,
            changed=raw.get("LastChangedDate") or created,
            meta=_parse_description(raw.get("Description"), name=name),
            stages={str(k): list(v) for k, v in (raw.get("VersionIdsToStages") or {}).items()},
        )

    def _unexpected(self, operation: str, path: str | None, exc: BaseException) -> BackendError:
        where = "" if path is None else f" {path!r}"
        return BackendError(f"{SERVICE} failed to {operation}{where}: {describe(exc)}")

    def _versions(self, path: str, state: _State) -> list[_Version]:
        """Every numbered version (including deprecated ones), oldest first, with its labels."""
        if state.versions is not None:
            return state.versions
        entries: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"SecretId": state.name, "IncludeDeprecated": True, "MaxResults": 100}
            if token:
                kwargs["NextToken"] = token
            page = self._call("list versions", path, functools.partial(self._client.list_secret_version_ids, **kwargs))
            entries.extend(page.get("Versions") or [])
            token = page.get("NextToken")
            if not token:
                break

        def order(entry: dict[str, Any]) -> tuple[datetime, int, str]:
            match = _VERSION_ID.fullmatch(entry["VersionId"])
            return (
                entry.get("CreatedDate") or state.created,
                int(match.group(1)) if match else 1 << 62,
                entry["VersionId"],
            )

        numbered: list[_Version] = []
        previous = 0
        for entry in sorted(entries, key=order):
            vid = str(entry["VersionId"])
            if _is_pending_id(vid):
                continue  # staging storage, never a version
            match = _VERSION_ID.fullmatch(vid)
            # Versions another tool wrote (random ids) follow the one created before them.
            number = int(match.group(1)) if match else previous + 1
            previous = max(previous, number)
            numbered.append(
                _Version(
                    number, vid, entry.get("CreatedDate") or state.created, tuple(entry.get("VersionStages") or ())
                )
            )
        numbered.sort(key=lambda v: v.number)
        state.versions = [v for v in numbered if v.number > state.meta.floor]
        return state.versions

    def _current(self, path: str, state: _State) -> int:
        vid = state.labelled(CURRENT)
        if vid is None or _is_pending_id(vid):
            return 0
        match = _VERSION_ID.fullmatch(vid)
        if match:
            return int(match.group(1))
        return next((v.number for v in self._versions(path, state) if v.vid == vid), 0)

    def _find(self, path: str, state: _State, number: int) -> _Version:
        for candidate in self._versions(path, state):
            if candidate.number == number:
                return candidate
        raise SecretNotFoundError(path, number)

    def _save_meta(self, path: str, state: _State) -> None:
        state.meta.touch()
        text = _render_description(state.meta, path=path)
        self._call("update metadata", path, lambda: self._client.update_secret(SecretId=state.name, Description=text))

    def _get_value(self, path: str, state: _State, vid: str, number: int) -> tuple[bytes, datetime]:
        try:
            raw = self._call("read", path, lambda: self._client.get_secret_value(SecretId=state.name, VersionId=vid))
        except self._botocore.ClientError as exc:
            if self._missing(exc):
                raise SecretNotFoundError(path, number or None) from None
            raise self._unexpected("read", path, exc) from None
        created = raw.get("CreatedDate") or state.created
        if "SecretBinary" in raw and raw["SecretBinary"] is not None:
            value = bytes(raw["SecretBinary"])
        else:
            value = str(raw.get("SecretString") or "").encode("utf-8")
        return value, created

    # -- reads -----------------------------------------------------------------------------------

    def read(self, path: str, version: int | None = None) -> SecretValue:
        state = self._state(path)
        number = self._current(path, state) if version is None else version
        if number == 0:
            raise SecretNotFoundError(path, version)
        found = self._find(path, state, number)
        if number in state.meta.destroyed:
            raise VersionDestroyedError(path, number)
        if number in state.meta.deleted:
            raise VersionDeletedError(path, number)
        value, created = self._get_value(path, state, found.vid, number)
        if number in state.meta.empty and value == _EMPTY_PLACEHOLDER:
            value = b""
        return SecretValue(path=path, version=number, value=value, created=created)

    def list(self, prefix: str = "") -> list[str]:
        full = self._prefix + prefix
        found: list[str] = []
        for entry in self._list_secrets(full):
            name = str(entry["Name"])
            if not name.startswith(full):
                continue  # the service's name filter is looser than a plain prefix
            stages = entry.get("SecretVersionsToStages") or {}
            has_versions = any(CURRENT in labels and not _is_pending_id(vid) for vid, labels in stages.items())
            if has_versions:
                found.append(name[len(self._prefix) :])
        return sorted(found)

    def _list_secrets(self, full_prefix: str) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"MaxResults": 100}
            if full_prefix:
                kwargs["Filters"] = [{"Key": "name", "Values": [full_prefix]}]
            if token:
                kwargs["NextToken"] = token
            page = self._call("list", full_prefix or None, functools.partial(self._client.list_secrets, **kwargs))
            yield from page.get("SecretList") or []
            token = page.get("NextToken")
            if not token:
                return

    def metadata(self, path: str) -> SecretMetadata:
        state = self._state(path)
        versions = self._versions(path, state)
        current = self._current(path, state)
        if current == 0 and not versions:
            raise SecretNotFoundError(path)
        meta = state.meta
        return SecretMetadata(
            path=path,
            current_version=current,
            created=state.created,
            updated=meta.updated_at(state.changed),
            max_versions=meta.max_versions,
            versions=tuple(
                VersionInfo(
                    version=v.number,
                    created=v.created,
                    deleted=meta.deleted_at(v.number),
                    destroyed=v.number in meta.destroyed,
                )
                for v in versions
            ),
            custom=freeze_custom(meta.custom),
            has_pending=state.labelled(PENDING) is not None,
        )

    # -- writes ----------------------------------------------------------------------------------

    def write(self, path: str, value: bytes, *, cas: int | None = None) -> VersionInfo:
        return write_with_retries(path, lambda: self._try_write(path, value, cas))

    def _try_write(self, path: str, value: bytes, cas: int | None) -> VersionInfo | None:
        """One attempt; None when another writer took the version number and `cas` is None."""
        errors = self._botocore
        try:
            state = self._state(path)
        except SecretNotFoundError:
            if cas not in (None, 0):
                raise CasConflictError(path, cas, 0) from None
            return self._create(path, value, cas)
        # Current and newest from one listing: a describe taken a moment earlier could predate a
        # rival's write and let this one pass the check and then skip past the rival's number.
        versions = self._versions(path, state)
        current = next((v.number for v in reversed(versions) if CURRENT in v.stages), 0)
        if cas is not None and cas != current:
            raise CasConflictError(path, cas, current)
        # With cas the token is fixed by it: a rival that wrote cas+1 first makes ours collide.
        number = cas + 1 if cas is not None else max([current, state.meta.floor, *(v.number for v in versions)]) + 1
        if (not value) != (number in state.meta.empty):
            # Record emptiness before the value exists, so no reader ever sees the placeholder;
            # a stale mark from a failed attempt at this number is cleared the same way.
            if value:
                state.meta.empty.discard(number)
            else:
                state.meta.empty.add(number)
            self._save_meta(path, state)
        try:
            self._call(
                "write",
                path,
                lambda: self._client.put_secret_value(
                    SecretId=state.name, ClientRequestToken=version_id(number), **_payload(value)
                ),
            )
        except errors.ClientError as exc:
            if _code(exc) != "ResourceExistsException":
                raise self._unexpected("write", path, exc) from None
            # Someone else wrote version `number` first: the token is the lock.
            if cas is not None:
                raise CasConflictError(path, cas, self._current(path, self._state(path))) from None
            return None
        self._prune(path, state, number)
        return VersionInfo(version=number, created=utcnow())

    def _create(self, path: str, value: bytes, cas: int | None) -> VersionInfo | None:
        meta = Bookkeeping(empty={1} if not value else set(), updated=now_iso())
        kwargs: dict[str, Any] = {
            "Name": self._name(path),
            "ClientRequestToken": version_id(1),
            "Description": _render_description(meta, path=path),
            **_payload(value),
        }
        if self._kms_key_id:
            kwargs["KmsKeyId"] = self._kms_key_id
        try:
            self._call("create", path, lambda: self._client.create_secret(**kwargs))
        except self._botocore.ClientError as exc:
            if _code(exc) != "ResourceExistsException":
                raise self._unexpected("create", path, exc) from None
            if cas == 0:
                raise CasConflictError(path, 0, self._current(path, self._state(path))) from None
            return None
        return VersionInfo(version=1, created=utcnow())

    def _prune(self, path: str, state: _State, newest: int) -> None:
        if state.meta.prune_below(newest):
            self._save_meta(path, state)

    def _existing(self, path: str, versions: Sequence[int]) -> _State:
        state = self._state(path)
        for number in versions:
            self._find(path, state, number)
        return state

    def delete(self, path: str, versions: Sequence[int] | None = None) -> None:
        if versions is None:
            state = self._state(path)
            current = self._current(path, state)
            if current == 0:
                raise SecretNotFoundError(path)
            versions = [current]
        state = self._existing(path, versions)
        now = now_iso()
        for number in versions:
            if number not in state.meta.destroyed:
                state.meta.deleted.setdefault(number, now)
        self._save_meta(path, state)

    def undelete(self, path: str, versions: Sequence[int]) -> None:
        state = self._existing(path, versions)
        for number in versions:
            state.meta.deleted.pop(number, None)
        self._save_meta(path, state)

    def destroy(self, path: str, versions: Sequence[int]) -> None:
        state = self._existing(path, versions)
        now = now_iso()
        for number in versions:
            state.meta.deleted.pop(number, None)
            state.meta.destroyed.setdefault(number, now)
        self._save_meta(path, state)
        # Unlabelled versions are deprecated, and Secrets Manager deletes deprecated versions
        # itself. AWSCURRENT cannot be removed without moving it, so a destroyed current version
        # keeps its value in AWS until a newer version replaces it.
        for found in self._versions(path, state):
            if found.number in versions:
                for label in found.stages:
                    if label != CURRENT:
                        self._remove_label(path, state, label, found.vid)

    def _remove_label(self, path: str, state: _State, label: str, vid: str) -> None:
        self._call(
            "update staging labels",
            path,
            lambda: self._client.update_secret_version_stage(
                SecretId=state.name, VersionStage=label, RemoveFromVersionId=vid
            ),
        )

    def _update_metadata(
        self, path: str, max_versions: int | None, custom: Mapping[str, str | None] | None
    ) -> SecretMetadata:
        state = self._state(path)
        if max_versions is not None:
            state.meta.max_versions = max_versions
        state.meta.merge_custom(dict(custom or {}))
        self._save_meta(path, state)
        return self.metadata(path)

    # -- pending: the native AWSPENDING stage ----------------------------------------------------

    def stage_pending(self, path: str, value: bytes) -> None:
        errors = self._botocore
        try:
            state = self._state(path)
        except SecretNotFoundError:
            # A secret with no version yet; the first value AWS stores also gets AWSCURRENT, which
            # leakvault ignores on a pending-format version id.
            kwargs: dict[str, Any] = {
                "Name": self._name(path),
                "Description": _render_description(Bookkeeping(), path=path),
            }
            if self._kms_key_id:
                kwargs["KmsKeyId"] = self._kms_key_id
            try:
                self._call("create", path, lambda: self._client.create_secret(**kwargs))
            except errors.ClientError as exc:
                if _code(exc) != "ResourceExistsException":
                    raise self._unexpected("create", path, exc) from None
            state = self._state(path)
        vid = _PENDING_ID_PREFIX + uuid.uuid4().hex
        if not value or state.meta.empty_pending is not None:
            state.meta.empty_pending = None if value else vid
            self._save_meta(path, state)
        self._call(
            "stage pending value",
            path,
            lambda: self._client.put_secret_value(
                SecretId=state.name, ClientRequestToken=vid, VersionStages=[PENDING], **_payload(value)
            ),
        )

    def read_pending(self, path: str) -> SecretValue | None:
        try:
            state = self._state(path)
        except SecretNotFoundError:
            return None
        vid = state.labelled(PENDING)
        if vid is None:
            return None
        value, created = self._get_value(path, state, vid, 0)
        if vid == state.meta.empty_pending and value == _EMPTY_PLACEHOLDER:
            value = b""
        return SecretValue(path=path, version=0, value=value, created=created)

    def promote_pending(self, path: str, *, cas: int | None = None) -> VersionInfo:
        staged = self.read_pending(path)
        if staged is None:
            raise SecretNotFoundError(path, 0)
        vid = self._state(path).labelled(PENDING)
        info = self.write(path, staged.value, cas=cas)
        # Re-read: moving AWSCURRENT off a version that also held AWSPENDING may have taken both.
        state = self._state(path)
        if vid is not None and state.labelled(PENDING) == vid:
            try:
                self._remove_label(path, state, PENDING, vid)
            except BackendError as exc:
                raise BackendError(
                    f"{path!r} version {info.version} now holds the promoted value, but removing the "
                    f"AWSPENDING label failed ({exc}); run discard_pending"
                ) from None
        return info

    def discard_pending(self, path: str) -> None:
        try:
            state = self._state(path)
        except SecretNotFoundError:
            return
        vid = state.labelled(PENDING)
        if vid is not None:
            self._remove_label(path, state, PENDING, vid)

    def close(self) -> None:
        close = getattr(self._client, "close", None)
        if callable(close):
            close()


def _payload(value: bytes) -> dict[str, Any]:
    if not value:
        return {"SecretBinary": _EMPTY_PLACEHOLDER}
    if is_text(value):
        return {"SecretString": value.decode("utf-8")}
    return {"SecretBinary": value}


def _code(exc: Any) -> str:
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or "")
    if code.isdigit():
        # Some endpoints (proxies, moto's IAM layer) answer a JSON API with an XML error body; the
        # SDK then reports only the HTTP status, and the real code sits in the message.
        found = _XML_CODE.search(str(error.get("Message") or ""))
        if found:
            return found.group(1)
        if code == "403":
            return "AccessDeniedException"
    return code


_XML_CODE = re.compile(r"<Code>([A-Za-z]+)</Code>")


def open_backend(settings: VaultSettings) -> AwsBackend:
    """The factory `leakvault.vault.factory` calls for ``MAHAVISHNU_SECRETS__BACKEND=aws``."""
    section = Section("aws", settings.section("aws"))
    boto3 = import_sdk("boto3", backend="aws", package="boto3", extra="aws")
    botocore_config = import_sdk("botocore.config", backend="aws", package="boto3", extra="aws")
    botocore_errors = import_sdk("botocore.exceptions", backend="aws", package="boto3", extra="aws")
    endpoint_url = section.text("endpoint_url")
    if endpoint_url is not None:
        check_transport(section, "endpoint_url", endpoint_url)
    timeout = section.number("timeout", 10.0, minimum=0.1)
    config = botocore_config.Config(
        # Our own bounded retry loop handles throttling, so the SDK's is switched off.
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=timeout,
        read_timeout=timeout,
    )
    try:
        session = boto3.session.Session(profile_name=section.text("profile"))
        client = session.client(
            "secretsmanager",
            region_name=section.text("region"),
            endpoint_url=endpoint_url,
            config=config,
        )
    except botocore_errors.NoRegionError:
        raise ConfigError(
            f"{section.variable('region')} is not set (nor AWS_REGION): the aws backend needs a region"
        ) from None
    except botocore_errors.ProfileNotFound as exc:
        raise ConfigError(f"{section.variable('profile')}: {exc}") from None
    except ValueError as exc:  # e.g. a malformed endpoint URL
        raise ConfigError(f"{section.variable('endpoint_url')}: {exc}") from None
    return AwsBackend(
        client,
        prefix=section.prefix(),
        retry=RetryPolicy.from_section(section),
        kms_key_id=section.text("kms_key_id"),
    )
