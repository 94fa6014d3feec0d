"""`leakvault scan --staged`: the index, not the work tree; only added lines; repository paths."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from leakvault.scanner.config import ScanConfig
from leakvault.scanner.git_scan import scan_staged
from leakvault.scanner.pipeline import build_scanner
from tests.scanner.gitrepo import GitRepo, json_findings
from tests.scanner.tokens import github_pat, pem_private_key

RunCli = Callable[..., CompletedProcess[str]]


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


def test_staged_reports_only_added_lines(repo: GitRepo, run_cli: RunCli, rng: random.Random) -> None:
    """A secret already committed is not reported again when another line of its file is staged."""
    old, new = github_pat(rng), github_pat(rng)
    repo.write("app.py", f"OLD = '{old}'\n")
    repo.commit("old secret")
    repo.write("app.py", f"OLD = '{old}'\nx = 1\nNEW = '{new}'\n")
    repo.git("add", "app.py")
    result = run_cli("scan", "--staged", "--format", "json", cwd=repo.path)
    findings = json_findings(result)
    assert result.returncode == 1
    assert [(f["path"], f["line"]) for f in findings] == [("app.py", 3)]


def test_staged_reads_the_index_not_the_work_tree(repo: GitRepo, run_cli: RunCli, rng: random.Random) -> None:
    """What is staged is scanned even if the work tree changed since; unstaged secrets are not."""
    staged, unstaged = github_pat(rng), github_pat(rng)
    repo.write("a.py", "a = 1\n")
    repo.write("b.py", "b = 1\n")
    repo.commit("base")
    repo.write("a.py", f"a = '{staged}'\n")
    repo.git("add", "a.py")
    repo.write("a.py", "a = 2\n")  # the work tree no longer has it; the commit would
    repo.write("b.py", f"b = '{unstaged}'\n")  # not staged: not part of the commit
    findings = json_findings(run_cli("scan", "--staged", "--format", "json", "--no-redact", cwd=repo.path))
    assert [(f["path"], f["secret"]) for f in findings] == [("a.py", staged)]


def test_staged_in_a_repository_without_commits(repo: GitRepo, run_cli: RunCli, rng: random.Random) -> None:
    """The first commit of a repository is scanned too (there is no HEAD to diff against)."""
    repo.write("first.env", f"TOKEN={github_pat(rng)}\n")
    repo.git("add", "first.env")
    result = run_cli("scan", "--staged", "--format", "json", cwd=repo.path)
    assert result.returncode == 1
    assert [f["path"] for f in json_findings(result)] == ["first.env"]


def test_nothing_staged_is_clean(repo: GitRepo, run_cli: RunCli) -> None:
    """An empty index diff scans nothing and exits 0."""
    repo.write("a.py", "a = 1\n")
    repo.commit("base")
    result = run_cli("scan", "--staged", cwd=repo.path)
    assert result.returncode == 0, result.stderr
    assert "no secrets found" in result.stdout


def test_multiline_key_staged_whole_is_found(repo: GitRepo, run_cli: RunCli, rng: random.Random) -> None:
    """A PEM key added in one go is found at its first line."""
    repo.write("README.md", "hello\n")
    repo.commit("base")
    repo.write("README.md", "hello\n" + pem_private_key(rng))
    repo.git("add", "README.md")
    findings = json_findings(run_cli("scan", "--staged", "--format", "json", cwd=repo.path))
    assert [(f["rule_id"], f["line"]) for f in findings] == [("private-key-pem", 2)]


def test_deleted_and_renamed_files_add_nothing(repo: GitRepo, run_cli: RunCli, rng: random.Random) -> None:
    """Deleting a file with a secret, or renaming it unchanged, adds no line to report."""
    repo.write("a.py", f"A = '{github_pat(rng)}'\n")
    repo.write("b.py", f"B = '{github_pat(rng)}'\n")
    repo.commit("secrets")
    repo.git("rm", "-q", "a.py")
    repo.git("mv", "b.py", "c.py")
    result = run_cli("scan", "--staged", "--format", "json", cwd=repo.path)
    assert result.returncode == 0, result.stdout
    assert json_findings(result) == []


def test_paths_are_repository_paths_and_names_restrict(repo: GitRepo, run_cli: RunCli, rng: random.Random) -> None:
    """Paths are repository paths (with spaces and non-ASCII intact); names given restrict the scan."""
    repo.write("keep.txt", "x\n")
    repo.commit("base")
    repo.write("dir with space/ünï.py", f"T = '{github_pat(rng)}'\n")
    repo.write("other/x.py", f"T = '{github_pat(rng)}'\n")
    repo.git("add", "-A")
    all_findings = json_findings(run_cli("scan", "--staged", "--format", "json", cwd=repo.path))
    assert sorted(f["path"] for f in all_findings) == ["dir with space/ünï.py", "other/x.py"]
    only = json_findings(run_cli("scan", "--staged", "--format", "json", "other/x.py", cwd=repo.path))
    assert [f["path"] for f in only] == ["other/x.py"]


def test_from_a_subdirectory_paths_are_relative_and_fingerprints_agree(
    repo: GitRepo, run_cli: RunCli, rng: random.Random
) -> None:
    """Run from a sub-directory, paths are relative to it, and fingerprints equal those from the root."""
    repo.write("keep.txt", "x\n")
    repo.commit("base")
    repo.write("pkg/mod.py", f"T = '{github_pat(rng)}'\n")
    repo.git("add", "-A")
    from_root = json_findings(run_cli("scan", "--staged", "--format", "json", cwd=repo.path))
    from_sub = json_findings(run_cli("scan", "--staged", "--format", "json", cwd=repo.path / "pkg"))
    assert from_root[0]["path"] == "pkg/mod.py"
    assert from_sub[0]["path"] == "mod.py"
    assert from_root[0]["fingerprint"] == from_sub[0]["fingerprint"]


def test_config_excludes_apply_to_staged_files(repo: GitRepo, run_cli: RunCli, rng: random.Random) -> None:
    """Config excludes and the root .leakvaultignore keep files out of a staged scan."""
    repo.write(".leakvault.toml", 'exclude = ["vendor/"]\n')
    repo.write(".leakvaultignore", "generated/\n")
    repo.commit("config")
    repo.write("vendor/lib.py", f"T = '{github_pat(rng)}'\n")
    repo.write("generated/out.py", f"T = '{github_pat(rng)}'\n")
    repo.write("src/app.py", f"T = '{github_pat(rng)}'\n")
    repo.git("add", "-A")
    findings = json_findings(run_cli("scan", "--staged", "--format", "json", cwd=repo.path))
    assert [f["path"] for f in findings] == ["src/app.py"]


def test_outside_a_repository_is_a_usage_error(tmp_path: Path, run_cli: RunCli) -> None:
    """--staged outside a git repository exits 2 with one line on stderr."""
    result = run_cli("scan", "--staged", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "not inside a git repository" in result.stderr


def test_staged_and_git_together_is_a_usage_error(repo: GitRepo, run_cli: RunCli) -> None:
    """--staged and --git contradict each other: exit 2."""
    result = run_cli("scan", "--staged", "--git", cwd=repo.path)
    assert result.returncode == 2
    assert "cannot be combined" in result.stderr


def test_in_process_staged_scan(repo: GitRepo, rng: random.Random, monkeypatch: pytest.MonkeyPatch) -> None:
    """scan_staged returns a ScanResult with the staged finding and counts the file."""
    repo.write("a.py", f"A = '{github_pat(rng)}'\n")
    repo.git("add", "a.py")
    monkeypatch.chdir(repo.path)
    result = scan_staged(build_scanner(ScanConfig()))
    assert [f.path for f in result.findings] == ["a.py"]
    assert result.stats.files_scanned == 1
    assert result.findings[0].commit is None
