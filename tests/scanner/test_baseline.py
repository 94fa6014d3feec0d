"""Baselines: accepted findings by fingerprint, stable files, expiry, pruning that keeps reasons."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from tests.scanner.gitrepo import GitRepo, json_findings
from tests.scanner.tokens import aws_key_pair, github_pat

RunCli = Callable[..., CompletedProcess[str]]
BASELINE = ".leakvault-baseline.json"


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


def _entries(path: Path) -> list[dict[str, str]]:
    document = json.loads(path.read_text())
    entries = document["entries"]
    assert isinstance(entries, list)
    return entries


def _edit_entries(path: Path, **fields: str) -> None:
    document = json.loads(path.read_text())
    for entry in document["entries"]:
        entry.update(fields)
    path.write_text(json.dumps(document, indent=2))


def test_create_records_fingerprints_without_secrets_or_lines(
    repo: GitRepo, run_cli: RunCli, rng: random.Random
) -> None:
    """The baseline holds fingerprint, rule and path per finding: no secret, no line number."""
    token = github_pat(rng)
    key_id, secret_key = aws_key_pair(rng)
    repo.write("src/app.py", f"TOKEN = '{token}'\n")
    repo.write("deploy/aws.env", f"AWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={secret_key}\n")
    result = run_cli("baseline", "create", "-o", BASELINE, cwd=repo.path)
    assert result.returncode == 0, result.stderr
    text = (repo.path / BASELINE).read_text()
    for secret in (token, key_id, secret_key):
        assert secret not in text
    entries = _entries(repo.path / BASELINE)
    assert entries, text
    for entry in entries:
        assert set(entry) == {"fingerprint", "rule", "path"}
        assert entry["fingerprint"].startswith(f"{entry['rule']}:{entry['path']}:")
    assert "line" not in text
    assert [e["path"] for e in entries] == sorted(e["path"] for e in entries)


def test_baseline_file_is_stable(repo: GitRepo, run_cli: RunCli, rng: random.Random) -> None:
    """Creating the baseline twice, or after moving the secret down the file, gives identical bytes."""
    for index in range(5):
        repo.write(f"m{index}.py", f"T = '{github_pat(rng)}'\n")
    run_cli("baseline", "create", cwd=repo.path)
    first = (repo.path / BASELINE).read_bytes()
    run_cli("baseline", "create", cwd=repo.path)
    assert (repo.path / BASELINE).read_bytes() == first
    moved = (repo.path / "m2.py").read_text()
    repo.write("m2.py", "import os\n\n\n" + moved)
    assert run_cli("baseline", "update", cwd=repo.path).returncode == 0
    assert (repo.path / BASELINE).read_bytes() == first
    assert first.endswith(b"\n")


def test_scan_with_baseline_reports_only_new_findings(repo: GitRepo, run_cli: RunCli, rng: random.Random) -> None:
    """Baselined findings are not reported, even after lines move; a new one is."""
    old, new = github_pat(rng), github_pat(rng)
    repo.write("app.py", f"OLD = '{old}'\n")
    run_cli("baseline", "create", cwd=repo.path)
    clean = run_cli("scan", "--baseline", BASELINE, cwd=repo.path)
    assert clean.returncode == 0, clean.stdout
    assert "1 finding accepted by baseline" in clean.stderr
    repo.write("app.py", f"import os\nOLD = '{old}'\nNEW = '{new}'\n")
    result = run_cli("scan", "--baseline", BASELINE, "--format", "json", "--no-redact", cwd=repo.path)
    assert result.returncode == 1
    assert [f["secret"] for f in json_findings(result)] == [new]


def test_a_different_secret_on_a_baselined_line_is_reported(repo: GitRepo, run_cli: RunCli, rng: random.Random) -> None:
    """Rotating the value on a baselined line (a new secret, same rule, same line) is reported."""
    repo.write("app.py", f"TOKEN = '{github_pat(rng)}'\n")
    run_cli("baseline", "create", cwd=repo.path)
    repo.write("app.py", f"TOKEN = '{github_pat(rng)}'\n")
    assert run_cli("scan", "--baseline", BASELINE, cwd=repo.path).returncode == 1


def test_expired_entries_report_again(repo: GitRepo, run_cli: RunCli, rng: random.Random) -> None:
    """An entry past its expiry date stops suppressing and the scan warns about it; today still counts."""
    repo.write("app.py", f"TOKEN = '{github_pat(rng)}'\n")
    run_cli("baseline", "create", "--reason", "test fixture", "--owner", "sec-team", cwd=repo.path)
    baseline = repo.path / BASELINE
    _edit_entries(baseline, expires=date.today().isoformat())
    assert run_cli("scan", "--baseline", BASELINE, cwd=repo.path).returncode == 0
    _edit_entries(baseline, expires=(date.today() - timedelta(days=1)).isoformat())
    result = run_cli("scan", "--baseline", BASELINE, cwd=repo.path)
    assert result.returncode == 1
    assert "expired on" in result.stderr


def test_update_prunes_and_keeps_reasons(repo: GitRepo, run_cli: RunCli, rng: random.Random) -> None:
    """`baseline update` drops entries that no longer occur and keeps reason, owner and expiry of
    the rest; --add-new adds new findings."""
    repo.write("a.py", f"A = '{github_pat(rng)}'\n")
    repo.write("b.py", f"B = '{github_pat(rng)}'\n")
    run_cli("baseline", "create", cwd=repo.path)
    baseline = repo.path / BASELINE
    _edit_entries(baseline, reason="rotated, kept for docs", owner="alice", expires="2099-01-01")
    (repo.path / "a.py").unlink()
    repo.write("c.py", f"C = '{github_pat(rng)}'\n")
    result = run_cli("baseline", "update", cwd=repo.path)
    assert result.returncode == 0, result.stderr
    assert "kept 1, pruned 1, added 0" in result.stderr
    entries = _entries(baseline)
    assert [(e["path"], e["reason"], e["owner"], e["expires"]) for e in entries] == [
        ("b.py", "rotated, kept for docs", "alice", "2099-01-01")
    ]
    run_cli("baseline", "update", "--add-new", BASELINE, cwd=repo.path)
    assert sorted(e["path"] for e in _entries(baseline)) == ["b.py", "c.py"]


def test_update_from_another_directory_rescans_the_recorded_paths(
    repo: GitRepo, run_cli: RunCli, rng: random.Random
) -> None:
    """The baseline records what it scanned relative to itself, so update works from anywhere."""
    repo.write("src/a.py", f"A = '{github_pat(rng)}'\n")
    repo.write("other/b.py", f"B = '{github_pat(rng)}'\n")
    run_cli("baseline", "create", "src", "-o", BASELINE, cwd=repo.path)
    assert json.loads((repo.path / BASELINE).read_text())["scan"] == {"paths": ["src"]}
    result = run_cli("baseline", "update", str(repo.path / BASELINE), cwd=repo.path.parent)
    assert "kept 1, pruned 0" in result.stderr, result.stderr


def test_history_baseline(repo: GitRepo, run_cli: RunCli, rng: random.Random) -> None:
    """A baseline of history findings suppresses them in `scan --git`; later leaks still fail."""
    repo.write("old.env", f"TOKEN={github_pat(rng)}\n")
    repo.commit("old leak")
    repo.git("rm", "-q", "old.env")
    repo.commit("removed")
    assert run_cli("baseline", "create", "--git", cwd=repo.path).returncode == 0
    assert json.loads((repo.path / BASELINE).read_text())["scan"] == {"git": ""}
    assert run_cli("scan", "--git", "--baseline", BASELINE, cwd=repo.path).returncode == 0
    repo.write("new.env", f"TOKEN={github_pat(rng)}\n")
    repo.commit("new leak")
    assert run_cli("scan", "--git", "--baseline", BASELINE, cwd=repo.path).returncode == 1


def test_config_names_the_baseline(repo: GitRepo, run_cli: RunCli, rng: random.Random) -> None:
    """`baseline = "FILE"` in the config applies the baseline without --baseline."""
    repo.write("app.py", f"TOKEN = '{github_pat(rng)}'\n")
    run_cli("baseline", "create", "-o", "security/baseline.json", cwd=repo.path)
    repo.write(".leakvault.toml", 'baseline = "security/baseline.json"\n')
    assert run_cli("scan", cwd=repo.path).returncode == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("{not json", "is not valid JSON"),
        ('{"entries": [{"rule": "x"}]}', "entry 1: 'fingerprint' is missing"),
        ('{"entries": [{"fingerprint": "a", "rule": "b", "path": "c", "expires": "soon"}]}', "must be a date"),
        ('{"entries": [], "key_id": "custom-00000000"}', "was made with fingerprint key"),
    ],
)
def test_bad_baseline_files_are_one_line_errors(
    repo: GitRepo, run_cli: RunCli, content: str | None, message: str
) -> None:
    """A missing, malformed or foreign-key baseline exits 2 with one line naming the problem."""
    if content is not None:
        repo.write("bad.json", content)
    result = run_cli("scan", "--baseline", "bad.json", cwd=repo.path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert message in result.stderr


def test_custom_fingerprint_key_changes_hashes_and_is_recorded(
    repo: GitRepo, run_cli: RunCli, rng: random.Random
) -> None:
    """With LEAKVAULT_FINGERPRINT_KEY the hashes differ and the baseline records the key's id."""
    repo.write("app.py", f"TOKEN = '{github_pat(rng)}'\n")
    run_cli("baseline", "create", "-o", "default.json", cwd=repo.path)
    env = {"LEAKVAULT_FINGERPRINT_KEY": "team-private-key"}
    run_cli("baseline", "create", "-o", "custom.json", cwd=repo.path, env=env)
    default, custom = (json.loads((repo.path / name).read_text()) for name in ("default.json", "custom.json"))
    assert default["key_id"] == "v1"
    assert custom["key_id"].startswith("custom-")
    assert "team-private-key" not in json.dumps(custom)
    assert default["entries"][0]["fingerprint"] != custom["entries"][0]["fingerprint"]
    assert run_cli("scan", "--baseline", "custom.json", cwd=repo.path, env=env).returncode == 0
    assert run_cli("scan", "--baseline", "custom.json", cwd=repo.path).returncode == 2
