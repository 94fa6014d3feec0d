"""Rotation: generators, verified promotion, rollback with the apply hook, policies and --due."""

from __future__ import annotations

import json
import string
import time
from datetime import timedelta
from pathlib import Path

import pytest

from leakvault.errors import ConfigError
from leakvault.vault.config import VaultSettings
from leakvault.vault.errors import RotationError
from leakvault.vault.factory import open_vault
from leakvault.vault.rotation import (
    DEFAULT_SYMBOLS,
    PasswordPolicy,
    RotationFailedError,
    generate_password,
    generate_token,
    parse_duration,
    parse_generator,
)
from leakvault.vault.secret_vault import SecretVault

from .helpers import cli_env, make_vault, run_cli, write_user_config

# -- generators ------------------------------------------------------------------------------------


def test_password_policy_classes() -> None:
    """Generated passwords have the length and at least one character of each class asked for."""
    policy = PasswordPolicy(length=12, classes=("lower", "digits"))
    for _ in range(50):
        pw = generate_password(policy)
        assert len(pw) == 12
        assert set(pw) <= set(string.ascii_lowercase + string.digits)
        assert any(c.isdigit() for c in pw)
        assert any(c.islower() for c in pw)
    full = generate_password(PasswordPolicy())
    assert len(full) == 32
    assert any(c in DEFAULT_SYMBOLS for c in full)


@pytest.mark.parametrize(
    ("encoding", "alphabet", "length"),
    [
        ("hex", string.hexdigits.lower()[:16], 64),
        ("base62", string.ascii_letters + string.digits, 43),
        ("base64url", string.ascii_letters + string.digits + "-_", 43),
    ],
)
def test_token_encodings(encoding: str, alphabet: str, length: int) -> None:
    """Tokens of 32 bytes have a fixed length in each encoding and use only its alphabet."""
    for _ in range(20):
        token = generate_token(32, encoding)
        assert len(token) == length
        assert set(token) <= set(alphabet)


@pytest.mark.parametrize(
    "spec", ["password:4", "password:16:emoji", "token:8", "token:32:base32", "nonsense", "cmd:", "password:x"]
)
def test_bad_generator_specs(spec: str) -> None:
    """Invalid generator specs are configuration errors, found before any rotation starts."""
    with pytest.raises(ConfigError):
        parse_generator(spec)


def test_durations() -> None:
    """Policy intervals parse from compact forms."""
    assert parse_duration("30d") == timedelta(days=30)
    assert parse_duration("1d12h") == timedelta(hours=36)
    assert parse_duration("2w") == timedelta(days=14)
    for bad in ("", "30", "3x", "0d", "d", "99999999999d", "36700d"):
        with pytest.raises(ConfigError):
            parse_duration(bad)


# -- the rotation state machine (API) --------------------------------------------------------------


def test_successful_rotation_keeps_previous(sv: SecretVault) -> None:
    """apply then verify succeed: the new value is current, the old one stays in history."""
    sv.set("db/pw", "old")
    applied: list[bytes] = []
    result = sv.rotate(
        "db/pw", generator=lambda: b"new-value", apply=applied.append, verify=lambda v: v == b"new-value"
    )
    assert (result.previous_version, result.new_version) == (1, 2)
    assert sv.get_text("db/pw") == "new-value"
    assert sv.get_text("db/pw", 1) == "old"
    assert applied == [b"new-value"]
    meta = sv.metadata("db/pw")
    assert meta.rotated is not None
    assert not meta.has_pending
    steps = [r.action for r in sv.audit_records() if r.action.startswith("rotate")]
    assert steps == ["rotate.stage", "rotate.apply", "rotate.verify", "rotate.promote", "rotate"]


