"""RBAC: globs, policy parsing, and enforcement inside SecretVault with every denial audited."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from leakvault.errors import ConfigError
from leakvault.vault.config import VaultSettings
from leakvault.vault.errors import AccessDeniedError, VaultError
from leakvault.vault.factory import load_policy_file, open_local_backend, open_vault
from leakvault.vault.rbac import SINGLE_USER, glob_matches, parse_policy
from leakvault.vault.secret_vault import SecretVault

POLICY = """
[roles.admin]
capabilities = ["admin"]
paths = ["**"]

[roles.app-reader]
capabilities = ["read", "list"]
paths = ["prod/app/*"]

[roles.rotator]
capabilities = ["rotate", "read"]
paths = ["prod/**"]

[bindings]
alice = ["admin"]
app = ["app-reader"]
ops = ["rotator"]

[impersonation]
deployer = ["app"]
"""


@pytest.mark.parametrize(
    ("glob", "path", "expected"),
    [
        ("prod/*", "prod/db", True),
        ("prod/*", "prod/db/password", False),
        ("prod/**", "prod/db/password", True),
        ("prod/**", "prod", False),
        ("**", "anything/at/all", True),
        ("prod/db?", "prod/db1", True),
        ("prod/db?", "prod/db/", False),
        ("prod/a.b", "prod/aXb", False),
        ("*/password", "prod/password", True),
    ],
)
def test_glob(glob: str, path: str, expected: bool) -> None:
    """* stays within a segment, ** crosses segments, other characters are literal."""
    assert glob_matches(glob, path) is expected


def test_policy_decisions() -> None:
    """Roles grant exactly their capabilities on their globs; admin implies all."""
    policy = parse_policy(POLICY)
    assert policy.allows("alice", "delete", "any/thing")
    assert policy.allows("alice", "admin", None)
    assert policy.allows("app", "read", "prod/app/db")
    assert not policy.allows("app", "read", "prod/app/db/nested")
    assert not policy.allows("app", "write", "prod/app/db")
    assert not policy.allows("app", "admin", None)
    assert policy.allows("ops", "rotate", "prod/x/y")
    assert not policy.allows("stranger", "read", "prod/app/db")
    assert policy.may_act_as("deployer", "app")
    assert not policy.may_act_as("deployer", "alice")
    assert policy.may_act_as("alice", "app")  # admins may act as anyone
    assert SINGLE_USER.allows("anyone", "admin", None)


def test_policy_round_trips() -> None:
    """to_toml output parses back to the same decisions."""
    policy = parse_policy(POLICY)
    again = parse_policy(policy.to_toml())
    assert again.roles == policy.roles
    assert dict(again.bindings) == dict(policy.bindings)
    assert dict(again.impersonation) == dict(policy.impersonation)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[roles.x]\ncapabilities = ['fly']\npaths = ['**']", "unknown capabilities"),
        ("[bindings]\nbob = ['ghost']", "undefined role"),
        ("[roles.x]\ncapabilities = 'read'", "list of strings"),
        ("[roles.x]\npath = ['**']", "unknown key"),
        ("[extra]\n", "unknown section"),
        ("not toml [", "invalid TOML"),
    ],
)
def test_policy_errors(text: str, message: str) -> None:
    """Invalid policies are ConfigErrors that say what is wrong."""
    with pytest.raises(ConfigError, match=message):
        parse_policy(text)


def open_as(settings: VaultSettings, identity: str) -> SecretVault:
    """Open the vault as if OS user `identity` ran the command (no impersonation involved)."""
    backend, audit = open_local_backend(settings)
    policy = load_policy_file(settings)
    return SecretVault(backend, audit=audit, identity=identity, actor=identity, policy=policy)


def test_enforced_in_vault_and_denials_audited(settings: VaultSettings) -> None:
    """SecretVault enforces the stored policy; denials raise a PermissionError and are audited."""
    with open_vault(settings) as root:
        root.set("prod/app/db", "s3cret")
        root.set("prod/other", "x")
        root.set_policy(POLICY, force=True)
    with open_as(settings, "app") as app:
        assert app.get_text("prod/app/db") == "s3cret"
        assert app.list() == ["prod/app/db"]
        with pytest.raises(AccessDeniedError) as info:
            app.set("prod/app/db", "overwrite")
        assert isinstance(info.value, PermissionError)
        assert "'app' lacks 'write' on 'prod/app/db'" in str(info.value)
        with pytest.raises(PermissionError):
            app.get("prod/other")
        with pytest.raises(PermissionError):
            app.verify_audit()
    with open_as(settings, "alice") as alice:
        records = alice.audit_records()
        assert alice.get_text("prod/app/db") == "s3cret"
    denied = [(r.identity, r.action, r.path) for r in records if r.outcome == "denied"]
    assert ("app", "set", "prod/app/db") in denied
    assert ("app", "get", "prod/other") in denied
    assert ("app", "audit_verify", None) in denied


def test_impersonation_needs_policy(settings: VaultSettings) -> None:
    """Acting as another identity requires the policy to allow it for the real OS user."""
    with open_vault(settings) as sv:
        sv.set("prod/app/db", "v")
        sv.set_policy(POLICY, force=True)
    backend, audit = open_local_backend(settings)
    with SecretVault(backend, audit=audit, identity="app", actor="deployer") as sv:
        assert sv.get_text("prod/app/db") == "v"
    backend, audit = open_local_backend(settings)
    sv = SecretVault(backend, audit=audit, identity="alice", actor="deployer")
    with sv, pytest.raises(AccessDeniedError, match="act as alice"):
        sv.get("prod/app/db")


def test_policy_lockout_guard(settings: VaultSettings) -> None:
    """A policy that would strip the caller's own admin right is refused unless forced."""
    with open_as(settings, "bob") as sv, pytest.raises(VaultError, match="lock you out"):
        sv.set_policy(POLICY)
    with open_as(settings, "alice") as sv:
        sv.set_policy(POLICY)
        assert sv.policy().enforced


