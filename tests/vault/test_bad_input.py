"""Bad input to the vault commands: one line on stderr, exit code 2, no traceback, nothing lost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from leakvault.vault.audit import AuditFile
from leakvault.vault.config import VaultSettings
from leakvault.vault.errors import VaultError
from leakvault.vault.factory import open_vault

from .helpers import run_cli, write_user_config

INVALID_UTF8 = b"caf\xe9 {{ secret('app/token') }}\n"


@pytest.fixture
def env(vault_env: dict[str, str], settings: VaultSettings) -> dict[str, str]:
    with open_vault(settings) as sv:
        sv.set("app/token", "the-value")
    return vault_env


def one_line_error(args: list[str], env: dict[str, str], cwd: Path, stdin: bytes = b"") -> str:
    """Run ``leakvault ARGS``; it must fail with exit 2 and exactly one ``leakvault: error:`` line."""
    result = run_cli(args, env, input=stdin, cwd=cwd)
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert err.startswith("leakvault: error: ") and err.count("\n") == 1, err
    return err


def _unchanged(settings: VaultSettings) -> None:
    with open_vault(settings) as sv:
        assert sv.get_text("app/token") == "the-value"
        assert sv.metadata("app/token").current_version == 1
        assert not sv.metadata("app/token").has_pending
        assert sv.verify_audit().ok


# -- templates and outputs -------------------------------------------------------------------------


def test_template_not_utf8(env: dict[str, str], tmp_path: Path) -> None:
    """A template file, or one on stdin, that is not UTF-8 is refused and nothing is written."""
    template = tmp_path / "t.j2"
    template.write_bytes(INVALID_UTF8)
    out = tmp_path / "out"
    assert "is not UTF-8 text" in one_line_error(["inject", str(template), "-o", str(out)], env, tmp_path)
    assert "standard input is not UTF-8" in one_line_error(["inject", "-"], env, tmp_path, stdin=INVALID_UTF8)
    err = one_line_error(["run", "--template", f"C={template}", "--", "true"], env, tmp_path)
    assert str(template) in err and "UTF-8" in err
    assert not out.exists()


def test_inject_output_cannot_be_written(env: dict[str, str], tmp_path: Path) -> None:
    """An output path that cannot be created is one line, and no temporary file is left behind."""
    template = tmp_path / "t.j2"
    template.write_text('{{ secret("app/token") }}')
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me")
    err = one_line_error(["inject", str(template), "-o", str(blocker / "out")], env, tmp_path)
    assert f"cannot write {blocker / 'out'}" in err
    err = one_line_error(["inject", str(template), "-o", str(tmp_path / "no" / "dir" / "out")], env, tmp_path)
    assert "No such file or directory" in err
    assert blocker.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "t.j2", "vault"]


def test_run_command_that_cannot_execute(env: dict[str, str], tmp_path: Path) -> None:
    """An executable file the kernel cannot run exits 126 with one line, like a shell."""
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x7fELF-not-really")
    junk.chmod(0o755)
    result = run_cli(["run", "--env", "T=app/token", "--", str(junk)], env)
    assert result.returncode == 126
    assert result.stderr.decode().count("\n") == 1 and "cannot run" in result.stderr.decode()


# -- rotation policies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ('path = "app/*"\nrotate_every = "1d"\ntimeout = "abc"', "'timeout' must be a number"),
        ('path = "app/*"\nrotate_every = "1d"\nverify = 5', "'verify' must be a shell command"),
        ('path = "app/*"\nrotate_every = "1d"\napply = ""', "'apply' must be a shell command"),
        ('path = 5\nrotate_every = "1d"', "'path' (a glob)"),
        ('path = "app/*"\nrotate_every = "1d"\ngenerator = 7', "'generator' must be a string"),
        ('path = "app/*"\nrotate_every = "soon"', "invalid duration"),
    ],
    ids=["timeout", "verify", "apply", "path", "generator", "duration"],
)
def test_bad_rotation_policy_in_user_config(
    env: dict[str, str], tmp_path: Path, settings: VaultSettings, policy: str, message: str
) -> None:
    """A malformed rotation policy stops `rotate` before anything happens."""
    write_user_config(env, f"[[vault.rotation.policy]]\n{policy}\n")
    for args in (["vault", "rotate", "--due"], ["vault", "rotate", "app/token"]):
        assert message in one_line_error(args, env, tmp_path)
    _unchanged(settings)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'[[policy]]\npath = "caf\xe9"\nrotate_every = "1d"\n', "is not UTF-8 text"),
        (b"policy = 5\n", "must be an array of tables"),
        (b"[[policy]\n", "invalid TOML"),
        (b"policy = [5]\n", "a policy must be a table"),
    ],
    ids=["not-utf8", "not-a-list", "not-toml", "not-a-table"],
)
def test_bad_rotation_policy_file(
    env: dict[str, str], tmp_path: Path, settings: VaultSettings, content: bytes, message: str
) -> None:
    """A rotation policy file that is not UTF-8, not TOML or not shaped right is one line."""
    (tmp_path / "rotation.toml").write_bytes(content)
    with_file = {**env, "MAHAVISHNU_SECRETS__ROTATION__POLICY_FILE": "rotation.toml"}
    assert message in one_line_error(["vault", "rotate", "--due"], with_file, tmp_path)
    _unchanged(settings)


def test_missing_rotation_policy_file(env: dict[str, str], tmp_path: Path, settings: VaultSettings) -> None:
    """A policy file that does not exist is named in the error."""
    with_file = {**env, "MAHAVISHNU_SECRETS__ROTATION__POLICY_FILE": "nope.toml"}
    assert "cannot read rotation policy file nope.toml" in one_line_error(
        ["vault", "rotate", "--due"], with_file, tmp_path
    )


# -- access policies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[roles.x]\ncapabilities = ['r\xe9ad']\n", "is not UTF-8 text"),
        (b"roles = 5\n", "'roles' must be a table"),
        (b"bindings = 5\n", "'bindings' must be a table"),
        (b"impersonation = 'x'\n", "'impersonation' must be a table"),
    ],
    ids=["not-utf8", "roles", "bindings", "impersonation"],
)
def test_bad_access_policy(
    env: dict[str, str], tmp_path: Path, settings: VaultSettings, content: bytes, message: str
) -> None:
    """A malformed policy, named by the policy_file setting or given to `policy set`, is one line and
    leaves the stored policy as it was."""
    policy = tmp_path / "policy.toml"
    policy.write_bytes(content)
    with_file = {**env, "MAHAVISHNU_SECRETS__POLICY_FILE": str(policy)}
    assert message.replace("is not", "") in one_line_error(["vault", "policy", "set"], with_file, tmp_path)
    assert message.replace("is not", "") in one_line_error(["vault", "policy", "set", str(policy)], env, tmp_path)
    assert message.replace("is not", "") in one_line_error(["vault", "policy", "set", "-"], env, tmp_path, content)
    with open_vault(settings) as sv:
        assert not sv.policy().enforced  # still the implicit single-user policy
    _unchanged(settings)


# -- the audit trail of remote backends --------------------------------------------------------------


def test_audit_file_that_cannot_be_opened(tmp_path: Path) -> None:
    """An audit path under a regular file is a VaultError naming the setting, not a raw SQLite error."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(VaultError, match="MAHAVISHNU_SECRETS__AUDIT__PATH"):
        AuditFile(blocker / "audit.db")
    directory = tmp_path / "dir.db"
    directory.mkdir()
    with pytest.raises(VaultError, match="cannot open the audit trail"):
        AuditFile(directory)


