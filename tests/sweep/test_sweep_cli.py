"""``leakvault sweep`` end to end: a real LocalCluster of 2 workers over 20 generated repositories."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.scanner.gitrepo import GitRepo
from tests.scanner.tokens import github_pat
from tests.sweep.conftest import Organisation

Run = Callable[..., subprocess.CompletedProcess[str]]


def _sweep(run_cli: Run, org: Organisation, state: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "sweep", "--repos-file", str(org.repos_file(state.parent)), "--workers", "2", "--state", str(state),
        "--format", "json", "-o", str(out), *extra, timeout=300,
    )  # fmt: skip


def test_every_planted_secret_is_found_with_its_repository(
    run_cli: Run, organisation: Organisation, tmp_path: Path
) -> None:
    """Each repository's planted token is reported once, naming the repository, and no value leaks."""
    state, out = tmp_path / "state", tmp_path / "out.json"
    result = _sweep(run_cli, organisation, state, out)
    assert result.returncode == 1, result.stderr
    findings = json.loads(out.read_text())["findings"]
    places = {(f["repository"], f["path"]) for f in findings}
    for planted in organisation.planted:
        assert (planted.repository, f"{planted.repository}/{planted.path}") in places
    assert len(findings) == len(organisation.planted) + 1  # + the shared token, once
    report = out.read_text()
    store = (state / "results.sqlite").read_bytes()
    for secret in [p.secret for p in organisation.planted] + [organisation.shared_secret]:
        assert secret not in report and secret not in result.stderr
        assert secret.encode() not in store


def test_a_secret_in_two_repositories_is_one_finding_with_both_places(
    run_cli: Run, organisation: Organisation, tmp_path: Path
) -> None:
    """The token planted in service-03 and service-11 is one finding that lists the other place."""
    out = tmp_path / "out.json"
    _sweep(run_cli, organisation, tmp_path / "state", out)
    shared = [f for f in json.loads(out.read_text())["findings"] if f["path"].endswith("deploy/ci.env")]
    assert len(shared) == 1
    assert shared[0]["repository"] == "service-03"
    assert [(p["repository"], p["path"]) for p in shared[0]["also_seen_at"]] == [("service-11", "deploy/ci.env")]


def test_a_rerun_scans_only_new_commits(run_cli: Run, tmp_path: Path) -> None:
    """A second sweep with the same state scans nothing; after a push it scans that one commit and
    still reports every finding."""
    import random

    from tests.sweep.conftest import make_organisation

    org = make_organisation(tmp_path / "org", seed=7, count=3, commits=4)
    state, out = tmp_path / "state", tmp_path / "out.json"
    first = _sweep(run_cli, org, state, out)
    assert "12 new commits" in first.stderr, first.stderr
    again = _sweep(run_cli, org, state, out)
    assert "0 new commits" in again.stderr, again.stderr
    assert len(json.loads(out.read_text())["findings"]) == 3
    fresh = github_pat(random.Random(99))
    org.repos[1].write("later.env", f"GITHUB_TOKEN={fresh}\n")
    org.repos[1].commit("a later leak")
    third = _sweep(run_cli, org, state, out)
    assert "1 new commits" in third.stderr, third.stderr
    findings = json.loads(out.read_text())["findings"]
    assert len(findings) == 4
    assert any(f["path"] == f"{org.repos[1].path.name}/later.env" for f in findings)


def test_a_url_is_mirrored_once_then_fetched(run_cli: Run, tmp_path: Path) -> None:
    """A git URL is cloned bare into the state folder; a later sweep fetches what was pushed since."""
    import random

    upstream = GitRepo(tmp_path / "upstream")
    upstream.write("README.md", "hello\n")
    upstream.commit("first")
    state, out = tmp_path / "state", tmp_path / "out.json"
    url = f"file://{upstream.path}"
    args = ("sweep", url, "--workers", "1", "--state", str(state), "--format", "json", "-o", str(out))
    assert run_cli(*args, timeout=300).returncode == 0
    mirrors = list((state / "mirrors").iterdir())
    assert len(mirrors) == 1 and (mirrors[0] / "HEAD").is_file() and not (mirrors[0] / ".git").exists()
    token = github_pat(random.Random(3))
    upstream.write("deploy.env", f"GITHUB_TOKEN={token}\n")
    upstream.commit("leak")
    second = run_cli(*args, timeout=300)
    assert second.returncode == 1, second.stderr
    assert "1 new commits" in second.stderr
    [finding] = json.loads(out.read_text())["findings"]
    name = f"{tmp_path.name}/upstream"  # a URL's repository is named by its last two parts (owner/name)
    assert finding["repository"] == name and finding["path"] == f"{name}/deploy.env"


def test_a_broken_repository_is_reported_and_the_sweep_goes_on(run_cli: Run, tmp_path: Path) -> None:
    """A folder that is no repository and a URL that does not exist fail with a reason; the rest is swept."""
    from tests.sweep.conftest import make_organisation

    org = make_organisation(tmp_path / "org", seed=11, count=2, commits=3)
    (tmp_path / "not-a-repo").mkdir()
    state, out = tmp_path / "state", tmp_path / "out.json"
    result = run_cli(
        "sweep", str(org.repos[0].path), str(tmp_path / "not-a-repo"), f"file://{tmp_path}/missing.git",
        str(org.repos[1].path), "--workers", "2", "--state", str(state), "--format", "json", "-o", str(out),
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr  # findings first; failures are warned about
    assert "not-a-repo: not scanned:" in result.stderr
    assert f"{tmp_path.name}/missing: not scanned:" in result.stderr
    assert "(2 failed)" in result.stderr
    assert len(json.loads(out.read_text())["findings"]) == 2
    with sqlite3.connect(state / "results.sqlite") as db:
        statuses = dict(db.execute("SELECT name, status FROM repositories").fetchall())
    assert statuses == {
        "service-00": "done",
        "not-a-repo": "failed",
        f"{tmp_path.name}/missing": "failed",
        "service-01": "done",
    }


def test_only_failures_exit_2(run_cli: Run, tmp_path: Path) -> None:
    """With nothing found and a repository that failed, the exit code says error, not clean."""
    (tmp_path / "empty").mkdir()
    result = run_cli("sweep", str(tmp_path / "empty"), "--workers", "1", "--state", str(tmp_path / "s"), timeout=300)
    assert result.returncode == 2, result.stderr
    assert "empty: not scanned:" in result.stderr


def test_usage_errors_are_one_line_and_exit_2(run_cli: Run, tmp_path: Path) -> None:
    """No repositories, a URL with a password and --workers with --scheduler are refused before any work."""
    cases = [
        ("sweep", "--state", str(tmp_path / "s")),
        ("sweep", "https://user:hunter2@example.invalid/x.git", "--state", str(tmp_path / "s")),
        ("sweep", ".", "--scheduler", "tcp://127.0.0.1:1", "--workers", "2", "--state", str(tmp_path / "s")),
        ("sweep", "--repos-file", str(tmp_path / "nope.txt"), "--state", str(tmp_path / "s")),
    ]
    for args in cases:
        result = run_cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith("leakvault: error:") and result.stderr.count("\n") == 1, result.stderr
        assert "hunter2" not in result.stderr
