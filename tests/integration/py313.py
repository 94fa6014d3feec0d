"""Cached Python 3.13 virtual environments for the tests of integrations that need 3.13
(Crackerjack, Oneiric), with leakvault and one of its extras installed.

Building one takes minutes (a few hundred MB of dependencies from PyPI), so it is cached in the
project's own git-ignored ``.cache/`` folder (``LEAKVAULT_CACHE_DIR`` moves it), keyed by the Python
version and pyproject.toml (new dependencies mean a new environment, and the one it replaces is
removed, so at most one per extra is kept); leakvault itself is reinstalled into it once per test
session, so tests see the current code. `.ci/run` starts ``python -m tests.integration.py313
crackerjack oneiric`` in the background before the test run, so the builds overlap with linting
and the other tests; a file lock makes the fixtures wait for a build in progress instead of starting a second one.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_SECONDS = 1200


def python313() -> str | None:
    """A working Python >= 3.13 (pyenv shims may name one that is not selected)."""
    candidates = [
        os.environ.get("LEAKVAULT_PYTHON313"),
        shutil.which("python3.13"),
        *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3.13"))),
        "/usr/local/bin/python3.13",
        "/usr/bin/python3.13",
    ]
    for candidate in filter(None, candidates):
        try:
            completed = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info >= (3, 13))"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except OSError:
            continue
        if completed.returncode == 0 and completed.stdout.strip() == "True":
            return candidate
    return None


def pip_install(venv: Path, *args: str) -> None:
    """``pip install`` into ``venv``; a failure raises with pip's last words."""
    completed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q", *args],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"pip install {' '.join(args)} failed:\n{completed.stderr[-3000:]}")


def environment_path(python: str, extra: str) -> Path:
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True, check=True
    ).stdout.strip()
    key = hashlib.sha256((PROJECT / "pyproject.toml").read_bytes() + version.encode()).hexdigest()[:12]
    return cache_dir() / f"{extra}-py{version}-{key}"


def cache_dir() -> Path:
    """Where the environments live: ``.cache/py313`` in the project unless LEAKVAULT_CACHE_DIR says."""
    return Path(os.environ.get("LEAKVAULT_CACHE_DIR") or PROJECT / ".cache") / "py313"


def _remove_stale(venv: Path, extra: str) -> None:
    """Environments of ``extra`` built for an older pyproject.toml or Python: nothing uses them."""
    for other in venv.parent.glob(f"{extra}-py*"):
        if other != venv and other.is_dir():
            shutil.rmtree(other, ignore_errors=True)
            Path(f"{other}.lock").unlink(missing_ok=True)


def build_environment(python: str, extra: str) -> Path:
    """The environment with ``leakvault[extra]`` and its dependencies, built once and cached."""
    venv = environment_path(python, extra)
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{venv}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder across test workers and the CI pre-build
        if not (venv / ".ready").exists():
            _remove_stale(venv, extra)
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([python, "-m", "venv", str(venv)], check=True)
            pip_install(venv, f"{PROJECT}[{extra}]")
            (venv / ".ready").write_text("")
    return venv


def reinstall_project(venv: Path) -> None:
    """Put the current leakvault into the environment (its dependencies are already there)."""
    pip_install(venv, "--no-deps", "--force-reinstall", str(PROJECT))


def main(extras: list[str]) -> int:
    python = python313()
    if python is None:
        print("py313: no Python >= 3.13 found; the tests that need it will skip", file=sys.stderr)
        return 0
    with ThreadPoolExecutor(max_workers=len(extras) or 1) as pool:
        for extra, venv in zip(extras, pool.map(lambda extra: build_environment(python, extra), extras), strict=True):
            print(f"py313: {extra} environment ready at {venv}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
