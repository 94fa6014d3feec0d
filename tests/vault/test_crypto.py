"""The vault's cryptographic format: known-answer vectors, an independent decoder, and properties."""

from __future__ import annotations

import inspect
import json
import struct
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from hypothesis import given, settings
from hypothesis import strategies as st

from leakvault.errors import ConfigError
from leakvault.vault import _crypto
from leakvault.vault.config import LocalSettings, load_settings
from leakvault.vault.errors import IntegrityError, UnlockError
from leakvault.vault.factory import init_local_vault
from leakvault.vault.store import header_for_new_vault

VECTORS = Path(__file__).parent / "vectors"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))
    assert data["format_version"] == _crypto.FORMAT_VERSION
    return data


GENERATE = _load("generate")
VERIFY = _load("verify")
INVALID = _load("invalid")


def _key(hexstr: str) -> _crypto.MasterKey:
    return _crypto.MasterKey(bytes.fromhex(hexstr))


# -- known answers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", GENERATE["secret_versions"], ids=lambda v: f"{v['path']}@{v['version']}")
def test_generate_secret_version(vector: dict[str, Any]) -> None:
    """Encrypting with fixed salt and nonce reproduces the pinned bytes exactly."""
    blob = _crypto.encrypt_version(
        _key(vector["master_key"]),
        vector["path"],
        vector["version"],
        bytes.fromhex(vector["plaintext"]),
        salt=bytes.fromhex(vector["salt"]),
        nonce=bytes.fromhex(vector["nonce"]),
    )
    assert blob.hex() == vector["blob"]


@pytest.mark.parametrize("vector", GENERATE["wrapped_keys"], ids=lambda v: v["passphrase"])
def test_generate_wrapped_key(vector: dict[str, Any]) -> None:
    """Wrapping a master key under a passphrase reproduces the pinned KEK and wrapped bytes."""
    salt = bytes.fromhex(vector["salt"])
    assert _crypto.derive_kek(vector["passphrase"], salt, vector["iterations"]).hex() == vector["kek"]
    wrapped = _crypto.seal_master_key(
        _key(vector["master_key"]),
        vector["passphrase"],
        iterations=vector["iterations"],
        salt=salt,
        nonce=bytes.fromhex(vector["nonce"]),
    )
    assert (wrapped.kdf, wrapped.wrapped.hex()) == (vector["kdf"], vector["wrapped"])


@pytest.mark.parametrize("vector", GENERATE["key_checks"])
def test_generate_key_check_and_audit_key(vector: dict[str, Any]) -> None:
    """The key-check and audit-key derivations are pinned."""
    key = _key(vector["master_key"])
    assert _crypto.key_check(key).hex() == vector["key_check"]
    assert _crypto.audit_key(key).hex() == vector["audit_key"]


@pytest.mark.parametrize("vector", GENERATE["audit_chain"])
def test_generate_audit_chain(vector: dict[str, Any]) -> None:
    """Audit chain digests (keyed and unkeyed) are pinned."""
    key = None if vector["key"] is None else bytes.fromhex(vector["key"])
    digest = _crypto.chain_digest(key, bytes.fromhex(vector["previous"]), vector["record"].encode())
    assert digest.hex() == vector["digest"]


@pytest.mark.parametrize("vector", VERIFY["secret_versions"], ids=lambda v: f"{v['path']}@{v['version']}")
def test_verify_secret_version(vector: dict[str, Any]) -> None:
    """Every pinned blob decrypts to its plaintext."""
    plaintext = _crypto.decrypt_version(
        _key(vector["master_key"]), vector["path"], vector["version"], bytes.fromhex(vector["blob"])
    )
    assert plaintext.hex() == vector["plaintext"]


