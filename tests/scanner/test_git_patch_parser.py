"""The block parser of git's patch output against a line-by-line reference, on real git output.

The parser reads ``-U0`` patches in blocks and finds each hunk's added lines as one run of
'+' lines; the reference below reads one line at a time, as the first version of the parser
did. Both run over the output of a real repository whose commits hold what is hard to parse
(CRLF, a line longer than a block, no newline at the end, content that looks like patch syntax,
binary files, quoted paths, renames, removals, an empty commit), cut into blocks of every size
from one byte up, so every hunk and header crosses a block boundary somewhere.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from leakvault.scanner.sources import git_patch as gitpatch
from leakvault.scanner.sources.git_patch import COMMIT_FORMAT, COMMIT_MARKER, FilePatch, iter_file_patches, read_patches
from tests.scanner.gitrepo import GitRepo

Parsed = list[tuple[bytes | None, bytes, str | None, str | None, bool, bool, list[tuple[int, int, bytes]], bool]]

LONG_LINE = b"x = '" + b"0123456789abcdef" * 20_000 + b"'\n"  # 320 KB, one line


def _reference(stream: io.BytesIO, max_size: int) -> Parsed:
    """A line-by-line parse of the same output (headers as in gitpatch, hunks counted off)."""
    out: Parsed = []
    header: bytes | None = None
    current: FilePatch | None = None
    pending: list[tuple[int, int, list[bytes]]] = []

    def close() -> None:
        if current is not None:
            current.hunks = [(first, count, b"".join(lines)) for first, count, lines in pending if lines]
            out.append(_fields(header, current))

    line = stream.readline()
    while line:
        text = line.rstrip(b"\n")
        if text.startswith(COMMIT_MARKER):
            close()
            current, pending = None, []
            header = text[len(COMMIT_MARKER) :]
        elif text.startswith(b"diff --git "):
            close()
            current, pending = FilePatch(gitpatch._path_from_diff_line(text)), []
        elif current is None:
            pass
        elif text.startswith(b"@@ "):
            first, count = gitpatch._parse_hunk_header(text)
            kept: list[bytes] = []
            while count > 0 and (line := stream.readline()):
                if line.startswith(b"+"):
                    count -= 1
                    current.added_bytes += len(line) - 1
                    if current.added_bytes > max_size:
                        current.oversized = True
                    kept.append(line[1:])
            if current.oversized:
                pending = []
            else:
                pending.append((first, len(kept), kept))
        else:
            patch = FilePatch(b"")
            parser = gitpatch._PatchParser(max_size)
            parser._current = patch
            parser._line(text)  # index, +++, rename to, binary, deleted: the same header code
            current.old_id = patch.old_id or current.old_id
            current.new_id = patch.new_id or current.new_id
            current.path = patch.path or current.path
            current.binary |= patch.binary
            current.deleted |= patch.deleted
        line = stream.readline()
    close()
    return out


def _fields(
    header: bytes | None, patch: FilePatch
) -> tuple[bytes | None, bytes, str | None, str | None, bool, bool, list[tuple[int, int, bytes]], bool]:
    hunks = [] if patch.oversized else patch.hunks
    return (header, patch.path, patch.old_id, patch.new_id, patch.binary, patch.deleted, hunks, patch.oversized)


def _hard_history(repo: GitRepo) -> None:
    repo.write("crlf.txt", b"first\r\nsecond\r\n")
    repo.write("long.py", b"a = 1\n" + LONG_LINE + b"b = 2\n")
    repo.write("no-newline.txt", b"one\ntwo")
    repo.write(
        "looks-like-syntax.txt",
        b"".join(
            [
                b"+plus\n",
                b"++double\n",
                b"-minus\n",
                b"--- a/x\n",
                b"+++ b/x\n",
                b"@@ -1 +1 @@\n",
                b"diff --git a/x b/x\n",
                b"\\ No newline at end of file\n",
                b"leakvault-end-of-request\n",
                b"\n",
                b" space\n",
            ]
        ),
    )
    repo.write("bin.dat", b"\x00\x01\x02binary\x00" * 100)
    repo.write('we"ird\tname ü.txt', b"quoted path\n")
    repo.write("with space.txt", b"".join(b"spaced %d\n" % i for i in range(20)))
    repo.commit("first")
    repo.commit("empty")
    repo.write("no-newline.txt", b"one\nTWO\nthree")  # replaces the line without a newline
    repo.write("crlf.txt", b"first\r\nchanged\r\nsecond\r\nadded\r\n")
    lines = [f"line {i}\n".encode() for i in range(60)]
    repo.write("many-hunks.txt", b"".join(lines))
    repo.commit("second")
    lines[3], lines[30], lines[55] = b"three\n", b"thirty\n", b"fifty-five\n"
    del lines[10:14]  # a removal with nothing added
    repo.write("many-hunks.txt", b"".join(lines))
    repo.git("mv", "with space.txt", "renamed space.txt")
    repo.write("renamed space.txt", b"".join(b"spaced %d\n" % i for i in range(20)) + b"and edited\n")
    repo.git("rm", "-q", "bin.dat")
    repo.write("long.py", b"a = 1\n" + LONG_LINE + LONG_LINE.upper() + b"b = 3\n")
    repo.commit("third")


@pytest.fixture(scope="module")
def patch_output(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    repo = GitRepo(tmp_path_factory.mktemp("parser") / "repo")
    _hard_history(repo)
    command = ["git", "-c", "core.quotepath=off", "log", "-p", "-U0", "--no-color", "--full-index", "-M"]
    command += ["--src-prefix=a/", "--dst-prefix=b/", "--reverse", COMMIT_FORMAT]
    return subprocess.run(command, cwd=repo.path, capture_output=True, check=True).stdout


@pytest.mark.parametrize("max_size", [25 << 20, 300_000, 50])
@pytest.mark.parametrize("block", [1, 2, 3, 7, 64, 1000, 4096, 65536, 1 << 20])
def test_block_parser_matches_the_line_reference(
    patch_output: bytes, block: int, max_size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same headers, paths, ids, binary/deleted flags, hunks and size-cap verdicts whatever
    the block size (each hunk, the 320 KB line and the CRLF lines cross block boundaries)."""
    monkeypatch.setattr(gitpatch, "READ_BLOCK_BYTES", block)
    expected = _reference(io.BytesIO(patch_output), max_size)
    parsed = [_fields(header, patch) for header, patch in iter_file_patches(io.BytesIO(patch_output), max_size)]
    assert parsed == expected
    assert [fields[1] for fields in parsed].count(b"long.py") == 2
    assert [(fields[1], fields[5]) for fields in parsed if fields[4]] == [(b"bin.dat", False), (b"bin.dat", True)]
    oversized = {fields[1] for fields in parsed if fields[7]}
    assert oversized == ({b"long.py"} if max_size == 300_000 else set() if max_size > 300_000 else oversized)
    if max_size == 50:
        assert b"many-hunks.txt" in oversized and b"crlf.txt" not in oversized


