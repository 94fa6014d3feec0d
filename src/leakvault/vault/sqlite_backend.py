"""The local backend: versioned secrets in the encrypted SQLite vault file (see `backend` for semantics).

Format 2 (`integrity`): every read checks the MACs of the rows it returns, every write checks the
secret it changes before changing it and re-seals it after, in the same transaction. Opening a
format-1 file upgrades it in place after writing a backup (`migrate_v1`); opening a file whose
master-key rotation was interrupted finishes the rotation (`master_key.finish_rotation`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from leakvault.vault import _crypto
from leakvault.vault.audit import AuditLog
from leakvault.vault.backend import CheckedMetadataUpdate
from leakvault.vault.errors import (
    CasConflictError,
    SecretNotFoundError,
    VaultError,
    VersionDeletedError,
    VersionDestroyedError,
)
from leakvault.vault.integrity import Integrity, TamperError
from leakvault.vault.master_key import finish_rotation, rotate_master_key
from leakvault.vault.model import SecretMetadata, SecretValue, VersionInfo, freeze_custom, utcnow
from leakvault.vault.secret_vault import current_os_user
from leakvault.vault.store import SCHEMA_VERSION, V1_TO_V2, KeyHeader, VaultFile, write_backup

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
        # Rows are authenticated with a key derived from the vault's own master key. A store
        # whose values another service seals (transit) has no such key, and no row MACs.
        self._integrity: Integrity | None = None
        try:
            if _crypto.matches_key_check(master, file.read_header().key_check):
                self._integrity = Integrity(master)
            if file.schema_version < SCHEMA_VERSION:
                migrate_v1(file, self._integrity)
            if self._integrity is not None:
                file.integrity = self._integrity
                new = finish_rotation(file, master, self._integrity)
                if new is not None:
                    self._master = new
        except BaseException:
            file.close()  # the caller never gets a backend to close
            raise

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
            if self._integrity is not None:
                self._integrity.check_key(conn)
                self._integrity.check_version(conn, path, number)
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
            if self._integrity is not None:
                self._integrity.check_key(conn)
                self._integrity.check_secret(conn, path, check_map=False)
            return self._metadata(conn, path)

    # -- format 2: check a secret before a change, re-seal it after ------------------------------

    def _before_change(self, conn: sqlite3.Connection, path: str, *, pending: bool = False) -> None:
        if self._integrity is not None:
            self._integrity.check_key(conn)
            if pending:
                self._integrity.check_pending(conn, path)
            else:
                self._integrity.check_secret(conn, path)

    def _after_change(self, conn: sqlite3.Connection, path: str, *, pending: bool = False) -> None:
        if self._integrity is not None:
            if pending:
                self._integrity.reseal_pending(conn, path)
            else:
                self._integrity.reseal_secret(conn, path)

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
        self._before_change(conn, path)
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
        self._after_change(conn, path)
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
            self._before_change(conn, path)
            now = _ts(self._clock())
            conn.executemany(
                "UPDATE versions SET deleted = ? WHERE path = ? AND version = ? AND deleted IS NULL AND destroyed = 0",
                [(now, path, v) for v in versions],
            )
            conn.execute("UPDATE secrets SET updated = ? WHERE path = ?", (now, path))
            self._after_change(conn, path)

    def undelete(self, path: str, versions: Sequence[int]) -> None:
        with self._file.transaction() as conn:
            self._versions_exist(conn, path, versions)
            self._before_change(conn, path)
            conn.executemany(
                "UPDATE versions SET deleted = NULL WHERE path = ? AND version = ? AND destroyed = 0",
                [(path, v) for v in versions],
            )
            conn.execute("UPDATE secrets SET updated = ? WHERE path = ?", (_ts(self._clock()), path))
            self._after_change(conn, path)

    def destroy(self, path: str, versions: Sequence[int]) -> None:
        with self._file.transaction() as conn:
            self._versions_exist(conn, path, versions)
            self._before_change(conn, path)
            conn.executemany(
                "UPDATE versions SET destroyed = 1, ciphertext = NULL WHERE path = ? AND version = ?",
                [(path, v) for v in versions],
            )
            conn.execute("UPDATE secrets SET updated = ? WHERE path = ?", (_ts(self._clock()), path))
            self._after_change(conn, path)
        # secure_delete zeroed the freed cells in the pages; truncating the WAL drops its old copies.
        self._file.checkpoint()

    def _update_metadata(
        self, path: str, max_versions: int | None, custom: Mapping[str, str | None] | None
    ) -> SecretMetadata:
        with self._file.transaction() as conn:
            row = conn.execute("SELECT custom FROM secrets WHERE path = ?", (path,)).fetchone()
            if row is None:
                raise SecretNotFoundError(path)
            self._before_change(conn, path)
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
            self._after_change(conn, path)
            return self._metadata(conn, path)

    # -- pending (rotation staging) --------------------------------------------------------------

    def stage_pending(self, path: str, value: bytes) -> None:
        ciphertext = self._seal(path, _PENDING_VERSION, value)
        with self._file.transaction() as conn:
            self._before_change(conn, path, pending=True)
            conn.execute(
                "INSERT OR REPLACE INTO pending (path, created, ciphertext) VALUES (?, ?, ?)",
                (path, _ts(self._clock()), ciphertext),
            )
            self._after_change(conn, path, pending=True)

    def read_pending(self, path: str) -> SecretValue | None:
        with self._file.transaction(write=False) as conn:
            if self._integrity is not None:
                self._integrity.check_key(conn)
                self._integrity.check_pending(conn, path)
            row = conn.execute("SELECT created, ciphertext FROM pending WHERE path = ?", (path,)).fetchone()
        if row is None:
            return None
        plaintext = self._unseal(path, _PENDING_VERSION, bytes(row[1]))
        return SecretValue(path=path, version=0, value=plaintext, created=datetime.fromisoformat(row[0]))

    def promote_pending(self, path: str, *, cas: int | None = None) -> VersionInfo:
        with self._file.transaction() as conn:
            self._before_change(conn, path, pending=True)
            row = conn.execute("SELECT ciphertext FROM pending WHERE path = ?", (path,)).fetchone()
            if row is None:
                raise SecretNotFoundError(path, _PENDING_VERSION)
            value = self._unseal(path, _PENDING_VERSION, bytes(row[0]))
            info = self._write(conn, path, value, cas)
            conn.execute("DELETE FROM pending WHERE path = ?", (path,))
            self._after_change(conn, path, pending=True)
            return info

    def discard_pending(self, path: str) -> None:
        with self._file.transaction() as conn:
            self._before_change(conn, path, pending=True)
            conn.execute("DELETE FROM pending WHERE path = ?", (path,))
            self._after_change(conn, path, pending=True)

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
        with self._file.transaction() as conn:
            if self._integrity is not None:
                self._integrity.check_key(conn)
            self._file.write_header(KeyHeader(key_check=header.key_check, wrapped=wrapped))
        # The old wrapped key must not survive in the WAL or in the database's old page images:
        # whoever learns the old passphrase could otherwise still unwrap the master key from them.
        self._file.checkpoint()
        _crypto.clear_kek_cache()

    def rotate_master_key(
        self,
        *,
        passphrase: str | None,
        new_key_file: Path | None = None,
        iterations: int | None = None,
        identity: str,
        actor: str,
        batch: int = 64,
    ) -> _crypto.MasterKey:
        """Re-encrypt every version under a new random master key (see `master_key`); returns it."""
        if self._integrity is None:
            raise VaultError(f"the {self.name} store has no master key of its own to rotate")
        new = rotate_master_key(
            self._file,
            self._key(),
            self._integrity,
            passphrase=passphrase,
            new_key_file=new_key_file,
            iterations=iterations,
            identity=identity,
            actor=actor,
            batch=batch,
        )
        self._master = new
        return new

    def verify(self) -> tuple[str, ...]:
        """Every tampering the file shows, one line each (rows, head, audit trail); empty if intact."""
        if self._integrity is None:
            raise VaultError(f"the {self.name} store has no row MACs to verify")
        with self._file.transaction(write=False) as conn:
            self._integrity.check_key(conn)
            problems = self._integrity.verify(conn)
        report = AuditLog(self._file, _crypto.audit_key(self._key())).verify()
        if not report.ok and report.problem:
            problems.append(f"the audit trail is broken: {report.problem}")
        return tuple(problems)


def migrate_v1(file: VaultFile, integrity: Integrity | None) -> None:
    """Upgrade a format-1 file to format 2 in place: a backup first, then one transaction.

    The backup (``<vault>.v1-backup``) is complete before anything changes, and the upgrade commits
    whole or not at all, so a kill at any moment leaves a format-1 file (upgraded again on the
    next open) or a format-2 one, and a backup either way.
    """
    with file.transaction(write=False) as conn:
        if file.read_schema_version(conn) >= SCHEMA_VERSION:
            return  # another process upgraded it since we opened it
        _refuse_downgraded(conn, file)
    backup = write_backup(file, ".v1-backup")
    with file.transaction() as conn:
        if file.read_schema_version(conn) >= SCHEMA_VERSION:
            return
        for statement in V1_TO_V2:
            conn.execute(statement)
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION).encode(),))
        if integrity is not None:
            user = current_os_user()
            AuditLog(file, integrity.audit_chain_key()).append(
                identity=user,
                actor=user,
                action="format_migrate",
                path=backup.name,
                version=SCHEMA_VERSION,
                outcome="ok",
            )
            integrity.seal_all(conn)  # after the record, so the head counts it
    file.schema_version = SCHEMA_VERSION
    file.checkpoint()


def _refuse_downgraded(conn: sqlite3.Connection, file: VaultFile) -> None:
    # A format-2 file stripped back to format 1 would have its tampering blessed by a new seal.
    columns = {row[1] for row in conn.execute("PRAGMA table_info(versions)")}
    marker = '%"action":"format_migrate"%'
    migrated = conn.execute("SELECT seq FROM audit WHERE record LIKE ? LIMIT 1", (marker,)).fetchone()
    if "mac" in columns or migrated is not None:
        raise TamperError(
            f"{file.path} says vault format 1 but was upgraded to format 2 before: it was downgraded; "
            "restore it from a backup"
        )
