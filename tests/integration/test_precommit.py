"""The pre-commit hooks for real: `pre-commit try-repo` against this repository, an installed
pre-commit hook refusing a commit, and the pre-push history hook refusing a push.

pre-commit installs leakvault from this repository into its own virtual environment (a wheel
build with pip: no compiler, only the package index), so these tests take ~15 s per install.

The repository is passed at an explicit revision (its HEAD). Without ``--ref``, try-repo copies
a dirty work tree into a shadow repository with staged and modified tracked files but without
untracked ones, which in a shared work tree mixes other people's half-done edits into the test;
a clean clone (CI) has HEAD = the code under test either way.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scanner.gitrepo import GitRepo
from tests.scanner.tokens import github_pat

PROJECT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _project_head() -> str:
    completed = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        pytest.skip("the project is not a git checkout; pre-commit needs a repository to install from")
    return completed.stdout.strip()


def _environment(home: Path, repo: GitRepo) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("LEAKVAULT_DEBUG", None)
    env.update(
        {
            "PRE_COMMIT_HOME": str(home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": str(repo.path.parent / ".gitconfig-empty"),
            "PRE_COMMIT_COLOR": "never",
            # The hook script runs pre-commit with the interpreter that installed it: this one.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


def test_try_repo_refuses_a_staged_token_and_passes_a_clean_change(tmp_path: Path, rng: random.Random) -> None:
    """`pre-commit try-repo` with the leakvault hook fails on a staged generated token, naming the
    file, line and rule without the secret; once the token is unstaged, the hook passes."""
    head = _project_head()
    repo = GitRepo(tmp_path / "work")
    repo.write("app.py", "print('hello')\n")
    repo.commit("initial")
    token = github_pat(rng)
    repo.write("settings.py", f"GITHUB_TOKEN = '{token}'\n")
    repo.git("add", "settings.py")
    env = _environment(tmp_path / "pre-commit-home", repo)
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(PROJECT), "leakvault", "--ref", head]
    refused = _run(command, repo.path, env)
    output = refused.stdout + refused.stderr
    assert refused.returncode == 1, output
    assert "leakvault (secrets in staged changes)" in output
    assert "Failed" in output
    assert "settings.py" in output
    assert "1:17" in output  # line:column of the token
    assert "github-pat" in output
    assert token not in output
    repo.git("rm", "-q", "--cached", "settings.py")
    repo.write("clean.py", "VALUE = 42\n")
    repo.git("add", "clean.py")
    passed = _run(command, repo.path, env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout


def test_installed_hooks_refuse_a_commit_and_a_push(tmp_path: Path, rng: random.Random) -> None:
    """With the hooks installed from this repository, `git commit` of a token is refused, a clean
    commit goes through, and `git push` of a commit that slipped in with --no-verify is refused by
    leakvault-history, which scans only the pushed range (an older leak already on the remote does
    not block pushes)."""
    head = _project_head()
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    repo = GitRepo(tmp_path / "work")
    env = _environment(tmp_path / "pre-commit-home", repo)
    repo.write(
        ".pre-commit-config.yaml",
        f"repos:\n  - repo: {PROJECT}\n    rev: {head}\n"
        "    hooks:\n      - id: leakvault\n      - id: leakvault-history\n",
    )
    repo.write("app.py", "print('hello')\n")
    repo.write("old.env", f"GITHUB_TOKEN={github_pat(rng)}\n")  # an old leak, pushed before the hooks
    repo.commit("initial")
    repo.git("remote", "add", "origin", str(remote))
    repo.git("push", "-q", "origin", "main")
    for hook_type in ("pre-commit", "pre-push"):
        installed = _run([sys.executable, "-m", "pre_commit", "install", "-t", hook_type], repo.path, env)
        assert installed.returncode == 0, installed.stderr

    token = github_pat(rng)
    repo.write("config.env", f"GITHUB_TOKEN={token}\n")
    repo.git("add", "config.env")
    refused = _run(["git", "commit", "-m", "add config"], repo.path, env)
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output
    assert "config.env" in output and "github-pat" in output
    assert token not in output
    assert repo.git("rev-list", "--count", "HEAD") == "1"  # nothing was committed

    repo.git("rm", "-q", "--cached", "config.env")
    (repo.path / "config.env").unlink()
    repo.write("app.py", "print('hello, world')\n")
    repo.git("add", "app.py")
    committed = _run(["git", "commit", "-m", "clean change"], repo.path, env)
    assert committed.returncode == 0, committed.stdout + committed.stderr
    pushed = _run(["git", "push", "-q", "origin", "main"], repo.path, env)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr  # old.env's leak is not in the range

    repo.write("later.env", f"GITHUB_TOKEN={github_pat(rng)}\n")
    repo.git("add", "later.env")
    sneaked = _run(["git", "commit", "--no-verify", "-m", "sneak"], repo.path, env)
    assert sneaked.returncode == 0, sneaked.stderr
    push_refused = _run(["git", "push", "origin", "main"], repo.path, env)
    push_output = push_refused.stdout + push_refused.stderr
    assert push_refused.returncode != 0, push_output
    assert "leakvault (secrets in pushed commits)" in push_output
    assert "later.env" in push_output
    assert "old.env" not in push_output
