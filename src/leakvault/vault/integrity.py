"""Vault format v2: row MACs, per-secret manifests and the authenticated head of a local vault file.

What is authenticated (keys and encodings in `_crypto`, layout in docs/vault.md "Format v2"):

- each version row: path, version, created, deleted, destroyed, ciphertext -> ``versions.mac``;
- each metadata row: path, current_version, created, updated, max_versions, custom and its
  *manifest* (the MAC tag of each of its version rows, by number) -> ``secrets.mac``;
- each pending row: path, created, ciphertext -> ``pending.mac``;
- the *head* (meta ``integrity_head``, MAC in ``integrity_mac``): the number of audit records, the
  digest of the last one, and a MAC of the *map* (meta ``integrity_map``: the tag of every
  metadata and pending row, by path).

So a row edited in place fails its own MAC; a row moved under another key verifies under that
other key (a swap); a row replaced by an older copy of itself has a valid MAC that its manifest or
the map no longer lists (a rollback); a row that is listed but absent was deleted; an audit trail
that ends before the head's count was truncated.

The head and the map are updated incrementally by leakvault's own writes and never recomputed
from the rows they vouch for (migration and master-key rotation re-seal, after checking), so a
later write cannot bless an earlier tampering: reads check the rows they return, writes check the
secret they change before changing it, and `verify` checks everything.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from leakvault.vault import _crypto
from leakvault.vault.errors import IntegrityError, VaultError

HEAD_KEY = "integrity_head"
MAC_KEY = "integrity_mac"
MAP_KEY = "integrity_map"
JOURNAL_KEY = "rekey_journal"
# Manifests and the map keep the first 16 bytes of each row MAC: 128 bits leave no room for a
# forged match, and the map stays small (it is rewritten on every write).
_TAG_BYTES = 16

VERSION_COLUMNS = "path, version, created, deleted, destroyed, ciphertext, mac"
SECRET_COLUMNS = "path, current_version, created, updated, max_versions, custom, manifest, mac"  # noqa: S105 - column names
PENDING_COLUMNS = "path, created, ciphertext, mac"

Row = tuple[Any, ...]


class TamperError(VaultError):
    """The vault file was changed by something other than leakvault (the message says what and where)."""


def _dumps(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")


def tag(mac: bytes) -> str:
    return mac[:_TAG_BYTES].hex()


def _copy_map(table_map: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    return {kind: dict(entries) for kind, entries in table_map.items()}


def _stored_bytes(value: object) -> bytes:
    """A BLOB column's value; b"" for anything else (an edit may have stored text or a number)."""
    return value if isinstance(value, bytes) else b""


