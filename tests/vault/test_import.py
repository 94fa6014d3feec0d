"""Importing the vault package stays cheap: heavy modules load only when a vault is used."""

from __future__ import annotations

import subprocess
import sys


def test_import_is_lazy() -> None:
    """`import leakvault.vault` loads neither cryptography, sqlite3, jinja2 nor click."""
    code = (
        "import sys, leakvault.vault; "
        "print(sorted(m for m in ('cryptography', 'sqlite3', 'jinja2', 'click') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_names_resolve() -> None:
    """Every name in leakvault.vault.__all__ resolves lazily."""
    import leakvault.vault as vault

    for name in vault.__all__:
        assert getattr(vault, name) is not None
