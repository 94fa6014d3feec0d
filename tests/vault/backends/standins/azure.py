"""STAND-IN for Azure Key Vault secrets (REST), for tests only. Not the real service.

Written from the public reference (learn.microsoft.com/rest/api/keyvault/secrets): Set Secret
(PUT /secrets/{name}), Get Secret (GET /secrets/{name}/{version}, empty version = latest), Update
Secret (PATCH, attributes/tags/contentType), Get Secrets and Get Secret Versions (paged with
``nextLink``), Delete Secret (soft delete); SecretBundle/SecretItem JSON with Unix-time attributes;
errors as ``{"error": {"code", "message", "innererror"}}``; names ``^[0-9a-zA-Z-]{1,127}$``,
compared case-insensitively; at most 15 tags of 256 characters; 25 KiB values. It speaks HTTPS
only (the SDK refuses bearer tokens over plain HTTP), with a certificate from the test CA.

Authentication follows Key Vault's challenge protocol: a request without a bearer token gets 401
with ``WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/<tenant>",
resource="https://vault.azure.net"``; a token in `tokens` is accepted, one in `denied_tokens`
gets 403 (AccessDenied), anything else 401. Deliberately absent: access policies/RBAC, recovery,
purge, backup/restore, certificates-backed secrets, not-before/expiry enforcement.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..tls import TestPki
from ._http import ApiError, Request, StandinServer

_NAME = re.compile(r"[0-9a-zA-Z-]{1,127}")
_ROUTE = re.compile(r"/secrets(?:/(?P<name>[^/]+)(?:/(?P<version>[^/]*))?)?/?")
_TENANT = "00000000-0000-0000-0000-000000000000"
_VALUE_LIMIT = 25 * 1024
_MAX_TAGS = 15
_DEFAULT_PAGE = 25


@dataclass
class _Version:
    vid: str
    value: str
    content_type: str | None
    tags: dict[str, str]
    enabled: bool = True
    created: int = field(default_factory=lambda: int(time.time()))
    updated: int = field(default_factory=lambda: int(time.time()))


@dataclass
class _Secret:
    name: str  # as first written (Key Vault keeps the case, matches case-insensitively)
    versions: list[_Version] = field(default_factory=list)
    deleted: bool = False


class AzureStandin(StandinServer):
    def __init__(self, pki: TestPki) -> None:
        super().__init__()
        self.pki = pki
        self.ca_cert = pki.ca_cert
        self.token = "standin-" + secrets.token_hex(16)
        self.tokens = {self.token}
        self.denied_tokens: set[str] = set()
        self.secrets: dict[str, _Secret] = {}
        self.vault_url = ""

    # -- protocol ------------------------------------------------------------------------------------

    def error_body(self, error: ApiError) -> Any:
        inner = {"Forbidden": "AccessDenied"}.get(error.code)
        body: dict[str, Any] = {"code": error.code, "message": error.message}
        if inner == "AccessDenied" and "disabled" in error.message:
            body["innererror"] = {"code": "SecretDisabled"}
        elif inner:
            body["innererror"] = {"code": inner}
        return {"error": body}

    def error_headers(self, error: ApiError) -> dict[str, str]:
        if error.status == 401:
            return {
                "WWW-Authenticate": f'Bearer authorization="https://login.microsoftonline.com/{_TENANT}", '
                'resource="https://vault.azure.net"'
            }
        if error.status == 429:
            return {"Retry-After": "0"}
        return {}

    def authorize(self, request: Request) -> None:
        header = request.headers.get("Authorization")
        if header is None:
            raise ApiError(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.")
        token = header.removeprefix("Bearer ").strip()
        if token in self.denied_tokens:
            raise ApiError(
                403,
                "Forbidden",
                "The user, group or application does not have secrets permission on key vault 'standin'.",
            )
        if token not in self.tokens:
            raise ApiError(401, "Unauthorized", "AKV10032: Invalid issuer.")

    def route(self, request: Request) -> tuple[int, Any]:
        if request.arg("api-version") is None:
            raise ApiError(400, "BadParameter", "The api-version query parameter is required.")
        match = _ROUTE.fullmatch(request.path)
        if match is None:
            raise ApiError(404, "NotFound", f"no such operation: {request.method} {request.path}")
        name, version = match["name"], match["version"]
        method = request.method
        if name is None and method == "GET":
            return 200, self._list_secrets(request)
        if name is not None and version == "versions" and method == "GET":
            return 200, self._list_versions(name, request)
        if name is not None and method == "PUT" and not version:
            return 200, self._set(name, request)
        if name is not None and method == "GET":
            return 200, self._get(name, version or "")
        if name is not None and method == "PATCH":
            return 200, self._update(name, version or "", request)
        if name is not None and method == "DELETE" and not version:
            return 200, self._delete(name)
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on {request.path}")

    # -- helpers -------------------------------------------------------------------------------------

    def _secret(self, name: str) -> _Secret:
        found = self.secrets.get(name.lower())
        if found is None or found.deleted:
            raise ApiError(404, "SecretNotFound", f"A secret with (name/id) {name} was not found in this key vault.")
        return found

    def _version(self, secret: _Secret, vid: str) -> _Version:
        if not vid:
            return secret.versions[-1]
        for version in secret.versions:
            if version.vid == vid:
                return version
        raise ApiError(
            404, "SecretNotFound", f"A secret with (name/id) {secret.name}/{vid} was not found in this key vault."
        )

    def _attributes(self, version: _Version) -> dict[str, Any]:
        return {
            "enabled": version.enabled,
            "created": version.created,
            "updated": version.updated,
            "recoveryLevel": "Recoverable+Purgeable",
            "recoverableDays": 90,
        }

    def _bundle(self, secret: _Secret, version: _Version, *, with_value: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": f"{self.vault_url}/secrets/{secret.name}/{version.vid}",
            "attributes": self._attributes(version),
            "tags": dict(version.tags),
        }
        if version.content_type is not None:
            out["contentType"] = version.content_type
        if with_value:
            out["value"] = version.value
        return out

    @staticmethod
    def _check_tags(tags: Any) -> dict[str, str]:
        tags = {str(k): str(v) for k, v in (tags or {}).items()}
        if len(tags) > _MAX_TAGS or any(len(k) > 512 or len(v) > 256 for k, v in tags.items()):
            raise ApiError(400, "BadParameter", "Tags exceed the limits (15 tags, 512-char names, 256-char values).")
        return tags

    def _page(self, items: list[dict[str, Any]], request: Request, base: str) -> dict[str, Any]:
        size = int(request.arg("maxresults") or _DEFAULT_PAGE)
        start = int(request.arg("$skiptoken") or 0)
        out: dict[str, Any] = {"value": items[start : start + size], "nextLink": None}
        if start + size < len(items):
            api = request.arg("api-version")
            out["nextLink"] = f"{self.vault_url}{base}?api-version={api}&maxresults={size}&$skiptoken={start + size}"
        return out

    # -- operations ------------------------------------------------------------------------------------

    def _set(self, name: str, request: Request) -> dict[str, Any]:
        if not _NAME.fullmatch(name):
            raise ApiError(400, "BadParameter", "The request URI contains an invalid name: " + name)
        body = request.body or {}
        value = body.get("value")
        if not isinstance(value, str):
            raise ApiError(400, "BadParameter", "Property 'value' is required.")
        if len(value) > _VALUE_LIMIT:
            raise ApiError(400, "BadParameter", "Secret value exceeds the 25 KiB limit.")
        secret = self.secrets.get(name.lower())
        if secret is not None and secret.deleted:
            raise ApiError(
                409,
                "Conflict",
                f"Secret {name} is currently in a deleted but recoverable state, and its name "
                "cannot be reused; in this state, the secret can only be recovered or purged.",
            )
        if secret is None:
            secret = self.secrets[name.lower()] = _Secret(name=name)
        attributes = body.get("attributes") or {}
        version = _Version(
            vid=secrets.token_hex(16),
            value=value,
            content_type=body.get("contentType"),
            tags=self._check_tags(body.get("tags")),
            enabled=bool(attributes.get("enabled", True)),
        )
        secret.versions.append(version)
        return self._bundle(secret, version, with_value=True)

    def _get(self, name: str, vid: str) -> dict[str, Any]:
        secret = self._secret(name)
        version = self._version(secret, vid)
        if not version.enabled:
            raise ApiError(403, "Forbidden", "Operation get is not allowed on a disabled secret.")
        return self._bundle(secret, version, with_value=True)

    def _update(self, name: str, vid: str, request: Request) -> dict[str, Any]:
        secret = self._secret(name)
        version = self._version(secret, vid)
        body = request.body or {}
        if "tags" in body:
            version.tags = self._check_tags(body["tags"])
        if "contentType" in body:
            version.content_type = body["contentType"]
        attributes = body.get("attributes") or {}
        if "enabled" in attributes and attributes["enabled"] is not None:
            version.enabled = bool(attributes["enabled"])
        version.updated = int(time.time())
        return self._bundle(secret, version, with_value=False)

    def _delete(self, name: str) -> dict[str, Any]:
        secret = self._secret(name)
        secret.deleted = True
        latest = secret.versions[-1]
        return {
            **self._bundle(secret, latest, with_value=False),
            "recoveryId": f"{self.vault_url}/deletedsecrets/{secret.name}",
            "deletedDate": int(time.time()),
            "scheduledPurgeDate": int(time.time()) + 90 * 86400,
        }

    def _list_secrets(self, request: Request) -> dict[str, Any]:
        items = []
        for key in sorted(self.secrets):
            secret = self.secrets[key]
            if secret.deleted or not secret.versions:
                continue
            latest = secret.versions[-1]
            item: dict[str, Any] = {
                "id": f"{self.vault_url}/secrets/{secret.name}",
                "attributes": self._attributes(latest),
                "tags": dict(latest.tags),
            }
            if latest.content_type is not None:
                item["contentType"] = latest.content_type
            items.append(item)
        return self._page(items, request, "/secrets")

    def _list_versions(self, name: str, request: Request) -> dict[str, Any]:
        secret = self._secret(name)
        items = [self._bundle(secret, v, with_value=False) for v in secret.versions]
        return self._page(items, request, f"/secrets/{secret.name}/versions")


@contextlib.contextmanager
def run_azure_standin(workdir: Path) -> Iterator[AzureStandin]:
    pki = TestPki.create(workdir / "pki")
    server = AzureStandin(pki)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    port = server.start(tls=context)
    server.vault_url = f"https://127.0.0.1:{port}"
    try:
        yield server
    finally:
        server.stop()
