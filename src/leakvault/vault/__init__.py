"""The encrypted secret vault: `SecretVault` over pluggable backends (DESIGN.md §4).

Imports are lazy: ``import leakvault.vault`` loads neither SQLite nor `cryptography` until a name
below is used, so the CLI starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leakvault.vault._files import replace_file
    from leakvault.vault.backend import SecretBackend
    from leakvault.vault.config import VaultSettings, load_settings
    from leakvault.vault.factory import init_local_vault, open_vault
    from leakvault.vault.model import SecretMetadata, SecretValue, VersionInfo
    from leakvault.vault.secret_vault import SecretVault

__all__ = [
    "SecretBackend",
    "SecretMetadata",
    "SecretValue",
    "SecretVault",
    "VaultSettings",
    "VersionInfo",
    "init_local_vault",
    "load_settings",
    "open_vault",
    "replace_file",
]

_EXPORTS = {
    "SecretBackend": "leakvault.vault.backend",
    "VaultSettings": "leakvault.vault.config",
    "load_settings": "leakvault.vault.config",
    "init_local_vault": "leakvault.vault.factory",
    "open_vault": "leakvault.vault.factory",
    "SecretMetadata": "leakvault.vault.model",
    "SecretValue": "leakvault.vault.model",
    "VersionInfo": "leakvault.vault.model",
    "SecretVault": "leakvault.vault.secret_vault",
    "replace_file": "leakvault.vault._files",  # scan --fix --apply writes the files it rewrites with it
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'leakvault.vault' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
