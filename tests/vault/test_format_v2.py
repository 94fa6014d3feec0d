"""Vault format v2: tampering with the SQLite file, the way an attacker would, is detected and named.

Each attack edits a real vault file with the sqlite3 module (no key needed) and runs the real
``leakvault vault verify``, which must exit 2 with one line saying what was done and where.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from leakvault.vault.config import VaultSettings
from leakvault.vault.errors import IntegrityError, VaultError
from leakvault.vault.factory import open_vault
from leakvault.vault.integrity import TamperError
from leakvault.vault.secret_vault import SecretVault

from .helpers import PASSPHRASE, cli_env, run_cli, settings_for

FIXTURE = Path(__file__).parent / "fixtures" / "v1_vault.db"
FIXTURE_PASSPHRASE = "not-a-real-passphrase"  # the committed fixture's documented passphrase
CRASH = Path(__file__).with_name("_crash.py")
WORKER = Path(__file__).with_name("_worker.py")


@pytest.fixture
def env(tmp_path: Path, vault_path: Path, settings: VaultSettings) -> dict[str, str]:
    return cli_env(
        tmp_path,
        {"MAHAVISHNU_SECRETS__LOCAL__PATH": str(vault_path), "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": PASSPHRASE},
    )


@pytest.fixture
def filled(settings: VaultSettings) -> VaultSettings:
    """A vault with two secrets: app/db (versions 1-3) and app/api (version 1)."""
    with open_vault(settings) as sv:
        for i in range(1, 4):
            sv.set("app/db", f"db-value-{i}")
        sv.set("app/api", "api-value")
    return settings


def _sql(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()


def _verify(env: dict[str, str]) -> str:
    """Run `vault verify`; the one error line on a tampered vault ('' when intact)."""
    result = run_cli(["vault", "verify"], env)
    err = result.stderr.decode()
    assert "Traceback" not in err
    if result.returncode == 0:
        return ""
    assert result.returncode == 2, err
    lines = [line for line in err.splitlines() if line.startswith("leakvault: error:")]
    assert len(lines) == 1, err
    return lines[0]


def test_intact_vault_verifies(filled: VaultSettings, env: dict[str, str]) -> None:
    """An untouched vault verifies: exit 0."""
    assert _verify(env) == ""


def test_deleted_version_row(filled: VaultSettings, vault_path: Path, env: dict[str, str]) -> None:
    """Deleting one version row is named: which version of which secret."""
    _sql(vault_path, "DELETE FROM versions WHERE path = 'app/db' AND version = 2")
    assert "version 2 of 'app/db' was deleted" in _verify(env)


def test_deleted_secret(filled: VaultSettings, vault_path: Path, env: dict[str, str]) -> None:
    """Deleting a whole secret (metadata row and versions) is named."""
    _sql(vault_path, "DELETE FROM versions WHERE path = 'app/api'", "DELETE FROM secrets WHERE path = 'app/api'")
    assert "the metadata row of 'app/api' was deleted" in _verify(env)


def test_swapped_version_rows(filled: VaultSettings, vault_path: Path, env: dict[str, str]) -> None:
    """Swapping the contents of two version rows is named as a swap, and neither is served."""
    conn = sqlite3.connect(vault_path)
    one, two = (
        conn.execute("SELECT created, ciphertext, mac FROM versions WHERE path='app/db' AND version=?", (v,)).fetchone()
        for v in (1, 2)
    )
    with conn:
        conn.execute("UPDATE versions SET created=?, ciphertext=?, mac=? WHERE path='app/db' AND version=1", two)
        conn.execute("UPDATE versions SET created=?, ciphertext=?, mac=? WHERE path='app/db' AND version=2", one)
    conn.close()
    assert "versions 1 and 2 of 'app/db' were swapped" in _verify(env)
    with open_vault(filled) as sv, pytest.raises(IntegrityError, match="version 1"):
        sv.get("app/db", 1)


def test_swapped_metadata_rows(filled: VaultSettings, vault_path: Path, env: dict[str, str]) -> None:
    """Swapping two secrets' metadata rows (every column but the path) is named as a swap."""
    columns = "current_version, created, updated, max_versions, custom, manifest, mac"
    conn = sqlite3.connect(vault_path)
    query = f"SELECT {columns} FROM secrets WHERE path=?"  # noqa: S608 - fixed column list
    db, api = (conn.execute(query, (p,)).fetchone() for p in ("app/db", "app/api"))
    assignments = ", ".join(f"{c.strip()}=?" for c in columns.split(","))
    with conn:
        conn.execute(f"UPDATE secrets SET {assignments} WHERE path='app/db'", api)  # noqa: S608 - fixed column list
        conn.execute(f"UPDATE secrets SET {assignments} WHERE path='app/api'", db)  # noqa: S608 - fixed column list
    conn.close()
    assert "the metadata rows of 'app/api' and 'app/db' were swapped" in _verify(env)


