"""Master-key rotation: re-encrypt every secret version of the local vault under a new random key.

`rekey` alone re-wraps the same master key under a new passphrase, so an old backup and the old
passphrase still open everything written later. `rekey --new-master-key` retires the key itself:
afterwards the old key decrypts nothing new, authenticates no row and extends no audit chain.

It runs in steps, each its own transaction, so a large vault never holds the write lock for long
and a kill loses at most one batch of work:

1. *start*: the vault must verify (nothing tampered gets re-sealed under the new key); the new key
   file is written, if there is one, before anything refers to it; then the *journal* commits: the
   new key sealed under the old one (`_crypto.seal_journal_key`), the new key header, and a cursor.
2. *batches*: re-encrypt and re-MAC the next `batch` version rows past the cursor, and move the
   cursor, in one transaction.
3. *finish*: re-encrypt pending values, re-chain the audit trail under the new audit key, re-seal
   every row and the head, install the new key header, delete the journal and append a
   ``master_key_rotated`` audit record, all in one transaction.

Until the finish commits, the old key opens the vault, and opening it resumes the rotation from
the cursor (`finish_rotation`); after, only the new key does. Other processes with the vault open
see the journal, or the changed key check, at their next operation and are told to reopen it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from leakvault.vault import _crypto
from leakvault.vault.audit import GENESIS, AuditLog
from leakvault.vault.errors import KeySourceError, VaultError
from leakvault.vault.integrity import JOURNAL_KEY, VERSION_COLUMNS, Integrity, TamperError
from leakvault.vault.keys import write_key_file
from leakvault.vault.model import utcnow
from leakvault.vault.store import KeyHeader, VaultFile

NEW_KEY = "rekey_new_key"
NEW_HEADER = "rekey_new_header"
DEFAULT_BATCH = 64


def _header_json(header: KeyHeader) -> bytes:
    wrapped = header.wrapped
    data: dict[str, Any] = {"key_check": header.key_check.hex(), "wrapped": None}
    if wrapped is not None:
        data["wrapped"] = {
            "kdf": wrapped.kdf,
            "salt": wrapped.salt.hex(),
            "iterations": wrapped.iterations,
            "wrapped": wrapped.wrapped.hex(),
        }
    return json.dumps(data, sort_keys=True).encode("utf-8")


def _header_from_json(raw: bytes) -> KeyHeader:
    data = json.loads(raw)
    w = data["wrapped"]
    wrapped = None
    if w is not None:
        wrapped = _crypto.WrappedKey(
            kdf=w["kdf"],
            salt=bytes.fromhex(w["salt"]),
            iterations=int(w["iterations"]),
            wrapped=bytes.fromhex(w["wrapped"]),
        )
    return KeyHeader(key_check=bytes.fromhex(data["key_check"]), wrapped=wrapped)


def rotate_master_key(
    file: VaultFile,
    old: _crypto.MasterKey,
    integrity: Integrity,
    *,
    passphrase: str | None,
    new_key_file: Path | None,
    iterations: int | None,
    identity: str,
    actor: str,
    batch: int = DEFAULT_BATCH,
) -> _crypto.MasterKey:
    """Start and run a rotation to a new random master key; returns the new key.

    `passphrase` wraps the new key (the current passphrase, or a new one); `new_key_file` receives
    it for a vault opened by a master key. One of the two is required.
    """
    with file.transaction(write=False) as conn:
        integrity.check_key(conn)
        problems = integrity.verify(conn)
    chain = AuditLog(file, _crypto.audit_key(old)).verify()
    if not chain.ok:
        problems.append(f"the audit trail is broken: {chain.problem}")
    if problems:
        raise TamperError(f"refusing to re-seal a vault that fails verification: {problems[0]}")
    header = file.read_header()
    if passphrase is None and new_key_file is None:
        if header.wrapped is not None:
            raise KeySourceError("the new master key needs the vault passphrase (or a new one) to be wrapped")
        raise KeySourceError("this vault is opened by a master key: name a new key file for the new one")
    new = _crypto.new_master_key()
    if new_key_file is not None:
        write_key_file(new_key_file, new)  # before the journal: a kill never loses the only copy
    wrapped = None
    if passphrase is not None:
        previous = header.wrapped.iterations if header.wrapped is not None else 0
        rounds = iterations if iterations is not None else max(previous, _crypto.DEFAULT_ITERATIONS)
        wrapped = _crypto.seal_master_key(new, passphrase, iterations=rounds)
    journal = {"started": utcnow().isoformat(), "cursor": None, "identity": identity, "actor": actor}
    with file.transaction() as conn:
        integrity.check_key(conn)
        conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [
                (JOURNAL_KEY, json.dumps(journal).encode("utf-8")),
                (NEW_KEY, _crypto.seal_journal_key(old, new)),
                (NEW_HEADER, _header_json(KeyHeader(key_check=_crypto.key_check(new), wrapped=wrapped))),
            ],
        )
    finished = _run(file, old, integrity, batch)
    if finished is None or not _crypto.digests_equal(finished.material, new.material):
        raise VaultError("the master-key rotation was finished by another process with a different key")
    return finished


def finish_rotation(
    file: VaultFile, old: _crypto.MasterKey, integrity: Integrity, *, batch: int = DEFAULT_BATCH
) -> _crypto.MasterKey | None:
    """Finish a rotation a killed process left in the journal; the new key, or None if there was none."""
    with file.transaction(write=False) as conn:
        if conn.execute("SELECT 1 FROM meta WHERE key = ?", (JOURNAL_KEY,)).fetchone() is None:
            return None
    return _run(file, old, integrity, batch)


def _read_journal(conn: sqlite3.Connection, old: _crypto.MasterKey) -> tuple[dict[str, Any], _crypto.MasterKey] | None:
    rows = dict(conn.execute("SELECT key, value FROM meta WHERE key IN (?, ?)", (JOURNAL_KEY, NEW_KEY)).fetchall())
    if JOURNAL_KEY not in rows:
        return None
    if NEW_KEY not in rows:
        raise TamperError("the master-key rotation journal lost its new key: the meta table was edited")
    journal: dict[str, Any] = json.loads(bytes(rows[JOURNAL_KEY]))
    return journal, _crypto.open_journal_key(old, bytes(rows[NEW_KEY]))


def _run(file: VaultFile, old: _crypto.MasterKey, integrity: Integrity, batch: int) -> _crypto.MasterKey | None:
    while True:
        with file.transaction() as conn:
            state = _read_journal(conn, old)
            if state is None:  # another process finished it meanwhile
                _check_not_rotated(conn, old)
                return None
            journal, new = state
            if not _convert_batch(conn, old, new, integrity, journal, batch):
                break
    with file.transaction() as conn:
        state = _read_journal(conn, old)
        if state is None:
            _check_not_rotated(conn, old)
            return None
        journal, new = state
        _finish(file, conn, old, new, integrity, journal)
    file.checkpoint()  # the old header and ciphertexts leave the WAL too
    _crypto.clear_kek_cache()
    return new


def _check_not_rotated(conn: sqlite3.Connection, old: _crypto.MasterKey) -> None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'key_check'").fetchone()
    if row is not None and _crypto.matches_key_check(old, bytes(row[0])):
        return
    raise VaultError("the vault's master key was rotated by another process; open it again with the new key")


def _convert_batch(
    conn: sqlite3.Connection,
    old: _crypto.MasterKey,
    new: _crypto.MasterKey,
    integrity: Integrity,
    journal: dict[str, Any],
    batch: int,
) -> bool:
    """Re-encrypt the next `batch` version rows; False when none are left."""
    cursor = journal["cursor"]
    if cursor is None:
        rows = conn.execute(
            f"SELECT {VERSION_COLUMNS} FROM versions ORDER BY path, version LIMIT ?",  # noqa: S608 - fixed column list
            (batch,),
        ).fetchall()
    else:
        rows = conn.execute(
            f"SELECT {VERSION_COLUMNS} FROM versions WHERE (path, version) > (?, ?) "  # noqa: S608 - fixed column list
            "ORDER BY path, version LIMIT ?",
            (cursor[0], cursor[1], batch),
        ).fetchall()
    if not rows:
        return False
    sealer = Integrity(new)
    for row in rows:
        path, version, created, deleted, destroyed, ciphertext, mac = row
        if not (isinstance(mac, bytes) and _crypto.digests_equal(integrity.version_mac(row), mac)):
            raise TamperError(f"version {version} of {path!r} fails its MAC; the master-key rotation stopped there")
        fresh = None
        if ciphertext is not None:
            plaintext = _crypto.decrypt_version(old, path, version, bytes(ciphertext))
            fresh = _crypto.encrypt_version(new, path, version, plaintext)
        new_mac = sealer.version_mac((path, version, created, deleted, destroyed, fresh))
        conn.execute(
            "UPDATE versions SET ciphertext = ?, mac = ? WHERE path = ? AND version = ?",
            (fresh, new_mac, path, version),
        )
    journal["cursor"] = [rows[-1][0], rows[-1][1]]
    conn.execute("UPDATE meta SET value = ? WHERE key = ?", (json.dumps(journal).encode("utf-8"), JOURNAL_KEY))
    return True


def _finish(
    file: VaultFile,
    conn: sqlite3.Connection,
    old: _crypto.MasterKey,
    new: _crypto.MasterKey,
    integrity: Integrity,
    journal: dict[str, Any],
) -> None:
    for path, ciphertext in conn.execute("SELECT path, ciphertext FROM pending").fetchall():
        # Pending values are sealed as version 0 (sqlite_backend._PENDING_VERSION).
        plaintext = _crypto.decrypt_version(old, path, 0, bytes(ciphertext))
        conn.execute(
            "UPDATE pending SET ciphertext = ? WHERE path = ?", (_crypto.encrypt_version(new, path, 0, plaintext), path)
        )
    old_audit, new_audit = _crypto.audit_key(old), _crypto.audit_key(new)
    previous_old = previous_new = GENESIS
    for seq, record, digest in conn.execute("SELECT seq, record, digest FROM audit ORDER BY seq").fetchall():
        body = str(record).encode("utf-8")
        if not _crypto.digests_equal(_crypto.chain_digest(old_audit, previous_old, body), bytes(digest)):
            raise TamperError(f"audit record {seq} fails its chain; the master-key rotation stopped there")
        previous_old = bytes(digest)
        previous_new = _crypto.chain_digest(new_audit, previous_new, body)
        conn.execute("UPDATE audit SET digest = ? WHERE seq = ?", (previous_new, seq))
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (NEW_HEADER,)).fetchone()
    if row is None:
        raise TamperError("the master-key rotation journal lost its new key header: the meta table was edited")
    header = _header_from_json(bytes(row[0]))
    if not _crypto.matches_key_check(new, header.key_check):
        raise TamperError("the master-key rotation journal's new key header does not match its new key")
    file.write_header(header)
    conn.execute("DELETE FROM meta WHERE key IN (?, ?, ?)", (JOURNAL_KEY, NEW_KEY, NEW_HEADER))
    integrity.use(new)
    try:
        integrity.seal_all(conn)
        AuditLog(file, new_audit).append(
            identity=str(journal.get("identity", "")),
            actor=str(journal.get("actor", "")),
            action="master_key_rotated",
            path=None,
            version=None,
            outcome="ok",
        )
    except BaseException:
        integrity.use(old)  # the transaction rolls back: the old key still rules the file
        raise
