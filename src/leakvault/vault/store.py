"""The local vault file: one SQLite database holding the key header, secrets and the audit trail.

This module owns the file (creation with mode 0600, pragmas, schema, transactions, turning SQLite
failures into clear errors) and the key header (init, unlock, rekey). It knows nothing of secret
semantics; `sqlite_backend` implements those on top of it.

SQLite settings and why:
- WAL journal: readers never block the writer and a killed process leaves committed data intact.
- synchronous=FULL: a committed version survives power loss, not just a crash of this process.
- busy timeout: concurrent writers wait for each other instead of failing at once.
- secure_delete: destroyed ciphertext is overwritten in the database file, not just unlinked.
- Every operation is one transaction; writes use BEGIN IMMEDIATE so the read-check-write of a
  check-and-set cannot interleave with another writer.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from leakvault.vault import _crypto
from leakvault.vault.errors import (
    BackendError,
    KeySourceError,
    UnlockError,
    VaultError,
    VaultFormatError,
    VaultNotInitializedError,
)
from leakvault.vault.integrity import Integrity
from leakvault.vault.model import utcnow

FORMAT_NAME = "leakvault-vault"
DEFAULT_BUSY_TIMEOUT_MS = 10_000

# Format 2 adds the `manifest` and `mac` columns and the authenticated head (`integrity.py`);
# format 1 files are upgraded in place on open, after a backup (`migrate_v1`).
SCHEMA_VERSION = 2
READABLE_SCHEMAS = (1, 2)

_SCHEMA = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE secrets (
    path            TEXT PRIMARY KEY,
    current_version INTEGER NOT NULL,
    created         TEXT NOT NULL,
    updated         TEXT NOT NULL,
    max_versions    INTEGER NOT NULL DEFAULT 0,
    custom          TEXT NOT NULL DEFAULT '{}',
    manifest        TEXT NOT NULL DEFAULT '{}',
    mac             BLOB
) WITHOUT ROWID;
CREATE TABLE versions (
    path       TEXT NOT NULL REFERENCES secrets(path) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    created    TEXT NOT NULL,
    deleted    TEXT,
    destroyed  INTEGER NOT NULL DEFAULT 0,
    ciphertext BLOB,
    mac        BLOB,
    PRIMARY KEY (path, version)
) WITHOUT ROWID;
CREATE TABLE pending (
    path       TEXT PRIMARY KEY,
    created    TEXT NOT NULL,
    ciphertext BLOB NOT NULL,
    mac        BLOB
) WITHOUT ROWID;
CREATE TABLE audit (
    seq      INTEGER PRIMARY KEY,
    record   TEXT NOT NULL,
    digest   BLOB NOT NULL
);
"""

# Format 1 -> 2: the columns format 2 adds (run inside the migration's one transaction).
V1_TO_V2 = (
    "ALTER TABLE secrets ADD COLUMN manifest TEXT NOT NULL DEFAULT '{}'",
    "ALTER TABLE secrets ADD COLUMN mac BLOB",
    "ALTER TABLE versions ADD COLUMN mac BLOB",
    "ALTER TABLE pending ADD COLUMN mac BLOB",
)


class AuditHead(Protocol):
    """What a `VaultFile` asks of the object that keeps its authenticated head."""

    def audit_chain_key(self) -> bytes | None: ...

    def audit_appended(self, conn: sqlite3.Connection, seq: int, digest: bytes) -> None: ...


@dataclass(frozen=True, slots=True)
class KeyHeader:
    """What the vault file stores about its master key (never the key itself)."""

    key_check: bytes
    wrapped: _crypto.WrappedKey | None  # None: the vault is opened by a master key only
    # Meta rows that seal a new file's empty head (format 2); written by `VaultFile.create` only.
    seal: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)