def test_failed_verification_rolls_back(sv: SecretVault) -> None:
    """A rejected value is discarded, current stays, and apply re-runs with the old value."""
    sv.set("db/pw", "old")
    applied: list[bytes] = []
    with pytest.raises(RotationFailedError) as info:
        sv.rotate("db/pw", generator=lambda: b"bad", apply=applied.append, verify=lambda v: False)
    assert info.value.result.rolled_back
    assert "bad" not in str(info.value)
    assert applied == [b"bad", b"old"]
    assert sv.get("db/pw").version == 1
    assert sv.get_text("db/pw") == "old"
    assert not sv.metadata("db/pw").has_pending


def test_failed_apply_rolls_back(sv: SecretVault) -> None:
    """An apply hook that raises is treated like a failed verification."""
    sv.set("db/pw", "old")
    calls: list[bytes] = []

    def apply(value: bytes) -> None:
        calls.append(value)
        if value == b"new":
            raise RuntimeError("database unreachable")

    with pytest.raises(RotationFailedError, match="database unreachable"):
        sv.rotate("db/pw", generator=lambda: b"new", apply=apply)
    assert calls == [b"new", b"old"]
    assert sv.get_text("db/pw") == "old"


def test_interrupted_rotation_resume_and_discard(sv: SecretVault) -> None:
    """A pending value left by a crash blocks rotation until resumed or discarded."""
    sv.set("db/pw", "old")
    sv.stage_pending("db/pw", "half-done")  # as if a rotation died after staging
    with pytest.raises(RotationError, match="interrupted rotation"):
        sv.rotate("db/pw", generator=lambda: b"x")
    result = sv.rotate("db/pw", generator=lambda: b"unused", resume=True)
    assert result.new_version == 2
    assert sv.get_text("db/pw") == "half-done"
    sv.stage_pending("db/pw", "abandoned")
    sv.rotate("db/pw", generator=lambda: b"fresh", discard_pending=True)
    assert sv.get_text("db/pw") == "fresh"


def test_concurrent_write_during_rotation(sv: SecretVault) -> None:
    """A write that lands mid-rotation is not overwritten: promotion fails and the value stays pending."""
    sv.set("db/pw", "old")

    def apply(value: bytes) -> None:
        sv.set("db/pw", "written-by-someone-else")

    with pytest.raises(RotationError, match="stays pending"):
        sv.rotate("db/pw", generator=lambda: b"rotated", apply=apply)
    assert sv.get_text("db/pw") == "written-by-someone-else"
    assert sv.metadata("db/pw").has_pending


def test_rotate_needs_rotate_capability(settings: VaultSettings) -> None:
    """An identity with only read cannot rotate; the denial is audited."""
    from leakvault.vault.errors import AccessDeniedError
    from leakvault.vault.factory import open_local_backend

    with open_vault(settings) as sv:
        sv.set("db/pw", "old")
        sv.set_policy(
            '[roles.admin]\ncapabilities=["admin"]\npaths=["**"]\n'
            '[roles.r]\ncapabilities=["read"]\npaths=["**"]\n'
            '[bindings]\nroot=["admin"]\nreader=["r"]\n',
            force=True,
        )
    backend, audit = open_local_backend(settings)
    with SecretVault(backend, audit=audit, identity="reader", actor="reader") as reader:
        with pytest.raises(AccessDeniedError):
            reader.rotate("db/pw", generator=lambda: b"x")
        assert reader.get_text("db/pw") == "old"


