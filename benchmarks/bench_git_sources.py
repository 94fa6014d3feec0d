"""GitPython against git plumbing for the two git sources (history and the index).

Builds a synthetic repository with ``git fast-import`` (so the benchmark needs no network and no
corpus), or takes an existing one (``--repo``), and times how long each approach takes to produce
every added line:

- ``rev-list + diff-tree --stdin``: what leakvault uses (`gitsource.iter_history`): ``git
  rev-list`` names the commits, one long-lived ``git diff-tree --stdin -p -U0`` prints their
  patches, parsed in blocks (`git_patch`);
- ``log -p``: one ``git log -p -U0`` walk, parsed by the same parser (what leakvault used before);
- ``diff-tree, lines counted``: the raw git pipeline with a trivial line count, for git's own cost;
- ``GitPython``: ``Commit.diff(parent, create_patch=True)``, the library's own API;
- staged: ``git diff --cached`` + ``cat-file --batch`` against GitPython's ``index.diff("HEAD")``;
- full ``scan --git`` in one process and with a pool of two workers.

Run: ``python benchmarks/bench_git_sources.py [--commits 2000] [--repo PATH]``. Results go to
stdout (and are quoted in docs/git.md).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from leakvault.scanner.config import ScanConfig
from leakvault.scanner.git_scan import scan_history, scan_staged
from leakvault.scanner.model import Chunk
from leakvault.scanner.pipeline import build_scanner
from leakvault.scanner.sources.git import _DIFF_OPTIONS, _git_command, _stream, iter_history, iter_staged, make_scope
from leakvault.scanner.sources.git_patch import COMMIT_FORMAT

FILES = 60
WORDS = ["alpha", "beta", "gamma", "delta", "value", "config", "return", "import", "self", "data"]


def build_repository(path: Path, commits: int, seed: int = 7) -> None:
    """A history of ``commits`` commits, each rewriting three of FILES files (lines added and removed)."""
    rng = random.Random(seed)
    contents = {f"src/mod{index}.py": [f"line {i}\n" for i in range(40)] for index in range(FILES)}
    stream: list[bytes] = []
    for number in range(1, commits + 1):
        stream.append(b"commit refs/heads/main\n")
        stamp = 1_700_000_000 + number * 60
        stream.append(f"author Bench <bench@example.test> {stamp} +0000\n".encode())
        stream.append(f"committer Bench <bench@example.test> {stamp} +0000\n".encode())
        message = f"change {number}\n".encode()
        stream.append(b"data %d\n%s" % (len(message), message))
        for name in rng.sample(sorted(contents), 3):
            lines = contents[name]
            for _ in range(rng.randint(1, 4)):
                if len(lines) > 20:
                    del lines[rng.randrange(len(lines))]
            for _ in range(rng.randint(2, 8)):
                words = " ".join(rng.choice(WORDS) for _ in range(8))
                lines.insert(rng.randrange(len(lines) + 1), f"{rng.choice(WORDS)} = '{words}'\n")
            blob = "".join(lines).encode()
            stream.append(f"M 100644 inline {name}\n".encode())
            stream.append(b"data %d\n%s\n" % (len(blob), blob))
        stream.append(b"\n")
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=b"".join(stream), check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=path, check=True)


def count_plumbing_history(root: Path) -> int:
    scope = make_scope((), 25 * 1024 * 1024, cwd=str(root))
    return sum(len(item.data) for item in iter_history(scope) if isinstance(item, Chunk))


def count_log_walk(root: Path) -> int:
    scope = make_scope((), 25 * 1024 * 1024, cwd=str(root))
    options = ("--topo-order", "--reverse", "--diff-merges=first-parent", COMMIT_FORMAT, "--all")
    command = _git_command(scope.root, "log", "-p", *_DIFF_OPTIONS, *options)
    return sum(len(item.data) for item in _stream(command, scope, None, whole_blob=False) if isinstance(item, Chunk))


def count_diff_tree(root: Path) -> int:
    revs = subprocess.Popen(["git", "rev-list", "--reverse", "--topo-order", "--all"], cwd=root, stdout=subprocess.PIPE)
    tree = subprocess.Popen(
        ["git", "diff-tree", "--stdin", "-r", "-p", "-U0", "--no-color", "--root", "-M", "--diff-merges=first-parent"],
        cwd=root,
        stdin=revs.stdout,
        stdout=subprocess.PIPE,
    )
    assert tree.stdout is not None
    added = sum(len(line) - 1 for line in tree.stdout if line.startswith(b"+") and not line.startswith(b"+++"))
    tree.wait()
    revs.wait()
    return added


def count_gitpython(root: Path) -> int:
    import git

    repo = git.Repo(root)
    added = 0
    for commit in repo.iter_commits("--all", reverse=True, topo_order=True):
        parent = commit.parents[0] if commit.parents else git.NULL_TREE
        for diff in commit.diff(parent, create_patch=True, unified=0, R=True):
            patch = diff.diff if isinstance(diff.diff, bytes) else b""
            added += sum(len(line) - 1 for line in patch.split(b"\n") if line.startswith(b"+"))
    return added


def count_findings(engine: str, jobs: int) -> int:
    """A fresh scanner each time: one that scanned before has its patterns compiled already."""
    return len(scan_history(build_scanner(ScanConfig(), engine), jobs=jobs).findings)


def stage_changes(root: Path, files: int) -> None:
    for index in range(files):
        target = root / "staged" / f"file{index}.py"
        target.parent.mkdir(exist_ok=True)
        target.write_text("".join(f"value{i} = {i * index}\n" for i in range(50)))
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)


def count_plumbing_staged(root: Path) -> int:
    scope = make_scope((), 25 * 1024 * 1024, cwd=str(root))
    return sum(len(item.data) for item in iter_staged(scope) if isinstance(item, Chunk))


def count_gitpython_staged(root: Path) -> int:
    import git

    repo = git.Repo(root)
    total = 0
    for diff in repo.index.diff("HEAD", create_patch=True, R=True):
        if diff.b_blob is not None:
            total += len(diff.b_blob.data_stream.read())
    return total


def timed(label: str, function: Callable[[], int], repeat: int = 3, unit: str = "bytes") -> float:
    best = float("inf")
    result = 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    print(f"  {label:<44} {best:8.3f} s   ({result} {unit})")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--staged-files", type=int, default=200)
    parser.add_argument("--repo", type=Path, help="time history on this repository instead (no staged part)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        root = arguments.repo.resolve() if arguments.repo else Path(directory) / "repo"
        if not arguments.repo:
            start = time.perf_counter()
            build_repository(root, arguments.commits)
            print(
                f"repository: {arguments.commits} commits, {FILES} files ({time.perf_counter() - start:.1f} s to build)"
            )
        os.chdir(root)
        print("history, every added line:")
        timed("rev-list + diff-tree --stdin (ours)", lambda: count_plumbing_history(root))
        timed("log -p, same parser", lambda: count_log_walk(root))
        timed("diff-tree, lines counted", lambda: count_diff_tree(root))
        if not arguments.repo:
            timed("GitPython Commit.diff", lambda: count_gitpython(root), repeat=1)
        for engine in ("auto", "regex"):
            for jobs in (1, 2):
                label = f"full scan --git --engine {engine} --jobs {jobs}"
                timed(label, partial(count_findings, engine, jobs), 3, "findings")
        if arguments.repo:
            return
        stage_changes(root, arguments.staged_files)
        print(f"index, {arguments.staged_files} staged files:")
        timed("plumbing diff --cached + cat-file", lambda: count_plumbing_staged(root))
        timed("GitPython index.diff('HEAD')", lambda: count_gitpython_staged(root))
        scanner = build_scanner(ScanConfig())
        timed("full scan --staged", lambda: len(scan_staged(scanner).findings), 1, "findings")


if __name__ == "__main__":
    main()