def _describe(exc: sqlite3.Error) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class VaultFile:
    """An open connection to one vault database file."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._conn = connection
        self._closed = False
        self._depth = 0  # nesting level of transaction()
        self._checkpoint_wanted = False
        self.schema_version = SCHEMA_VERSION
        # Set by the backend that holds the key (`integrity.Integrity`): keeps the authenticated
        # head of a format-v2 file current as audit records are appended.
        self.integrity: AuditHead | None = None

    # -- opening ---------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> VaultFile:
        """Open an existing vault file; VaultNotInitializedError / VaultFormatError if it is not one."""
        file = Path(path)
        if not file.exists():
            raise VaultNotInitializedError(f"no vault at {file} (run 'leakvault vault init')")
        if not file.is_file():
            raise VaultFormatError(f"{file} is not a file")
        _check_magic(file)
        # Check the format before any pragma: setting WAL mode would write to a foreign database.
        vault = cls(file, cls._connect(file, busy_timeout_ms, configure=False))
        try:
            vault._check_format()
            _check_not_public(file)
            vault._configure(busy_timeout_ms)
        except BaseException:
            vault.close()
            raise
        return vault

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        header: KeyHeader,
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    ) -> VaultFile:
        """Create a new vault file (mode 0600, parent directory 0700 if it has to be made)."""
        file = Path(path)
        if file.exists():
            raise VaultError(f"{file} already exists; refusing to overwrite a vault")
        try:
            file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # O_EXCL: two concurrent `init`s cannot both believe they created the vault.
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise VaultError(f"{file} already exists; refusing to overwrite a vault") from None
        except OSError as exc:
            raise VaultError(f"cannot create vault {file}: {exc.strerror or exc}") from None
        os.close(fd)
        try:
            vault = cls(file, cls._connect(file, busy_timeout_ms))
            with vault.transaction() as conn:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                meta = {
                    "format": FORMAT_NAME.encode(),
                    "schema_version": str(SCHEMA_VERSION).encode(),
                    "crypto_version": str(_crypto.FORMAT_VERSION).encode(),
                    "created": utcnow().isoformat().encode(),
                }
                meta.update(_header_rows(header))
                meta.update(header.seal)
                conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
        except BaseException:
            with contextlib.suppress(Exception):
                vault.close()
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    os.unlink(f"{file}{suffix}")
            raise
        return vault

    @staticmethod
    def _connect(file: Path, busy_timeout_ms: int, *, configure: bool = True) -> sqlite3.Connection:
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction per operation.
            conn = sqlite3.connect(file, timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise VaultError(f"cannot open vault {file}: {_describe(exc)}") from None
        if configure:
            try:
                _apply_pragmas(conn, file, busy_timeout_ms)
            except BaseException:
                conn.close()
                raise
        return conn

    def _configure(self, busy_timeout_ms: int) -> None:
        _apply_pragmas(self._conn, self.path, busy_timeout_ms)

    def _check_format(self) -> None:
        try:
            rows = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            lowered = _describe(exc).lower()
            if "no such table" in lowered or "not a database" in lowered:
                raise VaultFormatError(f"{self.path} is not a leakvault vault ({_describe(exc)})") from None
            raise _translate(exc, self.path) from None
        if rows.get("format") != FORMAT_NAME.encode():
            raise VaultFormatError(f"{self.path} is not a leakvault vault (no vault header)")
        schema = int(rows.get("schema_version", b"0"))
        crypto = int(rows.get("crypto_version", b"0"))
        if schema not in READABLE_SCHEMAS or crypto != _crypto.FORMAT_VERSION:
            raise VaultFormatError(
                f"{self.path} uses vault format {schema}/{crypto}; this leakvault reads "
                f"{SCHEMA_VERSION}/{_crypto.FORMAT_VERSION} (upgrade leakvault)"
            )
        self.schema_version = schema

    def read_schema_version(self, conn: sqlite3.Connection) -> int:
        """The format recorded in the file now (another process may have migrated it meanwhile)."""
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        self.schema_version = int(bytes(row[0])) if row is not None else 0
        return self.schema_version

    # -- the audit head (format 2) ---------------------------------------------------------------

    def audit_chain_key(self) -> bytes | None:
        """The audit key of the master key the file is sealed under now (None: no opinion)."""
        return None if self.integrity is None else self.integrity.audit_chain_key()

    def audit_appended(self, conn: sqlite3.Connection, seq: int, digest: bytes) -> None:
        """Called by `AuditLog.append` inside its transaction, so the head counts every record."""
        if self.integrity is not None:
            self.integrity.audit_appended(conn, seq, digest)

    # -- transactions ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One SQLite transaction; IMMEDIATE (write lock up front) unless `write` is False.

        Transactions nest: inside an open one, this joins it, so `SecretVault` can commit an
        operation and its audit record together (one fsync, and never one without the other).
        """
        if self._closed:
            raise VaultError("the vault is closed")
        conn = self._conn
        if self._depth:
            self._depth += 1
            try:
                yield conn
            except sqlite3.DatabaseError as exc:  # the outermost transaction rolls back
                raise _translate(exc, self.path) from None
            finally:
                self._depth -= 1
            return
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.DatabaseError as exc:
            raise _translate(exc, self.path) from None
        self._depth = 1
        try:
            yield conn
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise _translate(exc, self.path) from None
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0
        if self._checkpoint_wanted:
            self.checkpoint()

    def checkpoint(self) -> None:
        """Fold the WAL into the database and truncate it (after a destroy, so old pages go).

        Inside a transaction it is deferred until the outermost one commits.
        """
        if self._depth:
            self._checkpoint_wanted = True
            return
        self._checkpoint_wanted = False
        with contextlib.suppress(sqlite3.OperationalError):  # busy readers: the next one will do it
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._conn.close()

    # -- key header ------------------------------------------------------------------------------

    def read_header(self) -> KeyHeader:
        with self.transaction(write=False) as conn:
            rows = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        return _parse_header(rows, self.path)

    def write_header(self, header: KeyHeader) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM meta WHERE key IN ('kdf', 'kdf_salt', 'kdf_iterations', 'wrapped_key')")
            conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", _header_rows(header).items())


