"""Fixtures for the vault tests: real vault files in tmp_path."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from leakvault.vault import _crypto
from leakvault.vault.config import VaultSettings
from leakvault.vault.factory import open_vault
from leakvault.vault.secret_vault import SecretVault

from .helpers import make_vault


@pytest.fixture
def vault_path(tmp_path: Path) -> Path:
    return tmp_path / "vault" / "vault.db"


@pytest.fixture
def settings(vault_path: Path) -> VaultSettings:
    return make_vault(vault_path)


@pytest.fixture
def sv(settings: VaultSettings) -> Iterator[SecretVault]:
    with open_vault(settings, identity="tester") as vault:
        yield vault


@pytest.fixture
def master_key_b64() -> str:
    return base64.b64encode(_crypto.new_master_key().material).decode()
