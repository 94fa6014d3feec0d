"""The sweep's results store: one SQLite file in the state folder, written as results arrive.

Each finished task is one transaction (its locations and the commits it covered), so a sweep that
is interrupted, or whose client is killed, keeps every task that finished and redoes only the
rest. A repository's tips are recorded once all its ranges are in: the next sweep starts there.
The store holds hashes and redacted previews only, never a secret value.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

from leakvault.errors import UsageError
from leakvault.sweep.model import RangeResult, SweepLocation

STORE_NAME = "results.sqlite"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS repositories (
    name TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    status TEXT NOT NULL,           -- pending | done | failed
    reason TEXT,                    -- why it failed, one line
    tips TEXT NOT NULL DEFAULT '[]',-- JSON list: the tips the last finished sweep scanned up to
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS scanned (
    repository TEXT NOT NULL,
    sha TEXT NOT NULL,
    PRIMARY KEY (repository, sha)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS locations (
    repository TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    path TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    line INTEGER NOT NULL,
    column_ INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    end_column INTEGER NOT NULL,
    sha TEXT NOT NULL,
    author TEXT NOT NULL,
    email TEXT NOT NULL,
    date TEXT NOT NULL,
    secret_redacted TEXT NOT NULL,
    preview TEXT NOT NULL,
    entropy REAL NOT NULL,
    order_key INTEGER NOT NULL,
    PRIMARY KEY (repository, rule_id, path, secret_hash)
);
"""

_COLUMNS = (
    "repository, rule_id, path, secret_hash, line, column_, end_line, end_column, sha, author, email, date, "
    "secret_redacted, preview, entropy, order_key"
)


class ResultsStore:
    """Open (creating if needed) ``<state>/results.sqlite``."""

    def __init__(self, state_dir: str) -> None:
        os.makedirs(state_dir, mode=0o700, exist_ok=True)
        self.path = os.path.join(state_dir, STORE_NAME)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise UsageError(f"{self.path}: not a leakvault sweep store ({exc}); use an empty --state folder") from None
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif row[0] != str(SCHEMA_VERSION):
            raise UsageError(f"{self.path}: sweep store version {row[0]} is not supported; use a new --state folder")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # Repositories -------------------------------------------------------------------------

    def register(self, name: str, source: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO repositories (name, source, status, updated) VALUES (?, ?, 'pending', ?) "
                "ON CONFLICT(name) DO UPDATE SET source = excluded.source",
                (name, source, time.time()),
            )

    def scanned_tips(self, name: str) -> tuple[str, ...]:
        row = self._db.execute("SELECT tips FROM repositories WHERE name = ?", (name,)).fetchone()
        return tuple(json.loads(row[0])) if row else ()

    def scanned_commits(self, name: str) -> set[str]:
        return {sha for (sha,) in self._db.execute("SELECT sha FROM scanned WHERE repository = ?", (name,))}

    def mark_pending(self, name: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE repositories SET status = 'pending', reason = NULL, updated = ? WHERE name = ?",
                (time.time(), name),
            )

    def finish(self, name: str, tips: tuple[str, ...]) -> None:
        """Every range of the repository is in: later sweeps start from ``tips``."""
        with self._transaction() as db:
            db.execute(
                "UPDATE repositories SET status = 'done', reason = NULL, tips = ?, updated = ? WHERE name = ?",
                (json.dumps(list(tips)), time.time(), name),
            )

    def fail(self, name: str, reason: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE repositories SET status = 'failed', reason = ?, updated = ? WHERE name = ?",
                (reason, time.time(), name),
            )

    def statuses(self, names: list[str] | None = None) -> dict[str, tuple[str, str | None]]:
        rows = self._db.execute("SELECT name, status, reason FROM repositories").fetchall()
        return {name: (status, reason) for name, status, reason in rows if names is None or name in names}

    # Results ------------------------------------------------------------------------------

    def add(self, result: RangeResult) -> None:
        """One finished range, atomically. A secret met again keeps its earliest place in the walk."""
        with self._transaction() as db:
            db.executemany(
                f"INSERT INTO locations ({_COLUMNS}) VALUES ({', '.join('?' * 16)}) "  # noqa: S608 - constant columns
                "ON CONFLICT(repository, rule_id, path, secret_hash) DO UPDATE SET "
                "line = excluded.line, column_ = excluded.column_, end_line = excluded.end_line, "
                "end_column = excluded.end_column, sha = excluded.sha, author = excluded.author, "
                "email = excluded.email, date = excluded.date, preview = excluded.preview, "
                "order_key = excluded.order_key WHERE excluded.order_key < locations.order_key",
                [_row(location) for location in result.locations],
            )
            db.executemany(
                "INSERT OR IGNORE INTO scanned (repository, sha) VALUES (?, ?)",
                [(result.repository, sha) for sha in result.commits],
            )

    def locations(self, names: list[str] | None = None) -> list[SweepLocation]:
        query = f"SELECT {_COLUMNS} FROM locations ORDER BY repository, path, line, rule_id"  # noqa: S608 - constant
        rows = self._db.execute(query)
        return [
            location for location in (_location(row) for row in rows) if names is None or location.repository in names
        ]

    def next_order_base(self) -> int:
        """An order above every stored location's, so this run's places sort after earlier runs'."""
        (highest,) = self._db.execute("SELECT COALESCE(MAX(order_key), -1) FROM locations").fetchone()
        return int(highest) + 1


def _row(location: SweepLocation) -> tuple[object, ...]:
    return (
        location.repository,
        location.rule_id,
        location.path,
        location.secret_hash,
        location.line,
        location.column,
        location.end_line,
        location.end_column,
        location.commit,
        location.author,
        location.email,
        location.date,
        location.secret_redacted,
        location.preview,
        location.entropy,
        location.order,
    )


def _location(row: tuple[object, ...]) -> SweepLocation:
    (repository, rule_id, path, hashed, line, column, end_line, end_column, sha, author, email, date, shown,
     preview, entropy, order) = row  # fmt: skip
    return SweepLocation(
        repository=str(repository),
        rule_id=str(rule_id),
        secret_hash=str(hashed),
        path=str(path),
        line=int(line),  # type: ignore[call-overload]  # sqlite3 rows are untyped tuples
        column=int(column),  # type: ignore[call-overload]
        end_line=int(end_line),  # type: ignore[call-overload]
        end_column=int(end_column),  # type: ignore[call-overload]
        commit=str(sha),
        author=str(author),
        email=str(email),
        date=str(date),
        secret_redacted=str(shown),
        preview=str(preview),
        entropy=float(entropy),  # type: ignore[arg-type]
        order=int(order),  # type: ignore[call-overload]
    )
