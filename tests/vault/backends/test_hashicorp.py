"""What only HashiCorp Vault / OpenBao shows: storage format, namespaces, TLS and mutual TLS, cas_required."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from leakvault.errors import ConfigError
from leakvault.vault.backends.errors import BackendUnreachableError
from leakvault.vault.errors import SecretNotFoundError

from .conftest import Env, open_backend
from .servers import OpenBao


@pytest.fixture
def root(openbao: OpenBao) -> Iterator[Any]:
    import hvac

    client = hvac.Client(url=openbao.url, token=openbao.root_token)
    yield client
    client.adapter.close()


def _kv_data(root: Any, path: str, mount: str = "secret") -> dict[str, Any]:
    response = root.secrets.kv.v2.read_secret_version(path=path, mount_point=mount, raise_on_deleted_version=True)
    return dict(response["data"]["data"])


def test_storage_format_is_readable_by_other_clients(root: Any, make_env: Callable[[str], Env], tmp_path: Path) -> None:
    """Text is stored as {"value": ...}; binary as {"value_base64": ...}; foreign maps read as JSON."""
    env = make_env("hashicorp")
    prefix = env["MAHAVISHNU_SECRETS__HASHICORP__PREFIX"]
    backend = open_backend(env, tmp_path)
    try:
        backend.write("text", "héllo".encode())
        backend.write("bin", b"\xff\x00")
        assert _kv_data(root, prefix + "text") == {"value": "héllo"}
        assert _kv_data(root, prefix + "bin") == {"value_base64": "/wA="}
        root.secrets.kv.v2.create_or_update_secret(
            path=prefix + "legacy", secret={"user": "app", "password": "pw"}, mount_point="secret"
        )
        assert json.loads(backend.read("legacy").value) == {"password": "pw", "user": "app"}
        custom = backend.update_metadata("text", custom={"owner": "ops"}).custom
        assert dict(custom) == {"owner": "ops"}
        meta = root.secrets.kv.v2.read_secret_metadata(path=prefix + "text", mount_point="secret")["data"]
        assert meta["custom_metadata"] == {"owner": "ops"}
    finally:
        backend.close()


def test_namespace_isolates(root: Any, make_env: Callable[[str], Env], tmp_path: Path) -> None:
    """With NAMESPACE set, secrets live in that namespace and not in the root one."""
    import hvac
    import hvac.exceptions

    root.adapter.post("/v1/sys/namespaces/team-a", json={})
    in_namespace = hvac.Client(url=root.url, token=root.token, namespace="team-a")
    in_namespace.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
    env = make_env("hashicorp")
    env["MAHAVISHNU_SECRETS__HASHICORP__NAMESPACE"] = "team-a"
    prefix = env["MAHAVISHNU_SECRETS__HASHICORP__PREFIX"]
    backend = open_backend(env, tmp_path)
    try:
        backend.write("app/db", b"namespaced")
        assert _kv_data(in_namespace, prefix + "app/db") == {"value": "namespaced"}
        with pytest.raises(hvac.exceptions.InvalidPath):  # not in the root namespace
            _kv_data(root, prefix + "app/db")
    finally:
        backend.close()
        in_namespace.adapter.close()


def test_cas_required_mount(root: Any, make_env: Callable[[str], Env], tmp_path: Path) -> None:
    """On a mount that insists on check-and-set, unconditional writes still work (on top of current)."""
    root.sys.enable_secrets_engine("kv", path="strict", options={"version": "2"})
    root.secrets.kv.v2.configure(cas_required=True, mount_point="strict")
    env = make_env("hashicorp")
    env["MAHAVISHNU_SECRETS__HASHICORP__MOUNT"] = "strict"
    backend = open_backend(env, tmp_path)
    try:
        assert backend.write("k", b"1").version == 1
        assert backend.write("k", b"2").version == 2
        assert backend.read("k").value == b"2"
    finally:
        backend.close()


def _tls_env(make_env: Callable[[str], Env], openbao: OpenBao) -> Env:
    env = make_env("hashicorp")
    env["MAHAVISHNU_SECRETS__HASHICORP__URL"] = openbao.tls_url
    env["MAHAVISHNU_SECRETS__HASHICORP__CA_CERT"] = str(openbao.pki.ca_cert)
    env["MAHAVISHNU_SECRETS__HASHICORP__CLIENT_CERT"] = str(openbao.pki.client_cert)
    env["MAHAVISHNU_SECRETS__HASHICORP__CLIENT_KEY"] = str(openbao.pki.client_key)
    return env


def test_mutual_tls(openbao: OpenBao, make_env: Callable[[str], Env], tmp_path: Path) -> None:
    """Over the listener that demands client certificates, our certificate and CA get through."""
    backend = open_backend(_tls_env(make_env, openbao), tmp_path)
    try:
        backend.write("over/mtls", b"ok")
        assert backend.read("over/mtls").value == b"ok"
    finally:
        backend.close()


def test_mutual_tls_without_client_certificate(
    openbao: OpenBao, make_env: Callable[[str], Env], tmp_path: Path
) -> None:
    """Without a client certificate the server refuses the handshake: a clear TLS/reachability error."""
    env = _tls_env(make_env, openbao)
    del env["MAHAVISHNU_SECRETS__HASHICORP__CLIENT_CERT"], env["MAHAVISHNU_SECRETS__HASHICORP__CLIENT_KEY"]
    backend = open_backend(env, tmp_path)
    try:
        with pytest.raises(BackendUnreachableError) as info:
            backend.read("over/mtls")
    finally:
        backend.close()
    assert "\n" not in str(info.value)


def test_untrusted_server_certificate(openbao: OpenBao, make_env: Callable[[str], Env], tmp_path: Path) -> None:
    """A server certificate that the configured CA did not sign is refused (verification is on by default)."""
    env = _tls_env(make_env, openbao)
    env["MAHAVISHNU_SECRETS__HASHICORP__CA_CERT"] = str(openbao.pki.other_ca_cert)
    backend = open_backend(env, tmp_path)
    try:
        with pytest.raises(BackendUnreachableError, match="certificate verify failed"):
            backend.read("x")
    finally:
        backend.close()


def test_tls_settings_are_checked(openbao: OpenBao, make_env: Callable[[str], Env], tmp_path: Path) -> None:
    """A missing CA file, or a client certificate without its key, is a configuration error up front."""
    env = _tls_env(make_env, openbao)
    env["MAHAVISHNU_SECRETS__HASHICORP__CA_CERT"] = str(tmp_path / "missing.pem")
    with pytest.raises(ConfigError, match="CA_CERT: no such file"):
        open_backend(env, tmp_path)
    env = _tls_env(make_env, openbao)
    del env["MAHAVISHNU_SECRETS__HASHICORP__CLIENT_KEY"]
    with pytest.raises(ConfigError, match="needs both"):
        open_backend(env, tmp_path)


def test_pending_companion_is_hidden(make_env: Callable[[str], Env], tmp_path: Path) -> None:
    """A staged value lives under .leakvault/pending/ in the mount and never shows in list."""
    backend = open_backend(make_env("hashicorp"), tmp_path)
    try:
        backend.write("app/db", b"v1")
        backend.stage_pending("app/db", b"v2")
        assert backend.list() == ["app/db"]
        assert backend.read(".leakvault/pending/app/db").value == b"v2"
        backend.discard_pending("app/db")
        with pytest.raises(SecretNotFoundError):
            backend.read(".leakvault/pending/app/db")
    finally:
        backend.close()