@pytest.mark.parametrize("vector", VERIFY["wrapped_keys"], ids=lambda v: repr(v["passphrase"]))
def test_verify_wrapped_key(vector: dict[str, Any]) -> None:
    """Every pinned wrapped key opens with its passphrase (NFC-normalised)."""
    wrapped = _crypto.WrappedKey(
        kdf=vector["kdf"],
        salt=bytes.fromhex(vector["salt"]),
        iterations=vector["iterations"],
        wrapped=bytes.fromhex(vector["wrapped"]),
    )
    assert _crypto.open_master_key(wrapped, vector["passphrase"]).material.hex() == vector["master_key"]


@pytest.mark.parametrize("vector", INVALID["secret_versions"], ids=lambda v: v["reason"])
def test_invalid_secret_version(vector: dict[str, Any]) -> None:
    """Altered, moved, truncated or foreign blobs fail with an IntegrityError naming the path."""
    with pytest.raises(IntegrityError) as info:
        _crypto.decrypt_version(
            _key(vector["master_key"]), vector["path"], vector["version"], bytes.fromhex(vector["blob"])
        )
    assert info.value.path == vector["path"]
    assert repr(vector["path"]) in str(info.value)


@pytest.mark.parametrize("vector", INVALID["wrapped_keys"], ids=lambda v: v["reason"])
def test_invalid_wrapped_key(vector: dict[str, Any]) -> None:
    """A wrong passphrase or an altered key header is an UnlockError, never a wrong key."""
    wrapped = _crypto.WrappedKey(
        kdf=vector["kdf"],
        salt=bytes.fromhex(vector["salt"]),
        iterations=vector["iterations"],
        wrapped=bytes.fromhex(vector["wrapped"]),
    )
    with pytest.raises(UnlockError):
        _crypto.open_master_key(wrapped, vector["passphrase"])


@pytest.mark.parametrize("iterations", [0, _crypto.MAX_ITERATIONS + 1, 10**12])
def test_header_iterations_out_of_range(iterations: int) -> None:
    """A header asking for an absurd iteration count is refused at once, not derived for days."""
    vector = VERIFY["wrapped_keys"][0]
    wrapped = _crypto.WrappedKey(
        kdf=vector["kdf"],
        salt=bytes.fromhex(vector["salt"]),
        iterations=iterations,
        wrapped=bytes.fromhex(vector["wrapped"]),
    )
    with pytest.raises(UnlockError, match="out of range"):
        _crypto.open_master_key(wrapped, vector["passphrase"])


# -- an independent decoder of the documented format -----------------------------------------------


def _reference_decrypt(master: bytes, path: str, version: int, blob: bytes) -> bytes:
    """Format v1 as documented in _crypto's docstring, written from the docs with raw primitives."""
    assert blob[0] == 1
    salt, nonce, body = blob[1:17], blob[17:29], blob[29:]
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"leakvault\x00v1\x00secret-version-key").derive(
        master
    )
    encoded = path.encode()
    aad = b"leakvault\x00v1\x00" + struct.pack(">I", len(encoded)) + encoded + struct.pack(">Q", version)
    return AESGCM(key).decrypt(nonce, body, aad)


def _reference_unwrap(passphrase: str, salt: bytes, iterations: int, wrapped: bytes) -> bytes:
    kek = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=iterations).derive(passphrase.encode())
    return AESGCM(kek).decrypt(wrapped[:12], wrapped[12:], b"leakvault\x00v1\x00master-key")


@pytest.mark.parametrize("vector", GENERATE["secret_versions"], ids=lambda v: f"{v['path']}@{v['version']}")
def test_documented_format_matches(vector: dict[str, Any]) -> None:
    """A decoder written from the format documentation reads every pinned blob."""
    plaintext = _reference_decrypt(
        bytes.fromhex(vector["master_key"]), vector["path"], vector["version"], bytes.fromhex(vector["blob"])
    )
    assert plaintext.hex() == vector["plaintext"]


