"""The pre-commit hook's command line runs without click and behaves exactly like the full CLI."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

from tests.scanner.gitrepo import GitRepo
from tests.scanner.tokens import github_pat


def _run(repo: GitRepo, *args: str, python: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("LEAKVAULT_DEBUG", "NO_COLOR")}
    return subprocess.run(
        [sys.executable, *python, "-m", "leakvault.cli", *args], cwd=repo.path, env=env, capture_output=True, text=True
    )


def test_the_hook_command_line_gives_what_the_full_cli_gives(tmp_path: Path) -> None:
    """``scan --staged FILE`` (fast path) and ``scan --staged --color auto FILE`` (click) agree on
    the report, the messages and the exit code, with a finding and a baseline in play."""
    rng = random.Random(8)
    repo = GitRepo(tmp_path / "repo")
    repo.write("old.env", f"GITHUB_TOKEN={github_pat(rng)}\n")
    repo.commit("old")
    made = _run(repo, "baseline", "create", "old.env", "-o", ".leakvault-baseline.json")
    assert made.returncode == 0, made.stderr
    repo.write(".leakvault.toml", 'baseline = ".leakvault-baseline.json"\n')
    repo.write("new.env", f"GITHUB_TOKEN={github_pat(rng)}\n")
    repo.write("old.env", repo.path.joinpath("old.env").read_text() + "# touched\n")
    repo.git("add", "-A")
    fast = _run(repo, "scan", "--staged", "new.env", "old.env")
    full = _run(repo, "scan", "--staged", "--color", "auto", "new.env", "old.env")
    assert fast.returncode == full.returncode == 1
    assert fast.stdout == full.stdout and fast.stderr == full.stderr
    assert "new.env" in fast.stdout and "github-pat" in fast.stdout


def test_the_hook_command_line_does_not_import_click(tmp_path: Path) -> None:
    """The fast path's imports leave click (and the click application) out."""
    repo = GitRepo(tmp_path / "repo")
    repo.write("a.py", "x = 1\n")
    repo.git("add", "a.py")
    result = _run(repo, "scan", "--staged", "a.py", python=("-X", "importtime"))
    assert result.returncode == 0, result.stderr
    assert "leakvault.cli.hook" in result.stderr
    assert "click" not in result.stderr and "leakvault.cli.app" not in result.stderr


def test_errors_on_the_fast_path_are_one_line_and_exit_2(tmp_path: Path) -> None:
    """Outside a repository the hook's command line fails as the full CLI does: one line, exit 2."""
    plain = tmp_path / "plain"
    plain.mkdir()
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path)}
    env.pop("LEAKVAULT_DEBUG", None)
    fast = subprocess.run(
        [sys.executable, "-m", "leakvault.cli", "scan", "--staged", "x.py"],
        cwd=plain,
        env=env,
        capture_output=True,
        text=True,
    )
    full = subprocess.run(
        [sys.executable, "-m", "leakvault.cli", "scan", "--staged", "--no-progress", "x.py"],
        cwd=plain,
        env=env,
        capture_output=True,
        text=True,
    )
    assert fast.returncode == full.returncode == 2
    assert fast.stderr == full.stderr and fast.stderr.count("\n") == 1
