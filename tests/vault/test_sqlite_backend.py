"""The local SQLite backend: the shared backend contract, plus what only a local file can show."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from leakvault.vault import _crypto
from leakvault.vault.config import VaultSettings
from leakvault.vault.factory import open_local_backend
from leakvault.vault.sqlite_backend import SqliteBackend

from .backend_contract import BackendContract


@pytest.fixture
def backend(settings: VaultSettings) -> Iterator[SqliteBackend]:
    local, _audit = open_local_backend(settings)
    yield local
    local.close()


class TestSqliteContract(BackendContract):
    pass


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path)


def test_plaintext_never_reaches_disk(backend: SqliteBackend, vault_path: Path) -> None:
    """Neither the database nor its WAL contains a stored value or its path-free plaintext."""
    marker = b"PLAINTEXT-MARKER-0123456789"
    backend.write("app/token", marker)
    backend.stage_pending("app/token", marker + b"-pending")
    blobs = b"".join(p.read_bytes() for p in vault_path.parent.iterdir() if p.is_file())
    assert marker not in blobs


def test_destroy_removes_ciphertext(backend: SqliteBackend, vault_path: Path) -> None:
    """After destroy the ciphertext bytes are gone from the database and the WAL is truncated."""
    backend.write("k", b"value-to-destroy")
    conn = _raw(vault_path)
    ciphertext = conn.execute("SELECT ciphertext FROM versions WHERE path='k'").fetchone()[0]
    conn.close()
    backend.destroy("k", [1])
    conn = _raw(vault_path)
    assert conn.execute("SELECT ciphertext FROM versions WHERE path='k'").fetchone()[0] is None
    conn.close()
    on_disk = b"".join(p.read_bytes() for p in vault_path.parent.iterdir() if p.is_file())
    assert bytes(ciphertext) not in on_disk


def test_file_modes(backend: SqliteBackend, vault_path: Path) -> None:
    """The vault file is 0600 and a directory it had to create is 0700."""
    assert vault_path.stat().st_mode & 0o777 == 0o600
    assert vault_path.parent.stat().st_mode & 0o777 == 0o700


def test_wal_and_busy_timeout(backend: SqliteBackend, vault_path: Path) -> None:
    """The database runs in WAL mode with a busy timeout."""
    conn = _raw(vault_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    busy = backend.file._conn.execute("PRAGMA busy_timeout").fetchone()[0]
    assert busy >= 1000


def test_pending_ciphertext_cannot_pose_as_version(backend: SqliteBackend, vault_path: Path) -> None:
    """A pending ciphertext copied into a version row fails authentication."""
    from leakvault.vault.errors import IntegrityError

    backend.write("k", b"v1")
    backend.stage_pending("k", b"pending")
    conn = _raw(vault_path)
    with conn:
        blob = conn.execute("SELECT ciphertext FROM pending WHERE path='k'").fetchone()[0]
        conn.execute("UPDATE versions SET ciphertext=? WHERE path='k' AND version=1", (blob,))
    conn.close()
    with pytest.raises(IntegrityError):
        backend.read("k", 1)


def test_closed_backend_forgets_key(settings: VaultSettings) -> None:
    """close() drops the master key reference and further use fails cleanly."""
    from leakvault.vault.errors import VaultError

    local, _ = open_local_backend(settings)
    local.close()
    local.close()  # idempotent
    with pytest.raises(VaultError):
        local.read("x")


def test_rekey_keeps_secrets(settings: VaultSettings, vault_path: Path) -> None:
    """rekey changes the passphrase without re-encrypting: old passphrase fails, secrets still read."""
    from leakvault.vault.errors import UnlockError
    from leakvault.vault.keys import KeyMaterial

    local, _ = open_local_backend(settings)
    local.write("k", b"kept")
    conn = _raw(vault_path)
    before = conn.execute("SELECT ciphertext FROM versions").fetchall()
    conn.close()
    local.rekey("new passphrase", iterations=2_000)
    local.close()
    _crypto.clear_kek_cache()
    with pytest.raises(UnlockError):
        open_local_backend(settings)
    reopened, _ = open_local_backend(settings, key=KeyMaterial("test", passphrase="new passphrase"))
    assert reopened.read("k").value == b"kept"
    reopened.close()
    conn = _raw(vault_path)
    assert conn.execute("SELECT ciphertext FROM versions").fetchall() == before
    conn.close()


def test_rekey_leaves_no_copy_of_the_old_wrapped_key(settings: VaultSettings, vault_path: Path) -> None:
    """After rekey the master key wrapped under the old passphrase is gone from the file and its WAL,
    even while another connection keeps the WAL alive, so a leaked old passphrase opens no copy."""
    from leakvault.vault.factory import open_vault

    local = open_vault(settings)
    other = open_vault(settings)  # as a `run --watch` in another process would
    try:
        assert isinstance(local.backend, SqliteBackend)
        old = local.backend.file.read_header().wrapped
        assert old is not None
        local.rekey("new passphrase", iterations=2_000)
        on_disk = b"".join(p.read_bytes() for p in vault_path.parent.iterdir() if p.is_file())
        assert old.wrapped not in on_disk
        assert old.salt not in on_disk
    finally:
        other.close()
        local.close()


def test_pending_ciphertext_planted_as_version_zero_is_not_read(settings: VaultSettings, vault_path: Path) -> None:
    """A pending value is sealed as version 0; a row planted at version 0 is still not a readable version."""
    from leakvault.vault.errors import SecretNotFoundError
    from leakvault.vault.factory import open_vault

    with open_vault(settings) as sv:
        sv.set("k", "v1")
        sv.stage_pending("k", "pending-value")
    conn = _raw(vault_path)
    with conn:
        blob = conn.execute("SELECT ciphertext FROM pending WHERE path='k'").fetchone()[0]
        conn.execute(
            "INSERT INTO versions (path, version, created, ciphertext) VALUES ('k', 0, '2024-01-01', ?)", (blob,)
        )
    conn.close()
    with open_vault(settings) as sv:
        for version in (0, -1):
            with pytest.raises(SecretNotFoundError):
                sv.get("k", version)
        assert sv.get_text("k") == "v1"
