"""The Oneiric secrets provider against the real `oneiric` package from PyPI, in Python 3.13.

A Mahavishnu-style service is simulated with Oneiric's own machinery only: `load_settings(
project_name="mahavishnu")` reads ``MAHAVISHNU_*`` variables, `register_entrypoint_plugins` finds
our ``oneiric.adapters`` entry point in the installed distribution, and `SecretsHook` activates the
provider named by ``MAHAVISHNU_SECRETS__PROVIDER`` and reads secrets through it. The virtual
environment is cached like the Crackerjack one (same helpers); leakvault is reinstalled each run.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from leakvault.vault.factory import open_vault
from tests.integration.actionrunner import once_per_session
from tests.integration.py313 import build_environment, python313, reinstall_project
from tests.vault.helpers import make_vault

pytestmark = pytest.mark.slow

SERVICE_SCRIPT = r"""
import asyncio, json, os, subprocess, sys

from oneiric.core.config import SecretsHook, load_settings
from oneiric.core.lifecycle import LifecycleManager
from oneiric.core.resolution import Resolver
from oneiric.plugins import register_entrypoint_plugins


async def main():
    settings = load_settings(project_name="mahavishnu")
    resolver = Resolver()
    plugins = register_entrypoint_plugins(resolver, settings.plugins)
    lifecycle = LifecycleManager(resolver)
    secrets = SecretsHook(lifecycle, settings.secrets)
    first = await secrets.get("app/db")
    missing = await secrets.get("app/missing")
    # Someone else rotates the secret: the leakvault CLI, in its own process.
    rotate = subprocess.run(
        [sys.executable, "-m", "leakvault.cli", "vault", "set", "app/db", "-"],
        input=b"rotated-value", capture_output=True, env={**os.environ, "MAHAVISHNU_SECRETS__IDENTITY": "ops"},
    )
    assert rotate.returncode == 0, rotate.stderr
    cached = await secrets.get("app/db")
    await secrets.rotate(["app/db"])  # Oneiric's cache and the provider's (invalidate_cache)
    fresh = await secrets.get("app/db")
    provider = lifecycle.get_instance("adapter", "secrets")
    print(json.dumps({
        "provider": settings.secrets.provider,
        "registered": [e.entry_point for e in plugins.entries],
        "errors": [e.reason for e in plugins.errors if e.entry_point == "leakvault"],
        "class": type(provider).__name__,
        "first": first, "missing": missing, "cached": cached, "fresh": fresh,
    }))
    await provider.cleanup()


asyncio.run(main())
"""


@pytest.fixture(scope="session")
def oneiric_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    python = python313()
    if python is None:
        pytest.skip("no Python >= 3.13 found (python3.13 on PATH, pyenv, or LEAKVAULT_PYTHON313); Oneiric needs it")
    venv = build_environment(python, "oneiric")
    once_per_session(tmp_path_factory.getbasetemp().parent, "oneiric-reinstalled", lambda _: reinstall_project(venv))
    return venv


def test_mahavishnu_service_reads_through_leakvault(oneiric_venv: Path, tmp_path: Path) -> None:
    """Oneiric discovers the entry point, MAHAVISHNU_SECRETS__PROVIDER selects it, get_secret reads
    the vault, a missing secret is None, and invalidate_cache makes a rotated value visible."""
    vault_path = tmp_path / "vault" / "vault.db"
    settings = make_vault(vault_path)
    with open_vault(settings, identity="ops") as vault:
        vault.set("app/db", "first-value")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAHAVISHNU_", "ONEIRIC_"))}
    env.update(
        HOME=str(tmp_path / "home"),
        MAHAVISHNU_SECRETS__PROVIDER="leakvault",
        MAHAVISHNU_PLUGINS__AUTO_LOAD="true",
        MAHAVISHNU_SECRETS__LOCAL__PATH=str(vault_path),
        MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE=settings.local.passphrase or "",
        MAHAVISHNU_SECRETS__IDENTITY="payments-service",
    )
    log = tmp_path / "service.log"
    with log.open("w") as stderr:
        service = subprocess.run(
            [str(oneiric_venv / "bin" / "python"), "-c", SERVICE_SCRIPT],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,  # Oneiric logs a lot: a file, so a full pipe can never block it
            text=True,
            timeout=300,
            check=False,
        )
    assert service.returncode == 0, log.read_text()[-3000:]
    out = service.stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["provider"] == "leakvault"
    assert "leakvault" in result["registered"] and result["errors"] == []
    assert result["class"] == "LeakvaultSecretsProvider"
    assert (result["first"], result["missing"]) == ("first-value", None)
    assert result["cached"] == "first-value"  # served from cache until invalidated
    assert result["fresh"] == "rotated-value"
    with open_vault(settings, identity="ops") as vault:
        reads = [r for r in vault.audit_records() if r.action == "get" and r.identity == "payments-service"]
    assert {r.path for r in reads} == {"app/db", "app/missing"}
    assert [r.outcome for r in reads if r.path == "app/missing"] == ["SecretNotFoundError"]
