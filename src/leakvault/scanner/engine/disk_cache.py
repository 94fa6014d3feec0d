"""A small on-disk cache for things that are slow to build and cheap to reload (the parsed rule set,
the compiled Hyperscan database).

Entries live in ``$XDG_CACHE_HOME/leakvault`` (default ``~/.cache/leakvault``), named by a hash of
everything they were built from, so a changed rule or library version simply misses. The cache is
an optimisation only: an unwritable or missing directory, a corrupt or foreign entry all mean
"build it again", never an error. ``LEAKVAULT_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

CACHE_ENV = "LEAKVAULT_NO_CACHE"
# Entries of one kind (the part of the name before the key) kept after a write: older rule sets
# are dropped so the directory does not grow with every rule edit.
KEEP_PER_KIND = 8


def cache_dir() -> Path | None:
    """The cache directory, created private (0700) if need be; None when disabled or impossible."""
    if os.environ.get(CACHE_ENV) == "1":
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = Path(base) / "leakvault"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return directory


def content_key(parts: Iterable[bytes | str]) -> str:
    """A short hex digest naming a cache entry by everything it depends on."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()[:32]


def read_entry(name: str) -> bytes | None:
    """An entry's bytes, if present and written by this user (entries are trusted code input)."""
    directory = cache_dir()
    if directory is None:
        return None
    try:
        with open(directory / name, "rb") as handle:
            info = os.fstat(handle.fileno())
            if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return None
            return handle.read()
    except OSError:
        return None


def write_entry(name: str, data: bytes) -> None:
    """Store an entry atomically (temp file + rename); any failure leaves the cache as it was."""
    directory = cache_dir()
    if directory is None:
        return
    try:
        fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{name}.")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, directory / name)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        return
    _prune(directory, name.rsplit("-", 1)[0] + "-")


def _prune(directory: Path, prefix: str) -> None:
    """Drop all but the newest `KEEP_PER_KIND` entries whose names start with ``prefix``."""
    try:
        entries = sorted(
            (entry for entry in os.scandir(directory) if entry.name.startswith(prefix) and entry.is_file()),
            key=lambda entry: entry.stat().st_mtime,
            reverse=True,
        )
        for entry in entries[KEEP_PER_KIND:]:
            os.unlink(entry.path)
    except OSError:
        pass  # a concurrent scan pruned first, or the directory went away: harmless