def test_reserved_paths_hidden_and_protected(settings: VaultSettings) -> None:
    """The stored policy never shows in list and cannot be read or written as a secret."""
    from leakvault.vault.errors import InvalidPathError

    with open_as(settings, "alice") as sv:
        sv.set_policy(POLICY)
        assert sv.list() == []
        with pytest.raises(InvalidPathError):
            sv.get(".leakvault/policy")
        with pytest.raises(InvalidPathError):
            sv.set(".leakvault/policy", "[bindings]\nmallory = ['admin']")


def test_policy_file_setting_does_not_replace_the_stored_policy(tmp_path: Path) -> None:
    """MAHAVISHNU_SECRETS__POLICY_FILE granting everyone admin changes nothing: it is only the input
    of `policy set`, which needs admin under the stored policy."""
    import os
    import pwd

    from .helpers import PASSPHRASE, cli_env, make_vault, run_cli

    me = pwd.getpwuid(os.geteuid()).pw_name
    settings = make_vault(tmp_path / "v.db")
    with open_vault(settings) as sv:
        sv.set("prod/db", "the-value")
        sv.set_policy(
            '[roles.admin]\ncapabilities = ["admin"]\npaths = ["**"]\n'
            '[roles.reader]\ncapabilities = ["read"]\npaths = ["pub/*"]\n'
            f'[bindings]\nalice = ["admin"]\n"{me}" = ["reader"]\n',
            force=True,
        )
    grant = tmp_path / "grant.toml"
    grant.write_text('[roles.all]\ncapabilities = ["admin"]\npaths = ["**"]\n[bindings]\n"*" = ["all"]\n')
    env = cli_env(
        tmp_path,
        {
            "MAHAVISHNU_SECRETS__LOCAL__PATH": str(settings.local.path),
            "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": PASSPHRASE,
            "MAHAVISHNU_SECRETS__POLICY_FILE": str(grant),
        },
    )
    got = run_cli(["vault", "get", "prod/db"], env)
    assert got.returncode == 2 and got.stdout == b""  # before: the file replaced the policy and this printed
    assert f"access denied: '{me}' lacks 'read' on 'prod/db'" in got.stderr.decode()
    swap = run_cli(["vault", "policy", "set"], env)  # the file as input: needs admin
    assert swap.returncode == 2 and "lacks 'admin'" in swap.stderr.decode()
    with open_as(settings, "alice") as sv:
        assert sv.policy().allows("alice", "admin", None)
        assert not sv.policy().allows(me, "read", "prod/db")
    with open_vault(replace(settings, policy_file=grant), identity=me) as sv, pytest.raises(AccessDeniedError):
        sv.get("prod/db")