_SQLITE_MAGIC = b"SQLite format 3\x00"


def write_backup(file: VaultFile, suffix: str) -> Path:
    """Copy the vault to a new file ``<vault><suffix>`` (``.1``, ``.2`` ... if taken), atomically.

    SQLite's online backup copies a consistent snapshot into a temporary file (mode 0600), which
    is fsynced and then renamed into place, so a kill at any moment leaves either no backup or a
    whole one; an existing backup is never overwritten.
    """
    target = file.path.with_name(file.path.name + suffix)
    n = 0
    while target.exists():
        n += 1
        target = file.path.with_name(f"{file.path.name}{suffix}.{n}")
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)
    try:
        os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        copy = sqlite3.connect(temporary, isolation_level=None)
        try:
            file._conn.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")
        finally:
            copy.close()
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        _fsync_directory(target.parent)
    except (OSError, sqlite3.Error) as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else _describe_any(exc)
        raise VaultError(f"cannot write the backup {target} before upgrading the vault ({reason})") from None
    return target


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _describe_any(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _check_not_public(file: Path) -> None:
    # Anyone who can read the file can attack the passphrase offline, and anyone who can write it
    # can drop versions (see docs/vault.md, Known limits). SQLite gives the WAL the same mode.
    # A group may share a vault (several OS users under one RBAC policy); everybody may not.
    mode = file.stat().st_mode
    if mode & 0o007:
        raise VaultError(
            f"vault {file} is accessible to every user (mode {stat.S_IMODE(mode):o}); "
            "chmod 600 it (or 660 to share it with a group)"
        )


def _check_magic(file: Path) -> None:
    try:
        with file.open("rb") as handle:
            head = handle.read(100)
    except OSError as exc:
        raise VaultError(f"cannot read vault {file}: {exc.strerror or exc}") from None
    if len(head) < 100 or not head.startswith(_SQLITE_MAGIC):
        what = "empty" if not head else "truncated" if head.startswith(_SQLITE_MAGIC) else "not a database"
        raise VaultFormatError(f"{file} is not a leakvault vault ({what})")


def _apply_pragmas(conn: sqlite3.Connection, file: Path, busy_timeout_ms: int) -> None:
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            # A read-only directory cannot hold the -wal/-shm files WAL needs.
            raise VaultError(f"cannot use vault {file}: WAL journal unavailable (is the directory read-only?)")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")
    except sqlite3.DatabaseError as exc:
        raise _translate(exc, file) from None


def _header_rows(header: KeyHeader) -> dict[str, bytes]:
    rows = {"key_check": header.key_check}
    if header.wrapped is not None:
        rows["kdf"] = header.wrapped.kdf.encode()
        rows["kdf_salt"] = header.wrapped.salt
        rows["kdf_iterations"] = str(header.wrapped.iterations).encode()
        rows["wrapped_key"] = header.wrapped.wrapped
    return rows


def _parse_header(rows: dict[str, bytes], path: Path) -> KeyHeader:
    try:
        check = bytes(rows["key_check"])
        wrapped = None
        if "wrapped_key" in rows:
            wrapped = _crypto.WrappedKey(
                kdf=bytes(rows["kdf"]).decode(),
                salt=bytes(rows["kdf_salt"]),
                iterations=int(bytes(rows["kdf_iterations"])),
                wrapped=bytes(rows["wrapped_key"]),
            )
    except (KeyError, ValueError, UnicodeDecodeError):
        raise VaultFormatError(f"{path}: the vault key header is incomplete or damaged") from None
    return KeyHeader(key_check=check, wrapped=wrapped)


def _translate(exc: sqlite3.DatabaseError, path: Path) -> VaultError:
    message = _describe(exc)
    lowered = message.lower()
    if "readonly" in lowered or "read-only" in lowered:
        return VaultError(f"vault {path} is read-only ({message}); check the file and directory permissions")
    if "locked" in lowered or "busy" in lowered:
        return BackendError(f"vault {path} is busy: another process held the lock too long ({message})")
    if "unable to open" in lowered:
        return VaultError(f"cannot open vault {path} ({message}); check the directory permissions")
    if isinstance(exc, sqlite3.IntegrityError) or (
        isinstance(exc, sqlite3.OperationalError) and "disk" not in lowered and "malformed" not in lowered
    ):
        return VaultError(f"vault {path}: {message}")
    return VaultFormatError(f"{path} is damaged or not a leakvault vault ({message})")


# -- key handling ----------------------------------------------------------------------------------


def header_for_new_vault(
    master: _crypto.MasterKey,
    passphrase: str | None,
    *,
    iterations: int = _crypto.DEFAULT_ITERATIONS,
) -> KeyHeader:
    """The header of a new vault: key check, the wrapped key when a passphrase is given, and the
    sealed empty head (so a vault emptied by someone without the key is told from a new one)."""
    wrapped = None if passphrase is None else _crypto.seal_master_key(master, passphrase, iterations=iterations)
    seal = tuple(Integrity(master).initial_rows().items())
    return KeyHeader(key_check=_crypto.key_check(master), wrapped=wrapped, seal=seal)


def unlock(header: KeyHeader, *, master_key: _crypto.MasterKey | None, passphrase: str | None) -> _crypto.MasterKey:
    """Return the master key from a directly supplied key or a passphrase, checked against the header."""
    if master_key is not None:
        if not _crypto.matches_key_check(master_key, header.key_check):
            raise UnlockError("wrong master key: it does not open this vault")
        return master_key
    if passphrase is None:
        raise KeySourceError("no key supplied to unlock the vault")
    if header.wrapped is None:
        raise UnlockError("this vault has no passphrase; supply its master key or key file")
    master = _crypto.open_master_key(header.wrapped, passphrase)
    if not _crypto.matches_key_check(master, header.key_check):  # header pieces from different vaults
        raise UnlockError("the vault key header is inconsistent; it may have been tampered with")
    return master


def check_private_file(path: Path) -> None:
    """Refuse a key file that other users could read, or that is not a regular file we own."""
    try:
        info = path.stat()
    except OSError as exc:
        raise KeySourceError(f"cannot read key file {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise KeySourceError(f"key file {path} is not a regular file")
    if info.st_mode & 0o077:
        raise KeySourceError(
            f"key file {path} is accessible by other users (mode {info.st_mode & 0o777:o}); chmod 600 it"
        )
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        raise KeySourceError(f"key file {path} is owned by another user")
