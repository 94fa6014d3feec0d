"""Sources: turn paths and stdin into `Chunk`s.

The directory walk honours ``.gitignore`` and ``.leakvaultignore`` files at every level (with
pathspec's git semantics, deeper files overriding shallower ones) and the config's ``exclude``
patterns; it never descends into ``.git`` and never follows a symlink out of the scan root.
"""

from __future__ import annotations

import codecs
import os
import stat
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from leakvault.scanner.contexts.keystore_files import keystore_text
from leakvault.scanner.model import Chunk
from leakvault.scanner.sources.expand import expand_chunk

if TYPE_CHECKING:
    import pathspec

IGNORE_FILE_NAMES = (".gitignore", ".leakvaultignore")
ALWAYS_SKIPPED_DIRS = frozenset({".git", ".hg", ".svn"})
BINARY_SNIFF_BYTES = 8192
STDIN_PATH = "<stdin>"
# Extensions whose files are binary by construction: skipping them by name saves the read.
BINARY_EXTENSIONS = frozenset(
    """png jpg jpeg gif bmp ico tif tiff webp psd pdf zip gz tgz bz2 xz zst 7z rar jar war ear whl
    egg so dylib dll exe o a lib obj class pyc pyo pyd mo woff woff2 ttf otf eot mp3 mp4 m4a ogg wav
    flac avi mov mkv webm sqlite db bin dat npy npz pkl parquet""".split()
)


class SkipReason(Enum):
    BINARY = "binary"
    TOO_LARGE = "too large"
    UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file to scan: where to read it, and how to name it in reports."""

    absolute: str
    display: str
    # Set for a directory that could not be listed: it is reported as skipped with this reason
    # (counted and warned about like an unreadable file) instead of passing without a word.
    unreadable: str | None = None


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file that was not scanned, and why (counted and, when unreadable, warned about)."""

    display: str
    reason: SkipReason
    detail: str = ""


def display_path(absolute: str, cwd: str) -> str:
    """Relative to the working directory where the file is under it, else absolute; '/' separators."""
    prefix = cwd.rstrip(os.sep) + os.sep
    if absolute.startswith(prefix):  # the common case, without relpath's cost (~25 us a file)
        return absolute[len(prefix) :].replace(os.sep, "/")
    relative = os.path.relpath(absolute, cwd)
    shown = absolute if relative.startswith("..") else relative
    return shown.replace(os.sep, "/")


class _IgnoreStack:
    """The ignore specs in force at one directory: (base directory, spec) pairs, deepest last."""

    __slots__ = ("specs",)

    def __init__(self, specs: tuple[tuple[str, pathspec.GitIgnoreSpec], ...]) -> None:
        self.specs = specs

    def extended(self, directory: str) -> _IgnoreStack:
        lines: list[str] = []
        for name in IGNORE_FILE_NAMES:
            try:
                with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as handle:
                    lines.extend(handle.read().splitlines())
            except OSError:
                continue
        if not lines:
            return self
        return _IgnoreStack((*self.specs, (directory, _gitignore_spec(lines))))

    def is_ignored(self, absolute: str, is_dir: bool) -> bool:
        for base, spec in reversed(self.specs):
            relative = os.path.relpath(absolute, base).replace(os.sep, "/")
            if is_dir:
                relative += "/"
            result = spec.check_file(relative)
            if result.include is not None:
                return bool(result.include)
        return False


def _gitignore_spec(lines: Sequence[str]) -> pathspec.GitIgnoreSpec:
    # Imported on first use: pathspec costs ~25 ms of start-up, and a pre-commit run on a few
    # named files with no excludes never needs it.
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


def _is_inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def iter_files(paths: Sequence[str], exclude: Sequence[str], cwd: str | None = None) -> Iterator[FileRef]:
    """Every file to scan under ``paths`` (directories are walked; files are taken as given, but
    the config's ``exclude`` patterns, relative to the working directory, still apply to them)."""
    cwd = cwd or os.getcwd()
    config_spec = _gitignore_spec(exclude) if exclude else None
    for path in paths:
        absolute = os.path.abspath(path)
        if os.path.isdir(absolute):
            base: tuple[tuple[str, pathspec.GitIgnoreSpec], ...] = ((absolute, config_spec),) if config_spec else ()
            yield from _walk(absolute, os.path.realpath(absolute), _IgnoreStack(base).extended(absolute), cwd)
        else:
            if config_spec is not None:
                relative = os.path.relpath(absolute, cwd).replace(os.sep, "/")
                if config_spec.match_file(relative):
                    continue
            yield FileRef(absolute, display_path(absolute, cwd))


