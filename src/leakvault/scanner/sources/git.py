"""Git sources: the index (what a commit would add) and history (what each commit added).

Both run ``git`` plumbing as subprocesses and parse its patch output as a stream of bytes
(`git_patch`), so memory stays flat however long the history is. History: ``git rev-list`` names
the commits, oldest first, and a long-lived ``git diff-tree --stdin`` prints the patches of
whichever commits it is asked for, so a pool's workers can each ask for their own share (see
`git_scan`). A long-lived ``git cat-file --batch`` hands out whole blobs on request. GitPython and
``git log -p`` were measured against this and are slower; the numbers are in docs/git.md and
``benchmarks/bench_git_sources.py``.

What they yield:

- a `Chunk` per hunk of added lines (history), or a staged file's whole blob with
  ``line_filter`` = its added lines (``--staged``), carrying `CommitInfo` for history;
- a `BlobChange` for files whose patch lines are not the text we scan (notebooks, UTF-16 files,
  which git diffs as binary): the new and the old version's chunks, so the scan reports only
  secrets the old version did not have;
- `Skipped` for binary blobs and changes over the size cap.

Paths are the repository paths, made relative to the working directory like every other source
(identical when git runs from the repository root, as hooks and CI do).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import IO

import pathspec

from leakvault.errors import UsageError
from leakvault.scanner.contexts.keystore_files import keystore_text
from leakvault.scanner.model import Chunk, CommitInfo
from leakvault.scanner.sources.files import BINARY_EXTENSIONS, Skipped, SkipReason, decode_text
from leakvault.scanner.sources.git_patch import (
    COMMIT_FORMAT,
    FilePatch,
    FilePatches,
    block_reader,
    iter_file_patches,
    read_patches,
)

# Files whose patch lines are not what we scan: their whole old and new blobs are compared.
WHOLE_BLOB_SUFFIXES = (".ipynb",)
IGNORE_FILE = ".leakvaultignore"
# Hunks of one file closer than this are scanned as one chunk (the gap filled with empty lines).
MAX_GAP_LINES = 200


class GitError(UsageError):
    """git refused (not a repository, a bad revision); the message is git's own first line."""


@dataclass(frozen=True, slots=True)
class BlobChange:
    """A changed file scanned whole: report what ``new`` has and ``old`` had not."""

    path: str
    new: bytes = field(repr=False)
    old: bytes | None = field(default=None, repr=False)
    commit: CommitInfo | None = None


GitItem = Chunk | BlobChange | Skipped


# ---------------------------------------------------------------------------------------------
# Running git


def _git_command(root: str, *args: str) -> list[str]:
    # quotepath off: non-ASCII paths arrive as UTF-8 bytes, only odd bytes are C-quoted.
    return ["git", "-C", root, "-c", "core.quotepath=off", *args]


