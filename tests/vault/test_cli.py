"""``leakvault vault ...`` as a real subprocess: the walkthrough in docs/vault.md, exit codes, errors."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from .helpers import cli_env, run_cli


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(
        tmp_path,
        {
            "MAHAVISHNU_SECRETS__LOCAL__PATH": str(tmp_path / "vault.db"),
            "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": "a long passphrase for tests",
        },
    )


def ok(args: list[str], env: dict[str, str], stdin: bytes | None = None) -> str:
    result = run_cli(args, env, input=stdin)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def fails(args: list[str], env: dict[str, str], code: int = 2, stdin: bytes | None = None) -> str:
    result = run_cli(args, env, input=stdin)
    err = result.stderr.decode()
    assert result.returncode == code, (result.returncode, err)
    assert "Traceback" not in err
    return err


def test_walkthrough(env: dict[str, str], tmp_path: Path) -> None:
    """init, set, get, set again (rotate by hand), history, rollback, delete/undelete, audit."""
    fails(["vault", "get", "x"], env)  # before init: a clear error
    ok(["vault", "init"], env)
    assert "already exists" in fails(["vault", "init"], env)

    ok(["vault", "set", "myapp/db/password", "-"], env, b"first-value\n")
    assert ok(["vault", "get", "myapp/db/password"], env) == "first-value"  # newline stripped, bare value
    ok(["vault", "set", "myapp/db/password", "-"], env, b"second-value")
    assert ok(["vault", "get", "myapp/db/password"], env) == "second-value"
    assert ok(["vault", "get", "myapp/db/password", "--version", "1"], env) == "first-value"

    meta = json.loads(ok(["vault", "get", "myapp/db/password", "--json"], env))
    assert meta["version"] == 2
    assert "second-value" not in json.dumps(meta)

    history = json.loads(ok(["vault", "history", "myapp/db/password", "--json"], env))
    assert [v["status"] for v in history["versions"]] == ["live", "current"]
    table = ok(["vault", "history", "myapp/db/password"], env)
    assert "current" in table
    assert "value" not in table

    ok(["vault", "rollback", "myapp/db/password", "--to", "1"], env)
    assert ok(["vault", "get", "myapp/db/password"], env) == "first-value"

    ok(["vault", "delete", "myapp/db/password"], env)
    assert "is deleted" in fails(["vault", "get", "myapp/db/password"], env)
    ok(["vault", "undelete", "myapp/db/password"], env)
    assert ok(["vault", "get", "myapp/db/password"], env) == "first-value"

    ok(["vault", "destroy", "myapp/db/password", "--version", "2"], env)
    assert "destroyed" in fails(["vault", "get", "myapp/db/password", "--version", "2"], env)

    assert ok(["vault", "list"], env).split() == ["myapp/db/password"]
    assert json.loads(ok(["vault", "list", "myapp/", "--json"], env)) == ["myapp/db/password"]

    log = ok(["vault", "audit"], env)
    assert "set myapp/db/password v1 ok" in log
    assert "first-value" not in log and "second-value" not in log
    records = json.loads(ok(["vault", "audit", "--json"], env))
    assert {"timestamp", "identity", "action", "path", "version", "outcome", "source"} <= set(records[0])
    assert "audit trail intact" in ok(["vault", "audit", "--verify"], env)
    stats = json.loads(ok(["vault", "audit", "--stats", "--json", "--stale-days", "30"], env))
    assert stats["reads"]["myapp/db/password"] >= 4


def test_value_on_command_line_warns(env: dict[str, str]) -> None:
    """A literal VALUE works but warns about shell history."""
    ok(["vault", "init"], env)
    result = run_cli(["vault", "set", "a/b", "literal"], env)
    assert result.returncode == 0
    assert b"shell history" in result.stderr
    assert ok(["vault", "get", "a/b"], env) == "literal"


def test_binary_value_round_trips(env: dict[str, str]) -> None:
    """Bytes from stdin come back byte for byte from get."""
    ok(["vault", "init"], env)
    data = bytes(range(256)) + b"\x00end"
    ok(["vault", "set", "bin/blob", "-"], env, data)
    result = run_cli(["vault", "get", "bin/blob"], env)
    assert result.stdout == data


def test_cas_flag(env: dict[str, str]) -> None:
    """--cas 0 creates only; a stale --cas is a one-line conflict error with exit 2."""
    ok(["vault", "init"], env)
    ok(["vault", "set", "k", "-", "--cas", "0"], env, b"a")
    assert "check-and-set conflict" in fails(["vault", "set", "k", "-", "--cas", "0"], env, stdin=b"b")
    ok(["vault", "set", "k", "-", "--cas", "1"], env, b"b")


def test_invalid_path_and_usage(env: dict[str, str]) -> None:
    """Bad paths and bad flags exit 2 with one line."""
    ok(["vault", "init"], env)
    assert "invalid secret path" in fails(["vault", "set", "../etc/passwd", "-"], env, stdin=b"x")
    fails(["vault", "destroy", "k"], env)  # --version is required
    fails(["vault", "rollback", "k"], env)


def test_audit_verify_exit_codes(env: dict[str, str], tmp_path: Path) -> None:
    """audit --verify exits 1 on tampering and on a head that differs from the pinned one."""
    ok(["vault", "init"], env)
    ok(["vault", "set", "k", "-"], env, b"v")
    ok(["vault", "get", "k"], env)
    head = json.loads(ok(["vault", "audit", "--verify", "--json"], env))["head"]
    ok(["vault", "audit", "--verify", "--expect-head", head], env)  # the verify itself appends a record
    conn = sqlite3.connect(tmp_path / "vault.db")
    with conn:
        conn.execute("UPDATE audit SET record = replace(record, '\"get\"', '\"list\"') WHERE seq = 2")
    conn.close()
    assert "audit trail BROKEN: record 2 was altered" in fails(["vault", "audit", "--verify"], env, code=1)


def test_rekey(env: dict[str, str]) -> None:
    """rekey switches to the new passphrase; the old one stops working; secrets survive."""
    ok(["vault", "init"], env)
    ok(["vault", "set", "k", "-"], env, b"kept")
    fails(["vault", "rekey"], env)  # no new passphrase and no terminal
    ok(["vault", "rekey"], {**env, "MAHAVISHNU_SECRETS__LOCAL__NEW_PASSPHRASE": "the new one"})
    assert "wrong passphrase" in fails(["vault", "get", "k"], env)
    new_env = {**env, "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": "the new one"}
    assert ok(["vault", "get", "k"], new_env) == "kept"


def test_init_with_key_file(tmp_path: Path) -> None:
    """init --key-file writes a 0600 key file that then unlocks the vault."""
    key_file = tmp_path / "vault.key"
    env = cli_env(tmp_path, {"MAHAVISHNU_SECRETS__LOCAL__PATH": str(tmp_path / "v.db")})
    ok(["vault", "init", "--key-file", str(key_file)], env)
    assert key_file.stat().st_mode & 0o777 == 0o600
    env["MAHAVISHNU_SECRETS__LOCAL__KEY_FILE"] = str(key_file)
    ok(["vault", "set", "k", "-"], env, b"v")
    assert ok(["vault", "get", "k"], env) == "v"


def test_policy_and_identity(env: dict[str, str], tmp_path: Path) -> None:
    """A stored policy restricts --as identities; denials exit 2 and are audited."""
    import pwd

    me = pwd.getpwuid(os.geteuid()).pw_name
    ok(["vault", "init"], env)
    ok(["vault", "set", "prod/app/db", "-"], env, b"v")
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f'[roles.admin]\ncapabilities = ["admin"]\npaths = ["**"]\n'
        f'[roles.reader]\ncapabilities = ["read"]\npaths = ["prod/app/*"]\n'
        f'[bindings]\n"{me}" = ["admin"]\napp = ["reader"]\n'
    )
    ok(["vault", "policy", "set", str(policy)], env)
    assert "[roles.reader]" in ok(["vault", "policy", "show"], env)
    assert ok(["vault", "--as", "app", "get", "prod/app/db"], env) == "v"
    err = fails(["vault", "--as", "app", "set", "prod/app/db", "-"], env, stdin=b"x")
    assert "access denied: 'app' lacks 'write' on 'prod/app/db'" in err
    env_identity = {**env, "MAHAVISHNU_SECRETS__IDENTITY": "app"}
    fails(["vault", "audit"], env_identity)
    records = json.loads(ok(["vault", "audit", "--json"], env))
    assert any(r["identity"] == "app" and r["outcome"] == "denied" and r["actor"] == me for r in records)


def test_help_lists_commands(env: dict[str, str]) -> None:
    """The vault group lists every sub-command from DESIGN.md that exists in this build."""
    out = ok(["vault", "--help"], env)
    for name in (
        "init",
        "set",
        "get",
        "list",
        "delete",
        "undelete",
        "destroy",
        "history",
        "rollback",
        "audit",
        "rekey",
    ):
        assert name in out