def _copy_row(source: Path, target: Path, table: str, where: str) -> None:
    """Put `table`'s row matching `where` from `source` (an old backup) back into `target`."""
    conn = sqlite3.connect(target)
    conn.execute("ATTACH DATABASE ? AS backup", (str(source),))
    with conn:
        conn.execute(f"DELETE FROM main.{table} WHERE {where}")  # noqa: S608 - test-controlled SQL
        conn.execute(f"INSERT INTO main.{table} SELECT * FROM backup.{table} WHERE {where}")  # noqa: S608 - test-controlled SQL
    conn.close()


def test_rolled_back_version_row(filled: VaultSettings, vault_path: Path, tmp_path: Path, env: dict[str, str]) -> None:
    """Restoring a destroyed version's row from an old backup is named as a rollback and not served."""
    backup = tmp_path / "backup.db"
    shutil.copy(vault_path, backup)
    with open_vault(filled) as sv:
        sv.destroy("app/db", [1])
    _copy_row(backup, vault_path, "versions", "path = 'app/db' AND version = 1")
    assert "version 1 of 'app/db' was rolled back to an older copy" in _verify(env)
    with open_vault(filled) as sv, pytest.raises(IntegrityError, match="rolled back"):
        sv.get("app/db", 1)


def test_rolled_back_metadata_row(filled: VaultSettings, vault_path: Path, tmp_path: Path, env: dict[str, str]) -> None:
    """Restoring a metadata row from an old backup (undoing a max_versions change) is named as a rollback."""
    backup = tmp_path / "backup.db"
    shutil.copy(vault_path, backup)
    with open_vault(filled) as sv:
        sv.set_metadata("app/api", max_versions=2, custom={"owner": "ops"})
    _copy_row(backup, vault_path, "secrets", "path = 'app/api'")
    assert "the metadata row of 'app/api' was rolled back to an older copy" in _verify(env)


def test_rolled_back_secret(filled: VaultSettings, vault_path: Path, tmp_path: Path, env: dict[str, str]) -> None:
    """Undoing a whole write (old metadata row back, new version row gone) is named too."""
    backup = tmp_path / "backup.db"
    shutil.copy(vault_path, backup)
    with open_vault(filled) as sv:
        sv.set("app/api", "api-value-2")
    _copy_row(backup, vault_path, "secrets", "path = 'app/api'")
    _sql(vault_path, "DELETE FROM versions WHERE path = 'app/api' AND version = 2")
    assert "the metadata row of 'app/api' was rolled back to an older copy" in _verify(env)


