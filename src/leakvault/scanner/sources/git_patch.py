"""Parsing git's patch output (``git diff``, ``git diff-tree -p``, ``git log -p``, all ``-U0``).

The output is read in blocks, not line by line: a history of the standard library is a million
added lines, and a ``readline()`` per line was most of a history scan. Each hunk's added lines
are found as one run of lines starting with '+' (a regular-expression search for the first
newline followed by anything else) and kept as one piece of bytes; the only per-line work in
Python is for the few header lines of each file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, cast

COMMIT_MARKER = b"\x00leakvault-commit\x00"
# The header line git prints before each commit's patch (%x00 keeps the fields apart whatever an
# author's name holds; %at is seconds since the epoch).
COMMIT_FORMAT = "--format=" + COMMIT_MARKER.decode().replace("\x00", "%x00") + "%H%x00%an%x00%ae%x00%at"
NULL_SHA_CHARS = frozenset("0")


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
class FilePatch:
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


READ_BLOCK_BYTES = 1 << 20
# Where a run of lines that all start with '+' (or '-') ends: the first newline followed by
# anything else. Every line of a hunk starts with its marker, so no content is taken for syntax.
_ADDED_RUN_END = re.compile(rb"\n[^+]")
_REMOVED_RUN_END = re.compile(rb"\n[^-]")
_PLUS, _MINUS, _BACKSLASH = ord("+"), ord("-"), ord("\\")

FilePatches = Iterator[tuple[bytes | None, FilePatch]]


def iter_file_patches(stream: IO[bytes], max_size: int) -> FilePatches:
    """Parse patch output to its end: (commit header or None, file patch) per file.

    Added lines are counted off by the hunk header, so no line content is ever taken for syntax.
    A file whose added lines exceed ``max_size`` bytes is marked oversized and its lines dropped
    as they stream past.
    """
    return read_patches(block_reader(stream), max_size)


def block_reader(stream: IO[bytes]) -> Callable[[int], bytes]:
    """``read1`` where the stream has it (what a pipe holds now, up to n bytes), else ``read``."""
    return cast("Callable[[int], bytes]", getattr(stream, "read1", stream.read))


def read_patches(read: Callable[[int], bytes], max_size: int, end_line: bytes | None = None) -> FilePatches:
    """`iter_file_patches` over ``read(n)``, up to the end of the output or, if ``end_line`` is
    given, up to that line, which must be the last one there is to read for now (nothing is read
    past it; `EOFError` if the output ends first)."""
    parser = _PatchParser(max_size)
    pieces: list[bytes] = []  # the start of a line that the last block cut
    keep = len(end_line) + 1 if end_line else 0
    tail = b"\n"  # the last bytes read, where end_line is looked for
    while block := read(READ_BLOCK_BYTES):
        if end_line:
            tail = (tail + block[-keep:])[-keep:]
        cut = block.rfind(b"\n") + 1
        if not cut:  # a line longer than a block
            pieces.append(block)
            continue
        head = block if cut == len(block) else block[:cut]
        parser.feed(b"".join((*pieces, head)) if pieces else head)
        pieces = [block[cut:]] if cut < len(block) else []
        yield from parser.take()
        if end_line and tail[1:] == end_line and tail[0] == 10:
            break
    else:
        if end_line:
            raise EOFError("the patch output ended early")
        if pieces:  # output that does not end in a newline (git's always does)
            parser.feed(b"".join((*pieces, b"\n")))
    parser.finish()
    yield from parser.take()


class _PatchParser:
    """The state of `read_patches` between blocks: it is fed whole lines, any number at a
    time, and a hunk may span any number of feeds."""

    def __init__(self, max_size: int) -> None:
        self._max_size = max_size
        self._header: bytes | None = None
        self._current: FilePatch | None = None
        self._ready: list[tuple[bytes | None, FilePatch]] = []
        self._hunk_first = 0
        self._hunk_left = 0  # added lines the open hunk still has to come
        self._hunk_lines = 0
        self._hunk_parts: list[bytes] = []

    def take(self) -> list[tuple[bytes | None, FilePatch]]:
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
            self._current = FilePatch(_path_from_diff_line(line))
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