def test_apply_hook_needs_read_as_well(settings: VaultSettings) -> None:
    """The apply hook is handed the previous value and the verify hook the new one, so an identity
    that may rotate but not read cannot use either to learn a value; rotating without hooks works."""
    from leakvault.vault.errors import AccessDeniedError
    from leakvault.vault.factory import open_local_backend

    with open_vault(settings) as sv:
        sv.set("db/pw", "old")
        sv.set_policy(
            '[roles.admin]\ncapabilities=["admin"]\npaths=["**"]\n'
            '[roles.rot]\ncapabilities=["rotate"]\npaths=["**"]\n'
            '[bindings]\nroot=["admin"]\nrotator=["rot"]\n',
            force=True,
        )
    seen: list[bytes] = []
    backend, audit = open_local_backend(settings)
    with SecretVault(backend, audit=audit, identity="rotator", actor="rotator") as rotator:
        with pytest.raises(AccessDeniedError, match="'read'"):
            rotator.rotate("db/pw", generator=lambda: b"new", apply=seen.append, rollback_apply=seen.append)
        with pytest.raises(AccessDeniedError, match="'read'"):
            rotator.rotate("db/pw", generator=lambda: b"new", rollback_apply=seen.append)
        with pytest.raises(AccessDeniedError, match="'read'"):
            rotator.rotate("db/pw", generator=lambda: b"new", verify=lambda v: seen.append(v) is None)
        assert seen == []
        assert rotator.rotate("db/pw", generator=lambda: b"new").ok
    with open_vault(settings) as sv:
        assert sv.get_text("db/pw") == "new"
        outcomes = [(r.action, r.outcome) for r in sv.audit_records() if r.identity == "rotator"]
    assert outcomes[:3] == [("rotate", "denied")] * 3


# -- the CLI, with real hook processes -------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = cli_env(
        tmp_path,
        {
            "MAHAVISHNU_SECRETS__LOCAL__PATH": str(tmp_path / "vault.db"),
            "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": "rotation tests",
        },
    )
    # Made through the API with a cheap KDF: every CLI call below then unlocks in milliseconds.
    with open_vault(make_vault(tmp_path / "vault.db", "rotation tests")) as sv:
        sv.set("db/pw", "old-password")
    return e


