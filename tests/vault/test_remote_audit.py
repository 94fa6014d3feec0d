"""The audit trail of remote backends: private files, a keyed chain, and a head record kept apart."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from leakvault.vault.audit import GENESIS, AuditFile, AuditLog, load_audit_key, open_remote_trail
from leakvault.vault.errors import KeySourceError, VaultError
from leakvault.vault.factory import init_local_vault
from leakvault.vault.keys import KeyMaterial

from .helpers import settings_for


def _append(log: AuditLog, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        log.append(identity="me", actor="me", action="get", path=f"app/s{i}", version=1, outcome="ok")


@pytest.fixture
def trail(tmp_path: Path) -> tuple[Path, Path]:
    """(trail path, key file): the trail in a data folder, the key in a separate private folder."""
    return tmp_path / "data" / "audit-hashicorp.db", tmp_path / "config" / "audit.key"


def _verify(paths: tuple[Path, Path]) -> str | None:
    file, log = open_remote_trail(*paths)
    try:
        return log.verify().problem
    finally:
        file.close()


def _open(paths: tuple[Path, Path]) -> tuple[AuditFile, AuditLog]:
    return open_remote_trail(*paths)


def test_records_are_keyed_so_a_rewrite_without_the_key_is_detected(trail: tuple[Path, Path]) -> None:
    """Editing a record and recomputing the chain with plain SHA-256 (all an editor of the file can do) is caught."""
    file, log = _open(trail)
    _append(log, 4)
    file.close()
    # The attacker edits record 2 and re-chains everything after it, the way the old unkeyed chain worked.
    conn = sqlite3.connect(trail[0])
    rows = conn.execute("SELECT seq, record FROM audit ORDER BY seq").fetchall()
    previous = GENESIS
    with conn:
        for seq, text in rows:
            record = json.loads(text)
            if seq == 2:
                record["outcome"] = "denied"
            body = json.dumps(record, sort_keys=True, separators=(",", ":"))
            previous = hashlib.sha256(previous + body.encode()).digest()
            conn.execute("UPDATE audit SET record = ?, digest = ? WHERE seq = ?", (body, previous, seq))
    conn.close()
    assert _verify(trail) == "record 1 was altered"  # before: the forged chain verified


def test_tail_truncation_is_detected_without_expect_head(trail: tuple[Path, Path]) -> None:
    """Deleting the newest records is reported by a plain verify, thanks to the head record kept apart."""
    file, log = _open(trail)
    _append(log, 5)
    assert log.verify().ok
    file.close()
    conn = sqlite3.connect(trail[0])
    with conn:
        conn.execute("DELETE FROM audit WHERE seq > 3")
    conn.close()
    assert _verify(trail) == "the trail ends at record 3 but its head record says 5: the newest records were removed"


def test_head_record_cannot_be_removed_or_forged(trail: tuple[Path, Path]) -> None:
    """A missing or edited head record is reported; the head lives beside the key, not the trail."""
    file, log = _open(trail)
    _append(log, 3)
    file.close()
    heads = list(trail[1].parent.glob("audit-hashicorp.db.*.head"))
    assert len(heads) == 1 and not list(trail[0].parent.glob("*.head"))
    head = heads[0]
    data = json.loads(head.read_text())
    data["count"] = 2
    head.write_text(json.dumps(data))
    assert "was altered" in (_verify(trail) or "")
    head.unlink()
    assert "is missing" in (_verify(trail) or "")


def test_trail_and_key_files_are_private_even_under_umask_000(tmp_path: Path) -> None:
    """Folders are made 0700 at every level and files 0600, whatever the umask."""
    old = os.umask(0)
    try:
        trail = tmp_path / "a" / "b" / "audit.db"
        key = tmp_path / "c" / "d" / "audit.key"
        file, log = open_remote_trail(trail, key)
        _append(log, 1)
        file.close()
        vault = tmp_path / "e" / "f" / "vault.db"
        init_local_vault(settings_for(vault), KeyMaterial("t", passphrase="p"), iterations=1000)
    finally:
        os.umask(old)
    for folder in ("a", "a/b", "c", "c/d", "e", "e/f"):
        assert stat.S_IMODE((tmp_path / folder).stat().st_mode) == 0o700, folder  # before: 0777 for a, c, e
    for path in (trail, key, vault):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_symlinked_trail_is_refused(tmp_path: Path) -> None:
    """A symlink planted where the trail goes is not followed (O_NOFOLLOW), and its target is untouched."""
    target = tmp_path / "elsewhere.db"
    target.write_bytes(b"")
    link = tmp_path / "audit.db"
    link.symlink_to(target)
    with pytest.raises(VaultError, match="symbolic link"):
        AuditFile(link)
    assert target.read_bytes() == b""


def test_trail_writable_by_others_is_refused(tmp_path: Path) -> None:
    """An existing trail that others may write is refused, not quietly used."""
    path = tmp_path / "audit.db"
    AuditFile(path).close()
    path.chmod(0o666)
    with pytest.raises(VaultError, match="others can write it"):
        AuditFile(path)


def test_audit_key_file_checks(tmp_path: Path) -> None:
    """The key is made once (32 random bytes, 0600), reused, and refused when others can read it."""
    key_file = tmp_path / "k" / "audit.key"
    first = load_audit_key(key_file)
    assert len(first) == 32 and load_audit_key(key_file) == first
    assert base64.b64decode(key_file.read_text()) == first
    key_file.chmod(0o640)
    with pytest.raises(KeySourceError, match="accessible by other users"):
        load_audit_key(key_file)
    key_file.chmod(0o600)
    key_file.write_text("short")
    with pytest.raises(KeySourceError, match="malformed"):
        load_audit_key(key_file)


def test_trail_from_before_the_key_still_verifies(trail: tuple[Path, Path]) -> None:
    """Records chained with plain SHA-256 by an older version verify; records after the upgrade are keyed."""
    trail[0].parent.mkdir(parents=True)
    old = AuditFile(trail[0])
    with old._conn:  # what an old version's file looks like: no legacy marker yet
        old._conn.execute("DELETE FROM audit_meta")
    _append(AuditLog(old, None), 3)
    old.close()
    conn = sqlite3.connect(trail[0])
    with conn:
        conn.execute("DELETE FROM audit_meta")
    conn.close()
    file, log = _open(trail)
    assert file.legacy_until == 3
    _append(log, 2, start=3)
    report = log.verify()
    file.close()
    assert report.ok and report.count == 5
