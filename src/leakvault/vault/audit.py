"""The tamper-evident audit trail: one hash-chained record per vault operation, never a secret value.

Each record is canonical JSON (sorted keys, no spaces) and its digest is
``chain_digest(key, previous_digest, record)`` (HMAC-SHA256 keyed from the master key for the local
vault). Editing a record breaks its digest; deleting or reordering records breaks the chain and the
sequence numbers. What a chain alone cannot show is the removal of the newest records; `verify`
returns the head digest and count so they can be pinned elsewhere (a CI log, a ticket) and
compared later with ``leakvault vault audit --verify --expect-head``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from leakvault.vault import _crypto
from leakvault.vault.errors import VaultError
from leakvault.vault.model import utcnow

GENESIS = bytes(32)
_AUDIT_TABLE = "CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, record TEXT NOT NULL, digest BLOB NOT NULL)"


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

    def __init__(self, store: _Transactional, key: bytes | None, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._key = key
        self._clock = clock

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
            digest = _crypto.chain_digest(self._chain_key(), previous, body)
            conn.execute("INSERT INTO audit (seq, record, digest) VALUES (?, ?, ?)", (seq, body.decode(), digest))
            # A local vault file (format 2) counts the record in its authenticated head, in this
            # same transaction, so removing the newest records is detected (integrity.py).
            appended = getattr(self._store, "audit_appended", None)
            if appended is not None:
                appended(conn, seq, digest)
        return record

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

    def verify(self, *, expect_head: str | None = None) -> VerifyReport:
        """Recompute the chain; report the first edited, missing or reordered record.

        `expect_head` is a head digest printed by an earlier verify: the trail must still contain
        the record it belongs to, which catches removal of the newest records.
        """
        with self._store.transaction(write=False) as conn:
            rows = conn.execute("SELECT seq, record, digest FROM audit ORDER BY seq").fetchall()
        previous = GENESIS
        pinned_seen = expect_head is None
        key = self._chain_key()
        for expected_seq, (seq, text, digest) in enumerate(rows, start=1):
            if seq != expected_seq:
                return VerifyReport(False, len(rows), "", f"record {expected_seq} is missing", expected_seq)
            try:
                inner_seq = json.loads(text).get("seq")
            except (ValueError, AttributeError):
                inner_seq = None
            if inner_seq != seq:
                return VerifyReport(False, len(rows), "", f"record {seq} was moved or rewritten", seq)
            computed = _crypto.chain_digest(key, previous, text.encode("utf-8"))
            if not _crypto.digests_equal(computed, bytes(digest)):
                return VerifyReport(False, len(rows), "", f"record {seq} was altered", seq)
            previous = computed
            if not pinned_seen and computed.hex() == expect_head.lower():  # type: ignore[union-attr]
                pinned_seen = True
        head = previous.hex() if rows else ""
        if not pinned_seen:
            problem = "the pinned head digest is no longer in the trail: newest records were removed or replaced"
            return VerifyReport(False, len(rows), head, problem)
        return VerifyReport(True, len(rows), head)


class AuditFile:
    """A standalone SQLite file holding only an audit table (for backends with no local vault file)."""

    def __init__(self, path: Path, *, busy_timeout_ms: int = 10_000) -> None:
        self.path = path
        conn: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not path.exists():
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute(_AUDIT_TABLE)
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
