"""Shared fixtures: generated fake tokens, temporary repositories, the CLI as a subprocess."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

# In CI, Hypothesis runs derandomized (a fixed seed per test) so a run is reproducible and a rare
# input found by chance cannot turn CI red; locally it keeps exploring new inputs on every run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--skip-online", action="store_true", help="skip tests that need the network")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--skip-online"):
        skip = pytest.mark.skip(reason="--skip-online given")
        for item in items:
            if "online" in item.keywords:
                item.add_marker(skip)


# Seed of the `rng` fixture: fixed, so every run draws the same tokens and a failure reproduces;
# LEAKVAULT_TEST_SEED=N draws other ones.
TEST_SEED = int(os.environ.get("LEAKVAULT_TEST_SEED", "0"))


def seeded_random(name: str) -> random.Random:
    """A random source seeded by TEST_SEED and ``name`` (a test's id): reproducible, and different
    per test so tests do not all draw the same tokens."""
    return random.Random(f"{TEST_SEED}:{name}")


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    """A per-test random source; tokens are generated at run time, never committed."""
    return seeded_random(request.node.nodeid)


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``leakvault`` as a real subprocess (default working directory: the test's tmp_path)."""

    def run(
        *args: str,
        cwd: Path | None = None,
        input: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, **(env or {})}
        full_env.pop("LEAKVAULT_DEBUG", None)
        return subprocess.run(
            [sys.executable, "-m", "leakvault.cli", *args],
            cwd=cwd or tmp_path,
            input=input,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run
