"""Helpers shared by the vault tests (real vault files, real CLI subprocesses)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from leakvault.vault.config import VaultSettings, load_settings
from leakvault.vault.factory import init_local_vault
from leakvault.vault.keys import KeyMaterial

RAM_DISK = Path("/dev/shm")


def fast_tempdir() -> Path:
    """A new private directory, on a RAM-backed filesystem where there is one.

    The vault commits with synchronous=FULL, so every write waits for fsync: about 3 ms on a busy
    disk, seconds over a test that writes a thousand secrets. What the tests check (crash safety
    against SIGKILL, permissions, WAL files) holds the same in RAM, where fsync is free.
    """
    return Path(tempfile.mkdtemp(prefix="leakvault-test-", dir=RAM_DISK if RAM_DISK.is_dir() else None))


# Tests lower PBKDF2's cost through this explicit parameter; test_crypto pins the real default.
FAST_ITERATIONS = 1_000
PASSPHRASE = "correct horse battery staple"


def settings_for(path: Path, **env: str) -> VaultSettings:
    environ = {"MAHAVISHNU_SECRETS__LOCAL__PATH": str(path), **env}
    return load_settings(environ, cwd=path.parent)


def make_vault(path: Path, passphrase: str = PASSPHRASE) -> VaultSettings:
    settings = settings_for(path, MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE=passphrase)
    init_local_vault(settings, KeyMaterial("test", passphrase=passphrase), iterations=FAST_ITERATIONS)
    return settings


def cli_env(tmp_path: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A clean environment for a CLI subprocess: no inherited MAHAVISHNU_SECRETS__ variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAHAVISHNU_SECRETS__")}
    env["HOME"] = str(tmp_path / "home")
    env.pop("XDG_DATA_HOME", None)
    env.pop("XDG_CONFIG_HOME", None)  # the user's own config file: $HOME/.config/leakvault/config.toml
    env.update(extra or {})
    return env


def run_cli(
    args: list[str],
    env: Mapping[str, str],
    *,
    input: bytes | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``leakvault ARGS`` as a real subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "leakvault.cli", *args],
        env=dict(env),
        input=input if input is not None else b"",
        capture_output=True,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def write_user_config(env: Mapping[str, str], text: str) -> Path:
    """Write the user's own config file (``[vault]`` tables) for `env`, owned by us, mode 0600."""
    from leakvault.vault.config import user_config_path

    path = user_config_path(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path