def _sorted_entries(directory: str) -> tuple[Iterator[os.DirEntry[str]], str | None]:
    """The directory's entries in name order, or none and why it cannot be listed."""
    try:
        return iter(sorted(os.scandir(directory), key=lambda entry: entry.name)), None
    except OSError as exc:
        return iter(()), exc.strerror or type(exc).__name__


def _unreadable_directory(path: str, cwd: str, reason: str) -> FileRef:
    return FileRef(path, display_path(path, cwd).rstrip("/") + "/", unreadable=reason)


def _walk(directory: str, real_root: str, ignores: _IgnoreStack, cwd: str) -> Iterator[FileRef]:
    # Depth-first in name order, with an explicit stack rather than recursion: a tree thousands of
    # directories deep must not exhaust Python's recursion limit.
    entries, error = _sorted_entries(directory)
    if error is not None:
        yield _unreadable_directory(directory, cwd, error)
        return
    stack = [(entries, ignores)]
    while stack:
        entries, ignores = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        if entry.is_symlink():
            # Follow a symlinked file only when it points inside the root; never a directory
            # (loops, and trees the user did not ask for).
            target = os.path.realpath(entry.path)
            if os.path.isfile(target) and _is_inside(target, real_root) and not ignores.is_ignored(entry.path, False):
                yield FileRef(entry.path, display_path(entry.path, cwd))
            continue
        if entry.is_dir(follow_symlinks=False):
            if entry.name in ALWAYS_SKIPPED_DIRS or ignores.is_ignored(entry.path, True):
                continue
            children, error = _sorted_entries(entry.path)
            if error is not None:  # nothing below it can be read either
                yield _unreadable_directory(entry.path, cwd, error)
                continue
            stack.append((children, ignores.extended(entry.path)))
        elif entry.is_file(follow_symlinks=False) and not ignores.is_ignored(entry.path, False):
            yield FileRef(entry.path, display_path(entry.path, cwd))


def decode_text(data: bytes) -> bytes | None:
    """Normalise a file's bytes for scanning: UTF-16/32 with a BOM becomes UTF-8; other data with a
    NUL byte near the start is binary (None)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not data.startswith(codecs.BOM_UTF32_LE):
        try:
            return data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return None
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        try:
            return data.decode("utf-32").encode("utf-8")
        except UnicodeDecodeError:
            return None
    if b"\x00" in data[:BINARY_SNIFF_BYTES]:
        return None
    return data


def read_file(ref: FileRef, max_size: int) -> Chunk | Skipped:
    """Read one file into a chunk, or say why it was skipped."""
    if ref.unreadable is not None:
        return Skipped(ref.display, SkipReason.UNREADABLE, ref.unreadable)
    extension = ref.absolute.rpartition(".")[2].lower() if "." in os.path.basename(ref.absolute) else ""
    if extension in BINARY_EXTENSIONS:
        return Skipped(ref.display, SkipReason.BINARY)
    try:
        # Only regular files: opening a FIFO or a device named on the command line would block or
        # read forever.
        if not stat.S_ISREG(os.stat(ref.absolute).st_mode):
            return Skipped(ref.display, SkipReason.UNREADABLE, "not a regular file")
        with open(ref.absolute, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_size:
                return Skipped(ref.display, SkipReason.TOO_LARGE, f"{size} bytes")
            data = handle.read(max_size + 1)
    except OSError as exc:
        return Skipped(ref.display, SkipReason.UNREADABLE, exc.strerror or type(exc).__name__)
    if len(data) > max_size:  # grew while we read it
        return Skipped(ref.display, SkipReason.TOO_LARGE, f"over {max_size} bytes")
    text = decode_text(data)
    if text is None:
        text = keystore_text(ref.display, data)  # contexts: a keystore is reported by its path
    if text is None:
        return Skipped(ref.display, SkipReason.BINARY)
    return Chunk(path=ref.display, data=text)


def iter_file_chunks(refs: Iterable[FileRef], max_size: int) -> Iterator[Chunk | Skipped]:
    """Each file read as `read_file` does, then expanded: a notebook into its cells and text
    outputs, a config file's base64 values decoded (see scanner/derived.py)."""
    for ref in refs:
        item = read_file(ref, max_size)
        if isinstance(item, Skipped):
            yield item
        else:
            yield from expand_chunk(item)


def read_stdin(max_size: int) -> Chunk | Skipped:
    """Standard input as one chunk named ``<stdin>``."""
    data = sys.stdin.buffer.read(max_size + 1)
    if len(data) > max_size:
        return Skipped(STDIN_PATH, SkipReason.TOO_LARGE, f"over {max_size} bytes")
    text = decode_text(data)
    if text is None:
        return Skipped(STDIN_PATH, SkipReason.BINARY)
    return Chunk(path=STDIN_PATH, data=text)
