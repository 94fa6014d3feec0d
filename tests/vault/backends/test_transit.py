"""The transit store on a real OpenBao: only ciphertext on disk, binding to path, rotation and rewrap."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from leakvault.errors import ConfigError
from leakvault.vault.backends.errors import BackendDeniedError
from leakvault.vault.backends.transit import TransitBackend
from leakvault.vault.errors import IntegrityError, VaultFormatError

from ..helpers import make_vault
from .conftest import Env, open_backend
from .servers import OpenBao


@pytest.fixture
def env(make_env: Callable[[str], Env]) -> Env:
    return make_env("transit")


@pytest.fixture
def transit(env: Env, tmp_path: Path) -> Iterator[TransitBackend]:
    backend = open_backend(env, tmp_path)
    assert isinstance(backend, TransitBackend)
    yield backend
    backend.close()


def _store(env: Env) -> Path:
    return Path(env["MAHAVISHNU_SECRETS__TRANSIT__PATH"])


def _ciphertexts(env: Env) -> list[str]:
    with sqlite3.connect(_store(env)) as conn:
        rows = conn.execute("SELECT ciphertext FROM versions WHERE ciphertext IS NOT NULL ORDER BY path, version")
        return [bytes(r[0]).decode() for r in rows]


def test_file_holds_only_transit_ciphertext(transit: TransitBackend, env: Env) -> None:
    """Values on disk are vault:vN: ciphertexts; the plaintext appears nowhere in the store's files."""
    marker = b"TRANSIT-PLAINTEXT-MARKER-42"
    transit.write("app/db", marker)
    transit.stage_pending("app/db", marker + b"-next")
    assert all(c.startswith("vault:v") for c in _ciphertexts(env))
    on_disk = b"".join(p.read_bytes() for p in _store(env).parent.iterdir() if p.is_file())
    assert marker not in on_disk


def test_ciphertext_moved_to_another_path_fails(transit: TransitBackend, env: Env) -> None:
    """A ciphertext copied onto another path's row fails to decrypt, naming that path (derived key context)."""
    transit.write("a", b"alpha")
    transit.write("b", b"beta")
    transit.close()
    with sqlite3.connect(_store(env)) as conn:
        (stolen,) = conn.execute("SELECT ciphertext FROM versions WHERE path = 'a'").fetchone()
        conn.execute("UPDATE versions SET ciphertext = ? WHERE path = 'b'", (stolen,))
    reopened = open_backend(env, _store(env).parent)
    try:
        with pytest.raises(IntegrityError, match="'b' version 1"):
            reopened.read("b")
        assert reopened.read("a").value == b"alpha"
    finally:
        reopened.close()


def test_rotate_then_rewrap(transit: TransitBackend, env: Env) -> None:
    """After rotation new writes use the new key version; rewrap moves every old ciphertext to it."""
    transit.write("k", b"one")
    transit.write("k", b"two")
    transit.stage_pending("k", b"three")
    new_version = transit.rotate_key()
    assert new_version >= 2
    transit.write("other", b"fresh")
    prefixes = {c.split(":")[1] for c in _ciphertexts(env)}
    assert f"v{new_version}" in prefixes and len(prefixes) == 2
    report = transit.rewrap()
    assert report.failed == ()
    assert report.rewrapped == 3  # two versions and the pending value; "other" was already current
    assert report.key_version == new_version
    assert {c.split(":")[1] for c in _ciphertexts(env)} == {f"v{new_version}"}
    assert [transit.read("k", n).value for n in (1, 2)] == [b"one", b"two"]
    pending = transit.read_pending("k")
    assert pending is not None and pending.value == b"three"


def test_rewrap_reports_tampered_rows(transit: TransitBackend, env: Env) -> None:
    """A row transit cannot decrypt is reported by rewrap and left untouched."""
    transit.write("good", b"g")
    transit.write("bad", b"b")
    with sqlite3.connect(_store(env)) as conn:
        (good,) = conn.execute("SELECT ciphertext FROM versions WHERE path = 'good'").fetchone()
        conn.execute("UPDATE versions SET ciphertext = ? WHERE path = 'bad'", (good,))
    transit.rotate_key()
    report = transit.rewrap()
    assert report.failed == ("'bad' version 1",)
    assert report.rewrapped == 1


def test_key_must_be_derived(openbao: OpenBao, env: Env, tmp_path: Path) -> None:
    """An existing non-derived key is refused: it would not bind values to their paths."""
    import hvac

    client = hvac.Client(url=openbao.url, token=openbao.root_token)
    client.secrets.transit.create_key(name="plain-key", mount_point="transit")
    env["MAHAVISHNU_SECRETS__TRANSIT__KEY"] = "plain-key"
    with pytest.raises(ConfigError, match="not a derived key"):
        open_backend(env, tmp_path)


def test_missing_key_without_create(env: Env, tmp_path: Path) -> None:
    """With CREATE_KEY=false a missing key is a configuration error, not a silent creation."""
    env["MAHAVISHNU_SECRETS__TRANSIT__KEY"] = "never-created"
    env["MAHAVISHNU_SECRETS__TRANSIT__CREATE_KEY"] = "false"
    with pytest.raises(ConfigError, match="does not exist"):
        open_backend(env, tmp_path)


def test_store_sealed_by_another_key_or_local(transit: TransitBackend, env: Env, tmp_path: Path) -> None:
    """A store made with one key is not opened with another; a local vault file is not a transit store."""
    transit.write("k", b"v")
    transit.close()
    other = dict(env, MAHAVISHNU_SECRETS__TRANSIT__KEY="leakvault-tests-other")
    with pytest.raises(VaultFormatError, match="sealed by transit:transit/leakvault-tests"):
        open_backend(other, tmp_path)
    local_file = tmp_path / "local" / "vault.db"
    make_vault(local_file)
    with pytest.raises(VaultFormatError, match="local vault"):
        open_backend(dict(env, MAHAVISHNU_SECRETS__TRANSIT__PATH=str(local_file)), tmp_path)


def test_revoking_decrypt_locks_the_store(openbao: OpenBao, transit: TransitBackend, env: Env, tmp_path: Path) -> None:
    """A token whose policy may encrypt but not decrypt can write yet never read: access is central."""
    import hvac

    root: Any = hvac.Client(url=openbao.url, token=openbao.root_token)
    key = env["MAHAVISHNU_SECRETS__TRANSIT__KEY"]
    root.sys.create_or_update_policy(
        "transit-encrypt-only",
        f'path "transit/encrypt/{key}" {{ capabilities = ["update"] }}\n'
        f'path "transit/keys/{key}" {{ capabilities = ["read"] }}',
    )
    token = root.auth.token.create(policies=["transit-encrypt-only"], ttl="1h")["auth"]["client_token"]
    transit.write("k", b"written by an admin")
    limited = open_backend(dict(env, MAHAVISHNU_SECRETS__HASHICORP__TOKEN=token), tmp_path)
    try:
        limited.write("k", b"written by the limited token")
        with pytest.raises(BackendDeniedError, match="decrypt"):
            limited.read("k")
    finally:
        limited.close()
    assert transit.read("k").value == b"written by the limited token"