def run_git(root: str, *args: str) -> bytes:
    """Run one git command to completion; a failure becomes a one-line `GitError`."""
    try:
        completed = subprocess.run(_git_command(root, *args), capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH; install git to scan the index or history") from None
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {message[0] if message else 'exit ' + str(completed.returncode)}")
    return completed.stdout


def repository_root(start: str | None = None) -> str:
    """The top directory of the work tree containing ``start`` (default: the working directory)."""
    start = start or os.getcwd()
    try:
        output = run_git(start, "rev-parse", "--show-toplevel")
    except GitError:
        raise GitError(
            f"{start} is not inside a git repository; run the scan in a repository or drop --staged/--git"
        ) from None
    return os.fsdecode(output.rstrip(b"\n"))


class BlobReader:
    """One ``git cat-file --batch`` process serving blobs by object id (no process per file),
    started on the first request: most history scans never need a whole blob."""

    def __init__(self, root: str) -> None:
        self._root = root
        self._process: subprocess.Popen[bytes] | None = None

    def read(self, object_id: str, max_size: int) -> bytes | None:
        """The blob's bytes, or None when it is missing or larger than ``max_size``."""
        if self._process is None:
            self._process = subprocess.Popen(
                _git_command(self._root, "cat-file", "--batch"), stdin=subprocess.PIPE, stdout=subprocess.PIPE
            )
            _track_pipes(self._process)
        stdin, stdout = self._process.stdin, self._process.stdout
        if stdin is None or stdout is None:  # pragma: no cover - Popen was given PIPEs
            raise GitError("git cat-file has no pipes")
        stdin.write(object_id.encode() + b"\n")
        stdin.flush()
        header = stdout.readline().split()
        if len(header) < 3:  # "<id> missing"
            return None
        size = int(header[2])
        if size > max_size:
            _discard(stdout, size + 1)
            return None
        data = stdout.read(size)
        stdout.read(1)  # the newline after each object
        return data

    def close(self) -> None:
        """Stop git (a later request starts it again)."""
        process, self._process = self._process, None
        if process is None:
            return
        _untrack_pipes(process)
        if process.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()
        if process.stdout is not None:
            process.stdout.close()
        process.wait()


# Our ends of the pipes to running git processes. A process forked while they are open (a
# history scan's workers) holds copies, and git sees the end of its input (cat-file) or a broken
# pipe (log) only once every copy is closed: the child must let go of them, see below.
_OPEN_PIPES: set[int] = set()


def _track_pipes(process: subprocess.Popen[bytes]) -> None:
    _OPEN_PIPES.update(pipe.fileno() for pipe in (process.stdin, process.stdout) if pipe is not None)


def _untrack_pipes(process: subprocess.Popen[bytes]) -> None:
    _OPEN_PIPES.difference_update(pipe.fileno() for pipe in (process.stdin, process.stdout) if pipe is not None)


def release_inherited_pipes() -> None:
    """In a forked child: drop the parent's pipes to git. Each descriptor is pointed at
    /dev/null rather than closed, so the parent's file objects copied into this process can
    never close a descriptor number that was reused for something else."""
    if not _OPEN_PIPES:
        return
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for descriptor in _OPEN_PIPES:
            os.dup2(null, descriptor)
    finally:
        os.close(null)
    _OPEN_PIPES.clear()


def _discard(stream: IO[bytes], count: int) -> None:
    while count > 0:
        piece = stream.read(min(count, 1 << 20))
        if not piece:
            return
        count -= len(piece)


def _commit_info(header: bytes) -> CommitInfo:
    sha, author, email, stamp = header.split(b"\x00")
    date = datetime.fromtimestamp(int(stamp), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return CommitInfo(
        sha=sha.decode(), author=author.decode("utf-8", "replace"), email=email.decode("utf-8", "replace"), date=date
    )


# ---------------------------------------------------------------------------------------------
# Turning patches into items


@dataclass(frozen=True, slots=True)
class GitScope:
    """Which repository paths a git scan covers, and how to name them in reports."""

    root: str
    cwd: str
    max_size: int
    exclude: pathspec.GitIgnoreSpec | None = None  # config excludes + the root .leakvaultignore
    only: tuple[str, ...] | None = None  # repository files or directories to restrict to ("" = all)

    def display(self, repo_path: str) -> str:
        """The repository path relative to the working directory, with '/' separators."""
        if self.cwd == self.root:
            return repo_path
        return os.path.relpath(os.path.join(self.root, repo_path), self.cwd).replace(os.sep, "/")

    def is_wanted(self, repo_path: str) -> bool:
        if self.only is not None and not any(
            prefix in ("", repo_path) or repo_path.startswith(prefix + "/") for prefix in self.only
        ):
            return False
        return self.exclude is None or not self.exclude.match_file(repo_path)


def make_scope(exclude: Sequence[str], max_size: int, paths: Sequence[str] = (), cwd: str | None = None) -> GitScope:
    """The scope of a git scan from the working directory: its repository, the config excludes and
    the root `.leakvaultignore`, and (for pre-commit) the file names given on the command line."""
    cwd = os.path.realpath(cwd or os.getcwd())
    root = os.path.realpath(repository_root(cwd))
    lines = list(exclude)
    try:
        with open(os.path.join(root, IGNORE_FILE), encoding="utf-8", errors="replace") as handle:
            lines.extend(handle.read().splitlines())
    except OSError:
        pass
    spec = pathspec.GitIgnoreSpec.from_lines(lines) if lines else None
    only = None
    if paths:
        relative = (os.path.relpath(os.path.realpath(os.path.join(cwd, path)), root) for path in paths)
        only = tuple("" if name == "." else name.replace(os.sep, "/") for name in relative)
    return GitScope(root=root, cwd=cwd, max_size=max_size, exclude=spec, only=only)


def _is_binary_by_name(path: str) -> bool:
    name = path.rpartition("/")[2]
    return "." in name and name.rpartition(".")[2].lower() in BINARY_EXTENSIONS


def _read_text(patch: FilePatch, display: str, blobs: BlobReader, max_size: int) -> bytes | Skipped:
    """The new blob of a patch as text to scan (UTF-16 decoded), or why it cannot be scanned."""
    if patch.new_id is None:
        return Skipped(display, SkipReason.UNREADABLE, "blob id missing from the patch")
    data = blobs.read(patch.new_id, max_size)
    if data is None:
        return Skipped(display, SkipReason.TOO_LARGE, f"over {max_size} bytes")
    text = decode_text(data)
    if text is None:
        text = keystore_text(display, data)  # contexts: a keystore is reported by its path
    return Skipped(display, SkipReason.BINARY) if text is None else text


def _blob_change(
    patch: FilePatch, display: str, commit: CommitInfo | None, blobs: BlobReader, max_size: int
) -> BlobChange | Skipped:
    """A whole-file comparison for a notebook or a file git saw as binary (UTF-16 text)."""
    new_text = _read_text(patch, display, blobs, max_size)
    if isinstance(new_text, Skipped):
        return new_text
    old_text = None
    if patch.old_id is not None:
        old = blobs.read(patch.old_id, max_size)
        old_text = decode_text(old) if old is not None else None
    return BlobChange(display, new_text, old_text, commit)


def _patch_items(
    patch: FilePatch, commit: CommitInfo | None, scope: GitScope, blobs: BlobReader, whole_blob: bool
) -> Iterator[GitItem]:
    """The items for one file of one commit (history: hunks) or of the index (whole blob)."""
    repo_path = os.fsdecode(patch.path)
    if patch.deleted or not scope.is_wanted(repo_path):
        return
    display = scope.display(repo_path)
    if patch.binary:
        if _is_binary_by_name(repo_path):
            yield Skipped(display, SkipReason.BINARY)
        else:  # maybe UTF-16 text, which git diffs as binary
            yield _blob_change(patch, display, commit, blobs, scope.max_size)
        return
    if patch.oversized:
        yield Skipped(display, SkipReason.TOO_LARGE, f"over {scope.max_size} bytes added")
        return
    if not patch.hunks:
        return  # a pure rename, a mode change, only removals
    if repo_path.endswith(WHOLE_BLOB_SUFFIXES):
        yield _blob_change(patch, display, commit, blobs, scope.max_size)
        return
    if whole_blob:
        yield _staged_chunk(patch, display, blobs, scope.max_size)
        return
    yield from _hunk_chunks(patch.hunks, display, commit)


def _hunk_chunks(hunks: list[tuple[int, int, bytes]], display: str, commit: CommitInfo | None) -> Iterator[Chunk]:
    """One chunk per run of nearby hunks: the gaps between them (lines the commit did not add)
    become empty lines, so line numbers stay true and the scanner is called once, not per hunk."""
    start, next_line = 0, 0
    parts: list[bytes] = []
    for first, count, data in hunks:
        if parts and 0 <= first - next_line <= MAX_GAP_LINES:
            parts.append(b"\n" * (first - next_line))
        elif parts:
            yield Chunk(path=display, data=b"".join(parts), first_line=start, commit=commit)
            parts = []
        if not parts:
            start = first
        if not data.endswith(b"\n"):  # the file's last line, without a newline
            data += b"\n"
        parts.append(data)
        next_line = first + count
    if parts:
        yield Chunk(path=display, data=b"".join(parts), first_line=start, commit=commit)


def _staged_chunk(patch: FilePatch, display: str, blobs: BlobReader, max_size: int) -> Chunk | Skipped:
    """The staged blob whole (context for multi-line secrets), reporting only its added lines."""
    text = _read_text(patch, display, blobs, max_size)
    if isinstance(text, Skipped):
        return text
    added = frozenset(first + offset for first, count, _ in patch.hunks for offset in range(count))
    return Chunk(path=display, data=text, line_filter=added)


_DIFF_OPTIONS = (
    "-U0",
    "--inter-hunk-context=0",  # a diff.interHunkContext setting would bring context lines back
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--full-index",
    "-M",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)


def iter_staged(scope: GitScope) -> Iterator[GitItem]:
    """What a commit would add: the staged blobs (from the index, not the work tree), each
    reporting only the lines the commit adds."""
    command = _git_command(scope.root, "diff", "--cached", *_DIFF_OPTIONS, "--diff-filter=ACMRT")
    yield from _stream(command, scope, commit=None, whole_blob=True)


def history_arguments(rev_range: str | None, since: str | None, until: str | None) -> list[str]:
    """``git rev-list`` revision arguments: the range (default: every ref), date bounds."""
    arguments = ["--all"] if not rev_range else rev_range.split()
    if since:
        arguments.append(f"--since={since}")
    if until:
        arguments.append(f"--until={until}")
    return arguments


def count_commits(
    scope: GitScope, rev_range: str | None = None, since: str | None = None, until: str | None = None
) -> int:
    """How many commits `iter_commits` will yield (for a progress display; 0 if git cannot say)."""
    try:
        output = run_git(
            scope.root, "rev-list", "--count", *history_arguments(rev_range, since, until), "--", *_pathspecs(scope)
        )
    except GitError:
        return 0  # the scan itself reports the problem
    return int(output.strip() or 0)


def iter_commits(
    scope: GitScope, rev_range: str | None = None, since: str | None = None, until: str | None = None
) -> Iterator[str]:
    """The commits of a history scan, parents before children (``--topo-order --reverse``, so
    a secret is first met where it was introduced), limited to the scope's paths."""
    revisions = history_arguments(rev_range, since, until)
    for revision in revisions:
        if revision.startswith("-") and not revision.startswith(("--since=", "--until=", "--all")):
            raise UsageError(f"--git takes a revision range, not an option ({revision!r})")
    # Check the range first, so a typo is a one-line error rather than an empty report.
    if rev_range:
        run_git(scope.root, "rev-list", "--max-count=1", *revisions, "--")
    elif not run_git(scope.root, "for-each-ref", "--count=1").strip() and not _has_head(scope.root):
        return  # an empty repository: nothing to scan
    # --diff-merges as for the patches: with paths, it keeps the merges whose first-parent diff
    # touches them (and so the walk, and its order, are those of `git log -p` with the option).
    command = _git_command(
        scope.root,
        "rev-list",
        "--topo-order",
        "--reverse",
        "--diff-merges=first-parent",
        *revisions,
        "--",
        *_pathspecs(scope),
    )
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
        if process.stdout is None:  # pragma: no cover - Popen was given a PIPE
            raise GitError("git rev-list has no output pipe")
        _track_pipes(process)
        try:
            for line in process.stdout:
                yield line.strip().decode("ascii")
        finally:
            _untrack_pipes(process)
            process.stdout.close()
            code = process.wait()
        _raise_for(code, "rev-list", errors)


# Commits per request to diff-tree: their names must fit in the pipe (64 KB on Linux) while git
# is busy writing patches nobody reads until the request is written.
MAX_REQUEST_COMMITS = 512
# diff-tree echoes a line that is not an object name, flushed: the end of a request's patches.
_END_OF_REQUEST = b"leakvault-end-of-request\n"


class HistoryReader:
    """What given commits added: one long-lived ``git diff-tree --stdin`` prints each commit's
    patch against its first parent (what ``git log -p --diff-merges=first-parent`` prints, read
    for any commits in any order, so a pool's workers each read their own share of a history).

    A merge is diffed against its first parent: lines it brings from the merged branch were met
    on that branch already (the scan reports each secret once), and lines written in the merge
    itself are met here. ``items()`` must be read to the end before the next call."""

    def __init__(self, scope: GitScope) -> None:
        self._scope = scope
        self._blobs = BlobReader(scope.root)
        self._process: subprocess.Popen[bytes] | None = None
        self._errors: IO[bytes] | None = None

    def __enter__(self) -> HistoryReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def items(self, commits: Iterable[str]) -> Generator[GitItem, None, None]:
        """The items of ``commits``, in their order (a commit that added nothing has none)."""
        for _, _, item in self.entries(commits):
            yield item

    def entries(self, commits: Iterable[str]) -> Generator[tuple[CommitInfo | None, bytes, GitItem], None, None]:
        """`items` with the commit and the repository path of the file each comes from."""
        commits = iter(commits)
        while request := list(islice(commits, MAX_REQUEST_COMMITS)):
            info: CommitInfo | None = None
            last_header: bytes | None = None
            for header, patch in self._patches(request):
                if header is not None and header != last_header:
                    last_header, info = header, _commit_info(header)
                for item in _patch_items(patch, info, self._scope, self._blobs, whole_blob=False):
                    yield info, patch.path, item

    def _patches(self, commits: list[str]) -> FilePatches:
        process = self._start()
        if process.stdin is None or process.stdout is None:  # pragma: no cover - Popen was given PIPEs
            raise GitError("git diff-tree has no pipes")
        finished = False
        try:
            process.stdin.write("".join(f"{commit}\n" for commit in commits).encode("ascii") + _END_OF_REQUEST)
            process.stdin.flush()
            yield from read_patches(block_reader(process.stdout), self._scope.max_size, _END_OF_REQUEST)
            finished = True
        except (EOFError, BrokenPipeError):
            finished = True
            self.close()  # raises git's own message if it failed
            raise GitError("git diff-tree stopped before printing every patch") from None
        finally:
            if not finished:  # abandoned halfway: the rest of its output would start the next request
                self._stop(report=False)

    def _start(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            # The file lives as long as the process; `close` closes it.
            self._errors = tempfile.TemporaryFile()  # noqa: SIM115
            command = _git_command(
                self._scope.root,
                "diff-tree",
                "--stdin",
                "-r",
                "-p",
                "--root",
                "--diff-merges=first-parent",
                *_DIFF_OPTIONS,
                COMMIT_FORMAT,
                "--",
                *_pathspecs(self._scope),
            )
            pipe = subprocess.PIPE
            self._process = subprocess.Popen(command, stdin=pipe, stdout=pipe, stderr=self._errors)
            _track_pipes(self._process)
        return self._process

    def _stop(self, report: bool) -> None:
        """Stop git; with ``report``, a `GitError` if it had failed."""
        self._blobs.close()
        process, errors, self._process, self._errors = self._process, self._errors, None, None
        if process is None or errors is None:
            return
        _untrack_pipes(process)
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                with contextlib.suppress(BrokenPipeError):
                    pipe.close()
        code = process.wait()
        with errors:
            if report:
                _raise_for(code, "diff-tree", errors)

    def close(self) -> None:
        """Stop git (the reader starts it again if asked for more); `GitError` if git had failed."""
        self._stop(report=True)


def commit_files(scope: GitScope, commit: str) -> list[bytes] | None:
    """The paths ``commit`` changes against its first parent, in the order its patch lists them;
    None if it deletes or renames any (then its patch for some of its paths alone could differ
    from the whole one's: rename detection pairs only what it is shown)."""
    output = run_git(
        scope.root,
        "diff-tree",
        "-r",
        "-z",
        "--no-commit-id",
        "--name-status",
        "-M",
        "--root",
        "--diff-merges=first-parent",
        commit,
        "--",
        *_pathspecs(scope),
    )
    fields = output.split(b"\x00")
    paths: list[bytes] = []
    for status, path in zip(fields[0:-1:2], fields[1::2], strict=False):
        if status[:1] in (b"D", b"R", b"C"):
            return None
        paths.append(path)
    return paths


def commit_path_items(scope: GitScope, commit: str, paths: Sequence[bytes]) -> Iterator[GitItem]:
    """The items of ``commit`` for ``paths`` only (from `commit_files`), as `HistoryReader` gives
    them, in the same order: lets several processes read one very large commit."""
    literal = [":(literal)" + os.fsdecode(path) for path in paths]
    options = ("-r", "-p", "--root", "--diff-merges=first-parent", *_DIFF_OPTIONS, COMMIT_FORMAT)
    command = _git_command(scope.root, "diff-tree", *options, commit, "--", *literal)
    yield from _stream(command, scope, commit=None, whole_blob=False)


def iter_history(
    scope: GitScope, rev_range: str | None = None, since: str | None = None, until: str | None = None
) -> Generator[GitItem, None, None]:
    """Every line added by every commit in the range, oldest commit first (see `iter_commits`
    and `HistoryReader`)."""
    with HistoryReader(scope) as reader:
        yield from reader.items(iter_commits(scope, rev_range, since, until))


def _pathspecs(scope: GitScope) -> list[str]:
    """The scope's paths for git to limit by (literal: no globbing of odd file names)."""
    if scope.only is None or "" in scope.only:
        return []
    return [f":(literal){path}" for path in scope.only]


def _has_head(root: str) -> bool:
    try:
        run_git(root, "rev-parse", "--verify", "-q", "HEAD")
    except GitError:
        return False
    return True


def _raise_for(code: int, name: str, errors: IO[bytes]) -> None:
    """A `GitError` with git's first line of ``errors`` if it failed (a signal we sent is no failure)."""
    if code <= 0:
        return
    errors.seek(0)
    message = errors.read().decode("utf-8", "replace").strip().splitlines()
    raise GitError(f"git {name} failed: {message[0] if message else 'exit ' + str(code)}")


def _stream(command: list[str], scope: GitScope, commit: CommitInfo | None, whole_blob: bool) -> Iterator[GitItem]:
    # stderr goes to a file: a pipe nobody reads while stdout streams could fill up and stall git.
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
        if process.stdout is None:  # pragma: no cover - Popen was given a PIPE
            raise GitError(f"git {command[5]} has no output pipe")
        _track_pipes(process)
        blobs = BlobReader(scope.root)
        info = commit
        last_header: bytes | None = None
        try:
            for header, patch in iter_file_patches(process.stdout, scope.max_size):
                if header is not None and header != last_header:
                    last_header, info = header, _commit_info(header)
                yield from _patch_items(patch, info, scope, blobs, whole_blob)
        finally:
            blobs.close()
            _untrack_pipes(process)
            process.stdout.close()
            code = process.wait()
        _raise_for(code, command[5], errors)