def test_admin_sets_the_policy_from_the_policy_file_setting(tmp_path: Path) -> None:
    """`vault policy set` with no FILE reads the policy_file setting; the result is stored in the vault."""
    from .helpers import PASSPHRASE, cli_env, make_vault, run_cli

    settings = make_vault(tmp_path / "v.db")
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    env = cli_env(
        tmp_path,
        {
            "MAHAVISHNU_SECRETS__LOCAL__PATH": str(settings.local.path),
            "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": PASSPHRASE,
            "MAHAVISHNU_SECRETS__POLICY_FILE": str(policy),
        },
    )
    result = run_cli(["vault", "policy", "set", "--force"], env)
    assert result.returncode == 0, result.stderr
    policy.unlink()
    with open_as(settings, "alice") as sv:
        assert sv.policy().bindings["app"] == ("app-reader",)


def test_deleting_the_stored_policy_is_detected(settings: VaultSettings) -> None:
    """Removing the policy's rows from the file does not fall back to single-user mode: the vault refuses."""
    import sqlite3

    from leakvault.vault.errors import IntegrityError

    with open_vault(settings) as sv:
        sv.set("prod/app/db", "v")
        sv.set_policy(POLICY, force=True)
    conn = sqlite3.connect(settings.local.path)
    with conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            if "path" in columns:
                conn.execute(f"DELETE FROM {table} WHERE path = '.leakvault/policy'")  # noqa: S608 - test tables
    conn.close()
    # Refused on open or at the first operation (format v2 may name the missing rows itself).
    with pytest.raises(VaultError) as info, open_vault(settings, identity="app") as app:
        app.set("prod/app/db", "mine now")
    assert isinstance(info.value, IntegrityError) or "policy" in str(info.value)
    assert not isinstance(info.value, AccessDeniedError)


def test_user_environment_variables_do_not_change_who_you_are(tmp_path: Path) -> None:
    """$USER and $LOGNAME are not the OS user: setting them claims no identity (and no admin)."""
    import os
    import pwd

    from .helpers import PASSPHRASE, cli_env, make_vault, run_cli

    me = pwd.getpwuid(os.geteuid()).pw_name
    settings = make_vault(tmp_path / "v.db")
    with open_vault(settings) as sv:
        sv.set("app/x", "v")
        sv.set_policy(
            '[roles.admin]\ncapabilities = ["admin"]\npaths = ["**"]\n'
            '[roles.reader]\ncapabilities = ["read"]\npaths = ["app/*"]\n'
            f'[bindings]\nalice-the-admin = ["admin"]\n"{me}" = ["reader"]\n',
            force=True,
        )
    env = cli_env(
        tmp_path,
        {
            "MAHAVISHNU_SECRETS__LOCAL__PATH": str(tmp_path / "v.db"),
            "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": PASSPHRASE,
            "USER": "alice-the-admin",
            "LOGNAME": "alice-the-admin",
            "LNAME": "alice-the-admin",
            "USERNAME": "alice-the-admin",
        },
    )
    result = run_cli(["vault", "audit"], env)
    assert result.returncode == 2
    assert f"access denied: '{me}' lacks 'admin'" in result.stderr.decode()
    assert run_cli(["vault", "get", "app/x"], env).stdout == b"v"
