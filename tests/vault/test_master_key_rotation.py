"""`vault rekey --new-master-key`: a new random master key, every version re-encrypted, resumable."""

from __future__ import annotations

import base64
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from leakvault.vault import _crypto
from leakvault.vault.config import VaultSettings
from leakvault.vault.errors import IntegrityError, UnlockError, VaultError
from leakvault.vault.factory import init_local_vault, open_vault
from leakvault.vault.keys import KeyMaterial, read_key_file
from leakvault.vault.sqlite_backend import SqliteBackend

from .helpers import PASSPHRASE, cli_env, run_cli, settings_for

WORKER = Path(__file__).with_name("_worker.py")


def _b64(key: _crypto.MasterKey) -> str:
    return base64.b64encode(key.material).decode()


def _key_env(tmp_path: Path, vault: Path, key: _crypto.MasterKey) -> dict[str, str]:
    """A CLI environment opening `vault` by master key."""
    return cli_env(
        tmp_path, {"MAHAVISHNU_SECRETS__LOCAL__PATH": str(vault), "MAHAVISHNU_SECRETS__LOCAL__MASTER_KEY": _b64(key)}
    )


def _ciphertexts(path: Path) -> dict[tuple[str, int], bytes]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT path, version, ciphertext FROM versions WHERE ciphertext IS NOT NULL").fetchall()
    finally:
        conn.close()
    return {(p, v): bytes(c) for p, v, c in rows}


def test_old_backup_and_old_passphrase_cannot_decrypt_later_secrets(
    settings: VaultSettings, vault_path: Path, tmp_path: Path
) -> None:
    """After rotation, a backup taken before it plus the old passphrase decrypts no secret written afterwards."""
    with open_vault(settings) as sv:
        sv.set("app/db", "written-before")
    backup = tmp_path / "backup.db"
    shutil.copy(vault_path, backup)
    env = cli_env(
        tmp_path,
        {
            "MAHAVISHNU_SECRETS__LOCAL__PATH": str(vault_path),
            "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": PASSPHRASE,
            "MAHAVISHNU_SECRETS__LOCAL__NEW_PASSPHRASE": "the new passphrase",
        },
    )
    result = run_cli(["vault", "rekey", "--new-master-key", "--iterations", "600000"], env)
    assert result.returncode == 0, result.stderr.decode()
    new_settings = settings_for(vault_path, MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE="the new passphrase")
    with open_vault(new_settings) as sv:
        sv.set("app/later", "written-after")
        assert sv.get_text("app/db") == "written-before"
    later = _ciphertexts(vault_path)[("app/later", 1)]
    # The attacker's view: the old backup opens with the old passphrase and yields the old key ...
    _crypto.clear_kek_cache()
    old_settings = settings_for(backup, MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE=PASSPHRASE)
    with open_vault(old_settings) as old_vault:
        assert isinstance(old_vault.backend, SqliteBackend)
        old_key = old_vault.backend._key()
        assert old_vault.get_text("app/db") == "written-before"
    # ... which decrypts neither the later secret nor the re-encrypted earlier one.
    with pytest.raises(IntegrityError):
        _crypto.decrypt_version(old_key, "app/later", 1, later)
    with pytest.raises(IntegrityError):
        _crypto.decrypt_version(old_key, "app/db", 1, _ciphertexts(vault_path)[("app/db", 1)])
    # And the old passphrase no longer opens the current file.
    with pytest.raises(UnlockError):
        open_vault(settings)


def test_rotation_reencrypts_every_version_and_keeps_everything(settings: VaultSettings, vault_path: Path) -> None:
    """Every live version, pending value, deleted version and the audit chain survive; every ciphertext changes."""
    with open_vault(settings) as sv:
        for i in range(1, 4):
            sv.set("app/db", f"value-{i}")
        sv.delete("app/db", [2])
        sv.destroy("app/db", [1])
        sv.set_metadata("app/db", max_versions=7, custom={"owner": "team"})
        sv.set("app/api", "api-value")
        sv.stage_pending("app/api", "pending-value")
        before = _ciphertexts(vault_path)
        records_before = len(sv.audit_records())
        sv.rotate_master_key(passphrase=PASSPHRASE, iterations=1_000)
        assert sv.verify_audit().ok
    after = _ciphertexts(vault_path)
    assert set(after) == set(before)
    assert all(after[k] != before[k] for k in before)
    with open_vault(settings) as sv:
        assert sv.get_text("app/db") == "value-3"
        sv.undelete("app/db", [2])
        assert sv.get_text("app/db", 2) == "value-2"
        meta = sv.metadata("app/db")
        assert (meta.max_versions, dict(meta.custom)["owner"], meta.versions[0].destroyed) == (7, "team", True)
        pending = sv.get_pending("app/api")
        assert pending is not None and pending.text() == "pending-value"
        records = sv.audit_records()
        assert len(records) > records_before
        rotations = [r for r in records if r.action in ("master_key_rotated", "rekey_master")]
        assert [r.action for r in rotations] == ["master_key_rotated", "rekey_master"]
        assert sv.verify_audit().ok
        assert isinstance(sv.backend, SqliteBackend)
        assert sv.backend.verify() == ()
    trail = b"".join(p.read_bytes() for p in vault_path.parent.iterdir() if p.is_file())
    for value in (b"value-1", b"value-2", b"value-3", b"api-value", b"pending-value"):
        assert value not in trail


