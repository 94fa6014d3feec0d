"""`SecretVault` (RBAC, audit) and the unchanged `leakvault vault` CLI on every backend."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from leakvault.vault.errors import AccessDeniedError, CasConflictError, VersionDeletedError
from leakvault.vault.factory import open_vault
from leakvault.vault.rbac import POLICY_PATH
from leakvault.vault.secret_vault import current_os_user

from ..helpers import cli_env, run_cli
from .conftest import ALL_BACKENDS, Env, settings_from

POLICY = """
[roles.admin]
capabilities = ["admin"]
paths = ["**"]

[roles.reader]
capabilities = ["read", "list"]
paths = ["app/**"]

[bindings]
alice = ["admin"]
bob = ["reader"]

[impersonation]
"{os_user}" = ["alice", "bob"]
"""


def test_secret_vault_end_to_end(backend_env: Env, tmp_path: Path) -> None:
    """Set, update with cas, history, rollback, delete/undelete, staging and the audit chain."""
    settings = settings_from(backend_env, tmp_path)
    with open_vault(settings, identity="alice") as vault:
        assert vault.create("app/db", "v1").version == 1
        assert vault.update("app/db", "v2", cas=1).version == 2
        with pytest.raises(CasConflictError):
            vault.update("app/db", "lost", cas=1)
        assert vault.rollback("app/db", to=1).version == 3
        assert vault.get_text("app/db") == "v1"
        vault.delete("app/db")
        with pytest.raises(VersionDeletedError):
            vault.get("app/db")
        vault.undelete("app/db")
        vault.stage_pending("app/db", "v4")
        assert vault.get_text("app/db") == "v1"
        promoted = vault.promote_pending("app/db", cas=3)
        assert promoted.version == 4
        meta = vault.history("app/db")
        assert [v.version for v in meta.versions] == [1, 2, 3, 4]
        assert meta.rotated is not None
        assert vault.list() == ["app/db"]
        report = vault.verify_audit()
        assert report.ok
        actions = [r.action for r in vault.audit_records()]
        assert {"set", "get", "rollback", "delete", "undelete", "promote_pending"} <= set(actions)


def test_rbac_is_enforced_on_every_backend(backend_env: Env, tmp_path: Path) -> None:
    """The policy stored in the backend itself restricts other identities there too."""
    settings = settings_from(backend_env, tmp_path)
    with open_vault(settings, identity="alice") as admin:
        admin.set("app/db", "s3cret-value")
        admin.set("ops/root", "other")
        admin.set_policy(POLICY.replace("{os_user}", current_os_user()))
        assert POLICY_PATH not in admin.list()
    with open_vault(settings, identity="bob") as reader:
        assert reader.get_text("app/db") == "s3cret-value"
        assert reader.list() == ["app/db"]
        with pytest.raises(AccessDeniedError):
            reader.set("app/db", "overwrite")
        with pytest.raises(AccessDeniedError):
            reader.get("ops/root")


@pytest.mark.parametrize("name", ALL_BACKENDS)
def test_cli_unchanged_on_every_backend(name: str, make_env: Callable[[str], Env], tmp_path: Path) -> None:
    """`leakvault vault set/get/list/history` behave the same whatever MAHAVISHNU_SECRETS__BACKEND says."""
    env = cli_env(tmp_path, make_env(name))
    value = "line one\nline two ✓"
    assert run_cli(["vault", "set", "app/token", "-"], env, input=value.encode()).returncode == 0
    assert run_cli(["vault", "set", "app/token", "-"], env, input=b"second").returncode == 0
    got = run_cli(["vault", "get", "app/token", "--version", "1"], env)
    assert (got.returncode, got.stdout.decode()) == (0, value), got.stderr
    listed = run_cli(["vault", "list", "app/"], env)
    assert listed.stdout.decode().split() == ["app/token"]
    history = run_cli(["vault", "history", "app/token", "--json"], env)
    assert history.returncode == 0, history.stderr
    assert [v["version"] for v in json.loads(history.stdout)["versions"]] == [1, 2]
