"""Bad input, faults and load against real vault files and real processes (issue 5's list)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leakvault.vault import _crypto
from leakvault.vault.config import VaultSettings
from leakvault.vault.errors import (
    IntegrityError,
    UnlockError,
    VaultError,
    VaultFormatError,
    VaultNotInitializedError,
)
from leakvault.vault.factory import open_vault
from leakvault.vault.keys import KeyMaterial
from leakvault.vault.secret_vault import SecretVault

from .helpers import PASSPHRASE, cli_env, make_vault, run_cli, settings_for

WORKER = Path(__file__).with_name("_worker.py")


def _dump(path: Path) -> list[tuple[object, ...]]:
    """Every row of every table, for 'nothing changed' comparisons."""
    conn = sqlite3.connect(path)
    try:
        rows: list[tuple[object, ...]] = []
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"):
            rows.extend((table, *r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2"))  # noqa: S608 - table names come from sqlite_master
        return rows
    finally:
        conn.close()


def _vault_env(tmp_path: Path, vault_path: Path, passphrase: str = PASSPHRASE) -> dict[str, str]:
    return cli_env(
        tmp_path,
        {
            "MAHAVISHNU_SECRETS__LOCAL__PATH": str(vault_path),
            "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": passphrase,
        },
    )


def _one_line_error(result: subprocess.CompletedProcess[bytes]) -> str:
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("leakvault: error:")]
    assert len(lines) == 1, err
    return lines[0]


# -- wrong key -------------------------------------------------------------------------------------


def test_wrong_passphrase_changes_nothing(settings: VaultSettings, vault_path: Path, tmp_path: Path) -> None:
    """A wrong passphrase is a clear UnlockError, through the API and the CLI, and the file is untouched."""
    with open_vault(settings) as sv:
        sv.set("app/db", "v1")
    before = _dump(vault_path)
    _crypto.clear_kek_cache()
    with pytest.raises(UnlockError, match="wrong passphrase"):
        open_vault(settings, key=KeyMaterial("test", passphrase="not it"))
    result = run_cli(["vault", "set", "app/db", "-"], _vault_env(tmp_path, vault_path, "not it"), input=b"v2")
    assert "wrong passphrase" in _one_line_error(result)
    assert _dump(vault_path) == before


def test_wrong_master_key_changes_nothing(vault_path: Path, tmp_path: Path, master_key_b64: str) -> None:
    """A master key that is not this vault's is refused before anything is read or written."""
    settings = make_vault(vault_path)
    with open_vault(settings) as sv:
        sv.set("app/db", "v1")
    before = _dump(vault_path)
    env = cli_env(
        tmp_path,
        {"MAHAVISHNU_SECRETS__LOCAL__PATH": str(vault_path), "MAHAVISHNU_SECRETS__LOCAL__MASTER_KEY": master_key_b64},
    )
    result = run_cli(["vault", "get", "app/db"], env)
    assert "wrong master key" in _one_line_error(result)
    assert master_key_b64 not in result.stderr.decode()
    assert _dump(vault_path) == before


def test_malformed_master_key_is_not_echoed(vault_path: Path, tmp_path: Path) -> None:
    """A malformed key variable is reported without repeating its contents."""
    make_vault(vault_path)
    bogus = "not-base64-but-secret-looking!!"
    env = cli_env(
        tmp_path,
        {"MAHAVISHNU_SECRETS__LOCAL__PATH": str(vault_path), "MAHAVISHNU_SECRETS__LOCAL__MASTER_KEY": bogus},
    )
    result = run_cli(["vault", "list"], env)
    line = _one_line_error(result)
    assert "MASTER_KEY" in line
    assert bogus not in result.stderr.decode()


# -- tampered ciphertexts --------------------------------------------------------------------------