def test_rolled_back_pending_value(
    filled: VaultSettings, vault_path: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    """Putting back an earlier staged (pending) value from a backup is named, and it is not promoted."""
    with open_vault(filled) as sv:
        sv.stage_pending("app/api", "first-candidate")
    backup = tmp_path / "backup.db"
    shutil.copy(vault_path, backup)
    with open_vault(filled) as sv:
        sv.stage_pending("app/api", "second-candidate")
    _copy_row(backup, vault_path, "pending", "path = 'app/api'")
    assert "the pending value of 'app/api' was rolled back to an older copy" in _verify(env)
    with open_vault(filled) as sv, pytest.raises(IntegrityError, match="rolled back"):
        sv.promote_pending("app/api")


def test_inserted_version_row(filled: VaultSettings, vault_path: Path, env: dict[str, str]) -> None:
    """A version row planted in the file (here a copy of another) is named as inserted or altered."""
    _sql(
        vault_path,
        "INSERT INTO versions SELECT path, 9, created, deleted, destroyed, ciphertext, mac FROM versions "
        "WHERE path = 'app/db' AND version = 3",
    )
    line = _verify(env)
    assert "version 9 of 'app/db'" in line


def test_truncated_audit_trail(filled: VaultSettings, vault_path: Path, env: dict[str, str]) -> None:
    """Deleting the newest audit records is named, and stays detected after later operations."""
    conn = sqlite3.connect(vault_path)
    last = conn.execute("SELECT max(seq) FROM audit").fetchone()[0]
    conn.close()
    _sql(vault_path, f"DELETE FROM audit WHERE seq > {last - 2:d}")  # noqa: S608 - an integer
    line = _verify(env)
    assert f"the audit trail was truncated: the vault head counts {last} records, the trail ends at {last - 2}" in line
    with open_vault(filled) as sv:
        sv.get("app/api")  # appends a record: the head keeps counting, the gap stays visible
        assert sv.verify_audit().ok  # the chain alone cannot show it ...
    assert "the audit trail was truncated" in _verify(env)  # ... the head does


def test_edited_head(filled: VaultSettings, vault_path: Path, env: dict[str, str]) -> None:
    """Editing the head itself (to hide a deletion) is named, and stops writes that would re-seal it."""
    _sql(
        vault_path,
        "UPDATE meta SET value = replace(value, '\"audit_count\":', '\"audit_count\":1') WHERE key = 'integrity_head'",
    )
    assert "the vault head was altered" in _verify(env)
    with open_vault(filled) as sv, pytest.raises(VaultError, match="head was altered"):
        sv.set("app/api", "new")


def test_write_refuses_a_tampered_secret(filled: VaultSettings, vault_path: Path, tmp_path: Path) -> None:
    """A write never re-seals a tampered secret: it fails naming the problem and the tampering stays visible."""
    _sql(vault_path, "DELETE FROM versions WHERE path = 'app/db' AND version = 1")
    with open_vault(filled) as sv:
        with pytest.raises(IntegrityError, match="version 1 of 'app/db' was deleted"):
            sv.set("app/db", "db-value-4")
        sv.set("app/api", "unrelated secrets still work")
    with open_vault(filled) as sv:
        assert sv.metadata("app/api").current_version == 2


# -- migration from format 1 -----------------------------------------------------------------------


@pytest.fixture
def v1_vault(tmp_path: Path) -> Path:
    """A copy of the committed format-1 fixture (written by the v1 code; see fixtures/make_v1_vault.py)."""
    directory = tmp_path / "v1"
    directory.mkdir(mode=0o700)
    path = directory / "vault.db"
    shutil.copy(FIXTURE, path)
    path.chmod(0o600)
    return path


def _v1_settings(path: Path) -> VaultSettings:
    return settings_for(path, MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE=FIXTURE_PASSPHRASE)


def _schema(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
    finally:
        conn.close()


def _check_fixture_contents(sv: SecretVault) -> None:
    meta = sv.metadata("fixture/db")
    assert [v.version for v in meta.versions] == [1, 2, 3, 4, 5]
    assert [v.deleted is not None for v in meta.versions] == [False, True, False, False, False]
    assert [v.destroyed for v in meta.versions] == [False, False, True, False, False]
    assert (meta.current_version, meta.max_versions, dict(meta.custom)["owner"]) == (5, 10, "team-fixture")
    for number in (1, 4, 5):
        assert sv.get_text("fixture/db", number) == f"not-a-real-secret-{number}"
    assert sv.get_text("fixture/api") == "not-a-real-api-key"
    pending = sv.get_pending("fixture/api")
    assert pending is not None and pending.text() == "not-a-real-pending-value"
    assert sv.metadata("fixture/gone").versions[0].deleted is not None
    assert sv.verify_audit().ok


def test_v1_file_migrates_with_a_backup(v1_vault: Path, tmp_path: Path) -> None:
    """The v1 fixture opens, is upgraded in place after a backup, and keeps every version and metadata."""
    assert _schema(v1_vault) == 1
    with open_vault(_v1_settings(v1_vault)) as sv:
        _check_fixture_contents(sv)
        records = sv.audit_records()
    assert _schema(v1_vault) == 2
    assert records[13].action == "format_migrate"  # the fixture's 13 records, then the upgrade
    backup = v1_vault.with_name("vault.db.v1-backup")
    assert backup.stat().st_mode & 0o777 == 0o600
    assert _schema(backup) == 1
    conn = sqlite3.connect(backup)
    original = sqlite3.connect(FIXTURE)
    for table in ("secrets", "versions", "pending", "audit", "meta"):
        query = f"SELECT * FROM {table} ORDER BY 1, 2"  # noqa: S608 - fixed table names
        assert conn.execute(query).fetchall() == original.execute(query).fetchall()
    conn.close()
    original.close()
    with open_vault(_v1_settings(v1_vault)) as sv:  # a second open does not migrate again
        _check_fixture_contents(sv)
    assert not v1_vault.with_name("vault.db.v1-backup.1").exists()


def test_migrated_file_detects_tampering(v1_vault: Path, tmp_path: Path) -> None:
    """Once upgraded, the former v1 file detects a deleted row, like any v2 file."""
    open_vault(_v1_settings(v1_vault)).close()
    env = cli_env(
        tmp_path,
        {"MAHAVISHNU_SECRETS__LOCAL__PATH": str(v1_vault), "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": FIXTURE_PASSPHRASE},
    )
    assert _verify(env) == ""
    _sql(v1_vault, "DELETE FROM versions WHERE path = 'fixture/db' AND version = 4")
    assert "version 4 of 'fixture/db' was deleted" in _verify(env)


def test_migration_killed_at_the_backup_keeps_a_v1_vault(v1_vault: Path, tmp_path: Path) -> None:
    """SIGKILL as the backup is renamed into place: still a whole v1 file, which the next open migrates."""
    env = cli_env(
        tmp_path,
        {"MAHAVISHNU_SECRETS__LOCAL__PATH": str(v1_vault), "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": FIXTURE_PASSPHRASE},
    )
    result = subprocess.run(
        [sys.executable, str(CRASH), "1", "vault", "list"], env=env, capture_output=True, timeout=120, check=False
    )
    assert result.returncode == -9, result.stderr.decode()
    assert _schema(v1_vault) == 1
    assert not v1_vault.with_name("vault.db.v1-backup").exists()
    with open_vault(_v1_settings(v1_vault)) as sv:
        _check_fixture_contents(sv)
    assert _schema(v1_vault) == 2


@pytest.mark.parametrize("when", ["mid", "after"])
def test_migration_killed_in_its_transaction(v1_vault: Path, tmp_path: Path, when: str) -> None:
    """SIGKILL inside the upgrade's transaction (or right after it commits) loses nothing either way."""
    env = cli_env(
        tmp_path,
        {"MAHAVISHNU_SECRETS__LOCAL__PATH": str(v1_vault), "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": FIXTURE_PASSPHRASE},
    )
    result = subprocess.run(
        [sys.executable, str(WORKER), "open-killed", "1", when], env=env, capture_output=True, timeout=120, check=False
    )
    assert result.returncode == -9, result.stderr.decode()
    assert _schema(v1_vault) == (1 if when == "mid" else 2)
    assert v1_vault.with_name("vault.db.v1-backup").exists()
    with open_vault(_v1_settings(v1_vault)) as sv:
        _check_fixture_contents(sv)
    assert _schema(v1_vault) == 2


def test_downgraded_file_is_refused(filled: VaultSettings, vault_path: Path) -> None:
    """A v2 file relabelled as v1 (to have its tampering re-sealed by a migration) is refused."""
    _sql(vault_path, "UPDATE meta SET value = CAST('1' AS BLOB) WHERE key = 'schema_version'")
    with pytest.raises(TamperError, match="downgraded"):
        open_vault(filled)