def test_key_file_vault_gets_a_new_key_file(tmp_path: Path) -> None:
    """A vault opened by a key file rotates to a new key file through the CLI; the old key is refused after."""
    vault = tmp_path / "vault.db"
    old_key = _crypto.new_master_key()
    settings = settings_for(vault, MAHAVISHNU_SECRETS__LOCAL__MASTER_KEY=_b64(old_key))
    init_local_vault(settings, KeyMaterial("test", master_key=old_key))
    with open_vault(settings) as sv:
        sv.set("app/db", "kept")
    env = _key_env(tmp_path, vault, old_key)
    missing = run_cli(["vault", "rekey", "--new-master-key"], env)
    assert missing.returncode == 2 and "new key file" in missing.stderr.decode()
    new_file = tmp_path / "new.key"
    result = run_cli(["vault", "rekey", "--new-master-key", "--new-key-file", str(new_file)], env)
    assert result.returncode == 0, result.stderr.decode()
    assert new_file.stat().st_mode & 0o777 == 0o600
    assert _b64(read_key_file(new_file)) not in result.stderr.decode() + result.stdout.decode()
    refused = run_cli(["vault", "get", "app/db"], env)
    assert refused.returncode == 2 and "wrong master key" in refused.stderr.decode()
    env.pop("MAHAVISHNU_SECRETS__LOCAL__MASTER_KEY")
    env["MAHAVISHNU_SECRETS__LOCAL__KEY_FILE"] = str(new_file)
    assert run_cli(["vault", "get", "app/db"], env).stdout == b"kept"


def test_a_vault_open_elsewhere_is_told_to_reopen(settings: VaultSettings) -> None:
    """A process that had the vault open before the rotation gets a clear error, not wrong data or a broken chain."""
    with open_vault(settings) as stale, open_vault(settings) as rotating:
        stale.set("app/db", "v1")
        rotating.rotate_master_key(passphrase=PASSPHRASE, iterations=1_000)
        with pytest.raises(VaultError, match="rotated while it was open"):
            stale.get("app/db")
        with pytest.raises(VaultError, match="rotated while it was open"):
            stale.set("app/db", "v2")
    with open_vault(settings) as sv:
        assert sv.get_text("app/db") == "v1"
        assert sv.verify_audit().ok


def test_a_tampered_vault_is_not_resealed(settings: VaultSettings, vault_path: Path) -> None:
    """Rotation refuses to start on a vault that fails verification (it would bless the tampering)."""
    with open_vault(settings) as sv:
        sv.set("app/db", "v1")
        sv.set("app/db", "v2")
    conn = sqlite3.connect(vault_path)
    with conn:
        conn.execute("DELETE FROM versions WHERE path = 'app/db' AND version = 1")
    conn.close()
    with open_vault(settings) as sv, pytest.raises(VaultError, match="version 1 of 'app/db' was deleted"):
        sv.rotate_master_key(passphrase=PASSPHRASE, iterations=1_000)


# -- kill -9 during the rotation -------------------------------------------------------------------

SECRETS = {f"app/s{i}": [f"s{i}-value-{n}" for n in range(1, 3)] for i in range(6)}


def _template(tmp_path: Path, old_key: _crypto.MasterKey) -> Path:
    template = tmp_path / "template" / "vault.db"
    template.parent.mkdir(mode=0o700)
    settings = settings_for(template, MAHAVISHNU_SECRETS__LOCAL__MASTER_KEY=_b64(old_key))
    init_local_vault(settings, KeyMaterial("test", master_key=old_key))
    with open_vault(settings) as sv:
        for path, values in SECRETS.items():
            for value in values:
                sv.set(path, value)
        sv.destroy("app/s0", [1])
        sv.stage_pending("app/s1", "pending-value")
    return template


