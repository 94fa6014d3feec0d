"""Git sources: the index (what a commit would add) and history (what each commit added).

Both run ``git`` plumbing as subprocesses and parse its patch output as a stream of bytes, so
memory stays flat however long the history is: one process prints every commit's patch
(``git log -p -U0``), one long-lived ``git cat-file --batch`` hands out whole blobs on request.
GitPython was measured against this and is several times slower here (it spawns a ``git diff``
per commit); the numbers are in docs/git.md and ``benchmarks/bench_git_sources.py``.

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

import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO

import pathspec

from leakvault.errors import UsageError
from leakvault.scanner.model import Chunk, CommitInfo
from leakvault.scanner.source import BINARY_EXTENSIONS, Skipped, SkipReason, decode_text

NULL_SHA_CHARS = frozenset("0")
# Files whose patch lines are not what we scan: their whole old and new blobs are compared.
WHOLE_BLOB_SUFFIXES = (".ipynb",)
COMMIT_MARKER = b"\x00leakvault-commit\x00"
# %x00 keeps the fields apart whatever an author's name holds; %at is seconds since the epoch.
LOG_FORMAT = "--format=" + COMMIT_MARKER.decode().replace("\x00", "%x00") + "%H%x00%an%x00%ae%x00%at"
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
    """One ``git cat-file --batch`` process serving blobs by object id (no process per file)."""

    def __init__(self, root: str) -> None:
        self._process = subprocess.Popen(
            _git_command(root, "cat-file", "--batch"), stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )

    def read(self, object_id: str, max_size: int) -> bytes | None:
        """The blob's bytes, or None when it is missing or larger than ``max_size``."""
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
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait()


def _discard(stream: IO[bytes], count: int) -> None:
    while count > 0:
        piece = stream.read(min(count, 1 << 20))
        if not piece:
            return
        count -= len(piece)


# ---------------------------------------------------------------------------------------------
# Parsing patches


def unquote_path(raw: bytes) -> bytes:
    """Undo git's C-style quoting of a path (``"a\\303\\251 b"``); unquoted paths pass through."""
    if not raw.startswith(b'"') or not raw.endswith(b'"') or len(raw) < 2:
        return raw
    body, out, index = raw[1:-1], bytearray(), 0
    escapes = {ord("n"): 10, ord("t"): 9, ord("r"): 13, ord("a"): 7, ord("b"): 8, ord("f"): 12, ord("v"): 11}
    while index < len(body):
        byte = body[index]
        if byte != ord("\\") or index + 1 >= len(body):
            out.append(byte)
            index += 1
            continue
        following = body[index + 1]
        if 48 <= following <= 55:  # up to three octal digits
            digits = body[index + 1 : index + 4]
            out.append(int(digits, 8) & 0xFF)
            index += 4
        else:
            out.append(escapes.get(following, following))
            index += 2
    return bytes(out)


def _strip_prefix(path: bytes, prefix: bytes) -> bytes:
    return path[len(prefix) :] if path.startswith(prefix) else path


def _path_from_diff_line(line: bytes) -> bytes:
    """The new path from ``diff --git a/X b/Y``. Unquoted names may hold spaces, so an unquoted
    pair is split where both halves are the same path (true unless renamed; renames are named
    again by ``rename to`` and ``+++`` lines, which win)."""
    rest = line[len(b"diff --git ") :].rstrip(b"\n")
    if rest.endswith(b'"'):
        start = rest.rfind(b' "b/')
        return _strip_prefix(unquote_path(rest[start + 1 :]), b"b/")
    half = (len(rest) - 1) // 2
    if rest[half : half + 1] == b" " and rest[2:half] == rest[half + 3 :]:
        return rest[half + 3 :]
    start = rest.rfind(b" b/")
    return rest[start + 3 :] if start >= 0 else rest


@dataclass(slots=True)
class _FilePatch:
    """What one file's section of a patch says."""

    path: bytes
    old_id: str | None = None
    new_id: str | None = None
    binary: bool = False
    deleted: bool = False
    hunks: list[tuple[int, list[bytes]]] = field(default_factory=list)  # (first new line, added lines)
    added_bytes: int = 0
    oversized: bool = False