def test_documented_key_wrap_matches() -> None:
    """A decoder written from the docs unwraps the pinned master keys (ASCII passphrase)."""
    vector = GENERATE["wrapped_keys"][0]
    material = _reference_unwrap(
        vector["passphrase"],
        bytes.fromhex(vector["salt"]),
        vector["iterations"],
        bytes.fromhex(vector["wrapped"]),
    )
    assert material.hex() == vector["master_key"]


# -- parameters and properties ---------------------------------------------------------------------


def test_default_iterations_at_least_600k() -> None:
    """PBKDF2 runs at least 600,000 iterations unless a caller lowers it explicitly."""
    assert _crypto.DEFAULT_ITERATIONS >= 600_000
    assert inspect.signature(_crypto.seal_master_key).parameters["iterations"].default >= 600_000
    assert inspect.signature(header_for_new_vault).parameters["iterations"].default >= 600_000
    assert LocalSettings(path=Path("x")).kdf_iterations >= 600_000


def test_new_vault_stores_default_iterations(tmp_path: Path) -> None:
    """A vault created through the normal path records >= 600,000 iterations in its header."""
    from leakvault.vault.keys import KeyMaterial
    from leakvault.vault.store import VaultFile

    settings = load_settings({"MAHAVISHNU_SECRETS__LOCAL__PATH": str(tmp_path / "v.db")}, cwd=tmp_path)
    init_local_vault(settings, KeyMaterial("test", passphrase="pw"))
    file = VaultFile.open(tmp_path / "v.db")
    try:
        header = file.read_header()
    finally:
        file.close()
    assert header.wrapped is not None
    assert header.wrapped.iterations >= 600_000
    assert len(header.wrapped.salt) == 16


def test_configured_iterations_cannot_go_below_default(tmp_path: Path) -> None:
    """Settings refuse a PBKDF2 iteration count under the default, or one no unlock should wait for."""
    with pytest.raises(ConfigError, match="below the minimum"):
        load_settings({"MAHAVISHNU_SECRETS__LOCAL__KDF_ITERATIONS": "1000"}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="above the maximum"):
        load_settings({"MAHAVISHNU_SECRETS__LOCAL__KDF_ITERATIONS": str(_crypto.MAX_ITERATIONS + 1)}, cwd=tmp_path)


def test_fresh_salt_and_nonce_per_encryption() -> None:
    """Two encryptions of the same value differ in salt, nonce and ciphertext."""
    key = _crypto.new_master_key()
    a = _crypto.encrypt_version(key, "p", 1, b"same")
    b = _crypto.encrypt_version(key, "p", 1, b"same")
    assert a[1:17] != b[1:17]
    assert a[17:29] != b[17:29]
    assert a != b


def test_master_key_repr_hides_material() -> None:
    """repr() of a master key shows no key bytes."""
    key = _crypto.MasterKey(bytes(range(32)))
    assert bytes(range(32)).hex() not in repr(key)
    assert "material" not in repr(key)


def test_kek_is_cached_per_process() -> None:
    """The second derivation with the same inputs is served from the cache (derived once per process)."""
    _crypto.clear_kek_cache()
    salt = bytes(16)
    first = _crypto.derive_kek("pw", salt, 50_000)
    assert len(_crypto._KEK_CACHE) == 1
    assert _crypto.derive_kek("pw", salt, 50_000) is first
    assert not any(b"pw" in k for k in _crypto._KEK_CACHE)


@settings(max_examples=60, deadline=None)
@given(
    value=st.binary(max_size=2048),
    path=st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,20}(/[A-Za-z0-9_][A-Za-z0-9_.\-]{0,20}){0,3}", fullmatch=True),
    version=st.integers(min_value=0, max_value=2**63 - 1),
)
def test_roundtrip(value: bytes, path: str, version: int) -> None:
    """Encrypt then decrypt returns the value; any other path or version fails."""
    key = _crypto.MasterKey(bytes(32))
    blob = _crypto.encrypt_version(key, path, version, value)
    assert _crypto.decrypt_version(key, path, version, blob) == value
    with pytest.raises(IntegrityError):
        _crypto.decrypt_version(key, path + "x", version, blob)
    with pytest.raises(IntegrityError):
        _crypto.decrypt_version(key, path, version ^ 1, blob)


