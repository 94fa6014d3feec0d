"""STAND-IN for Google Cloud Secret Manager (REST v1), for tests only. Not the real service.

Written from the public reference (cloud.google.com/secret-manager/docs/reference/rest/v1): the
``projects.secrets`` methods create, get, patch (annotations, etag-checked), delete, list, addVersion,
and ``projects.secrets.versions`` get, list, access, enable, disable, destroy; errors in the
``{"error": {"code", "message", "status"}}`` shape; etag mismatches answer 400 FAILED_PRECONDITION
as the etag guide documents; payload CRC32C is checked when sent; empty payloads are refused.

Deliberately absent: IAM, replication choices, rotation schedules, topics, version aliases,
expiry, CMEK, regional endpoints and ``filter`` expressions. Authentication is emulator-style:
requests without credentials are accepted when `anonymous` is true; a bearer token in
`denied_tokens` gets 403 PERMISSION_DENIED and any other unknown token 401 UNAUTHENTICATED.
"""

from __future__ import annotations

import base64
import contextlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leakvault.vault.backends._support import crc32c

from ._http import ApiError, Request, StandinServer

_SECRET_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")
_ANNOTATION_KEY = re.compile(r"[a-zA-Z0-9]([a-zA-Z0-9._-]{0,61}[a-zA-Z0-9])?")
_ROUTE = re.compile(
    r"/v1/projects/(?P<project>[^/]+)/secrets"
    r"(?:/(?P<secret>[^/:]+)"
    r"(?::(?P<secret_verb>addVersion)"
    r"|/versions(?:/(?P<version>[^/:]+)(?::(?P<version_verb>access|enable|disable|destroy))?)?)?)?"
)
_ANNOTATIONS_LIMIT = 16 * 1024
_PAYLOAD_LIMIT = 64 * 1024
_DEFAULT_PAGE = 25


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _etag() -> str:
    return '"' + secrets.token_hex(8) + '"'


@dataclass
class _Version:
    number: int
    data: bytes | None
    create_time: str = field(default_factory=_now)
    state: str = "ENABLED"
    destroy_time: str | None = None
    etag: str = field(default_factory=_etag)


@dataclass
class _Secret:
    name: str
    annotations: dict[str, str]
    create_time: str = field(default_factory=_now)
    etag: str = field(default_factory=_etag)
    versions: list[_Version] = field(default_factory=list)