def _parse_hunk_header(line: bytes) -> tuple[int, int]:
    """(first new line, number of new lines) from ``@@ -a,b +c,d @@``."""
    new = line.split(b" ", 3)[2]  # b"+c,d"
    start, _, count = new[1:].partition(b",")
    return int(start), int(count) if count else 1


def iter_file_patches(stream: IO[bytes], max_size: int) -> Iterator[tuple[bytes | None, _FilePatch]]:
    """Parse ``git log -p``/``git diff`` output: (commit header or None, file patch) per file.

    Added lines are counted off by the hunk header, so no line content is ever taken for syntax.
    A file whose added lines exceed ``max_size`` bytes is marked oversized and its lines dropped
    as they stream past.
    """
    header: bytes | None = None
    current: _FilePatch | None = None
    line = stream.readline()
    while line:
        if line.startswith(COMMIT_MARKER):
            if current is not None:
                yield header, current
                current = None
            header = line[len(COMMIT_MARKER) :].rstrip(b"\n")
        elif line.startswith(b"diff --git "):
            if current is not None:
                yield header, current
            current = _FilePatch(_path_from_diff_line(line))
        elif current is None:
            pass  # blank lines between commits, merge headers
        elif line.startswith(b"@@ "):
            first, count = _parse_hunk_header(line)
            added = _read_hunk(stream, count, current, max_size)
            if added:
                current.hunks.append((first, added))
        elif line.startswith(b"index "):
            ids = line.split()[1].split(b"..")
            current.old_id, current.new_id = (None if set(i.decode()) <= NULL_SHA_CHARS else i.decode() for i in ids)
        elif line.startswith(b"+++ "):
            # git ends the name with a tab when it holds a space (names that end in a tab are quoted)
            target = line[4:].rstrip(b"\n").removesuffix(b"\t")
            if target == b"/dev/null":
                current.deleted = True
            else:
                current.path = _strip_prefix(unquote_path(target), b"b/")
        elif line.startswith((b"rename to ", b"copy to ")):
            current.path = unquote_path(line.split(b" to ", 1)[1].rstrip(b"\n"))
        elif line.startswith(b"deleted file mode"):
            current.deleted = True
        elif line.startswith(b"Binary files ") or line.startswith(b"GIT binary patch"):
            current.binary = True
        line = stream.readline()
    if current is not None:
        yield header, current


def _read_hunk(stream: IO[bytes], new_count: int, patch: _FilePatch, max_size: int) -> list[bytes]:
    """Consume one ``-U0`` hunk: its removed lines, then ``new_count`` added ones (kept, minus '+')."""
    added: list[bytes] = []
    remaining = new_count
    while remaining > 0:
        line = stream.readline()
        if not line:
            break
        if line.startswith(b"+"):
            remaining -= 1
            if patch.oversized:
                continue
            patch.added_bytes += len(line) - 1
            if patch.added_bytes > max_size:
                patch.oversized = True
                patch.hunks.clear()
                added.clear()
                continue
            added.append(line[1:])
        # "-" lines and "\ No newline at end of file" are skipped.
    return added


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


def _read_text(patch: _FilePatch, display: str, blobs: BlobReader, max_size: int) -> bytes | Skipped:
    """The new blob of a patch as text to scan (UTF-16 decoded), or why it cannot be scanned."""
    if patch.new_id is None:
        return Skipped(display, SkipReason.UNREADABLE, "blob id missing from the patch")
    data = blobs.read(patch.new_id, max_size)
    if data is None:
        return Skipped(display, SkipReason.TOO_LARGE, f"over {max_size} bytes")
    text = decode_text(data)
    return Skipped(display, SkipReason.BINARY) if text is None else text


