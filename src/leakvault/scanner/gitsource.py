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
import re
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
        if self._process is None:
            return
        _untrack_pipes(self._process)
        if self._process.stdin is not None:
            self._process.stdin.close()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._process.wait()


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
    # (first new line, number of added lines, the added lines without their '+')
    hunks: list[tuple[int, int, bytes]] = field(default_factory=list)
    added_bytes: int = 0
    oversized: bool = False


def _parse_hunk_header(line: bytes) -> tuple[int, int]:
    """(first new line, number of new lines) from ``@@ -a,b +c,d @@``."""
    new = line.split(b" ", 3)[2]  # b"+c,d"
    start, _, count = new[1:].partition(b",")
    return int(start), int(count) if count else 1


# Patch output is read in blocks of this size, not line by line: a history of the standard
# library is a million added lines, and a readline() per line was most of a history scan.
READ_BLOCK_BYTES = 1 << 20
# Where a run of lines that all start with '+' (or '-') ends: the first newline followed by
# anything else. Every line of a hunk starts with its marker, so no content is taken for syntax.
_ADDED_RUN_END = re.compile(rb"\n[^+]")
_REMOVED_RUN_END = re.compile(rb"\n[^-]")
_PLUS, _MINUS, _BACKSLASH = ord("+"), ord("-"), ord("\\")


def iter_file_patches(stream: IO[bytes], max_size: int) -> Iterator[tuple[bytes | None, _FilePatch]]:
    """Parse ``git log -p``/``git diff`` output: (commit header or None, file patch) per file.

    Added lines are counted off by the hunk header, so no line content is ever taken for syntax.
    A file whose added lines exceed ``max_size`` bytes is marked oversized and its lines dropped
    as they stream past.
    """
    parser = _PatchParser(max_size)
    read = getattr(stream, "read1", stream.read)  # read1: whatever the pipe holds, up to a block
    pieces: list[bytes] = []  # the start of a line that the last block cut
    while block := read(READ_BLOCK_BYTES):
        cut = block.rfind(b"\n") + 1
        if not cut:  # a line longer than a block
            pieces.append(block)
            continue
        head = block if cut == len(block) else block[:cut]
        parser.feed(b"".join((*pieces, head)) if pieces else head)
        pieces = [block[cut:]] if cut < len(block) else []
        yield from parser.take()
    if pieces:  # output that does not end in a newline (git's always does)
        parser.feed(b"".join((*pieces, b"\n")))
    parser.finish()
    yield from parser.take()