def test_flipped_bit_fails_integrity(settings: VaultSettings, vault_path: Path, tmp_path: Path) -> None:
    """One flipped bit in a stored ciphertext fails with an error naming the path; other secrets still read."""
    with open_vault(settings) as sv:
        sv.set("app/db", "the value")
        sv.set("app/other", "fine")
    conn = sqlite3.connect(vault_path)
    with conn:
        blob = bytearray(conn.execute("SELECT ciphertext FROM versions WHERE path='app/db'").fetchone()[0])
        blob[len(blob) // 2] ^= 0x04
        conn.execute("UPDATE versions SET ciphertext=? WHERE path='app/db'", (bytes(blob),))
    conn.close()
    with open_vault(settings) as sv:
        with pytest.raises(IntegrityError) as info:
            sv.get("app/db")
        assert info.value.path == "app/db"
        assert sv.get_text("app/other") == "fine"
    line = _one_line_error(run_cli(["vault", "get", "app/db"], _vault_env(tmp_path, vault_path)))
    assert "integrity check failed for 'app/db' version 1" in line


def test_ciphertext_copied_to_another_path_fails(settings: VaultSettings, vault_path: Path, tmp_path: Path) -> None:
    """A ciphertext moved to another path's row does not decrypt there; the error names that path."""
    with open_vault(settings) as sv:
        sv.set("prod/db/password", "prod-secret")
        sv.set("dev/db/password", "dev-secret")
    conn = sqlite3.connect(vault_path)
    with conn:
        blob = conn.execute("SELECT ciphertext FROM versions WHERE path='prod/db/password'").fetchone()[0]
        conn.execute("UPDATE versions SET ciphertext=? WHERE path='dev/db/password'", (blob,))
    conn.close()
    with open_vault(settings) as sv:
        with pytest.raises(IntegrityError, match="dev/db/password"):
            sv.get("dev/db/password")
        assert sv.get_text("prod/db/password") == "prod-secret"
    line = _one_line_error(run_cli(["vault", "get", "dev/db/password"], _vault_env(tmp_path, vault_path)))
    assert "'dev/db/password'" in line
    assert "prod-secret" not in line


def test_ciphertext_copied_to_another_version_fails(settings: VaultSettings, vault_path: Path) -> None:
    """Replaying version 1's ciphertext as version 2 of the same path fails too."""
    with open_vault(settings) as sv:
        sv.set("k", "one")
        sv.set("k", "two")
    conn = sqlite3.connect(vault_path)
    with conn:
        blob = conn.execute("SELECT ciphertext FROM versions WHERE path='k' AND version=1").fetchone()[0]
        conn.execute("UPDATE versions SET ciphertext=? WHERE path='k' AND version=2", (blob,))
    conn.close()
    with open_vault(settings) as sv, pytest.raises(IntegrityError, match="version 2"):
        sv.get("k")


# -- damaged and foreign files ---------------------------------------------------------------------


def _fill(settings: VaultSettings, n: int) -> dict[str, bytes]:
    values = {f"bulk/s{i:04d}": secrets.token_bytes(48) for i in range(n)}
    with open_vault(settings) as sv:
        for path, value in values.items():
            sv.set(path, value)
    return values


def _read_all(settings: VaultSettings, values: dict[str, bytes]) -> None:
    with open_vault(settings) as sv:
        for path, value in values.items():
            assert sv.get(path).value == value


def test_truncated_database(settings: VaultSettings, vault_path: Path, tmp_path: Path) -> None:
    """A truncated vault fails with VaultFormatError (never wrong data, never a raw SQLite error)."""
    values = _fill(settings, 300)
    full = vault_path.read_bytes()
    assert not Path(f"{vault_path}-wal").exists() or Path(f"{vault_path}-wal").stat().st_size == 0
    for size in (len(full) // 2, 4096 + 100, 50):
        vault_path.write_bytes(full[:size])
        with pytest.raises(VaultFormatError):
            _read_all(settings, values)
        line = _one_line_error(run_cli(["vault", "list"], _vault_env(tmp_path, vault_path)))
        assert str(vault_path) in line or "vault" in line


@pytest.mark.parametrize(
    "content",
    [b"", b"hello, this is a text file\n", secrets.token_bytes(8192), b"SQLite format 3\x00" + bytes(100)],
    ids=["empty", "text", "random", "bad-sqlite-header"],
)
def test_non_vault_file(tmp_path: Path, content: bytes) -> None:
    """A file that is not a vault is refused with VaultFormatError and left as it was."""
    path = tmp_path / "not-a-vault.db"
    path.write_bytes(content)
    settings = settings_for(path, MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE="x")
    with pytest.raises(VaultFormatError):
        open_vault(settings)
    assert path.read_bytes() == content
    line = _one_line_error(
        run_cli(["vault", "get", "x"], _vault_env(tmp_path, path)),
    )
    assert "not a leakvault vault" in line or "damaged" in line


def test_other_sqlite_database(tmp_path: Path) -> None:
    """A valid SQLite database of another application is not mistaken for a vault."""
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(VaultFormatError, match="not a leakvault vault"):
        open_vault(settings_for(path, MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE="x"))


def test_missing_vault(tmp_path: Path) -> None:
    """No vault file: a clear 'run init' error, and nothing is created."""
    path = tmp_path / "nope" / "vault.db"
    with pytest.raises(VaultNotInitializedError, match="init"):
        open_vault(settings_for(path, MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE="x"))
    assert not path.parent.exists()


def test_future_format_version_refused(settings: VaultSettings, vault_path: Path) -> None:
    """A vault written by a newer format is refused with an upgrade hint, not misread."""
    conn = sqlite3.connect(vault_path)
    with conn:
        conn.execute("UPDATE meta SET value=? WHERE key='crypto_version'", (b"2",))
    conn.close()
    with pytest.raises(VaultFormatError, match="upgrade"):
        open_vault(settings)


# -- read-only directory ---------------------------------------------------------------------------


def _as_unprivileged() -> list[str]:
    """A command prefix under which directory permissions apply, even when the tests run as root."""
    if os.geteuid() != 0:
        return []
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("running as root without util-linux 'unshare': permissions cannot be enforced")
    # A fresh user namespace keeps uid 0 on disk but drops the capability to override permissions.
    probe = subprocess.run([unshare, "--user", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"'unshare --user' is not permitted here: {probe.stderr.decode().strip()}")
    return [unshare, "--user"]


def test_read_only_directory(settings: VaultSettings, vault_path: Path, tmp_path: Path) -> None:
    """In a read-only directory every command fails with a clear message and the vault is unchanged."""
    with open_vault(settings) as sv:
        sv.set("app/db", "v1")
    before = _dump(vault_path)
    prefix = _as_unprivileged()
    env = _vault_env(tmp_path, vault_path)
    directory = vault_path.parent
    directory.chmod(0o500)
    vault_path.chmod(0o400)
    try:
        for args, stdin in ((["vault", "set", "app/db", "-"], b"v2"), (["vault", "get", "app/db"], b"")):
            result = subprocess.run(
                [*prefix, sys.executable, "-m", "leakvault.cli", *args],
                env=env,
                input=stdin,
                capture_output=True,
                timeout=60,
                check=False,
            )
            line = _one_line_error(result)
            assert "read-only" in line or "permission" in line.lower(), line
            assert b"v1" not in result.stdout
        # init into a read-only directory: clear error, nothing created
        target = directory / "sub" / "new.db"
        init_env = cli_env(
            tmp_path,
            {"MAHAVISHNU_SECRETS__LOCAL__PATH": str(target), "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": "p"},
        )
        result = subprocess.run(
            [*prefix, sys.executable, "-m", "leakvault.cli", "vault", "init"],
            env=init_env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert "cannot create vault" in _one_line_error(result)
    finally:
        directory.chmod(0o700)
        vault_path.chmod(0o600)
    assert not (directory / "sub").exists()
    assert _dump(vault_path) == before


# -- concurrency -----------------------------------------------------------------------------------


def _worker_env(tmp_path: Path, vault_path: Path) -> dict[str, str]:
    return _vault_env(tmp_path, vault_path)


def test_two_processes_no_lost_update(settings: VaultSettings, vault_path: Path, tmp_path: Path) -> None:
    """Two processes incrementing one counter with check-and-set lose no update."""
    with open_vault(settings) as sv:
        sv.set("counter", "0")
    start = tmp_path / "start"
    per_worker = 60
    env = _worker_env(tmp_path, vault_path)
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), "increment", "counter", str(per_worker), str(start), "0.01"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    time.sleep(0.5)
    start.touch()
    conflicts = 0
    for w in workers:
        out, err = w.communicate(timeout=120)
        assert w.returncode == 0, err.decode()
        conflicts += int(out)
    with open_vault(settings) as sv:
        current = sv.get("counter")
    assert current.text() == str(2 * per_worker)
    assert current.version == 2 * per_worker + 1
    # With a 10 ms gap between read and write in both writers, collisions are all but certain;
    # this shows the conflict-and-retry path really ran rather than the writers taking turns.
    assert conflicts >= 1


def test_simultaneous_cas_writes_one_wins(settings: VaultSettings, vault_path: Path, tmp_path: Path) -> None:
    """Two CLI writers with the same --cas: exactly one succeeds, the other gets a clear CAS error."""
    with open_vault(settings) as sv:
        sv.set("app/db", "v1")
    env = _vault_env(tmp_path, vault_path)
    for round_no in range(3):
        current = 1 + round_no
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "leakvault.cli", "vault", "set", "app/db", "-", "--cas", str(current)],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for _ in range(2)
        ]
        results = [p.communicate(input=f"writer-{i}".encode(), timeout=60) for i, p in enumerate(procs)]
        codes = sorted(p.returncode for p in procs)
        assert codes == [0, 2], results
        loser = next(err for p, (_, err) in zip(procs, results, strict=True) if p.returncode == 2)
        assert b"check-and-set conflict on 'app/db'" in loser
        with open_vault(settings) as sv:
            assert sv.get("app/db").version == current + 1


def _rest_of_output(proc: subprocess.Popen[bytes]) -> bytes:
    """Everything a killed process printed that was not read yet. Read through `proc.stdout` itself:
    its buffer may hold lines already, which communicate() (reading the raw pipe) would lose."""
    proc.wait(timeout=30)
    assert proc.stdout is not None and proc.stderr is not None
    rest = proc.stdout.read()
    proc.stdout.close()
    proc.stderr.close()
    return rest


def test_sigkill_mid_write_keeps_committed_versions(settings: VaultSettings, vault_path: Path, tmp_path: Path) -> None:
    """A writer killed with SIGKILL mid-write leaves a vault whose every committed version reads back."""
    from ._worker import expected_value

    env = _worker_env(tmp_path, vault_path)
    committed: dict[int, str] = {}  # version -> value, reported by the writer after each commit
    for attempt in range(4):
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), "write-forever", "app/counter"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None
        for _ in range(15 + attempt * 7):
            line = proc.stdout.readline()
            assert line, proc.stderr.read().decode() if proc.stderr else ""
            version, i = map(int, line.split())
            committed[version] = expected_value(i)
        time.sleep(0.003 * attempt)  # land the kill at different points of a write
        proc.send_signal(signal.SIGKILL)
        rest = _rest_of_output(proc)
        for line in rest.decode().splitlines():
            if len(line.split()) == 2:  # a line cut by the kill is ignored
                version, i = map(int, line.split())
                committed[version] = expected_value(i)
        assert proc.returncode == -signal.SIGKILL
        conn = sqlite3.connect(vault_path)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
        with open_vault(settings) as sv:
            assert sv.metadata("app/counter").current_version >= max(committed)
            for version, value in committed.items():
                assert sv.get("app/counter", version).text() == value
            assert sv.verify_audit().ok


