"""The local backend: versioned secrets in the encrypted SQLite vault file (see `backend` for semantics)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from leakvault.vault import _crypto
from leakvault.vault.backend import CheckedMetadataUpdate
from leakvault.vault.errors import (
    CasConflictError,
    SecretNotFoundError,
    VaultError,
    VersionDeletedError,
    VersionDestroyedError,
)
from leakvault.vault.model import SecretMetadata, SecretValue, VersionInfo, freeze_custom, utcnow
from leakvault.vault.store import KeyHeader, VaultFile

# Pending values are encrypted with version 0 in the associated data; real versions start at 1, so a
# pending ciphertext can never be passed off as a version or vice versa.
_PENDING_VERSION = 0


def _ts(value: datetime) -> str:
    return value.isoformat()


def _parse_ts(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


class SqliteBackend(CheckedMetadataUpdate):
    """SecretBackend over a `VaultFile`, encrypting every value with the vault master key."""

    def __init__(
        self,
        file: VaultFile,
        master: _crypto.MasterKey,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._file = file
        self._master: _crypto.MasterKey | None = master
        self._clock = clock

    @property
    def name(self) -> str:
        return "local"

    @property
    def file(self) -> VaultFile:
        return self._file

    def _key(self) -> _crypto.MasterKey:
        if self._master is None:
            raise VaultError("the vault is closed")
        return self._master

    # The two seams where values meet a cipher; the transit backend overrides them to have Vault's
    # transit engine encrypt instead (leakvault.vault.backends.transit).
    def _seal(self, path: str, version: int, value: bytes) -> bytes:
        return _crypto.encrypt_version(self._key(), path, version, value)

    def _unseal(self, path: str, version: int, blob: bytes) -> bytes:
        return _crypto.decrypt_version(self._key(), path, version, blob)

    # -- reads -----------------------------------------------------------------------------------

    def read(self, path: str, version: int | None = None) -> SecretValue:
        with self._file.transaction(write=False) as conn:
            row = conn.execute("SELECT current_version FROM secrets WHERE path = ?", (path,)).fetchone()
            if row is None or row[0] == 0:
                raise SecretNotFoundError(path, version)
            number = row[0] if version is None else version
            vrow = conn.execute(
                "SELECT created, deleted, destroyed, ciphertext FROM versions WHERE path = ? AND version = ?",
                (path, number),
            ).fetchone()
        if vrow is None:
            raise SecretNotFoundError(path, number)
        created, deleted, destroyed, ciphertext = vrow
        if destroyed:
            raise VersionDestroyedError(path, number)
        if deleted is not None:
            raise VersionDeletedError(path, number)
        plaintext = self._unseal(path, number, bytes(ciphertext))
        return SecretValue(path=path, version=number, value=plaintext, created=datetime.fromisoformat(created))

    def list(self, prefix: str = "") -> list[str]:
        # GLOB with the prefix's metacharacters escaped is exact; LIKE would be case-insensitive.
        pattern = "".join(f"[{c}]" if c in "*?[" else c for c in prefix) + "*"
        with self._file.transaction(write=False) as conn:
            rows = conn.execute("SELECT path FROM secrets WHERE path GLOB ? ORDER BY path", (pattern,)).fetchall()
        return [r[0] for r in rows]

    def metadata(self, path: str) -> SecretMetadata:
        with self._file.transaction(write=False) as conn:
            return self._metadata(conn, path)

    def _metadata(self, conn: sqlite3.Connection, path: str) -> SecretMetadata:
        row = conn.execute(
            "SELECT current_version, created, updated, max_versions, custom FROM secrets WHERE path = ?",
            (path,),
        ).fetchone()
        if row is None:
            raise SecretNotFoundError(path)
        versions = tuple(
            VersionInfo(version=v, created=datetime.fromisoformat(c), deleted=_parse_ts(d), destroyed=bool(x))
            for v, c, d, x in conn.execute(
                "SELECT version, created, deleted, destroyed FROM versions WHERE path = ? ORDER BY version",
                (path,),
            )
        )
        pending = conn.execute("SELECT 1 FROM pending WHERE path = ?", (path,)).fetchone() is not None
        return SecretMetadata(
            path=path,
            current_version=row[0],
            created=datetime.fromisoformat(row[1]),
            updated=datetime.fromisoformat(row[2]),
            max_versions=row[3],
            versions=versions,
            custom=freeze_custom(json.loads(row[4])),
            has_pending=pending,
        )

    # -- writes ----------------------------------------------------------------------------------

    def write(self, path: str, value: bytes, *, cas: int | None = None) -> VersionInfo:
        with self._file.transaction() as conn:
            return self._write(conn, path, value, cas)

    def _write(self, conn: sqlite3.Connection, path: str, value: bytes, cas: int | None) -> VersionInfo:
        now = _ts(self._clock())
        row = conn.execute("SELECT current_version, max_versions FROM secrets WHERE path = ?", (path,)).fetchone()
        current = 0 if row is None else row[0]
        if cas is not None and cas != current:
            raise CasConflictError(path, cas, current)
        number = current + 1
        # Encrypt inside the write lock: the version number is only known here.
        ciphertext = self._seal(path, number, value)
        if row is None:
            conn.execute(
                "INSERT INTO secrets (path, current_version, created, updated) VALUES (?, ?, ?, ?)",
                (path, number, now, now),
            )
        else:
            conn.execute("UPDATE secrets SET current_version = ?, updated = ? WHERE path = ?", (number, now, path))
        conn.execute(
            "INSERT INTO versions (path, version, created, ciphertext) VALUES (?, ?, ?, ?)",
            (path, number, now, ciphertext),
        )
        max_versions = 0 if row is None else row[1]
        if max_versions > 0:
            conn.execute("DELETE FROM versions WHERE path = ? AND version <= ?", (path, number - max_versions))
        return VersionInfo(version=number, created=datetime.fromisoformat(now))

    def _versions_exist(self, conn: sqlite3.Connection, path: str, versions: Sequence[int]) -> None:
        if conn.execute("SELECT 1 FROM secrets WHERE path = ?", (path,)).fetchone() is None:
            raise SecretNotFoundError(path)
        for number in versions:
            if conn.execute("SELECT 1 FROM versions WHERE path = ? AND version = ?", (path, number)).fetchone() is None:
                raise SecretNotFoundError(path, number)

    def delete(self, path: str, versions: Sequence[int] | None = None) -> None:
        with self._file.transaction() as conn:
            if versions is None:
                row = conn.execute("SELECT current_version FROM secrets WHERE path = ?", (path,)).fetchone()
                if row is None or row[0] == 0:
                    raise SecretNotFoundError(path)
                versions = [row[0]]
            self._versions_exist(conn, path, versions)
            now = _ts(self._clock())
            conn.executemany(
                "UPDATE versions SET deleted = ? WHERE path = ? AND version = ? AND deleted IS NULL AND destroyed = 0",
                [(now, path, v) for v in versions],
            )
            conn.execute("UPDATE secrets SET updated = ? WHERE path = ?", (now, path))

    def undelete(self, path: str, versions: Sequence[int]) -> None:
        with self._file.transaction() as conn:
            self._versions_exist(conn, path, versions)
            conn.executemany(
                "UPDATE versions SET deleted = NULL WHERE path = ? AND version = ? AND destroyed = 0",
                [(path, v) for v in versions],
            )
            conn.execute("UPDATE secrets SET updated = ? WHERE path = ?", (_ts(self._clock()), path))

    def destroy(self, path: str, versions: Sequence[int]) -> None:
        with self._file.transaction() as conn:
            self._versions_exist(conn, path, versions)
            conn.executemany(
                "UPDATE versions SET destroyed = 1, ciphertext = NULL WHERE path = ? AND version = ?",
                [(path, v) for v in versions],
            )
            conn.execute("UPDATE secrets SET updated = ? WHERE path = ?", (_ts(self._clock()), path))
        # secure_delete zeroed the freed cells in the pages; truncating the WAL drops its old copies.
        self._file.checkpoint()

    def _update_metadata(
        self, path: str, max_versions: int | None, custom: Mapping[str, str | None] | None
    ) -> SecretMetadata:
        with self._file.transaction() as conn:
            row = conn.execute("SELECT custom FROM secrets WHERE path = ?", (path,)).fetchone()
            if row is None:
                raise SecretNotFoundError(path)
            merged: dict[str, str] = json.loads(row[0])
            for key, value in (custom or {}).items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            conn.execute(
                "UPDATE secrets SET custom = ?, updated = ? WHERE path = ?",
                (json.dumps(merged, sort_keys=True), _ts(self._clock()), path),
            )
            if max_versions is not None:
                conn.execute("UPDATE secrets SET max_versions = ? WHERE path = ?", (max_versions, path))
            return self._metadata(conn, path)

    # -- pending (rotation staging) --------------------------------------------------------------

    def stage_pending(self, path: str, value: bytes) -> None:
        ciphertext = self._seal(path, _PENDING_VERSION, value)
        with self._file.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO pending (path, created, ciphertext) VALUES (?, ?, ?)",
                (path, _ts(self._clock()), ciphertext),
            )

    def read_pending(self, path: str) -> SecretValue | None:
        with self._file.transaction(write=False) as conn:
            row = conn.execute("SELECT created, ciphertext FROM pending WHERE path = ?", (path,)).fetchone()
        if row is None:
            return None
        plaintext = self._unseal(path, _PENDING_VERSION, bytes(row[1]))
        return SecretValue(path=path, version=0, value=plaintext, created=datetime.fromisoformat(row[0]))

    def promote_pending(self, path: str, *, cas: int | None = None) -> VersionInfo:
        with self._file.transaction() as conn:
            row = conn.execute("SELECT ciphertext FROM pending WHERE path = ?", (path,)).fetchone()
            if row is None:
                raise SecretNotFoundError(path, _PENDING_VERSION)
            value = self._unseal(path, _PENDING_VERSION, bytes(row[0]))
            info = self._write(conn, path, value, cas)
            conn.execute("DELETE FROM pending WHERE path = ?", (path,))
            return info

    def discard_pending(self, path: str) -> None:
        with self._file.transaction() as conn:
            conn.execute("DELETE FROM pending WHERE path = ?", (path,))

    def close(self) -> None:
        self._master = None
        self._file.close()

    # -- key management --------------------------------------------------------------------------

    def rekey(self, new_passphrase: str, *, iterations: int | None = None) -> None:
        """Wrap the master key under a new passphrase; the secrets themselves are untouched."""
        if not new_passphrase:
            raise VaultError("the new passphrase is empty")
        header = self._file.read_header()
        if iterations is None:
            previous = header.wrapped.iterations if header.wrapped is not None else 0
            iterations = max(previous, _crypto.DEFAULT_ITERATIONS)
        wrapped = _crypto.seal_master_key(self._key(), new_passphrase, iterations=iterations)
        self._file.write_header(KeyHeader(key_check=header.key_check, wrapped=wrapped))
        # The old wrapped key must not survive in the WAL or in the database's old page images:
        # whoever learns the old passphrase could otherwise still unwrap the master key from them.
        self._file.checkpoint()
        _crypto.clear_kek_cache()