def test_hunks_hold_exactly_the_added_lines(patch_output: bytes) -> None:
    """Spot checks of the reference itself: CRLF kept, '+' stripped once, syntax-like content kept."""
    patches = [(fields[1], fields[6]) for fields in _reference(io.BytesIO(patch_output), 25 << 20)]
    assert (b"crlf.txt", [(2, 1, b"changed\r\n"), (4, 1, b"added\r\n")]) in patches
    assert (b"no-newline.txt", [(1, 2, b"one\ntwo\n")]) in patches  # git's newline, before its '\' line
    assert (b"no-newline.txt", [(2, 2, b"TWO\nthree\n")]) in patches
    assert (b"many-hunks.txt", [(4, 1, b"three\n"), (27, 1, b"thirty\n"), (52, 1, b"fifty-five\n")]) in patches
    assert ('we"ird\tname ü.txt'.encode(), [(1, 1, b"quoted path\n")]) in patches
    assert (b"renamed space.txt", [(21, 1, b"and edited\n")]) in patches  # a rename adds its edit only
    [syntax] = [hunks[0][2] for path, hunks in patches if path == b"looks-like-syntax.txt"]
    assert syntax.startswith(b"+plus\n++double\n-minus\n--- a/x\n+++ b/x\n@@ -1 +1 @@\ndiff --git a/x b/x\n")
    assert b"\nleakvault-end-of-request\n\n space\n" in syntax


def _reads(blocks: list[bytes]) -> Callable[[int], bytes]:
    """A read() over fixed blocks that fails if asked for more than there is."""
    pending: Iterator[bytes] = iter(blocks)

    def read(_: int) -> bytes:
        return next(pending)

    return read


def test_reading_stops_at_the_end_line_and_not_after(patch_output: bytes) -> None:
    """With an end line (diff-tree's echo of a request's end) nothing is read past it, even when
    it arrives cut in two; output that ends before it is an error."""
    end = b"leakvault-end-of-request\n"
    whole = patch_output + end
    cut = len(whole) - 5
    patches = list(read_patches(_reads([whole[:1000], whole[1000:cut], whole[cut:]]), 25 << 20, end))
    assert [_fields(h, p) for h, p in patches] == _reference(io.BytesIO(patch_output), 25 << 20)
    with pytest.raises(EOFError):
        list(read_patches(_reads([patch_output, b""]), 25 << 20, end))
    assert list(read_patches(_reads([end]), 25 << 20, end)) == []


def test_a_repository_path_is_parsed_from_real_output(tmp_path: Path) -> None:
    """A commit with nothing in it yields nothing; one file yields one patch with its header."""
    repo = GitRepo(tmp_path / "repo")
    repo.commit("nothing")
    repo.write("a.txt", "a\n")
    sha = repo.commit("a")
    output = subprocess.run(
        ["git", "log", "-p", "-U0", "--reverse", "--full-index", COMMIT_FORMAT],
        cwd=repo.path,
        capture_output=True,
        check=True,
    ).stdout
    [(header, patch)] = list(iter_file_patches(io.BytesIO(output), 100))
    assert header is not None and header.split(b"\x00")[0] == sha.encode()
    assert (patch.path, patch.hunks, patch.old_id) == (b"a.txt", [(1, 1, b"a\n")], None)