def _try_open(vault: Path, key: _crypto.MasterKey) -> bool:
    try:
        with open_vault(settings_for(vault), key=KeyMaterial("test", master_key=key)) as sv:
            for path, values in SECRETS.items():
                for number, value in enumerate(values, start=1):
                    if (path, number) != ("app/s0", 1):
                        assert sv.get_text(path, number) == value
            assert sv.metadata("app/s0").versions[0].destroyed
            pending = sv.get_pending("app/s1")
            assert pending is not None and pending.text() == "pending-value"
            assert sv.verify_audit().ok
            assert isinstance(sv.backend, SqliteBackend)
            assert sv.backend.verify() == ()
    except UnlockError:
        return False
    return True


@pytest.mark.parametrize("when", ["mid", "after"])
def test_sigkill_at_every_step_loses_nothing(tmp_path: Path, when: str) -> None:
    """A rotation SIGKILLed inside or right after any of its transactions leaves a vault that opens with
    exactly one of the two keys (the old one finishing the rotation) and every version readable."""
    old_key = _crypto.new_master_key()
    template = _template(tmp_path, old_key)
    completed_at = 0
    for kill_at in range(1, 30):
        run = tmp_path / f"run-{kill_at}"
        run.mkdir(mode=0o700)
        vault = run / "vault.db"
        shutil.copy(template, vault)
        new_file = run / "new.key"
        env = _key_env(tmp_path, vault, old_key)
        worker = subprocess.run(
            [sys.executable, str(WORKER), "rekey-master-killed", str(kill_at), when, str(new_file), "4"],
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
        new_key = read_key_file(new_file) if new_file.exists() else None
        new_opens = new_key is not None and _try_open(vault, new_key)
        old_opens = _try_open(vault, old_key)
        assert new_opens != old_opens, (kill_at, new_opens, old_opens)
        if old_opens and new_key is not None:  # opening with the old key finished the rotation, or none began
            began = not _try_open(vault, old_key)
            assert not began or _try_open(vault, new_key)
        if worker.returncode == 0:
            completed_at = kill_at
            assert new_opens
            break
        assert worker.returncode == -9, worker.stderr.decode()
    # 12 versions in batches of 4: journal, 3 batches, the empty last batch and the finish were
    # each killed before the run that got through.
    assert completed_at == 7


def test_a_killed_rotation_is_finished_by_the_next_open(tmp_path: Path) -> None:
    """A rotation killed mid-batch leaves its journal; the next open with the old key finishes it."""
    old_key = _crypto.new_master_key()
    template = _template(tmp_path, old_key)
    vault = tmp_path / "vault.db"
    shutil.copy(template, vault)
    new_file = tmp_path / "new.key"
    subprocess.run(
        [sys.executable, str(WORKER), "rekey-master-killed", "3", "mid", str(new_file), "2"],
        env=_key_env(tmp_path, vault, old_key),
        capture_output=True,
        timeout=120,
        check=False,
    )
    conn = sqlite3.connect(vault)
    assert conn.execute("SELECT count(*) FROM meta WHERE key = 'rekey_journal'").fetchone()[0] == 1
    conn.close()
    assert _try_open(vault, old_key)  # resumes and finishes
    assert not _try_open(vault, old_key)
    assert _try_open(vault, read_key_file(new_file))


def test_no_secret_in_rotation_audit_or_output(settings: VaultSettings, vault_path: Path, tmp_path: Path) -> None:
    """The rotation's audit records and messages carry no value and no key."""
    with open_vault(settings) as sv:
        sv.set("app/db", "a-value-to-keep-private")
    env = cli_env(
        tmp_path,
        {"MAHAVISHNU_SECRETS__LOCAL__PATH": str(vault_path), "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": PASSPHRASE},
    )
    result = run_cli(["vault", "rekey", "--new-master-key", "--iterations", "600000"], env)
    assert result.returncode == 0, result.stderr.decode()
    assert b"a-value-to-keep-private" not in result.stdout + result.stderr
    conn = sqlite3.connect(vault_path)
    records = [r for (r,) in conn.execute("SELECT record FROM audit")]
    conn.close()
    assert any('"master_key_rotated"' in r for r in records)
    assert not any("a-value-to-keep-private" in r or PASSPHRASE in r for r in records)