def test_cli_rotate_verify_succeeds(env: dict[str, str], tmp_path: Path) -> None:
    """rotate --apply-cmd --verify: new current, old kept, hooks saw values only in their environment."""
    applied = tmp_path / "applied"
    argv_log = tmp_path / "argv"
    result = run_cli(
        [
            "vault",
            "rotate",
            "db/pw",
            "--generator",
            "password:20",
            "--apply-cmd",
            f'printf "%s|%s" "$LEAKVAULT_SECRET" "$LEAKVAULT_PREVIOUS_SECRET" > {applied}',
            "--verify",
            f'tr "\\0" " " < /proc/$$/cmdline > {argv_log}; test "${{#LEAKVAULT_SECRET}}" = 20',
        ],
        env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert b"version 1 -> 2" in result.stdout
    new = run_cli(["vault", "get", "db/pw"], env).stdout.decode()
    assert len(new) == 20
    assert applied.read_text() == f"{new}|old-password"
    assert new not in argv_log.read_text()
    assert run_cli(["vault", "get", "db/pw", "--version", "1"], env).stdout == b"old-password"
    history = json.loads(run_cli(["vault", "history", "db/pw", "--json"], env).stdout)
    assert history["rotated"] is not None
    assert history["current_version"] == 2
    audit = run_cli(["vault", "audit", "--json"], env).stdout.decode()
    assert new not in audit
    assert "rotate.verify" in audit


def test_cli_rotate_verify_fails(env: dict[str, str], tmp_path: Path) -> None:
    """A failing --verify: exit 2, current unchanged, pending gone, apply re-run with the old value."""
    calls = tmp_path / "calls"
    result = run_cli(
        [
            "vault",
            "rotate",
            "db/pw",
            "--apply-cmd",
            f'echo "$LEAKVAULT_ROTATION_STEP $LEAKVAULT_SECRET" >> {calls}',
            "--verify",
            "exit 1",
        ],
        env,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert b"verification rejected the new value" in result.stderr
    assert b"previous value re-applied" in result.stderr
    lines = calls.read_text().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("apply ")
    assert lines[1] == "rollback old-password"
    new_value = lines[0].split(" ", 1)[1]
    assert new_value.encode() not in result.stderr
    assert run_cli(["vault", "get", "db/pw"], env).stdout == b"old-password"
    history = json.loads(run_cli(["vault", "history", "db/pw", "--json"], env).stdout)
    assert history["current_version"] == 1
    assert history["has_pending"] is False


def test_cli_generate_cmd(env: dict[str, str], tmp_path: Path) -> None:
    """--generate-cmd uses the command's stdout as the new value."""
    result = run_cli(["vault", "rotate", "db/pw", "--generate-cmd", "echo from-command"], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert run_cli(["vault", "get", "db/pw"], env).stdout == b"from-command"
    failing = run_cli(["vault", "rotate", "db/pw", "--generate-cmd", "exit 3"], env, cwd=tmp_path)
    assert failing.returncode == 2
    assert b"exited with status 3" in failing.stderr


def test_cli_rotate_due_with_two_policies(env: dict[str, str], tmp_path: Path) -> None:
    """rotate --due rotates exactly what each policy says is due and prints a summary."""
    write_user_config(
        env,
        "[[vault.rotation.policy]]\n"
        'path = "db/*"\nrotate_every = "30d"\ngenerator = "password:24"\n'
        'verify = "test -n \\"$LEAKVAULT_SECRET\\""\n'
        "[[vault.rotation.policy]]\n"
        'paths = ["api/*"]\nrotate_every = "1d"\ngenerator = "token:32:hex"\n',
    )
    for path in ("db/fresh", "api/old", "api/fresh", "other/ignored"):
        assert run_cli(["vault", "set", path, "-"], env, input=b"v1", cwd=tmp_path).returncode == 0
    from .helpers import settings_for

    settings = settings_for(tmp_path / "vault.db", MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE="rotation tests")
    with open_vault(settings) as sv:
        now = sv.clock()
        sv.set_metadata("db/pw", custom={"rotated_at": (now - timedelta(days=40)).isoformat()})
        sv.set_metadata("api/old", custom={"rotated_at": (now - timedelta(days=2)).isoformat()})
    dry = run_cli(["vault", "rotate", "--due", "--dry-run", "--json"], env, cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr.decode()
    statuses = {row["path"]: row["status"] for row in json.loads(dry.stdout)}
    assert statuses == {"db/pw": "due", "db/fresh": "not due", "api/old": "due", "api/fresh": "not due"}

    result = run_cli(["vault", "rotate", "--due"], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode()
    assert "rotated  db/pw (version 1 -> 2)" in out
    assert "rotated  api/old (version 1 -> 2)" in out
    assert "2 rotated, 2 not due" in out
    assert len(run_cli(["vault", "get", "db/pw"], env).stdout) == 24
    token = run_cli(["vault", "get", "api/old"], env).stdout.decode()
    assert len(token) == 64
    assert set(token) <= set("0123456789abcdef")
    assert run_cli(["vault", "get", "api/fresh"], env).stdout == b"v1"
    again = run_cli(["vault", "rotate", "--due"], env, cwd=tmp_path)
    assert "0 rotated" not in again.stdout.decode()
    assert "rotated " not in again.stdout.decode().replace("not due", "")


def test_cli_rotate_due_reports_failures(env: dict[str, str], tmp_path: Path) -> None:
    """A due secret whose verification fails is reported and the command exits 2."""
    write_user_config(env, '[[vault.rotation.policy]]\npath = "db/*"\nrotate_every = "1s"\nverify = "false"\n')
    time.sleep(1.1)  # let the 1-second policy come due
    result = run_cli(["vault", "rotate", "--due"], env, cwd=tmp_path)
    assert result.returncode == 2
    assert "failed  db/pw" in result.stdout.decode()
    assert run_cli(["vault", "get", "db/pw"], env).stdout == b"old-password"


def test_cli_usage_errors(env: dict[str, str], tmp_path: Path) -> None:
    """PATH and --due are exclusive; --due without policies is a usage error."""
    assert run_cli(["vault", "rotate"], env, cwd=tmp_path).returncode == 2
    assert run_cli(["vault", "rotate", "db/pw", "--due"], env, cwd=tmp_path).returncode == 2
    result = run_cli(["vault", "rotate", "--due"], env, cwd=tmp_path)
    assert result.returncode == 2
    assert b"no rotation policies" in result.stderr
