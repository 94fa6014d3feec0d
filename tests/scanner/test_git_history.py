"""`leakvault scan --git`: every added line of every commit, each secret once, where it was introduced."""

from __future__ import annotations

import codecs
import json
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from leakvault.scanner.config import ScanConfig
from leakvault.scanner.git_scan import scan_history
from leakvault.scanner.pipeline import build_scanner
from tests.scanner.gitrepo import GitRepo, json_findings
from tests.scanner.tokens import github_pat

RunCli = Callable[..., CompletedProcess[str]]


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


def test_secret_kept_in_40_commits_is_reported_once_at_its_introduction(
    repo: GitRepo, run_cli: RunCli, rng: random.Random
) -> None:
    """A secret added once and carried through 40 later commits (some editing its line) is one
    finding, with the introducing commit's sha, author and date."""
    token = github_pat(rng)
    repo.write("settings.py", "DEBUG = True\n")
    repo.commit("start")
    repo.write("settings.py", f"DEBUG = True\nTOKEN = '{token}'\n")
    introduced = repo.commit("add token")
    for index in range(40):
        text = f"DEBUG = True\nTOKEN = '{token}'  # v{index % 3}\n" + "".join(f"x{i} = {i}\n" for i in range(index))
        repo.write("settings.py", text)
        repo.commit(f"change {index}")
    findings = json_findings(run_cli("scan", "--git", "--format", "json", cwd=repo.path))
    assert len(findings) == 1
    commit = findings[0]["commit"]
    assert isinstance(commit, dict)
    assert commit["sha"] == introduced
    assert commit["author"] == "Test Author"
    assert commit["email"] == "author@example.test"
    assert commit["date"] == "2024-01-03T12:00:00Z"
    assert (findings[0]["path"], findings[0]["line"]) == ("settings.py", 2)


def test_deleted_secret_is_still_found_in_history(repo: GitRepo, run_cli: RunCli, rng: random.Random) -> None:
    """A secret committed and later deleted (file removed) is reported at the commit that added it."""
    repo.write("creds.env", f"GITHUB_TOKEN={github_pat(rng)}\n")
    added = repo.commit("oops")
    repo.git("rm", "-q", "creds.env")
    repo.commit("remove")
    result = run_cli("scan", "--git", "--format", "json", cwd=repo.path)
    assert result.returncode == 1
    findings = json_findings(result)
    assert [(f["path"], f["commit"]["sha"]) for f in findings] == [("creds.env", added)]
    assert run_cli("scan", cwd=repo.path).returncode == 0  # the work tree is clean


