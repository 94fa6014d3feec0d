"""History read per commit (``git diff-tree --stdin``) and scanned by a pool of workers gives
exactly what one ``git log -p`` walk scanned in one process gives.

A random repository (branches, merges with conflicts resolved by hand, an octopus merge,
renames, deletions, binary and UTF-16 files, a notebook, odd paths, CRLF, empty commits) with
secrets introduced in several commits and carried through later ones.
"""

from __future__ import annotations

import codecs
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from leakvault.scanner import git_scan as gitscan
from leakvault.scanner.config import ScanConfig
from leakvault.scanner.git_scan import scan_history
from leakvault.scanner.model import ScanResult
from leakvault.scanner.pipeline import build_scanner
from leakvault.scanner.sources.git import (
    _DIFF_OPTIONS,
    GitItem,
    GitScope,
    HistoryReader,
    _git_command,
    _pathspecs,
    _stream,
    history_arguments,
    iter_commits,
    iter_history,
    make_scope,
)
from leakvault.scanner.sources.git_patch import COMMIT_FORMAT
from tests.scanner.gitrepo import GitRepo, json_findings
from tests.scanner.tokens import aws_key_pair, github_pat

RunCli = Callable[..., CompletedProcess[str]]


def _notebook(source: str) -> str:
    cell: dict[str, object] = {
        "cell_type": "code",
        "metadata": {},
        "source": [source],
        "outputs": [],
        "execution_count": None,
    }
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)


def _random_history(repo: GitRepo, rng: random.Random, commits: int) -> list[str]:
    """Random work on three branches merged back and forth; returns the secrets it added."""
    secrets: list[str] = []
    files: dict[str, list[str]] = {}
    names = ["src/app.py", "src/deep/conf.ini", "docs/read me.md", "weird\tname ü.txt", "crlf.cfg", "data/x.env"]

    def edit() -> str:
        name = rng.choice(names)
        lines = files.setdefault(name, [f"{name} line {i}" for i in range(rng.randint(1, 30))])
        for _ in range(rng.randint(1, 4)):
            position = rng.randrange(len(lines) + 1)
            if rng.random() < 0.3 and lines:
                del lines[min(position, len(lines) - 1)]
            elif rng.random() < 0.25:
                secret = rng.choice([github_pat(rng), "aws_secret_access_key = " + aws_key_pair(rng)[1]])
                secrets.append(secret)
                lines.insert(position, f"token_{len(secrets)} = '{secret}'")
            else:
                lines.insert(position, f"value_{rng.randrange(10**6)} = {rng.random()}")
        ending = "\r\n" if name.endswith(".cfg") else "\n"
        text = ending.join(lines) + ("" if rng.random() < 0.2 else ending)
        repo.write(name, text)
        return name

    def special(edited: str) -> None:
        choice = rng.randrange(6)
        existing = [name for name in files if (repo.path / name).exists() and name != edited]
        if choice == 0 and existing:
            old = rng.choice(existing)
            new = f"moved/{rng.randrange(1000)}-{os.path.basename(old)}"
            os.renames(repo.path / old, repo.path / new)  # committed with `add -A`: git sees the rename
            files[new] = files.pop(old)
            names[names.index(old)] = new
        elif choice == 1 and existing:
            victim = rng.choice(existing)
            os.remove(repo.path / victim)
            del files[victim]
        elif choice == 2:
            repo.write(f"bin/blob{rng.randrange(100)}.dat", bytes(rng.randrange(256) for _ in range(300)) + b"\x00")
        elif choice == 3:
            secret = github_pat(rng)
            secrets.append(secret)
            repo.write("notes-utf16.txt", codecs.BOM_UTF16_LE + f"token = {secret}\n".encode("utf-16-le"))
        elif choice == 4:
            secret = github_pat(rng)
            secrets.append(secret)
            repo.write("analysis.ipynb", _notebook(f"TOKEN = '{secret}'\n"))

    branches = ["main"]
    repo.write("README.md", "start\n")
    repo.commit("root")
    # Secrets kept through later commits that edit their lines (each edit adds the line again).
    # The first commit adds several files, so a worker may hand the later ones back to the pool,
    # while the next commits touch only those: their line must still be reported at the first.
    kept = [github_pat(rng), github_pat(rng)]
    secrets.extend(kept)
    repo.write("kept/a.py", "x = 1\n")
    for edit_number in range(6):
        for index, name in enumerate(("kept/b.py", "kept/c.py")):
            if edit_number == 0 or (edit_number + index) % 2:
                repo.write(name, f"token = '{kept[index]}'  # edit {edit_number}\n" + "y = 1\n" * edit_number)
        repo.commit(f"kept secrets, edit {edit_number}")
    for number in range(commits):
        roll = rng.random()
        if roll < 0.08 and len(branches) < 3:
            branch = f"topic{len(branches)}"
            repo.git("checkout", "-q", "-b", branch)
            branches.append(branch)
        elif roll < 0.3 and len(branches) > 1:
            current = repo.git("rev-parse", "--abbrev-ref", "HEAD")
            others = [b for b in branches if b != current]
            merged = rng.sample(others, k=min(len(others), 2 if rng.random() < 0.2 else 1))
            result = repo.git("merge", "-q", "--no-ff", "-m", f"merge {number}", *merged, check=False)
            if repo.git("status", "--porcelain"):  # a conflict: resolve by hand, adding a line
                repo.git("merge", "--abort", check=False)
                repo.git("merge", "-q", "--no-ff", "--no-commit", "-s", "ours", merged[0], check=False)
                edit()
                repo.commit(f"merge {number} by hand")
            del result
            files = {
                name: (repo.path / name).read_text(errors="replace").splitlines()
                for name in files
                if (repo.path / name).exists()
            }
            continue
        elif roll < 0.45:
            repo.git("checkout", "-q", rng.choice(branches))
            files = {
                name: (repo.path / name).read_text(errors="replace").splitlines()
                for name in files
                if (repo.path / name).exists()
            }
        if rng.random() < 0.05:
            repo.commit(f"empty {number}")
            continue
        edited = edit()
        if rng.random() < 0.3:
            special(edited)
        repo.commit(f"change {number}")
    return secrets