# -- the file layout -------------------------------------------------------------------------------

# The vault file's tables as format 1 defines them (store.py). Written out here, not imported, so a
# change to the schema or to a meta key name fails this test instead of silently orphaning vaults.
_FORMAT_1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE secrets (path TEXT PRIMARY KEY, current_version INTEGER NOT NULL, created TEXT NOT NULL,
    updated TEXT NOT NULL, max_versions INTEGER NOT NULL DEFAULT 0, custom TEXT NOT NULL DEFAULT '{}') WITHOUT ROWID;
CREATE TABLE versions (path TEXT NOT NULL REFERENCES secrets(path) ON DELETE CASCADE, version INTEGER NOT NULL,
    created TEXT NOT NULL, deleted TEXT, destroyed INTEGER NOT NULL DEFAULT 0, ciphertext BLOB,
    PRIMARY KEY (path, version)) WITHOUT ROWID;
CREATE TABLE pending (path TEXT PRIMARY KEY, created TEXT NOT NULL, ciphertext BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE audit (seq INTEGER PRIMARY KEY, record TEXT NOT NULL, digest BLOB NOT NULL);
"""


def test_vault_file_written_by_hand_from_the_format_opens(tmp_path: Path) -> None:
    """A vault file written with plain sqlite3 from the documented layout and the pinned vectors
    opens with the vector's passphrase, decrypts the pinned blob and verifies its audit record."""
    import sqlite3

    from leakvault.vault.factory import open_vault
    from leakvault.vault.keys import KeyMaterial

    wrapped, secret = GENERATE["wrapped_keys"][0], GENERATE["secret_versions"][0]
    check = next(v for v in GENERATE["key_checks"] if v["master_key"] == wrapped["master_key"])
    assert secret["master_key"] == wrapped["master_key"]
    when = "2024-01-02T03:04:05+00:00"
    record = (
        '{"action":"set","actor":"alice","identity":"alice","outcome":"ok",'
        f'"path":"{secret["path"]}","seq":1,"source":null,"timestamp":"{when}","version":1}}'
    )
    digest = _crypto.chain_digest(bytes.fromhex(check["audit_key"]), bytes(32), record.encode())
    path = tmp_path / "handmade.db"
    conn = sqlite3.connect(path)
    with conn:
        conn.executescript(_FORMAT_1_SCHEMA)
        meta = {
            "format": b"leakvault-vault",
            "schema_version": b"1",
            "crypto_version": b"1",
            "created": when.encode(),
            "key_check": bytes.fromhex(check["key_check"]),
            "kdf": wrapped["kdf"].encode(),
            "kdf_salt": bytes.fromhex(wrapped["salt"]),
            "kdf_iterations": str(wrapped["iterations"]).encode(),
            "wrapped_key": bytes.fromhex(wrapped["wrapped"]),
        }
        conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        conn.execute("INSERT INTO secrets VALUES (?, 1, ?, ?, 0, '{}')", (secret["path"], when, when))
        conn.execute(
            "INSERT INTO versions VALUES (?, 1, ?, NULL, 0, ?)", (secret["path"], when, bytes.fromhex(secret["blob"]))
        )
        conn.execute("INSERT INTO audit VALUES (1, ?, ?)", (record, digest))
    conn.close()
    path.chmod(0o600)
    settings = load_settings({"MAHAVISHNU_SECRETS__LOCAL__PATH": str(path)}, cwd=tmp_path)
    with open_vault(settings, key=KeyMaterial("test", passphrase=wrapped["passphrase"]), identity="alice") as sv:
        assert sv.get(secret["path"]).value.hex() == secret["plaintext"]
        first = sv.audit_records()[0]
        assert (first.identity, first.action, first.path, first.timestamp) == ("alice", "set", secret["path"], when)
        assert sv.verify_audit().ok