def test_sigkill_mid_rekey_leaves_exactly_one_passphrase(vault_path: Path, tmp_path: Path) -> None:
    """A rekey killed at any point leaves a vault that opens with exactly one passphrase: the last
    one reported, or the next if its commit landed unreported; never an older one. Secrets intact."""
    from ._worker import REKEY_PASSPHRASES, next_passphrase

    current = REKEY_PASSPHRASES[0]
    settings = make_vault(vault_path, current)
    with open_vault(settings) as sv:
        sv.set("app/db", "kept")
    env = _vault_env(tmp_path, vault_path, current)
    for attempt in range(5):
        env["MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE"] = current
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), "rekey-forever", current],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None
        reported = current
        for _ in range(3 + attempt * 4):
            line = proc.stdout.readline().decode().strip()
            assert line, proc.stderr.read().decode() if proc.stderr else ""
            reported = line
        time.sleep(0.002 * attempt)  # land the kill at different points of a rekey
        proc.send_signal(signal.SIGKILL)
        rest = _rest_of_output(proc)
        reported = ([reported] + [line for line in rest.decode().splitlines() if line in REKEY_PASSPHRASES])[-1]
        _crypto.clear_kek_cache()
        opens = []
        for passphrase in REKEY_PASSPHRASES:
            try:
                with open_vault(settings, key=KeyMaterial("test", passphrase=passphrase)) as sv:
                    assert sv.get_text("app/db") == "kept"
                    assert sv.verify_audit().ok
                opens.append(passphrase)
            except UnlockError:
                pass
        assert len(opens) == 1, opens
        assert opens[0] in (reported, next_passphrase(reported))
        current = opens[0]