def _log_walk(scope: GitScope, rev_range: str | None, since: str | None, until: str | None) -> Iterator[GitItem]:
    """What the history source was before it read per commit: one ``git log -p`` walk."""
    command = _git_command(
        scope.root,
        "log",
        "-p",
        *_DIFF_OPTIONS,
        "--topo-order",
        "--reverse",
        "--diff-merges=first-parent",
        COMMIT_FORMAT,
        *history_arguments(rev_range, since, until),
        "--",
        *_pathspecs(scope),
    )
    return _stream(command, scope, commit=None, whole_blob=False)


def _described(items: Iterator[GitItem]) -> list[str]:
    return [repr(item) + repr(getattr(item, "data", None)) + repr(getattr(item, "new", None)) for item in items]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, list[str]]:
    repo = GitRepo(tmp_path_factory.mktemp("pool") / "repo")
    secrets = _random_history(repo, random.Random(20261129), 70)
    return repo, secrets


@pytest.mark.parametrize(
    ("rev_range", "paths", "since", "until"),
    [
        (None, (), None, None),
        (None, ("src",), None, None),
        ("HEAD~8..HEAD", (), None, None),
        (None, ("crlf.cfg", "docs"), "2024-01-20T00:00:00Z", "2024-02-20T00:00:00Z"),
    ],
)
def test_per_commit_patches_equal_one_log_walk(
    history: tuple[GitRepo, list[str]],
    rev_range: str | None,
    paths: tuple[str, ...],
    since: str | None,
    until: str | None,
) -> None:
    repo, _ = history
    scope = make_scope((), 25 << 20, paths=[str(repo.path / path) for path in paths], cwd=str(repo.path))
    expected = _described(_log_walk(scope, rev_range, since, until))
    assert expected, "the variant selects nothing: the test would prove nothing"
    assert _described(iter_history(scope, rev_range, since, until)) == expected


def _result(repo: GitRepo, jobs: int) -> ScanResult:
    return scan_history(build_scanner(ScanConfig()), cwd=str(repo.path), jobs=jobs)


def _comparable(result: ScanResult) -> tuple[object, ...]:
    return (
        [(f.fingerprint, f.commit, f.line, f.column, f.location) for f in result.findings],
        result.stats,
        result.warnings,
    )


def _git_children_of(root: Path) -> list[str]:
    """Command lines of running git processes working in ``root`` (workers' leftovers)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\x00")
        except OSError:
            continue
        if b"git" in command[0] and str(root).encode() in command:
            found.append(b" ".join(command).decode(errors="replace"))
    return found


@pytest.mark.parametrize(
    ("jobs", "task_bytes", "in_place", "handed_back"),
    [(2, 1, 1 << 30, 0), (3, 1, 1 << 30, 0), (2, 1, 1, 1 << 30), (2, 1, 300, 3000), (2, 1 << 30, 1, 1 << 30)],
    ids=["2-jobs", "3-jobs", "all-handed-back", "some-handed-back", "lists-handed-back"],
)
def test_pool_reports_exactly_what_one_process_reports(
    history: tuple[GitRepo, list[str]],
    jobs: int,
    task_bytes: int,
    in_place: int,
    handed_back: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Same findings (each at the commit that introduced it), counters and warnings, with the
    pool taking over after the first commit, and workers handing back what they did not scan:
    the rest of a list of commits, the files of a commit for others to read, or items read."""
    repo, secrets = history
    alone = _result(repo, 1)
    reported = {finding.secret for finding in alone.findings}
    assert len(reported) >= 10
    assert {secret.rpartition(" ")[2] for secret in secrets} <= reported
    assert alone.stats.skipped_binary > 0
    monkeypatch.setattr(gitscan, "POOL_MIN_FILES", 1)
    monkeypatch.setattr(gitscan, "POOL_MIN_BYTES", 1)
    monkeypatch.setattr(gitscan, "TASK_BYTES", task_bytes)
    monkeypatch.setattr(gitscan, "PATHS_TASK_BYTES", 1)
    monkeypatch.setattr(gitscan, "SCAN_IN_PLACE_BYTES", in_place)
    monkeypatch.setattr(gitscan, "OVERFLOW_MAX_BYTES", handed_back)
    monkeypatch.setattr(gitscan, "_worker_scanner", None)
    pooled = _result(repo, jobs)
    assert gitscan._worker_scanner is not None  # the pool ran
    assert _comparable(pooled) == _comparable(alone)
    if Path("/proc/self/cmdline").exists():
        assert _git_children_of(repo.path) == []


