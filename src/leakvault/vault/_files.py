"""Replacing a file atomically, for every file leakvault writes outside the vault itself.

``inject -o``, the files ``run`` mounts and the files ``scan --fix --apply`` rewrites all go
through `replace_file`: the data is written to a temporary file beside the target (created 0600
with O_EXCL, never through a symlink), flushed to disk, given its final mode and renamed over the
target, so a reader sees the old file or the new one, never half of either. A process killed
before the rename leaves only its temporary file, whose name carries its pid; the next write to
the same directory removes such leftovers once their process is gone, since they may hold secrets.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

_SUFFIX = ".leakvault-tmp"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_leftovers(directory: Path, name: str) -> None:
    """Remove temporary files for `name` in `directory` left by leakvault processes that died."""
    prefix = f".{name}."
    with contextlib.suppress(OSError):
        for entry in directory.iterdir():
            if not (entry.name.startswith(prefix) and entry.name.endswith(_SUFFIX)):
                continue
            pid = entry.name[len(prefix) :].split(".", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
                with contextlib.suppress(OSError):
                    entry.unlink()


def replace_file(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Atomically replace `path` with `data`, then give it `mode` (None: keep the mode `path` had,
    0600 for a new file). Raises OSError; `path` is then unchanged."""
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o600
    sweep_leftovers(path.parent, path.name)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{_SUFFIX}")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def make_private_dirs(directory: Path) -> None:
    """Create `directory` and any missing parents with mode 0700, whatever the umask.

    ``Path.mkdir(mode=0o700, parents=True)`` gives the parents it creates the default mode (0777
    under ``umask 000``): anyone could then swap the files inside. Existing directories are left
    as they are.
    """
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue  # made by a concurrent process: not ours to change
        os.chmod(path, 0o700)  # the umask may have removed bits, never added them; be explicit