# -- load ------------------------------------------------------------------------------------------


def test_thousand_secrets(settings: VaultSettings) -> None:
    """1,000 secrets are written and read back exactly, and list finds them all."""
    values = _fill(settings, 1000)
    with open_vault(settings) as sv:
        assert sv.list("bulk/") == sorted(values)
        for path, value in values.items():
            assert sv.get(path).value == value
        assert sv.verify_audit().ok


def test_init_refuses_existing_file(settings: VaultSettings) -> None:
    """init never overwrites an existing vault."""
    from leakvault.vault.factory import init_local_vault

    with pytest.raises(VaultError, match="already exists"):
        init_local_vault(settings, KeyMaterial("t", passphrase="x"))


def test_secret_vault_repr_has_no_key(sv: SecretVault) -> None:
    """repr of an open vault names the backend and identity only."""
    assert repr(sv) == "SecretVault(backend='local', identity='tester')"


@pytest.mark.parametrize("mode", [0o644, 0o602, 0o601])
def test_world_accessible_vault_refused(settings: VaultSettings, vault_path: Path, tmp_path: Path, mode: int) -> None:
    """A vault file other users may read or write is refused with the chmod to run; a group may share it."""
    with open_vault(settings) as sv:
        sv.set("app/db", "v1")
    vault_path.chmod(mode)
    line = _one_line_error(run_cli(["vault", "get", "app/db"], _vault_env(tmp_path, vault_path)))
    assert f"accessible to every user (mode {mode:o})" in line and "chmod 600" in line
    vault_path.chmod(0o660)
    with open_vault(settings) as sv:
        assert sv.get_text("app/db") == "v1"
