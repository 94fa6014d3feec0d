"""The Crackerjack gate against the real package: a Python 3.13 virtual environment with
`crackerjack` from PyPI and this leakvault, our adapter run on repositories with and without a
planted token, and Crackerjack's own gitleaks JSON parser reading our `--format gitleaks` report.

The environment (a few minutes to build the first time) is cached under the system temporary
directory, keyed by the Python version; leakvault itself (and any dependency it newly needs) is
reinstalled into it on every run, so the test sees the current code.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

import pytest

from tests.integration.actionrunner import once_per_session
from tests.integration.py313 import build_environment, python313, reinstall_project
from tests.scanner.gitrepo import GitRepo
from tests.scanner.tokens import github_pat

pytestmark = pytest.mark.slow

CHECK_SCRIPT = r"""
import asyncio, json, subprocess, sys
from pathlib import Path

import leakvault
from crackerjack.models.issues import IssueType, Priority
from crackerjack.models.qa_results import QACheckType, QAResultStatus
from crackerjack.parsers.json_parsers import GitleaksJSONParser
from leakvault.integrations.crackerjack import LeakvaultAdapter


async def gate():
    adapter = LeakvaultAdapter()
    await adapter.init()
    default = adapter.get_default_config()
    result = await adapter.check(files=[Path("app.py")])
    return {
        "status": str(result.status), "check_type": str(result.check_type), "message": result.message,
        "issues": result.parsed_issues, "default_type": str(default.check_type), "stage": default.stage,
    }


report = subprocess.run(["leakvault", "scan", ".", "--format", "gitleaks"], capture_output=True, text=True)
issues = GitleaksJSONParser().parse(report.stdout, "gitleaks")
in_process = leakvault.scan(["."])
print(json.dumps({
    "gate": asyncio.run(gate()),
    "exit_code": report.returncode,
    "parser": [
        {"type": str(i.type), "severity": str(i.severity), "file": i.file_path, "line": i.line_number,
         "message": i.message, "security": i.type == IssueType.SECURITY, "critical": i.severity == Priority.CRITICAL}
        for i in issues
    ],
    "api": {"type": type(in_process).__name__, "findings": [(f.rule_id, f.path, f.line) for f in in_process.findings]},
}))
"""


@pytest.fixture(scope="session")
def crackerjack_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    python = python313()
    if python is None:
        pytest.skip("no Python >= 3.13 found (python3.13 on PATH, pyenv, or LEAKVAULT_PYTHON313); Crackerjack needs it")
    venv = build_environment(python, "crackerjack")
    once_per_session(
        tmp_path_factory.getbasetemp().parent, "crackerjack-reinstalled", lambda _: reinstall_project(venv)
    )
    return venv


def _check(venv: Path, repo: GitRepo) -> dict[str, object]:
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("LEAKVAULT_DEBUG", None)
    completed = subprocess.run(
        [str(venv / "bin" / "python"), "-c", CHECK_SCRIPT],
        cwd=repo.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    document = json.loads(completed.stdout.strip().splitlines()[-1])
    assert isinstance(document, dict)
    return document


def test_planted_token_fails_crackerjacks_security_gate(
    crackerjack_venv: Path, tmp_path: Path, rng: random.Random
) -> None:
    """Our adapter's check fails as a SECURITY check, Crackerjack's own gitleaks parser turns our
    report into a critical security issue, and leakvault.scan returns the finding in-process."""
    token = github_pat(rng)
    repo = GitRepo(tmp_path / "project")
    repo.write("app.py", f"GITHUB_TOKEN = '{token}'\n")
    repo.commit("leak")
    result = _check(crackerjack_venv, repo)
    gate = result["gate"]
    assert isinstance(gate, dict)
    assert gate["status"] == "failure", gate
    assert gate["check_type"] == gate["default_type"] == "security"
    assert gate["stage"] == "comprehensive"
    issues = gate["issues"]
    assert isinstance(issues, list) and len(issues) == 1
    assert (issues[0]["file_path"], issues[0]["line_number"], issues[0]["code"], issues[0]["severity"]) == (
        "app.py",
        1,
        "github-pat",
        "error",
    )
    assert result["exit_code"] == 1
    parsed = result["parser"]
    assert isinstance(parsed, list) and len(parsed) == 1
    assert parsed[0]["security"] and parsed[0]["critical"]
    assert (parsed[0]["file"], parsed[0]["line"]) == ("app.py", 1)
    assert parsed[0]["message"].startswith("github-pat: ")
    assert result["api"] == {"type": "ScanResult", "findings": [["github-pat", "app.py", 1]]}
    assert token not in json.dumps(result)


def test_clean_project_passes_the_gate(crackerjack_venv: Path, tmp_path: Path) -> None:
    """Without secrets the adapter's check succeeds and the parser finds nothing."""
    repo = GitRepo(tmp_path / "project")
    repo.write("app.py", "print('hello')\n")
    repo.commit("clean")
    result = _check(crackerjack_venv, repo)
    gate = result["gate"]
    assert isinstance(gate, dict)
    assert gate["status"] == "success", gate
    assert result["parser"] == []
    assert result["exit_code"] == 0