def test_merges_report_branch_secrets_once_and_evil_merges_at_the_merge(
    repo: GitRepo, run_cli: RunCli, rng: random.Random
) -> None:
    """A secret from a merged branch is reported at the branch commit, once; a secret written in
    the merge commit itself (a conflict resolution) is reported at the merge."""
    branch_token, merge_token = github_pat(rng), github_pat(rng)
    repo.write("a.py", "a = 1\n")
    repo.write("conflict.py", "value = 0\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("feature.py", f"T = '{branch_token}'\n")
    branch_commit = repo.commit("feature token")
    repo.write("conflict.py", "value = 1\n")
    repo.commit("feature side")
    repo.git("checkout", "-q", "main")
    repo.write("conflict.py", "value = 2\n")
    repo.commit("main side")
    repo.git("merge", "-q", "feature", "-m", "merge", check=False)  # conflicts on conflict.py
    repo.write("conflict.py", f"value = 3\nT = '{merge_token}'\n")
    merge_commit = repo.commit("merge feature")
    assert len(repo.git("rev-list", "--parents", "-n", "1", "HEAD").split()) == 3
    findings = json_findings(run_cli("scan", "--git", "--format", "json", "--no-redact", cwd=repo.path))
    where = sorted((f["secret"], f["commit"]["sha"]) for f in findings)
    assert where == sorted([(branch_token, branch_commit), (merge_token, merge_commit)])


def test_rename_with_edit_reports_only_the_new_line(repo: GitRepo, run_cli: RunCli, rng: random.Random) -> None:
    """A renamed file is not re-reported whole; only lines added alongside the rename are."""
    old, new = github_pat(rng), github_pat(rng)
    repo.write("old_name.py", f"A = '{old}'\n" + "".join(f"line{i} = {i}\n" for i in range(20)))
    first = repo.commit("first")
    repo.git("mv", "old_name.py", "new_name.py")
    repo.write("new_name.py", (repo.path / "new_name.py").read_text() + f"B = '{new}'\n")
    second = repo.commit("rename and add")
    findings = json_findings(run_cli("scan", "--git", "--format", "json", "--no-redact", cwd=repo.path))
    assert sorted((f["path"], f["secret"], f["commit"]["sha"]) for f in findings) == sorted(
        [("old_name.py", old, first), ("new_name.py", new, second)]
    )


def test_binary_blobs_are_skipped_and_counted(repo: GitRepo, run_cli: RunCli, rng: random.Random) -> None:
    """Binary files in history are skipped (counted), UTF-16 text that git calls binary is scanned."""
    token = github_pat(rng)
    repo.write("image.png", b"\x89PNG\r\n\x1a\n\x00\x00" + token.encode())
    repo.write("blob.bin2", b"\x00\x01\x02" + token.encode())
    repo.write("notes.txt", codecs.BOM_UTF16_LE + f"token = {token}\n".encode("utf-16-le"))
    repo.commit("binary and utf-16")
    result = run_cli("scan", "--git", "--format", "json", cwd=repo.path)
    findings = json_findings(result)
    assert [f["path"] for f in findings] == ["notes.txt"]
    assert json.loads(result.stdout)["stats"]["skipped_binary"] == 2


def test_range_and_dates_bound_the_commits(repo: GitRepo, run_cli: RunCli, rng: random.Random) -> None:
    """A revision range and --since/--until select commits; a bad range is a usage error."""
    tokens = [github_pat(rng) for _ in range(3)]
    shas = []
    for index, token in enumerate(tokens):
        repo.write(f"f{index}.py", f"T = '{token}'\n")
        shas.append(repo.commit(f"c{index}"))  # dated 2024-01-02, -03, -04
    in_range = json_findings(run_cli("scan", "--git", f"{shas[0]}..{shas[2]}", "--format", "json", cwd=repo.path))
    assert sorted(f["path"] for f in in_range) == ["f1.py", "f2.py"]
    dated = json_findings(
        run_cli(
            "scan",
            "--git",
            "--since",
            "2024-01-02T18:00:00Z",
            "--until",
            "2024-01-03T18:00:00Z",
            "--format",
            "json",
            cwd=repo.path,
        )
    )
    assert [f["path"] for f in dated] == ["f1.py"]
    bad = run_cli("scan", "--git", "no-such-branch..HEAD", cwd=repo.path)
    assert bad.returncode == 2
    assert bad.stderr.startswith("leakvault: error: git rev-list failed")
    assert bad.stderr.count("\n") == 1


def test_paths_limit_a_history_scan(repo: GitRepo, run_cli: RunCli, rng: random.Random) -> None:
    """PATHS after --git RANGE limit history to those files and directories."""
    repo.write("src/a.py", f"T = '{github_pat(rng)}'\n")
    repo.write("docs/b.md", f"T = '{github_pat(rng)}'\n")
    repo.commit("two")
    findings = json_findings(run_cli("scan", "--git", "HEAD", "src", "--format", "json", cwd=repo.path))
    assert [f["path"] for f in findings] == ["src/a.py"]


def test_odd_paths_and_crlf(repo: GitRepo, rng: random.Random, monkeypatch: pytest.MonkeyPatch) -> None:
    """Quoted paths (quotes, tabs, non-ASCII) are decoded, and CRLF never leaves a '\\r' in a secret."""
    token = github_pat(rng)
    repo.write('we"ird\tname ü.cfg', f"token = {token}\r\nother = 1\r\n")
    repo.commit("odd")
    monkeypatch.chdir(repo.path)
    config = ScanConfig()
    result = scan_history(build_scanner(config))
    assert [f.path for f in result.findings] == ['we"ird\tname ü.cfg']
    assert result.findings[0].secret == token
    assert "\r" not in result.findings[0].line_text


def test_empty_repository_and_not_a_repository(tmp_path: Path, run_cli: RunCli) -> None:
    """History of a repository without commits is clean; outside a repository it is a usage error."""
    GitRepo(tmp_path / "empty")
    assert run_cli("scan", "--git", cwd=tmp_path / "empty").returncode == 0
    outside = tmp_path / "plain"
    outside.mkdir()
    result = run_cli("scan", "--git", cwd=outside)
    assert result.returncode == 2
    assert "not inside a git repository" in result.stderr


def test_oversized_changes_are_skipped_with_a_warning(repo: GitRepo, run_cli: RunCli, rng: random.Random) -> None:
    """A commit adding more than max_file_size to one file is skipped and says so."""
    repo.write(".leakvault.toml", 'max_file_size = "1kb"\n')
    repo.write("big.txt", "".join(f"line {i} {'x' * 40}\n" for i in range(100)) + f"T={github_pat(rng)}\n")
    repo.commit("big")
    result = run_cli("scan", "--git", "--format", "json", cwd=repo.path)
    document = json.loads(result.stdout)
    assert document["stats"]["skipped_too_large"] == 1
    assert any("big.txt" in warning for warning in document["warnings"])


# VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the forking parent (the
# test process, holding the fast-import stream), which would swamp what the scan itself uses.
PEAK_MEMORY_SCRIPT = """
from leakvault.scanner.pipeline import build_scanner
from leakvault.scanner.config import ScanConfig
from leakvault.scanner.git_scan import scan_history
result = scan_history(build_scanner(ScanConfig()))
peak = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(result.stats.files_scanned, result.stats.bytes_scanned, peak)
"""


def _long_history(path: Path, commits: int, line_bytes: int) -> None:
    """``commits`` commits, each adding a new file of ``line_bytes`` text (built with fast-import)."""
    stream = bytearray()
    for number in range(commits):
        stamp = 1_700_000_000 + number
        blob = b"".join(b"value_%d_%d = '%s'\n" % (number, i, b"x" * 60) for i in range(line_bytes // 80))
        message = b"commit %d\n" % number
        stream += b"commit refs/heads/main\n"
        stream += b"author A <a@example.test> %d +0000\ncommitter A <a@example.test> %d +0000\n" % (stamp, stamp)
        stream += b"data %d\n%s" % (len(message), message)
        stream += b"M 100644 inline f%05d.py\ndata %d\n%s\n\n" % (number, len(blob), blob)
    repo = GitRepo(path)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo.path, input=bytes(stream), check=True)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak memory is read from Linux's /proc")
def test_memory_stays_flat_on_long_histories(tmp_path: Path) -> None:
    """Ten times the history (30 MB of added lines instead of 3 MB) costs the scan far less than
    the difference in memory: lines stream through, nothing is kept per commit."""
    peaks = []
    for commits in (400, 4000):
        root = tmp_path / f"h{commits}"
        _long_history(root, commits, 8000)
        completed = subprocess.run(
            [sys.executable, "-c", PEAK_MEMORY_SCRIPT], cwd=root, capture_output=True, text=True, check=True
        )
        files, scanned, peak_kb = (int(part) for part in completed.stdout.split())
        assert files == commits
        assert scanned >= commits * 7000
        peaks.append(peak_kb)
    assert peaks[1] - peaks[0] < 8 * 1024, f"peak RSS grew from {peaks[0]} kB to {peaks[1]} kB"