class Integrity:
    """Computes and checks the MACs of one vault file for the master key it is sealed under."""

    def __init__(self, master: _crypto.MasterKey) -> None:
        self.use(master)

    def use(self, master: _crypto.MasterKey) -> None:
        """Seal and check under `master` from now on (after a master-key rotation)."""
        self._key = _crypto.integrity_key(master)
        self._audit_key = _crypto.audit_key(master)
        self._key_check = _crypto.key_check(master)
        # The last map this object wrote or checked: its bytes, their MAC, and the parsed map.
        # Equal bytes from the file are the same map, so a write need not re-MAC and re-parse
        # tens of kilobytes twice (the map of a 1,000-secret vault is about 50 KB).
        self._map_cache: tuple[bytes, str, dict[str, dict[str, str]]] | None = None

    # -- row MACs --------------------------------------------------------------------------------

    def version_mac(self, row: Row, *, path: str | None = None, version: int | None = None) -> bytes:
        """MAC of a version row (`path`/`version` override the row's own key: swap detection)."""
        p, v, created, deleted, destroyed, ciphertext = row[:6]
        fields = [path if path is not None else p, version if version is not None else v]
        return _crypto.row_mac(self._key, "version", [*fields, created, deleted, destroyed, ciphertext])

    def secret_mac(self, row: Row, *, path: str | None = None) -> bytes:
        p, current, created, updated, max_versions, custom, manifest = row[:7]
        fields = [path if path is not None else p, current, created, updated, max_versions, custom, manifest]
        return _crypto.row_mac(self._key, "secret", fields)

    def pending_mac(self, row: Row, *, path: str | None = None) -> bytes:
        p, created, ciphertext = row[:3]
        return _crypto.row_mac(self._key, "pending", [path if path is not None else p, created, ciphertext])

    def _valid(self, mac: bytes, stored: object) -> bool:
        return isinstance(stored, bytes) and _crypto.digests_equal(mac, stored)

    # -- the head --------------------------------------------------------------------------------

    def initial_rows(self) -> dict[str, bytes]:
        """The meta rows of an empty, sealed head (written when a vault is created or migrated)."""
        return self._head_rows({"format": 2, "audit_count": 0, "audit_last": ""}, {"secrets": {}, "pending": {}})

    def _head_rows(self, head: dict[str, Any], table_map: dict[str, dict[str, str]] | None) -> dict[str, bytes]:
        rows: dict[str, bytes] = {}
        if table_map is not None:
            map_bytes = _dumps(table_map)
            head["map"] = _crypto.row_mac(self._key, "map", [map_bytes]).hex()
            rows[MAP_KEY] = map_bytes
            self._map_cache = (map_bytes, head["map"], _copy_map(table_map))
        head_bytes = _dumps(head)
        rows[HEAD_KEY] = head_bytes
        rows[MAC_KEY] = _crypto.row_mac(self._key, "head", [head_bytes])
        return rows

    def _write_head(
        self, conn: sqlite3.Connection, head: dict[str, Any], table_map: dict[str, dict[str, str]] | None
    ) -> None:
        conn.executemany(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", self._head_rows(head, table_map).items()
        )

    def read_head(self, conn: sqlite3.Connection) -> dict[str, Any]:
        rows = dict(conn.execute("SELECT key, value FROM meta WHERE key IN (?, ?)", (HEAD_KEY, MAC_KEY)).fetchall())
        if HEAD_KEY not in rows or MAC_KEY not in rows:
            raise TamperError("the vault head is missing: its rows were deleted from the meta table")
        head_bytes = _stored_bytes(rows[HEAD_KEY])
        if not self._valid(_crypto.row_mac(self._key, "head", [head_bytes]), rows[MAC_KEY]):
            raise TamperError("the vault head was altered: its MAC does not verify")
        head: dict[str, Any] = json.loads(head_bytes)
        return head

    def read_map(self, conn: sqlite3.Connection, head: Mapping[str, Any]) -> dict[str, dict[str, str]]:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (MAP_KEY,)).fetchone()
        if row is None:
            raise TamperError("the row map of the vault head is missing: deleted from the meta table")
        map_bytes = _stored_bytes(row[0])
        cached = self._map_cache
        if cached is not None and cached[1] == head.get("map") and cached[0] == map_bytes:
            return _copy_map(cached[2])
        mac = _crypto.row_mac(self._key, "map", [map_bytes]).hex()
        if mac != head.get("map"):
            raise TamperError("the row map was altered: it is not the one the vault head vouches for")
        table_map: dict[str, dict[str, str]] = json.loads(map_bytes)
        self._map_cache = (map_bytes, mac, _copy_map(table_map))
        return table_map

    # -- the key the file is sealed under ----------------------------------------------------------

    def check_key(self, conn: sqlite3.Connection) -> None:
        """VaultError if a master-key rotation is under way or finished since this key was loaded."""
        rows = dict(
            conn.execute("SELECT key, value FROM meta WHERE key IN ('key_check', ?)", (JOURNAL_KEY,)).fetchall()
        )
        if JOURNAL_KEY in rows:
            raise VaultError("a master-key rotation of this vault is under way; open the vault again to finish it")
        if not _crypto.digests_equal(_stored_bytes(rows.get("key_check")), self._key_check):
            raise VaultError("the vault's master key was rotated while it was open; open it again")

    # -- audit head ----------------------------------------------------------------------------------

    def audit_chain_key(self) -> bytes | None:
        return self._audit_key

    def audit_appended(self, conn: sqlite3.Connection, seq: int, digest: bytes) -> None:
        """Count one more audit record in the head (inside the append's transaction)."""
        self.check_key(conn)
        head = self.read_head(conn)
        head["audit_count"] = int(head.get("audit_count", 0)) + 1
        head["audit_last"] = digest.hex()
        self._write_head(conn, head, None)

    def _audit_problems(self, conn: sqlite3.Connection, head: Mapping[str, Any]) -> list[str]:
        last = conn.execute("SELECT seq, digest FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        last_seq, last_digest = (0, "") if last is None else (int(last[0]), _stored_bytes(last[1]).hex())
        expected = int(head.get("audit_count", 0))
        if last_seq < expected:
            return [
                f"the audit trail was truncated: the vault head counts {expected} records, the trail ends at {last_seq}"
            ]
        if last_seq > expected:
            return [
                f"the audit trail has records past the vault head: it counts {expected}, the trail ends at {last_seq}"
            ]
        if last_digest != head.get("audit_last", ""):
            return [
                f"audit record {last_seq} is not the last record the vault head vouches for (replaced or rolled back)"
            ]
        return []

    # -- checks ----------------------------------------------------------------------------------

    def secret_problems(
        self, path: str, secret: Row | None, versions: Iterable[Row], listed: str | None, *, check_map: bool = True
    ) -> list[str]:
        """Everything wrong with one secret: its metadata row, its version rows and its map entry.

        `listed` is the map's tag for the path (None: the map does not list it).
        """
        problems: list[str] = []
        rows = list(versions)
        manifest: dict[str, str] | None = None
        if secret is None:
            if check_map and listed is not None:
                problems.append(f"the metadata row of {path!r} was deleted (the vault head lists it)")
        else:
            mac = self.secret_mac(secret)
            if not self._valid(mac, secret[7]):
                problems.append(f"the metadata row of {path!r} fails its MAC: it was altered")
            else:
                manifest = json.loads(secret[6])
                if check_map and listed is None:
                    problems.append(f"the metadata row of {path!r} was inserted (the vault head does not list it)")
                elif check_map and listed != tag(mac):
                    problems.append(
                        f"the metadata row of {path!r} was rolled back to an older copy "
                        "(its MAC is valid, but not the one the vault head lists)"
                    )
        bad = [row for row in rows if not self._valid(self.version_mac(row), row[6])]
        problems.extend(self._swaps_or_edits(path, bad))
        if manifest is not None:
            present = {str(row[1]): row for row in rows}
            for number in sorted(manifest, key=int):
                if number not in present:
                    problems.append(f"version {number} of {path!r} was deleted (its metadata lists it)")
            for number, row in present.items():
                if row in bad:
                    continue
                if number not in manifest:
                    problems.append(f"version {number} of {path!r} was inserted (its metadata does not list it)")
                elif manifest[number] != tag(bytes(row[6])):
                    problems.append(
                        f"version {number} of {path!r} was rolled back to an older copy "
                        "(its MAC is valid, but not the one its metadata lists)"
                    )
        elif secret is None and rows:
            problems.append(f"{path!r} has version rows but no metadata row")
        return problems

    def _swaps_or_edits(self, path: str, bad: list[Row]) -> list[str]:
        problems: list[str] = []
        paired: set[int] = set()
        for i, row in enumerate(bad):
            if i in paired:
                continue
            for j in range(i + 1, len(bad)):
                other = bad[j]
                if j not in paired and self._valid(self.version_mac(row, version=other[1], path=other[0]), row[6]):
                    paired.update((i, j))
                    low, high = sorted((row[1], other[1]))
                    problems.append(f"versions {low} and {high} of {path!r} were swapped")
                    break
            else:
                problems.append(f"version {row[1]} of {path!r} fails its MAC: it was altered")
        return problems

    def check_secret(self, conn: sqlite3.Connection, path: str, *, check_map: bool = True) -> None:
        """IntegrityError naming the first problem of `path` (before a write changes it)."""
        secret = conn.execute(f"SELECT {SECRET_COLUMNS} FROM secrets WHERE path = ?", (path,)).fetchone()  # noqa: S608 - fixed column list
        versions = conn.execute(
            f"SELECT {VERSION_COLUMNS} FROM versions WHERE path = ? ORDER BY version",  # noqa: S608 - fixed column list
            (path,),
        ).fetchall()
        listed = None
        if check_map:
            listed = self.read_map(conn, self.read_head(conn))["secrets"].get(path)
        problems = self.secret_problems(path, secret, versions, listed, check_map=check_map)
        if problems:
            raise IntegrityError(path, None, problems[0])

    def check_version(self, conn: sqlite3.Connection, path: str, version: int) -> None:
        """IntegrityError unless version `version` of `path` and its metadata row are intact (a read)."""
        secret = conn.execute(f"SELECT {SECRET_COLUMNS} FROM secrets WHERE path = ?", (path,)).fetchone()  # noqa: S608 - fixed column list
        row = conn.execute(
            f"SELECT {VERSION_COLUMNS} FROM versions WHERE path = ? AND version = ?",  # noqa: S608 - fixed column list
            (path, version),
        ).fetchone()
        if secret is None or row is None:
            return  # the caller reports "not found"
        if not self._valid(self.version_mac(row), row[6]):
            raise IntegrityError(path, version, "the version row fails its MAC (altered, or moved from another row)")
        if not self._valid(self.secret_mac(secret), secret[7]):
            raise IntegrityError(path, None, "the metadata row fails its MAC: it was altered")
        if json.loads(secret[6]).get(str(version)) != tag(bytes(row[6])):
            raise IntegrityError(path, version, "the version row is not the one its metadata lists (rolled back?)")

    def check_pending(self, conn: sqlite3.Connection, path: str) -> None:
        row = conn.execute(f"SELECT {PENDING_COLUMNS} FROM pending WHERE path = ?", (path,)).fetchone()  # noqa: S608 - fixed column list
        listed = self.read_map(conn, self.read_head(conn))["pending"].get(path)
        problems = self._pending_problems(path, row, listed)
        if problems:
            raise IntegrityError(path, None, problems[0])

    def _pending_problems(self, path: str, row: Row | None, listed: str | None) -> list[str]:
        if row is None:
            return [] if listed is None else [f"the pending value of {path!r} was deleted (the vault head lists it)"]
        mac = self.pending_mac(row)
        if not self._valid(mac, row[3]):
            return [f"the pending value of {path!r} fails its MAC: it was altered"]
        if listed is None:
            return [f"the pending value of {path!r} was inserted (the vault head does not list it)"]
        if listed != tag(mac):
            return [f"the pending value of {path!r} was rolled back to an older copy"]
        return []

    # -- sealing ---------------------------------------------------------------------------------

    def reseal_secret(self, conn: sqlite3.Connection, path: str) -> None:
        """Recompute the MACs of `path` (after a write that `check_secret` cleared) and its map entry."""
        manifest: dict[str, str] = {}
        for row in conn.execute(
            f"SELECT {VERSION_COLUMNS} FROM versions WHERE path = ? ORDER BY version",  # noqa: S608 - fixed column list
            (path,),
        ).fetchall():
            mac = self.version_mac(row)
            if row[6] != mac:
                conn.execute("UPDATE versions SET mac = ? WHERE path = ? AND version = ?", (mac, path, row[1]))
            manifest[str(row[1])] = tag(mac)
        head = self.read_head(conn)
        table_map = self.read_map(conn, head)
        secret = conn.execute(f"SELECT {SECRET_COLUMNS} FROM secrets WHERE path = ?", (path,)).fetchone()  # noqa: S608 - fixed column list
        if secret is None:
            table_map["secrets"].pop(path, None)
        else:
            manifest_text = _dumps(manifest).decode("utf-8")
            mac = self.secret_mac((*secret[:6], manifest_text))
            conn.execute("UPDATE secrets SET manifest = ?, mac = ? WHERE path = ?", (manifest_text, mac, path))
            table_map["secrets"][path] = tag(mac)
        self._write_head(conn, head, table_map)

    def reseal_pending(self, conn: sqlite3.Connection, path: str) -> None:
        head = self.read_head(conn)
        table_map = self.read_map(conn, head)
        row = conn.execute(f"SELECT {PENDING_COLUMNS} FROM pending WHERE path = ?", (path,)).fetchone()  # noqa: S608 - fixed column list
        if row is None:
            table_map["pending"].pop(path, None)
        else:
            mac = self.pending_mac(row)
            conn.execute("UPDATE pending SET mac = ? WHERE path = ?", (mac, path))
            table_map["pending"][path] = tag(mac)
        self._write_head(conn, head, table_map)

    def seal_all(self, conn: sqlite3.Connection) -> None:
        """MAC every row and write a new head from the file as it is (migration and rotation only,
        each after its own checks): the one place the head is computed from the rows."""
        paths = [r[0] for r in conn.execute("SELECT path FROM secrets UNION SELECT path FROM versions").fetchall()]
        self._write_head(conn, {"format": 2, "audit_count": 0, "audit_last": ""}, {"secrets": {}, "pending": {}})
        for path in paths:
            self.reseal_secret(conn, path)
        for (path,) in conn.execute("SELECT path FROM pending").fetchall():
            self.reseal_pending(conn, path)
        last = conn.execute("SELECT seq, digest FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        head = self.read_head(conn)
        head["audit_count"], head["audit_last"] = (
            (0, "") if last is None else (int(last[0]), _stored_bytes(last[1]).hex())
        )
        self._write_head(conn, head, None)

    # -- verification ----------------------------------------------------------------------------

    def verify(self, conn: sqlite3.Connection) -> list[str]:
        """Every problem in the file, one line each, in a stable order (empty: intact)."""
        try:
            head = self.read_head(conn)
            table_map = self.read_map(conn, head)
        except TamperError as exc:
            return [str(exc)]
        problems: list[str] = []
        secrets = {r[0]: r for r in conn.execute(f"SELECT {SECRET_COLUMNS} FROM secrets").fetchall()}  # noqa: S608 - fixed column list
        by_path: dict[str, list[Row]] = {}
        for row in conn.execute(f"SELECT {VERSION_COLUMNS} FROM versions ORDER BY path, version"):  # noqa: S608 - fixed column list
            by_path.setdefault(row[0], []).append(row)
        listed = table_map["secrets"]
        bad_secrets = {p for p, r in secrets.items() if not self._valid(self.secret_mac(r), r[7])}
        for a in sorted(bad_secrets):
            for b in sorted(bad_secrets - {a}):
                if self._valid(self.secret_mac(secrets[a], path=b), secrets[a][7]):
                    problems.append(f"the metadata rows of {min(a, b)!r} and {max(a, b)!r} were swapped")
                    break
        swapped = {p for line in problems for p in bad_secrets if repr(p) in line}
        for path in sorted(set(secrets) | set(by_path) | set(listed)):
            found = self.secret_problems(path, secrets.get(path), by_path.get(path, []), listed.get(path))
            if path in swapped:
                found = [line for line in found if "metadata row" not in line or "fails its MAC" not in line]
            problems.extend(found)
        pending = {r[0]: r for r in conn.execute(f"SELECT {PENDING_COLUMNS} FROM pending").fetchall()}  # noqa: S608 - fixed column list
        for path in sorted(set(pending) | set(table_map["pending"])):
            problems.extend(self._pending_problems(path, pending.get(path), table_map["pending"].get(path)))
        problems.extend(self._audit_problems(conn, head))
        return problems
