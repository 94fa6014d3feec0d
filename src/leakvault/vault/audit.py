"""The tamper-evident audit trail: one hash-chained record per vault operation, never a secret value.

Each record is canonical JSON (sorted keys, no spaces) and its digest is
``chain_digest(key, previous_digest, record)`` (HMAC-SHA256 keyed from the master key for the local
vault). Editing a record breaks its digest; deleting or reordering records breaks the chain and the
sequence numbers. What a chain alone cannot show is the removal of the newest records; `verify`
returns the head digest and count so they can be pinned elsewhere (a CI log, a ticket) and
compared later with ``leakvault vault audit --verify --expect-head``.

Remote backends (HashiCorp, AWS, ...) have no local vault file, so their trail is a SQLite file of
its own (`AuditFile`, opened with O_EXCL/O_NOFOLLOW, mode 0600, in 0700 folders) chained with
HMAC-SHA256 under a random key kept apart from it (`load_audit_key`: by default
``~/.config/leakvault/audit.key``, 0600), so whoever can edit the trail but not read the key cannot
rewrite it consistently. After every record a *head record* (count and last digest, authenticated
with the same key) is written beside the trail (``<trail>.head``): cutting records off the end is
then detected by `verify` without ``--expect-head``. Trails written before the key existed keep
their plain SHA-256 records up to `AuditFile.legacy_until`, a number the head record covers.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import sqlite3
import stat
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from leakvault.vault import _crypto
from leakvault.vault._files import make_private_dirs, replace_file
from leakvault.vault.errors import KeySourceError, VaultError
from leakvault.vault.model import utcnow

GENESIS = bytes(32)
_AUDIT_TABLE = "CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, record TEXT NOT NULL, digest BLOB NOT NULL)"
_META_TABLE = "CREATE TABLE IF NOT EXISTS audit_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
_HEAD_LABEL = b"leakvault audit head v1"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class _Transactional(Protocol):
    def transaction(self, *, write: bool = True) -> AbstractContextManager[sqlite3.Connection]: ...


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One operation. Fields are metadata only: no value, no key, no passphrase, ever."""

    seq: int
    timestamp: str  # ISO 8601, UTC
    identity: str  # who the operation ran as
    actor: str  # the OS user behind it (differs from identity under --as)
    action: str
    path: str | None
    version: int | None
    source: str | None  # remote address where there is one
    outcome: str  # "ok", "denied", or the error class name

    def canonical(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    count: int
    head: str  # hex digest of the last record ("" when empty)
    problem: str | None = None
    bad_seq: int | None = None


class AuditLog:
    """Append-only, hash-chained records in the ``audit`` table of a SQLite file."""

    def __init__(
        self,
        store: _Transactional,
        key: bytes | None,
        *,
        clock: Callable[[], datetime] = utcnow,
        head: Path | None = None,
        legacy_until: int = 0,
    ) -> None:
        self._store = store
        self._key = key
        self._clock = clock
        self._head = head  # the head record file, kept apart from the trail (remote backends)
        self._legacy_until = legacy_until  # records up to this seq were chained with plain SHA-256

    def _key_for(self, seq: int) -> bytes | None:
        return None if seq <= self._legacy_until else self._chain_key()

    def append(
        self,
        *,
        identity: str,
        actor: str,
        action: str,
        path: str | None,
        version: int | None,
        outcome: str,
        source: str | None = None,
    ) -> AuditRecord:
        """Add one record, chained to the newest; concurrent writers are serialised by the lock."""
        with self._store.transaction() as conn:
            last = conn.execute("SELECT seq, digest FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            seq, previous = (1, GENESIS) if last is None else (last[0] + 1, bytes(last[1]))
            record = AuditRecord(
                seq=seq,
                timestamp=self._clock().isoformat(),
                identity=identity,
                actor=actor,
                action=action,
                path=path,
                version=version,
                source=source,
                outcome=outcome,
            )
            body = record.canonical()
            digest = _crypto.chain_digest(self._key_for(seq), previous, body)
            conn.execute("INSERT INTO audit (seq, record, digest) VALUES (?, ?, ?)", (seq, body.decode(), digest))
            # A local vault file (format 2) counts the record in its authenticated head, in this
            # same transaction, so removing the newest records is detected (integrity.py).
            appended = getattr(self._store, "audit_appended", None)
            if appended is not None:
                appended(conn, seq, digest)
        if self._head is not None and self._key is not None:
            # After the commit: a crash in between leaves a head one record behind, which verify
            # accepts (the head is a lower bound); a head ahead of the trail would be a false alarm.
            self._write_head(seq, digest)
        return record

    def _head_mac(self, count: int, digest: str) -> str:
        body = json.dumps({"count": count, "digest": digest, "legacy_until": self._legacy_until}, sort_keys=True)
        return _crypto.chain_digest(self._key, _HEAD_LABEL, body.encode("utf-8")).hex()

    def _write_head(self, count: int, digest: bytes) -> None:
        if self._head is None:
            return
        payload = {"count": count, "digest": digest.hex(), "legacy_until": self._legacy_until}
        payload["mac"] = self._head_mac(count, digest.hex())
        try:
            replace_file(self._head, (json.dumps(payload, sort_keys=True) + "\n").encode("utf-8"), mode=0o600)
        except OSError as exc:
            raise VaultError(f"cannot write the audit head record {self._head}: {exc.strerror or exc}") from None

    def _check_head(self, digests: list[bytes]) -> str | None:
        """The problem with the head record kept apart from the trail, or None."""
        if self._head is None or self._key is None:
            return None
        try:
            fd = os.open(self._head, os.O_RDONLY | _NOFOLLOW)
        except FileNotFoundError:
            if not digests:
                return None
            return f"the head record {self._head} is missing: the trail cannot be checked for removed records"
        except OSError as exc:
            return f"cannot read the head record {self._head}: {exc.strerror or exc}"
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(4096)
        try:
            head = json.loads(raw)
            count, digest, mac = int(head["count"]), str(head["digest"]), str(head["mac"])
            legacy = int(head["legacy_until"])
        except (ValueError, KeyError, TypeError):
            return f"the head record {self._head} is unreadable"
        if legacy != self._legacy_until or not _crypto.digests_equal(
            bytes.fromhex(self._head_mac(count, digest)), bytes.fromhex(mac) if _is_hex(mac) else b""
        ):
            return f"the head record {self._head} was altered (or the trail's legacy marker was)"
        if count > len(digests):
            return (
                f"the trail ends at record {len(digests)} but its head record says {count}: "
                "the newest records were removed"
            )
        if count and digests[count - 1].hex() != digest:
            return f"record {count} does not match the head record: records were replaced"
        return None

    def _chain_key(self) -> bytes | None:
        # The local vault's master key, and so its audit key, can change while it is open
        # (`rekey --new-master-key`): the file knows the current one.
        current = getattr(self._store, "audit_chain_key", None)
        key = current() if current is not None else None
        return self._key if key is None else bytes(key)

    def records(self) -> Iterator[AuditRecord]:
        with self._store.transaction(write=False) as conn:
            rows = conn.execute("SELECT record FROM audit ORDER BY seq").fetchall()
        for (text,) in rows:
            yield AuditRecord(**json.loads(text))

    def has_succeeded(self, action: str) -> bool:
        """True if the trail holds a successful `action` record (a quick scan; `verify` checks the chain).

        Records are canonical JSON with sorted keys, so ``action`` is the first key: comparing a
        prefix keeps the scan to a few milliseconds per 100,000 records.
        """
        prefix = json.dumps({"action": action}, separators=(",", ":"))[:-1] + ","
        with self._store.transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT record FROM audit WHERE substr(record, 1, ?) = ? AND instr(record, ?) > 0",
                (len(prefix), prefix, '"outcome":"ok"'),
            ).fetchall()
        return any(json.loads(text).get("outcome") == "ok" for (text,) in rows)

    def verify(self, *, expect_head: str | None = None) -> VerifyReport:
        """Recompute the chain; report the first edited, missing or reordered record.

        `expect_head` is a head digest printed by an earlier verify: the trail must still contain
        the record it belongs to, which catches removal of the newest records.
        """
        with self._store.transaction(write=False) as conn:
            rows = conn.execute("SELECT seq, record, digest FROM audit ORDER BY seq").fetchall()
        previous = GENESIS
        digests: list[bytes] = []
        pinned_seen = expect_head is None
        for expected_seq, (seq, text, digest) in enumerate(rows, start=1):
            if seq != expected_seq:
                return VerifyReport(False, len(rows), "", f"record {expected_seq} is missing", expected_seq)
            try:
                inner_seq = json.loads(text).get("seq")
            except (ValueError, AttributeError):
                inner_seq = None
            if inner_seq != seq:
                return VerifyReport(False, len(rows), "", f"record {seq} was moved or rewritten", seq)
            computed = _crypto.chain_digest(self._key_for(seq), previous, text.encode("utf-8"))
            if not _crypto.digests_equal(computed, bytes(digest)):
                return VerifyReport(False, len(rows), "", f"record {seq} was altered", seq)
            previous = computed
            digests.append(computed)
            if not pinned_seen and computed.hex() == expect_head.lower():  # type: ignore[union-attr]
                pinned_seen = True
        head = previous.hex() if rows else ""
        problem = self._check_head(digests)
        if problem is not None:
            return VerifyReport(False, len(rows), head, problem)
        if not pinned_seen:
            problem = "the pinned head digest is no longer in the trail: newest records were removed or replaced"
            return VerifyReport(False, len(rows), head, problem)
        return VerifyReport(True, len(rows), head)


class AuditFile:
    """A standalone SQLite file holding only an audit table (for backends with no local vault file).

    Created with O_EXCL|O_NOFOLLOW and mode 0600 in folders made 0700; an existing path must be a
    regular file we own that others cannot write, never a symlink (someone who can plant one could
    send the trail elsewhere).
    """

    def __init__(self, path: Path, *, busy_timeout_ms: int = 10_000) -> None:
        self.path = path
        conn: sqlite3.Connection | None = None
        try:
            make_private_dirs(path.parent)
            _create_or_check(path)
            conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute(_AUDIT_TABLE)
            conn.execute(_META_TABLE)
            self.legacy_until = _legacy_marker(conn)
        except (OSError, sqlite3.Error) as exc:
            if conn is not None:
                conn.close()
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else _first_line(exc)
            raise VaultError(
                f"cannot open the audit trail {path} ({reason}); set MAHAVISHNU_SECRETS__AUDIT__PATH to a writable file"
            ) from None
        self._conn = conn

    @contextlib.contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction; a SQLite failure (busy past the timeout, disk full) is a VaultError."""
        try:
            self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield self._conn
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise VaultError(f"audit trail {self.path}: {_first_line(exc)}") from None

    def close(self) -> None:
        self._conn.close()


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True


def _create_or_check(path: Path) -> None:
    """Create `path` empty (0600, O_EXCL, never through a symlink), or check the file that is there."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600))
        return
    except FileExistsError:
        pass
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise OSError(0, "it is a symbolic link; refusing to follow it")
    if not stat.S_ISREG(info.st_mode):
        raise OSError(0, "it is not a regular file")
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        raise OSError(0, f"it is owned by uid {info.st_uid}, not by you")
    if info.st_mode & 0o022:
        raise OSError(0, f"others can write it (mode {info.st_mode & 0o777:o}); chmod 600 it")


def _legacy_marker(conn: sqlite3.Connection) -> int:
    """The last record chained with plain SHA-256 (before trails had a key): recorded once, on the
    first open by a version that keys the chain; 0 for a trail that was keyed from the start."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT value FROM audit_meta WHERE name = 'legacy_until'").fetchone()
        if row is None:
            last = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM audit").fetchone()[0]
            conn.execute("INSERT INTO audit_meta (name, value) VALUES ('legacy_until', ?)", (str(last),))
            value = int(last)
        else:
            value = int(row[0])
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    return value


def load_audit_key(path: Path) -> bytes:
    """The 32-byte key that chains a remote backend's audit trail, from `path` (created on first use:
    random, mode 0600, in 0700 folders). KeySourceError if the file is a symlink, not ours, readable
    by others or malformed."""
    make_private_dirs(path.parent)
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    except FileNotFoundError:
        return _create_audit_key(path)
    except OSError as exc:
        raise KeySourceError(f"cannot read the audit key {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise KeySourceError(f"the audit key {path} is not a regular file")
        if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
            raise KeySourceError(f"the audit key {path} is owned by another user")
        if info.st_mode & 0o077:
            raise KeySourceError(f"the audit key {path} is accessible by other users; chmod 600 it")
        text = handle.read(256)
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise KeySourceError(f"the audit key {path} is malformed (expected base64 of 32 bytes)")
    return key


def _create_audit_key(path: Path) -> bytes:
    key = _crypto.random_bytes(32)
    temp = path.with_name(f".{path.name}.{os.getpid()}.new")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(base64.b64encode(key) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp, path)  # appears complete or not at all; never replaces an existing key
        except FileExistsError:
            return load_audit_key(path)  # a concurrent process made it first
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)
    return key


def open_remote_trail(
    path: Path, key_file: Path, *, busy_timeout_ms: int = 10_000, clock: Callable[[], datetime] = utcnow
) -> tuple[AuditFile, AuditLog]:
    """The audit trail of a remote backend: the file at `path`, chained under the key in `key_file`.

    The head record lives beside the key, not beside the trail: whoever can edit the trail cannot
    roll it back together with its head unless they can also write the user's private folder.
    """
    key = load_audit_key(key_file)
    trail = AuditFile(path, busy_timeout_ms=busy_timeout_ms)
    trail_id = _crypto.chain_digest(None, b"", str(path.absolute()).encode("utf-8")).hex()[:16]
    head = key_file.with_name(f"{path.name}.{trail_id}.head")
    return trail, AuditLog(trail, key, clock=clock, head=head, legacy_until=trail.legacy_until)


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


# -- analytics -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PathStats:
    path: str
    reads: int
    last_read: str | None
    last_write: str | None


def path_stats(records: Iterable[AuditRecord]) -> dict[str, PathStats]:
    """Successful reads and the last read/write per path, from the audit trail."""
    reads: Counter[str] = Counter()
    last_read: dict[str, str] = {}
    last_write: dict[str, str] = {}
    for record in records:
        if record.path is None or record.outcome != "ok":
            continue
        if record.action == "get":
            reads[record.path] += 1
            last_read[record.path] = record.timestamp
        elif record.action in ("set", "rollback", "rotate"):
            last_write[record.path] = record.timestamp
    paths = set(reads) | set(last_write)
    return {p: PathStats(p, reads[p], last_read.get(p), last_write.get(p)) for p in sorted(paths)}


def stale_paths(paths: Iterable[str], stats: dict[str, PathStats], *, days: int, now: datetime) -> list[str]:
    """Paths among `paths` not read within `days` days (never-read paths included)."""
    cutoff = now - timedelta(days=days)
    stale = []
    for path in paths:
        last = stats[path].last_read if path in stats else None
        if last is None or datetime.fromisoformat(last) < cutoff:
            stale.append(path)
    return stale
