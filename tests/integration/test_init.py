"""``leakvault init`` on real repositories, with the real ``pre-commit`` tool running the hook it adds."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import yaml

from tests.scanner.gitrepo import GitRepo
from tests.scanner.tokens import github_pat


def _env(repo: GitRepo, home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("LEAKVAULT_DEBUG", None)
    env.update(
        {
            "PRE_COMMIT_HOME": str(home),
            "PRE_COMMIT_COLOR": "never",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": str(repo.path.parent / ".gitconfig-empty"),
            # pre-commit and the `language: system` hook's `leakvault` come from this environment.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    return env


def _init(repo: GitRepo, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leakvault.cli", "init", *args], cwd=repo.path, env=env, capture_output=True, text=True
    )


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts[:1]
    }


def test_init_gives_a_hook_that_refuses_a_secret_and_a_workflow(tmp_path: Path) -> None:
    """On a fresh repository: the config and workflow appear, pre-commit is installed, and the next
    commit of a generated token is refused by the real pre-commit while a clean commit passes."""
    repo = GitRepo(tmp_path / "fresh")
    repo.write("app.py", "print('hello')\n")
    repo.commit("start")
    env = _env(repo, tmp_path / "pre-commit-home")
    result = _init(repo, env)
    assert result.returncode == 0, result.stderr
    assert "created .pre-commit-config.yaml" in result.stderr
    assert "pre-commit hook installed" in result.stderr
    workflow = yaml.safe_load((repo.path / ".github/workflows/leakvault.yml").read_text())
    assert any("leakvault/leakvault@" in str(step.get("uses")) for step in workflow["jobs"]["secrets"]["steps"])
    assert (repo.path / ".git/hooks/pre-commit").is_file()
    repo.git("add", "-A")
    clean = subprocess.run(
        ["git", "commit", "-qm", "set up leakvault"], cwd=repo.path, env=env, capture_output=True, text=True
    )
    assert clean.returncode == 0, clean.stdout + clean.stderr
    token = github_pat(random.Random(41))
    repo.write("deploy.env", f"GITHUB_TOKEN={token}\n")
    repo.git("add", "deploy.env")
    refused = subprocess.run(["git", "commit", "-qm", "leak"], cwd=repo.path, env=env, capture_output=True, text=True)
    assert refused.returncode != 0
    output = refused.stdout + refused.stderr
    assert "deploy.env" in output and "github-pat" in output and token not in output


def test_a_second_run_changes_nothing(tmp_path: Path) -> None:
    """init is idempotent: the second run writes no byte and says there is nothing to change."""
    repo = GitRepo(tmp_path / "twice")
    repo.write("app.py", "x = 1\n")
    repo.commit("start")
    env = _env(repo, tmp_path / "home")
    assert _init(repo, env, "--no-install").returncode == 0
    before = _snapshot(repo.path)
    again = _init(repo, env, "--no-install")
    assert again.returncode == 0 and "nothing to change" in again.stderr
    assert _snapshot(repo.path) == before


def test_an_existing_config_keeps_every_line(tmp_path: Path) -> None:
    """Adding to an existing .pre-commit-config.yaml keeps its comments and hooks, in order."""
    repo = GitRepo(tmp_path / "existing")
    original = (
        "# our hooks\n"
        "default_stages: [pre-commit]\n"
        "repos:\n"
        "    - repo: local  # formatting\n"
        "      hooks:\n"
        "        - id: tidy\n"
        "          name: tidy\n"
        "          entry: 'true'\n"
        "          language: system\n"
        "fail_fast: false\n"
    )
    repo.write(".pre-commit-config.yaml", original)
    repo.commit("start")
    env = _env(repo, tmp_path / "home")
    result = _init(repo, env, "--no-install", "--no-workflow")
    assert result.returncode == 0, result.stderr
    text = (repo.path / ".pre-commit-config.yaml").read_text()
    lines = iter(text.splitlines())
    assert all(any(line == kept for line in lines) for kept in original.splitlines())  # a subsequence
    document = yaml.safe_load(text)
    assert [hook["id"] for repo_ in document["repos"] for hook in repo_["hooks"]] == ["leakvault", "tidy"]
    assert document["fail_fast"] is False and not (repo.path / ".github").exists()


def test_dry_run_shows_a_diff_and_writes_nothing(tmp_path: Path) -> None:
    """--dry-run prints each change as a unified diff and leaves the repository as it was."""
    repo = GitRepo(tmp_path / "dry")
    repo.write("app.py", "x = 1\n")
    repo.commit("start")
    before = _snapshot(repo.path)
    result = _init(repo, _env(repo, tmp_path / "home"), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "+++ b/.pre-commit-config.yaml" in result.stdout and "+++ b/.github/workflows/leakvault.yml" in result.stdout
    assert _snapshot(repo.path) == before and not (repo.path / ".git/hooks/pre-commit").exists()


def test_baseline_accepts_what_is_there(tmp_path: Path) -> None:
    """--baseline records today's findings and points the config at them: the next scan is clean."""
    repo = GitRepo(tmp_path / "legacy")
    repo.write("old.env", f"GITHUB_TOKEN={github_pat(random.Random(5))}\n")
    repo.commit("legacy")
    env = _env(repo, tmp_path / "home")
    result = _init(repo, env, "--baseline", "--no-install")
    assert result.returncode == 0, result.stderr
    assert "1 finding accepted" in result.stderr
    assert (repo.path / ".leakvault-baseline.json").is_file()
    assert (repo.path / ".leakvault.toml").read_text().startswith('baseline = ".leakvault-baseline.json"')
    scan = subprocess.run(
        [sys.executable, "-m", "leakvault.cli", "scan", "."], cwd=repo.path, env=env, capture_output=True, text=True
    )
    assert scan.returncode == 0, scan.stdout + scan.stderr


def test_outside_a_repository_and_with_broken_yaml_it_says_why(tmp_path: Path) -> None:
    """Not a repository, or an unparsable config: a one-line error, exit 2, nothing written."""
    outside = tmp_path / "plain"
    outside.mkdir()
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "leakvault.cli", "init"], cwd=outside, env=env, capture_output=True, text=True
    )
    assert result.returncode == 2 and "not inside a git repository" in result.stderr
    repo = GitRepo(tmp_path / "broken")
    repo.write(".pre-commit-config.yaml", "repos: [\n  - oops: {\n")
    repo.commit("start")
    broken = _init(repo, _env(repo, tmp_path / "home"), "--no-install")
    assert broken.returncode == 2 and "is not valid YAML" in broken.stderr and broken.stderr.count("\n") == 1
    assert (repo.path / ".pre-commit-config.yaml").read_text() == "repos: [\n  - oops: {\n"
