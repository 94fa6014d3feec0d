"""`leakvault vault migrate --from B --to B [PREFIX]`, run as the real CLI between real backends."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from leakvault.vault.errors import VersionDeletedError, VersionDestroyedError
from leakvault.vault.factory import open_vault
from leakvault.vault.secret_vault import SecretVault

from ..helpers import cli_env, run_cli
from .conftest import REMOTE_BACKENDS, Env, settings_from


def _both(make_env: Callable[[str], Env], remote: str) -> Env:
    # The remote's variables, then the local vault's (its path and passphrase win).
    return {**make_env(remote), **make_env("local")}


def _open(env: Env, backend: str, tmp_path: Path) -> SecretVault:
    return open_vault(dataclasses.replace(settings_from(env, tmp_path), backend=backend), identity="migrator")


def _fill(vault: SecretVault) -> None:
    """app/db: 1 live, 2 deleted, 3 destroyed, 4 live (current) + annotations + a pending value."""
    for value in ("one", "two", "three", "four"):
        vault.set("app/db", value)
    vault.delete("app/db", [2])
    vault.destroy("app/db", [3])
    vault.set_metadata("app/db", custom={"owner": "payments"})
    vault.stage_pending("app/db", "five")
    vault.set("app/api", b"\x00binary\xff")
    vault.set("other/x", "not under the prefix")


def _migrate(env: Env, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    result = run_cli(["vault", "migrate", *args], cli_env(tmp_path, env), timeout=180)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


@pytest.mark.parametrize("remote", REMOTE_BACKENDS)
def test_local_to_remote_with_history(remote: str, make_env: Callable[[str], Env], tmp_path: Path) -> None:
    """Every version keeps its number and state; values, annotations and the pending value arrive intact."""
    env = _both(make_env, remote)
    with _open(env, "local", tmp_path) as source:
        _fill(source)
    code, out, err = _migrate(env, tmp_path, "--from", "local", "--to", remote, "app/", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert [p["path"] for p in report["copied"]] == ["app/api", "app/db"]
    db = next(p for p in report["copied"] if p["path"] == "app/db")
    assert (db["versions"], db["deleted"], db["placeholders"], db["verified"], db["pending"]) == (4, 1, 1, 2, True)
    with _open(env, remote, tmp_path) as target:
        assert target.list() == ["app/api", "app/db"]
        meta = target.history("app/db")
        assert meta.current_version == 4
        assert [v.version for v in meta.versions] == [1, 2, 3, 4]
        assert target.get_text("app/db", 1) == "one"
        assert target.get_text("app/db") == "four"
        with pytest.raises(VersionDeletedError):
            target.get("app/db", 2)
        with pytest.raises(VersionDestroyedError):
            target.get("app/db", 3)
        target.undelete("app/db", [2])
        assert target.get_text("app/db", 2) == "two"
        assert meta.custom["owner"] == "payments"
        pending = target.get_pending("app/db")
        assert pending is not None and pending.value == b"five"
        assert target.get("app/api").value == b"\x00binary\xff"
    with _open(env, "local", tmp_path) as source, pytest.raises(VersionDeletedError):
        source.get("app/db", 2)  # the source is left as it was


def test_remote_to_local(make_env: Callable[[str], Env], tmp_path: Path) -> None:
    """Migration works the other way round too (AWS Secrets Manager -> local file)."""
    env = _both(make_env, "aws")
    with _open(env, "aws", tmp_path) as source:
        _fill(source)
    code, _out, err = _migrate(env, tmp_path, "--from", "aws", "--to", "local")
    assert code == 0, err
    assert "migrated 3 secret(s) from aws to local" in err
    with _open(env, "local", tmp_path) as target:
        assert target.list() == ["app/api", "app/db", "other/x"]
        assert [v.version for v in target.history("app/db").versions] == [1, 2, 3, 4]


def test_existing_target_paths_stop_everything(make_env: Callable[[str], Env], tmp_path: Path) -> None:
    """If any path exists in the target nothing is written; --skip-existing copies the rest."""
    env = _both(make_env, "gcp")
    with _open(env, "local", tmp_path) as source:
        _fill(source)
    with _open(env, "gcp", tmp_path) as target:
        target.set("app/api", "already here")
    code, _out, err = _migrate(env, tmp_path, "--from", "local", "--to", "gcp", "app/")
    assert code == 2
    assert err.strip().splitlines() == [
        "leakvault: error: 1 path(s) already exist in the gcp backend ('app/api'); nothing was copied "
        "(use --skip-existing to leave them alone)"
    ]
    with _open(env, "gcp", tmp_path) as target:
        assert target.list() == ["app/api"]
    code, _out, err = _migrate(env, tmp_path, "--from", "local", "--to", "gcp", "app/", "--skip-existing")
    assert code == 0, err
    with _open(env, "gcp", tmp_path) as target:
        assert target.list() == ["app/api", "app/db"]
        assert target.get_text("app/api") == "already here"


def test_target_version_limit_is_reported(make_env: Callable[[str], Env], tmp_path: Path) -> None:
    """KV v2 keeps 10 versions by default: the report says so and the kept ones are verified."""
    env = _both(make_env, "hashicorp")
    with _open(env, "local", tmp_path) as source:
        for number in range(1, 13):
            source.set("long/history", f"v{number}")
    code, _out, err = _migrate(env, tmp_path, "--from", "local", "--to", "hashicorp")
    assert code == 0, err
    assert "long/history: 12 version(s) (the target keeps only the newest 10), 10 verified" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "local", "--to", "local"], "--from and --to name the same backend"),
        (["--from", "local", "--to", "vaultwarden"], "--to 'vaultwarden' is not a backend"),
        (["--from", "local", "--to", "aws", "../etc"], "invalid secret path"),
    ],
)
def test_bad_arguments(args: list[str], message: str, make_env: Callable[[str], Env], tmp_path: Path) -> None:
    """Bad input is one line and exit code 2."""
    code, _out, err = _migrate(_both(make_env, "aws"), tmp_path, *args)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
