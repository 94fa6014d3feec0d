"""HashiCorp Vault / OpenBao KV version 2 as a leakvault backend (``MAHAVISHNU_SECRETS__BACKEND=hashicorp``).

KV v2 is the model for the backend protocol, so the mapping is nearly one to one: versions,
``cas``, soft delete, undelete, destroy, ``max_versions`` and ``custom_metadata`` are the
engine's own. Settings beyond the connection (see `_hvac`): ``MOUNT`` (the KV v2 mount, default
``secret``) and ``PREFIX`` (a folder inside it that holds leakvault's secrets, default none).

A value is stored as ``{"value": "<text>"}``, or ``{"value_base64": "..."}`` when it is not UTF-8,
so other Vault clients read text secrets unchanged. A secret written by another tool with other
keys reads as the JSON of its whole data map. Pending values (rotation staging) live under
``.leakvault/pending/`` in the same mount (see `_pending`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from leakvault.vault.backend import CheckedMetadataUpdate
from leakvault.vault.backends._hvac import SERVICE, HvacConnection, HvacSettings
from leakvault.vault.backends._pending import InternalPending, is_pending_path, pending_path
from leakvault.vault.backends._support import Section, b64decode, b64encode, describe, is_text, parse_time
from leakvault.vault.config import VaultSettings
from leakvault.vault.errors import (
    BackendError,
    CasConflictError,
    IntegrityError,
    SecretNotFoundError,
    VersionDeletedError,
    VersionDestroyedError,
)
from leakvault.vault.model import SecretMetadata, SecretValue, VersionInfo, freeze_custom

T = TypeVar("T")

_Paths = list[str]  # `list` is a method name inside the backend class

VALUE_KEY = "value"
BINARY_KEY = "value_base64"


def encode_data(value: bytes) -> dict[str, str]:
    return {VALUE_KEY: value.decode("utf-8")} if is_text(value) else {BINARY_KEY: b64encode(value)}


def decode_data(path: str, version: int, data: Mapping[str, Any] | None) -> bytes:
    if not data:
        return b""
    if set(data) == {VALUE_KEY} and isinstance(data[VALUE_KEY], str):
        return str(data[VALUE_KEY]).encode("utf-8")
    if set(data) == {BINARY_KEY} and isinstance(data[BINARY_KEY], str):
        try:
            return b64decode(str(data[BINARY_KEY]))
        except ValueError:
            raise IntegrityError(path, version, f"{BINARY_KEY} is not valid base64") from None
    # Written by another tool: hand back the whole map, as `vault kv get -format=json` would.
    return json.dumps(dict(data), sort_keys=True, separators=(",", ":")).encode("utf-8")


class HashicorpBackend(InternalPending, CheckedMetadataUpdate):
    """SecretBackend over a KV v2 mount of HashiCorp Vault or OpenBao."""

    _service = SERVICE

    def __init__(self, connection: HvacConnection, *, mount: str = "secret", prefix: str = "") -> None:
        self._conn = connection
        self._mount = mount.strip("/")
        self._prefix = prefix
        self._kv = connection.client.secrets.kv.v2

    @property
    def name(self) -> str:
        return "hashicorp"

    def _full(self, path: str) -> str:
        return self._prefix + path

    def _call(self, operation: str, path: str | None, function: Callable[[], T]) -> T:
        return self._conn.call(operation, path, function)

    # -- reads -----------------------------------------------------------------------------------

    def read(self, path: str, version: int | None = None) -> SecretValue:
        missing = self._conn.exceptions.InvalidPath
        try:
            response = self._call(
                "read",
                path,
                lambda: self._kv.read_secret_version(
                    path=self._full(path),
                    version=version,
                    mount_point=self._mount,
                    raise_on_deleted_version=False,
                ),
            )
        except missing as exc:
            # A deleted or destroyed version answers 404 with its metadata in the body.
            response = getattr(exc, "json", None) or {}
            if not (response.get("data") or {}).get("metadata"):
                raise SecretNotFoundError(path, version) from None
        body = response.get("data") or {}
        meta = body.get("metadata") or {}
        number = int(meta.get("version") or version or 0)
        if meta.get("destroyed"):
            raise VersionDestroyedError(path, number)
        if meta.get("deletion_time"):
            raise VersionDeletedError(path, number)
        if number == 0:
            raise SecretNotFoundError(path, version)
        return SecretValue(
            path=path,
            version=number,
            value=decode_data(path, number, body.get("data")),
            created=parse_time(meta["created_time"]),
        )

    def list(self, prefix: str = "") -> list[str]:
        found: _Paths = []
        self._walk(prefix[: prefix.rfind("/") + 1], prefix, found)
        return sorted(p for p in found if not is_pending_path(p))

    def _walk(self, folder: str, prefix: str, found: _Paths) -> None:
        missing = self._conn.exceptions.InvalidPath
        try:
            response = self._call(
                "list",
                folder or None,
                lambda: self._kv.list_secrets(path=self._full(folder), mount_point=self._mount),
            )
        except missing:
            return
        for key in (response.get("data") or {}).get("keys") or []:
            child = folder + str(key)
            if child.endswith("/"):
                # Descend only into folders that can hold a match for the plain-string prefix.
                if child.startswith(prefix) or prefix.startswith(child):
                    self._walk(child, prefix, found)
            elif child.startswith(prefix):
                found.append(child)

    def _raw_metadata(self, path: str) -> dict[str, Any]:
        missing = self._conn.exceptions.InvalidPath
        try:
            response = self._call(
                "read metadata",
                path,
                lambda: self._kv.read_secret_metadata(path=self._full(path), mount_point=self._mount),
            )
        except missing:
            raise SecretNotFoundError(path) from None
        data: dict[str, Any] = response.get("data") or {}
        return data

    def metadata(self, path: str) -> SecretMetadata:
        return self._metadata(path, self._raw_metadata(path))

    def _metadata(self, path: str, data: Mapping[str, Any]) -> SecretMetadata:
        versions = tuple(
            VersionInfo(
                version=int(number),
                created=parse_time(info["created_time"]),
                deleted=_optional_time(info.get("deletion_time")),
                destroyed=bool(info.get("destroyed")),
            )
            for number, info in sorted((data.get("versions") or {}).items(), key=lambda kv: int(kv[0]))
        )
        return SecretMetadata(
            path=path,
            current_version=int(data.get("current_version") or 0),
            created=parse_time(data["created_time"]),
            updated=parse_time(data["updated_time"]),
            max_versions=int(data.get("max_versions") or 0),
            versions=versions,
            custom=freeze_custom(data.get("custom_metadata")),
            has_pending=False if is_pending_path(path) else self.has_pending(path),
        )

    # -- writes ----------------------------------------------------------------------------------

    def write(self, path: str, value: bytes, *, cas: int | None = None) -> VersionInfo:
        invalid = self._conn.exceptions.InvalidRequest
        data = encode_data(value)
        try:
            response = self._call(
                "write",
                path,
                lambda: self._kv.create_or_update_secret(
                    path=self._full(path), secret=data, cas=cas, mount_point=self._mount
                ),
            )
        except invalid as exc:
            text = str(exc).lower()
            if "check-and-set" in text and "required" in text and cas is None:
                # The mount (or key) insists on cas; an unconditional write means "on top of current".
                return self.write(path, value, cas=self._current(path))
            if "check-and-set" in text:
                raise CasConflictError(path, cas or 0, self._current(path)) from None
            raise BackendError(f"{SERVICE} refused to write {path!r}: {describe(exc)}") from None
        meta = response.get("data") or {}
        return VersionInfo(version=int(meta["version"]), created=parse_time(meta["created_time"]))

    def _current(self, path: str) -> int:
        try:
            return int(self._raw_metadata(path).get("current_version") or 0)
        except SecretNotFoundError:
            return 0

    def _existing(self, path: str, versions: Sequence[int]) -> Mapping[str, Any]:
        data = self._raw_metadata(path)
        known = data.get("versions") or {}
        for number in versions:
            if str(number) not in known:
                raise SecretNotFoundError(path, number)
        return data

    def delete(self, path: str, versions: Sequence[int] | None = None) -> None:
        if versions is None:
            current = int(self._raw_metadata(path).get("current_version") or 0)
            if current == 0:
                raise SecretNotFoundError(path)
            versions = [current]
        self._existing(path, versions)
        chosen = list(versions)
        self._call(
            "delete",
            path,
            lambda: self._kv.delete_secret_versions(path=self._full(path), versions=chosen, mount_point=self._mount),
        )

    def undelete(self, path: str, versions: Sequence[int]) -> None:
        self._existing(path, versions)
        chosen = list(versions)
        self._call(
            "undelete",
            path,
            lambda: self._kv.undelete_secret_versions(path=self._full(path), versions=chosen, mount_point=self._mount),
        )

    def destroy(self, path: str, versions: Sequence[int]) -> None:
        self._existing(path, versions)
        chosen = list(versions)
        self._call(
            "destroy",
            path,
            lambda: self._kv.destroy_secret_versions(path=self._full(path), versions=chosen, mount_point=self._mount),
        )

    def _update_metadata(
        self, path: str, max_versions: int | None, custom: Mapping[str, str | None] | None
    ) -> SecretMetadata:
        current = self._raw_metadata(path)
        params: dict[str, Any] = {}
        if max_versions is not None:
            params["max_versions"] = max_versions
        if custom is not None:
            merged = dict(current.get("custom_metadata") or {})
            for key, value in custom.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            params["custom_metadata"] = merged
        if params:
            # Posted directly: hvac's update_metadata would also reset delete_version_after.
            url = f"/v1/{self._mount}/metadata/{_quote(self._full(path))}"
            self._call("update metadata", path, lambda: self._conn.client.adapter.post(url, json=params))
        return self.metadata(path)

    # -- pending ---------------------------------------------------------------------------------

    def _clear_pending(self, companion: str) -> None:
        self._call(
            "discard pending value",
            companion,
            lambda: self._kv.delete_metadata_and_all_versions(path=self._full(companion), mount_point=self._mount),
        )

    def has_pending(self, path: str) -> bool:
        # Metadata only: no need to fetch (and hold) the staged value to know it is there.
        try:
            data = self._raw_metadata(pending_path(path))
        except SecretNotFoundError:
            return False
        current = str(data.get("current_version") or 0)
        info = (data.get("versions") or {}).get(current) or {}
        return bool(info) and not info.get("destroyed") and not info.get("deletion_time")

    def close(self) -> None:
        self._conn.close()


def _optional_time(value: str | None) -> datetime | None:
    return parse_time(value) if value else None


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


def open_backend(settings: VaultSettings) -> HashicorpBackend:
    """The factory `leakvault.vault.factory` calls for ``MAHAVISHNU_SECRETS__BACKEND=hashicorp``."""
    section = Section("hashicorp", settings.section("hashicorp"))
    connection = HvacConnection(HvacSettings.from_settings(settings))
    return HashicorpBackend(
        connection,
        mount=section.text("mount", "secret") or "secret",
        prefix=section.prefix(),
    )