class _PatchParser:
    """The state of `iter_file_patches` between blocks: it is fed whole lines, any number at a
    time, and a hunk may span any number of feeds."""

    def __init__(self, max_size: int) -> None:
        self._max_size = max_size
        self._header: bytes | None = None
        self._current: _FilePatch | None = None
        self._ready: list[tuple[bytes | None, _FilePatch]] = []
        self._hunk_first = 0
        self._hunk_left = 0  # added lines the open hunk still has to come
        self._hunk_lines = 0
        self._hunk_parts: list[bytes] = []

    def take(self) -> list[tuple[bytes | None, _FilePatch]]:
        """The file patches completed so far (each returned once)."""
        ready, self._ready = self._ready, []
        return ready

    def feed(self, text: bytes) -> None:
        """Parse ``text``, which ends with a newline and starts at the start of a line."""
        position, end = 0, len(text)
        while position < end:
            if self._hunk_left:
                position = self._hunk_body(text, position)
            elif text[position] == _MINUS:  # removed lines and "--- a/path" say nothing we use
                found = _REMOVED_RUN_END.search(text, position)
                position = found.start() + 1 if found else end
            else:
                newline = text.index(b"\n", position)
                self._line(text[position:newline])
                position = newline + 1

    def finish(self) -> None:
        self._close_hunk()
        if self._current is not None:
            self._ready.append((self._header, self._current))
            self._current = None

    def _line(self, line: bytes) -> None:
        """One line outside a hunk's body (without its newline)."""
        current = self._current
        if line.startswith(COMMIT_MARKER):
            if current is not None:
                self._ready.append((self._header, current))
                self._current = None
            self._header = line[len(COMMIT_MARKER) :]
        elif line.startswith(b"diff --git "):
            if current is not None:
                self._ready.append((self._header, current))
            self._current = _FilePatch(_path_from_diff_line(line))
        elif current is None:
            pass  # blank lines between commits, merge headers
        elif line.startswith(b"@@ "):
            first, count = _parse_hunk_header(line)
            self._hunk_first, self._hunk_left, self._hunk_lines = first, count, 0
        elif line.startswith(b"index "):
            ids = line.split()[1].split(b"..")
            current.old_id, current.new_id = (None if set(i.decode()) <= NULL_SHA_CHARS else i.decode() for i in ids)
        elif line.startswith(b"+++ "):
            # git ends the name with a tab when it holds a space (names that end in a tab are quoted)
            target = line[4:].removesuffix(b"\t")
            if target == b"/dev/null":
                current.deleted = True
            else:
                current.path = _strip_prefix(unquote_path(target), b"b/")
        elif line.startswith((b"rename to ", b"copy to ")):
            current.path = unquote_path(line.split(b" to ", 1)[1])
        elif line.startswith(b"deleted file mode"):
            current.deleted = True
        elif line.startswith(b"Binary files ") or line.startswith(b"GIT binary patch"):
            current.binary = True

    def _hunk_body(self, text: bytes, position: int) -> int:
        """Consume what of an open ``-U0`` hunk starts at ``position``: a run of removed lines, a
        "\\ No newline at end of file", or a run of added lines (kept, minus their '+')."""
        marker = text[position]
        if marker == _PLUS:
            found = _ADDED_RUN_END.search(text, position)
            stop = found.start() + 1 if found else len(text)
            lines = text.count(b"\n", position, stop)
            if lines > self._hunk_left:  # more '+' lines than the header said: not from git
                stop, lines = _after_newlines(text, position, self._hunk_left), self._hunk_left
            self._keep(text, position, stop, lines)
            return stop
        if marker == _MINUS:
            found = _REMOVED_RUN_END.search(text, position)
            return found.start() + 1 if found else len(text)
        if marker == _BACKSLASH:
            return text.index(b"\n", position) + 1
        self._close_hunk()  # the hunk was cut short; the line is read as a header
        return position

    def _keep(self, text: bytes, start: int, stop: int, lines: int) -> None:
        """Added lines ``text[start:stop]`` (``lines`` of them, each starting with '+')."""
        patch = self._current
        self._hunk_left -= lines
        self._hunk_lines += lines
        if patch is not None and not patch.oversized:
            patch.added_bytes += stop - start - lines
            if patch.added_bytes > self._max_size:
                patch.oversized = True
                patch.hunks.clear()
                self._hunk_parts.clear()
            else:  # '\n+' only ever starts a line: the lines' content is not touched
                self._hunk_parts.append(text[start + 1 : stop].replace(b"\n+", b"\n"))
        if not self._hunk_left:
            self._close_hunk()

    def _close_hunk(self) -> None:
        self._hunk_left = 0
        if self._hunk_parts and self._current is not None:
            data = b"".join(self._hunk_parts)
            self._current.hunks.append((self._hunk_first, self._hunk_lines, data))
        self._hunk_parts = []


def _after_newlines(text: bytes, position: int, count: int) -> int:
    """The offset just past the ``count``-th newline from ``position``."""
    for _ in range(count):
        position = text.index(b"\n", position) + 1
    return position


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


def _staged_chunk(patch: _FilePatch, display: str, blobs: BlobReader, max_size: int) -> Chunk | Skipped:
    """The staged blob whole (context for multi-line secrets), reporting only its added lines."""
    text = _read_text(patch, display, blobs, max_size)
    if isinstance(text, Skipped):
        return text
    added = frozenset(first + offset for first, count, _ in patch.hunks for offset in range(count))
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
        if code != 0:
            errors.seek(0)
            message = errors.read().decode("utf-8", "replace").strip().splitlines()
            raise GitError(f"git {command[5]} failed: {message[0] if message else 'exit ' + str(code)}")