def _big_history(path: Path, rng: random.Random) -> list[tuple[int, str]]:
    """60 commits of ~100 KB each (past the pool's thresholds), secrets added in some and kept."""
    stream = bytearray()
    planted: list[tuple[int, str]] = []
    body = {"common.py": b"".join(b"filler_%d = '%s'\n" % (i, b"y" * 50) for i in range(800))}
    for number in range(60):
        stamp = 1_700_000_000 + number * 3600
        if number % 9 == 4:
            token = github_pat(rng)
            planted.append((number, token))
            body["secrets.py"] = body.get("secrets.py", b"") + f"T{number} = '{token}'\n".encode()
        body[f"m{number:03d}.py"] = b"".join(b"v_%d_%d = %d\n" % (number, i, i * i) for i in range(5000))
        message = b"c%d\n" % number
        stream += b"commit refs/heads/main\n"
        stream += b"author A <a@example.test> %d +0000\ncommitter A <a@example.test> %d +0000\n" % (stamp, stamp)
        stream += b"data %d\n%s" % (len(message), message)
        for name in ("common.py", "secrets.py", f"m{number:03d}.py"):
            if name in body:
                data = body[name] + (b"edit %d\n" % number if name == "common.py" else b"")
                body[name] = data
                stream += b"M 100644 inline %s\ndata %d\n%s\n" % (name.encode(), len(data), data)
        stream += b"\n"
    GitRepo(path)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=bytes(stream), check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=path, check=True)
    return planted


def test_cli_pool_and_single_process_agree_on_a_large_history(
    tmp_path: Path, run_cli: RunCli, rng: random.Random
) -> None:
    """Through the CLI, past the real thresholds: --jobs 2 and --jobs 1 give the same report,
    each secret at the commit that added it."""
    root = tmp_path / "big"
    planted = _big_history(root, rng)
    reports = [run_cli("scan", "--git", "--jobs", jobs, "--format", "json", "--no-redact", cwd=root) for jobs in "12"]
    one, two = (json.loads(report.stdout) for report in reports)
    assert one == two
    assert sorted(f["secret"] for f in json_findings(reports[0])) == sorted(token for _, token in planted)
    assert one["stats"]["bytes_scanned"] > 4 << 20


def test_staged_runs_never_load_the_pool(tmp_path: Path, rng: random.Random) -> None:
    """A pre-commit run imports neither the process pool nor multiprocessing."""
    repo = GitRepo(tmp_path / "repo")
    repo.write("a.py", f"T = '{github_pat(rng)}'\n")
    repo.git("add", "a.py")
    script = (
        "import sys\n"
        "from leakvault.scanner.pipeline import build_scanner\n"
        "from leakvault.scanner.config import ScanConfig\n"
        "from leakvault.scanner.git_scan import scan_staged\n"
        "result = scan_staged(build_scanner(ScanConfig()))\n"
        "print(len(result.findings), 'concurrent.futures.process' in sys.modules, 'multiprocessing' in sys.modules)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=repo.path, capture_output=True, text=True, check=True
    )
    assert completed.stdout.split() == ["1", "False", "False"]


def test_a_reader_left_halfway_starts_afresh(history: tuple[GitRepo, list[str]]) -> None:
    """Stopping after one item (as `scan --fix` does once it knows enough) stops git; the next
    request to the same reader gets whole, correct patches; no git process is left."""
    repo, _ = history
    scope = make_scope((), 25 << 20, cwd=str(repo.path))
    commits = list(iter_commits(scope))
    expected = _described(iter_history(scope))
    with HistoryReader(scope) as reader:
        first = next(iter(reader.items(commits)))
        assert _described(iter([first])) == expected[:1]
        assert _described(reader.items(commits)) == expected
    walk = iter_history(scope)
    next(walk)
    walk.close()
    if Path("/proc/self/cmdline").exists():
        assert _git_children_of(repo.path) == []
