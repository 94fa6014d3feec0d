"""Fixtures for the vault tests: real vault files in tmp_path."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from leakvault.vault import _crypto
from leakvault.vault.config import VaultSettings
from leakvault.vault.factory import open_vault
from leakvault.vault.secret_vault import SecretVault

from .helpers import PASSPHRASE, cli_env, fast_tempdir, make_vault


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """The test's directory, on a RAM-backed filesystem where there is one (see `fast_tempdir`)."""
    directory = fast_tempdir()
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(autouse=True)
def private_config_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own $XDG_CONFIG_HOME (the user's config file, the remote audit key and
    heads), so no test reads or writes the real ~/.config/leakvault."""
    directory = fast_tempdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(directory))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def vault_path(tmp_path: Path) -> Path:
    return tmp_path / "vault" / "vault.db"


@pytest.fixture
def settings(vault_path: Path) -> VaultSettings:
    return make_vault(vault_path)


@pytest.fixture
def vault_env(tmp_path: Path, settings: VaultSettings) -> dict[str, str]:
    """A clean environment for CLI subprocesses that opens the `settings` vault by passphrase."""
    return cli_env(
        tmp_path,
        {
            "MAHAVISHNU_SECRETS__LOCAL__PATH": str(settings.local.path),
            "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": PASSPHRASE,
        },
    )


@pytest.fixture
def sv(settings: VaultSettings) -> Iterator[SecretVault]:
    with open_vault(settings, identity="tester") as vault:
        yield vault


@pytest.fixture
def master_key_b64() -> str:
    return base64.b64encode(_crypto.new_master_key().material).decode()