def _blob_change(
    patch: _FilePatch, display: str, commit: CommitInfo | None, blobs: BlobReader, max_size: int
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
    patch: _FilePatch, commit: CommitInfo | None, scope: GitScope, blobs: BlobReader, whole_blob: bool
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


def _hunk_chunks(hunks: list[tuple[int, list[bytes]]], display: str, commit: CommitInfo | None) -> Iterator[Chunk]:
    """One chunk per run of nearby hunks: the gaps between them (lines the commit did not add)
    become empty lines, so line numbers stay true and the scanner is called once, not per hunk."""
    start, next_line = 0, 0
    parts: list[bytes] = []
    for first, lines in hunks:
        if parts and 0 <= first - next_line <= MAX_GAP_LINES:
            parts.append(b"\n" * (first - next_line))
        elif parts:
            yield Chunk(path=display, data=b"".join(parts), first_line=start, commit=commit)
            parts = []
        if not parts:
            start = first
        if lines and not lines[-1].endswith(b"\n"):  # the file's last line, without a newline
            lines = [*lines[:-1], lines[-1] + b"\n"]
        parts.extend(lines)
        next_line = first + len(lines)
    if parts:
        yield Chunk(path=display, data=b"".join(parts), first_line=start, commit=commit)


def _staged_chunk(patch: _FilePatch, display: str, blobs: BlobReader, max_size: int) -> Chunk | Skipped:
    """The staged blob whole (context for multi-line secrets), reporting only its added lines."""
    text = _read_text(patch, display, blobs, max_size)
    if isinstance(text, Skipped):
        return text
    added = frozenset(first + offset for first, lines in patch.hunks for offset in range(len(lines)))
    return Chunk(path=display, data=text, line_filter=added)


_DIFF_OPTIONS = (
    "-U0",
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
    """``git log`` revision arguments: the range (default: every ref), date bounds."""
    arguments = ["--all"] if not rev_range else rev_range.split()
    if since:
        arguments.append(f"--since={since}")
    if until:
        arguments.append(f"--until={until}")
    return arguments


def iter_history(
    scope: GitScope, rev_range: str | None = None, since: str | None = None, until: str | None = None
) -> Iterator[GitItem]:
    """Every line added by every commit in the range, oldest commit first (parents before
    children, so a secret is first met where it was introduced). A merge is diffed against its
    first parent: lines it brings from the merged branch were met on that branch already (the
    scan reports each secret once), and lines written in the merge itself are met here."""
    revisions = history_arguments(rev_range, since, until)
    for revision in revisions:
        if revision.startswith("-") and not revision.startswith(("--since=", "--until=", "--all")):
            raise UsageError(f"--git takes a revision range, not an option ({revision!r})")
    # Check the range first, so a typo is a one-line error rather than an empty report.
    if rev_range:
        run_git(scope.root, "rev-list", "--max-count=1", *revisions, "--")
    elif not run_git(scope.root, "for-each-ref", "--count=1").strip() and not _has_head(scope.root):
        return  # an empty repository: nothing to scan
    command = _git_command(
        scope.root,
        "log",
        "-p",
        *_DIFF_OPTIONS,
        "--topo-order",
        "--reverse",
        "--diff-merges=first-parent",
        LOG_FORMAT,
        *revisions,
        "--",
        *_pathspecs(scope),
    )
    yield from _stream(command, scope, commit=None, whole_blob=False)


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


def _stream(command: list[str], scope: GitScope, commit: CommitInfo | None, whole_blob: bool) -> Iterator[GitItem]:
    # stderr goes to a file: a pipe nobody reads while stdout streams could fill up and stall git.
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, bufsize=1 << 16)
        blobs = BlobReader(scope.root)
        if process.stdout is None:  # pragma: no cover - Popen was given a PIPE
            raise GitError(f"git {command[5]} has no output pipe")
        info = commit
        last_header: bytes | None = None
        try:
            for header, patch in iter_file_patches(process.stdout, scope.max_size):
                if header is not None and header != last_header:
                    last_header, info = header, _commit_info(header)
                yield from _patch_items(patch, info, scope, blobs, whole_blob)
        finally:
            blobs.close()
            process.stdout.close()
            code = process.wait()
        if code != 0:
            errors.seek(0)
            message = errors.read().decode("utf-8", "replace").strip().splitlines()
            raise GitError(f"git {command[5]} failed: {message[0] if message else 'exit ' + str(code)}")