CRASH = Path(__file__).with_name("_crash.py")


def test_inject_killed_mid_write_keeps_the_old_output(env: dict[str, str], tmp_path: Path) -> None:
    """`inject -o` SIGKILLed just before its rename leaves the old output whole and a private
    leftover, which the next successful run removes."""
    template = tmp_path / "t.j2"
    template.write_text('token = {{ secret("app/token") }}\n')
    out = tmp_path / "app.conf"
    out.write_text("old contents\n")
    killed = subprocess.run(
        [sys.executable, str(CRASH), "1", "inject", str(template), "-o", str(out)],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr.decode()
    assert out.read_text() == "old contents\n"
    (leftover,) = [p for p in tmp_path.iterdir() if p.name.startswith(".app.conf.")]
    assert leftover.stat().st_mode & 0o777 == 0o600
    done = run_cli(["inject", str(template), "-o", str(out)], env)
    assert done.returncode == 0, done.stderr.decode()
    assert out.read_text() == "token = the-value\n"
    assert not leftover.exists()


def test_binary_values(env: dict[str, str], tmp_path: Path, settings: VaultSettings) -> None:
    """Values that are not UTF-8, or hold NUL, are refused where text is needed and delivered
    byte for byte as files; a template may hold NUL (it is a file, not an environment)."""
    with open_vault(settings) as sv:
        sv.set("bin/latin1", b"caf\xe9\xff")
        sv.set("bin/nul", b"ab\x00cd")
    assert "bin/latin1 is not UTF-8 text" in one_line_error(
        ["run", "--env", "T=bin/latin1", "--", "true"], env, tmp_path
    )
    assert "bin/nul contains a NUL byte" in one_line_error(["run", "--env", "T=bin/nul", "--", "true"], env, tmp_path)
    copy = "import os, sys; sys.stdout.buffer.write(open(os.environ['F'], 'rb').read())"
    mounted = run_cli(["run", "--file", "F=bin/latin1", "--", sys.executable, "-c", copy], env)
    assert mounted.stdout == b"caf\xe9\xff", mounted.stderr.decode()
    err = one_line_error(["inject", "-"], env, tmp_path, stdin=b'{{ secret("bin/latin1") }}')
    assert "cannot be rendered" in err and "run --file" in err
    rendered = run_cli(["inject", "-"], env, input=b'[{{ secret("bin/nul") }}]')
    assert rendered.stdout == b"[ab\x00cd]", rendered.stderr.decode()


def test_busy_audit_file_is_a_clear_error(tmp_path: Path, settings: VaultSettings) -> None:
    """An audit file locked past the busy timeout fails the operation with a VaultError (a read
    returns nothing), never a raw SQLite error."""
    import sqlite3

    from leakvault.vault.audit import AuditLog
    from leakvault.vault.factory import open_local_backend
    from leakvault.vault.secret_vault import AuditWriteError, SecretVault

    with open_vault(settings) as sv:
        sv.set("app/token", "the-value")
    backend, _ = open_local_backend(settings)
    audit_file = AuditFile(tmp_path / "audit.db", busy_timeout_ms=50)
    blocker = sqlite3.connect(tmp_path / "audit.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with SecretVault(backend, audit=AuditLog(audit_file, None), on_close=audit_file.close) as sv:
            with pytest.raises(AuditWriteError, match=r"audit record could not be written .*database is locked"):
                sv.get("app/token")
            blocker.execute("ROLLBACK")
            assert sv.get_text("app/token") == "the-value"
    finally:
        blocker.close()


HUGE = str(2**64)


@pytest.mark.parametrize(
    "args",
    [
        ["vault", "get", "app/token", "--version", HUGE],
        ["vault", "delete", "app/token", "--version", HUGE],
        ["vault", "undelete", "app/token", "--version", HUGE],
        ["vault", "destroy", "app/token", "--version", HUGE],
        ["vault", "rollback", "app/token", "--to", HUGE],
        ["run", "--env", f"T=app/token@{HUGE}", "--", "true"],
    ],
    ids=["get", "delete", "undelete", "destroy", "rollback", "run"],
)
def test_version_numbers_past_64_bits(
    env: dict[str, str], tmp_path: Path, settings: VaultSettings, args: list[str]
) -> None:
    """A version number no store can hold is 'does not exist', not an overflow traceback."""
    assert f"version {HUGE} of secret 'app/token' does not exist" in one_line_error(args, env, tmp_path)
    _unchanged(settings)