class GcpStandin(StandinServer):
    def __init__(self, *, anonymous: bool = True) -> None:
        super().__init__()
        self.anonymous = anonymous
        self.tokens: set[str] = set()
        self.denied_tokens: set[str] = set()
        self.secrets: dict[str, _Secret] = {}
        self.url = ""

    # -- protocol ------------------------------------------------------------------------------------

    def error_body(self, error: ApiError) -> Any:
        return {"error": {"code": error.status, "message": error.message, "status": error.code}}

    def authorize(self, request: Request) -> None:
        header = request.headers.get("Authorization")
        if header is None:
            if self.anonymous:
                return
            raise ApiError(401, "UNAUTHENTICATED", "Request is missing required authentication credential.")
        token = header.removeprefix("Bearer ").strip()
        if token in self.denied_tokens:
            raise ApiError(403, "PERMISSION_DENIED", "Permission 'secretmanager.secrets.get' denied.")
        if token not in self.tokens:
            raise ApiError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")

    def route(self, request: Request) -> tuple[int, Any]:
        match = _ROUTE.fullmatch(request.path)
        if match is None:
            raise ApiError(404, "NOT_FOUND", f"no such method: {request.method} {request.path}")
        project, secret_id = match["project"], match["secret"]
        parent = f"projects/{project}"
        method = request.method
        if secret_id is None:
            if method == "GET":
                return 200, self._list_secrets(parent, request)
            if method == "POST":
                return 200, self._create(parent, request)
        elif match["secret_verb"] == "addVersion" and method == "POST":
            return 200, self._add_version(self._secret(parent, secret_id), request)
        elif match["version"] is None and "/versions" in request.path:
            if method == "GET":
                return 200, self._list_versions(self._secret(parent, secret_id), request)
        elif match["version"] is None:
            if method == "GET":
                return 200, self._secret_json(self._secret(parent, secret_id))
            if method == "PATCH":
                return 200, self._patch(self._secret(parent, secret_id), request)
            if method == "DELETE":
                return 200, self._delete(parent, secret_id, request)
        else:
            secret = self._secret(parent, secret_id)
            version = self._version(secret, match["version"])
            verb = match["version_verb"]
            if verb is None and method == "GET":
                return 200, self._version_json(secret, version)
            if verb == "access" and method == "GET":
                return 200, self._access(secret, version)
            if verb in ("enable", "disable", "destroy") and method == "POST":
                return 200, self._change_state(secret, version, verb, request)
        raise ApiError(404, "NOT_FOUND", f"no such method: {method} {request.path}")

    # -- secrets -------------------------------------------------------------------------------------

    def _secret(self, parent: str, secret_id: str) -> _Secret:
        name = f"{parent}/secrets/{secret_id}"
        found = self.secrets.get(name)
        if found is None:
            raise ApiError(404, "NOT_FOUND", f"Secret [{name}] not found or has no versions.")
        return found

    def _secret_json(self, secret: _Secret) -> dict[str, Any]:
        return {
            "name": secret.name,
            "replication": {"automatic": {}},
            "createTime": secret.create_time,
            "annotations": dict(secret.annotations),
            "etag": secret.etag,
        }

    @staticmethod
    def _check_annotations(annotations: dict[str, str]) -> None:
        size = 0
        for key, value in annotations.items():
            if not _ANNOTATION_KEY.fullmatch(key):
                raise ApiError(400, "INVALID_ARGUMENT", f"invalid annotation key {key!r}")
            size += len(key.encode()) + len(str(value).encode())
        if size > _ANNOTATIONS_LIMIT:
            raise ApiError(400, "INVALID_ARGUMENT", "annotations exceed the 16 KiB total size limit")

    def _create(self, parent: str, request: Request) -> dict[str, Any]:
        secret_id = request.arg("secretId") or ""
        if not _SECRET_ID.fullmatch(secret_id):
            raise ApiError(400, "INVALID_ARGUMENT", f"invalid secret id {secret_id!r}")
        body = request.body or {}
        if "replication" not in body:
            raise ApiError(400, "INVALID_ARGUMENT", "Secret.replication is required")
        name = f"{parent}/secrets/{secret_id}"
        if name in self.secrets:
            raise ApiError(409, "ALREADY_EXISTS", f"Secret [{name}] already exists.")
        annotations = {str(k): str(v) for k, v in (body.get("annotations") or {}).items()}
        self._check_annotations(annotations)
        self.secrets[name] = _Secret(name=name, annotations=annotations)
        return self._secret_json(self.secrets[name])

    def _patch(self, secret: _Secret, request: Request) -> dict[str, Any]:
        body = request.body or {}
        etag = body.get("etag")
        if etag and etag != secret.etag:
            raise ApiError(400, "FAILED_PRECONDITION", "The etag provided in the request does not match.")
        mask = [m for m in (request.arg("updateMask") or "").split(",") if m]
        if not mask:
            raise ApiError(400, "INVALID_ARGUMENT", "update_mask is required")
        for field_name in mask:
            if field_name != "annotations":
                raise ApiError(400, "INVALID_ARGUMENT", f"the stand-in cannot update {field_name!r}")
            annotations = {str(k): str(v) for k, v in (body.get("annotations") or {}).items()}
            self._check_annotations(annotations)
            secret.annotations = annotations
        secret.etag = _etag()
        return self._secret_json(secret)

    def _delete(self, parent: str, secret_id: str, request: Request) -> dict[str, Any]:
        secret = self._secret(parent, secret_id)
        etag = request.arg("etag")
        if etag and etag != secret.etag:
            raise ApiError(400, "FAILED_PRECONDITION", "The etag provided in the request does not match.")
        del self.secrets[secret.name]
        return {}

    @staticmethod
    def _page(items: list[Any], request: Request) -> tuple[list[Any], str | None]:
        size = int(request.arg("pageSize") or _DEFAULT_PAGE)
        start = int(request.arg("pageToken") or 0)
        end = start + size
        return items[start:end], (str(end) if end < len(items) else None)

    def _list_secrets(self, parent: str, request: Request) -> dict[str, Any]:
        mine = sorted(name for name in self.secrets if name.startswith(parent + "/"))
        page, token = self._page(mine, request)
        out: dict[str, Any] = {"secrets": [self._secret_json(self.secrets[n]) for n in page], "totalSize": len(mine)}
        if token:
            out["nextPageToken"] = token
        return out

    # -- versions ------------------------------------------------------------------------------------

    def _version(self, secret: _Secret, ref: str) -> _Version:
        if ref == "latest":
            if not secret.versions:
                raise ApiError(404, "NOT_FOUND", f"Secret [{secret.name}] not found or has no versions.")
            return secret.versions[-1]
        if not ref.isdigit():
            raise ApiError(400, "INVALID_ARGUMENT", f"invalid version {ref!r}")
        for version in secret.versions:
            if version.number == int(ref):
                return version
        raise ApiError(404, "NOT_FOUND", f"Secret Version [{secret.name}/versions/{ref}] not found.")

    def _version_json(self, secret: _Secret, version: _Version) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": f"{secret.name}/versions/{version.number}",
            "createTime": version.create_time,
            "state": version.state,
            "etag": version.etag,
            "replicationStatus": {"automatic": {}},
        }
        if version.destroy_time:
            out["destroyTime"] = version.destroy_time
        return out

    def _add_version(self, secret: _Secret, request: Request) -> dict[str, Any]:
        payload = (request.body or {}).get("payload") or {}
        data = base64.b64decode(payload.get("data") or "")
        if not data:
            raise ApiError(400, "INVALID_ARGUMENT", "Secret Payload cannot be empty.")
        if len(data) > _PAYLOAD_LIMIT:
            raise ApiError(400, "INVALID_ARGUMENT", "Secret Payload is larger than 64 KiB.")
        checksum = payload.get("dataCrc32c")
        if checksum is not None and int(checksum) != crc32c(data):
            raise ApiError(400, "INVALID_ARGUMENT", "Checksum mismatch for the payload.")
        number = (secret.versions[-1].number if secret.versions else 0) + 1
        version = _Version(number=number, data=data)
        secret.versions.append(version)
        return self._version_json(secret, version)

    def _list_versions(self, secret: _Secret, request: Request) -> dict[str, Any]:
        newest_first = list(reversed(secret.versions))  # the order the service documents
        page, token = self._page(newest_first, request)
        out: dict[str, Any] = {
            "versions": [self._version_json(secret, v) for v in page],
            "totalSize": len(newest_first),
        }
        if token:
            out["nextPageToken"] = token
        return out

    def _access(self, secret: _Secret, version: _Version) -> dict[str, Any]:
        if version.state != "ENABLED" or version.data is None:
            raise ApiError(
                400,
                "FAILED_PRECONDITION",
                f"Secret Version [{secret.name}/versions/{version.number}] is in {version.state} state.",
            )
        return {
            "name": f"{secret.name}/versions/{version.number}",
            "payload": {
                "data": base64.b64encode(version.data).decode(),
                "dataCrc32c": str(crc32c(version.data)),
            },
        }

    def _change_state(self, secret: _Secret, version: _Version, verb: str, request: Request) -> dict[str, Any]:
        etag = (request.body or {}).get("etag")
        if etag and etag != version.etag:
            raise ApiError(400, "FAILED_PRECONDITION", "The etag provided in the request does not match.")
        if version.state == "DESTROYED" and verb != "destroy":
            raise ApiError(400, "FAILED_PRECONDITION", f"Secret Version is in DESTROYED state and cannot be {verb}d.")
        if verb == "enable":
            version.state = "ENABLED"
        elif verb == "disable":
            version.state = "DISABLED"
        else:
            version.state, version.data, version.destroy_time = "DESTROYED", None, _now()
        version.etag = _etag()
        return self._version_json(secret, version)


@contextlib.contextmanager
def run_gcp_standin(*, anonymous: bool = True) -> Iterator[GcpStandin]:
    server = GcpStandin(anonymous=anonymous)
    port = server.start()
    server.url = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        server.stop()
