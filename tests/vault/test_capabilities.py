"""Capabilities mean what they say: a value needs read, erasing history needs delete (what destroy needs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from leakvault.vault.config import VaultSettings
from leakvault.vault.errors import AccessDeniedError
from leakvault.vault.factory import open_local_backend
from leakvault.vault.secret_vault import SecretVault, current_os_user

from .helpers import PASSPHRASE, cli_env, run_cli

ROLES = """
[roles.admin]
capabilities = ["admin"]
paths = ["**"]

[roles.rot]
capabilities = ["rotate"]
paths = ["db/*"]

[roles.writer]
capabilities = ["write", "read"]
paths = ["db/*"]

[roles.pruner]
capabilities = ["write", "delete"]
paths = ["db/*"]
"""


def _policy(extra: str = "") -> str:
    return ROLES + f'[bindings]\nroot = ["admin"]\nrotator = ["rot"]\nwriter = ["writer"]\npruner = ["pruner"]\n{extra}'


def _as(settings: VaultSettings, identity: str) -> SecretVault:
    backend, audit = open_local_backend(settings)
    return SecretVault(backend, audit=audit, identity=identity, actor=identity)


def test_get_pending_needs_read(settings: VaultSettings) -> None:
    """An identity with rotate but not read cannot see a pending value."""
    with _as(settings, "root") as sv:
        sv.set("db/pw", "current-value")
        sv.stage_pending("db/pw", "pending-value")
        sv.set_policy(_policy(), force=True)
    with _as(settings, "rotator") as rotator, pytest.raises(AccessDeniedError, match="'read'"):
        rotator.get_pending("db/pw")
    with _as(settings, "root") as sv:
        pending = sv.get_pending("db/pw")
        assert pending is not None and pending.value == b"pending-value"
        denied = [r.action for r in sv.audit_records() if r.identity == "rotator" and r.outcome == "denied"]
    assert denied == ["get_pending"]


def test_resume_with_verify_hook_needs_read(tmp_path: Path, settings: VaultSettings) -> None:
    """`rotate --resume --verify CMD` as an identity with only rotate never hands the pending value to CMD."""
    me = current_os_user()
    with _as(settings, "root") as sv:
        sv.set("db/pw", "current-value")
        sv.stage_pending("db/pw", "pending-value")
        sv.set_policy(_policy(f'[impersonation]\n"{me}" = ["rotator"]\n'), force=True)
    seen = tmp_path / "seen"
    env = cli_env(
        tmp_path,
        {
            "MAHAVISHNU_SECRETS__LOCAL__PATH": str(settings.local.path),
            "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": PASSPHRASE,
        },
    )
    result = run_cli(
        [
            "vault",
            "--as",
            "rotator",
            "rotate",
            "db/pw",
            "--resume",
            "--verify",
            f'printf %s "$LEAKVAULT_SECRET" > {seen}',
        ],
        env,
        cwd=tmp_path,
    )
    assert not seen.exists()  # before the fix: it held the pending value
    assert result.returncode == 2
    assert "access denied: 'rotator' lacks 'read' on 'db/pw'" in result.stderr.decode()
    with _as(settings, "root") as sv:
        assert sv.get_text("db/pw") == "current-value"
        assert sv.get_pending("db/pw") is not None  # still there to resume by someone who may read it


def test_shrinking_max_versions_needs_delete(settings: VaultSettings) -> None:
    """Lowering max_versions (or setting a first limit) erases history, so write alone is not enough."""
    with _as(settings, "root") as sv:
        for n in range(5):
            sv.set("db/pw", f"v{n}")
        sv.set_policy(_policy(), force=True)
    with _as(settings, "writer") as writer:
        with pytest.raises(AccessDeniedError, match="'delete'"):
            writer.set_metadata("db/pw", max_versions=2)
        writer.set_metadata("db/pw", custom={"owner": "team"})  # annotations need only write
    with _as(settings, "root") as sv:
        assert len(sv.history("db/pw").versions) == 5
    with _as(settings, "pruner") as pruner:
        pruner.set_metadata("db/pw", max_versions=3)
    with _as(settings, "writer") as writer:
        writer.set_metadata("db/pw", max_versions=10)  # raising the limit erases nothing
        with pytest.raises(AccessDeniedError, match="'delete'"):
            writer.set_metadata("db/pw", max_versions=4)
        writer.set_metadata("db/pw", max_versions=0)  # 0: no limit
