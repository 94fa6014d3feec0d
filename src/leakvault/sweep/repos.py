"""Naming the repositories of a sweep, and keeping a bare mirror of each remote one.

A repository is a local path (a work tree or a bare repository, read in place) or a git URL,
mirrored once into the state folder (``git clone --mirror``) and fetched on later sweeps. Git's own
credential helpers and SSH agent authenticate the clone; leakvault stores no credentials.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable

from leakvault.errors import UsageError
from leakvault.sweep.model import Repository

MIRRORS = "mirrors"
# scheme://... (https, ssh, git, file) or scp-like user@host:path.
_URL = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*://|[\w.\-]+@[\w.\-]+:)")
_UNSAFE = re.compile(r"[^A-Za-z0-9._\-]+")
# A clone or fetch that hangs on a dead server must not hold a worker for ever.
GIT_NETWORK_TIMEOUT_SECONDS = 600


class RepositoryError(Exception):
    """A repository cannot be cloned, fetched or read; the message is one line saying why."""


def is_url(source: str) -> bool:
    return _URL.match(source) is not None


def read_repos_file(path: str) -> list[str]:
    """Repository sources from a file: one per line; blank lines and ``#`` comments skipped."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read --repos-file {path}: {exc.strerror}; check the path") from None
    except UnicodeDecodeError:
        raise UsageError(f"--repos-file {path} is not UTF-8 text; list one path or URL per line") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _base_name(source: str) -> str:
    if is_url(source):
        tail = re.split(r"[/:]", source.rstrip("/"))
        parts = [part for part in tail if part][-2:]
        name = "/".join(parts)
    else:
        name = os.path.basename(os.path.realpath(source).rstrip(os.sep))
    name = name.removesuffix(".git") or "repository"
    return name


def name_repositories(sources: Iterable[str], state_dir: str) -> list[Repository]:
    """One `Repository` per distinct source, named by its last path parts (``owner/name`` for a
    URL); a clash of names gets ``-2``, ``-3`` in the order given, so names are stable between
    runs that list the same sources in the same order."""
    repositories: list[Repository] = []
    taken: set[str] = set()
    seen: set[str] = set()
    for source in sources:
        key = source if is_url(source) else os.path.realpath(source)
        if key in seen:
            continue
        seen.add(key)
        base = _base_name(source)
        name, counter = base, 1
        while name in taken:
            counter += 1
            name = f"{base}-{counter}"
        taken.add(name)
        if is_url(source):
            digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:10]
            git_dir = os.path.join(state_dir, MIRRORS, f"{_UNSAFE.sub('_', base)}-{digest}.git")
            repositories.append(Repository(name=name, source=source, git_dir=git_dir, remote=True))
        else:
            repositories.append(Repository(name=name, source=source, git_dir=key, remote=False))
    return repositories


def _git(*args: str, timeout: float | None = None) -> bytes:
    try:
        completed = subprocess.run(
            ["git", *args],
            capture_output=True,
            check=False,
            timeout=timeout,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},  # a private repository fails, it does not ask
        )
    except FileNotFoundError:
        raise RepositoryError("git is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise RepositoryError(f"git {args[0] if args[0] != '-C' else args[2]} took over {timeout:.0f} s") from None
    if completed.returncode != 0:
        lines = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        # git's last line says why ("fatal: repository ... not found"); credentials never appear
        # in it because URLs with a password are refused before we get here.
        raise RepositoryError(lines[-1] if lines else f"git exited {completed.returncode}")
    return completed.stdout


def check_source(source: str) -> None:
    """Refuse a URL with a password in it: it would be stored in the state folder's mirror config."""
    if is_url(source) and re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^/@]*:[^/@]*@", source):
        raise UsageError(
            f"repository URL {source.split('://')[0]}://...: remove the password from the URL and use a git "
            "credential helper or SSH key"
        )


def ensure_mirror(repository: Repository) -> None:
    """Clone a remote repository's mirror the first time (into a temporary folder renamed into
    place, so a killed clone leaves nothing half-made), fetch it afterwards. Local ones are
    checked to be git repositories."""
    if not repository.remote:
        if not os.path.isdir(repository.git_dir):
            raise RepositoryError(f"{repository.source}: not a directory")
        _git("-C", repository.git_dir, "rev-parse", "--git-dir")
        return
    if os.path.isdir(repository.git_dir):
        _git("-C", repository.git_dir, "remote", "update", "--prune", timeout=GIT_NETWORK_TIMEOUT_SECONDS)
        return
    parent = os.path.dirname(repository.git_dir)
    os.makedirs(parent, mode=0o700, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix=".clone-", dir=parent)
    try:
        _git("clone", "--mirror", "--quiet", repository.source, scratch, timeout=GIT_NETWORK_TIMEOUT_SECONDS)
        os.replace(scratch, repository.git_dir)
    finally:
        if os.path.isdir(scratch):
            shutil.rmtree(scratch, ignore_errors=True)


def current_tips(repository: Repository) -> tuple[str, ...]:
    """The commits every ref (and HEAD) points at now, sorted; empty for an empty repository."""
    output = _git("-C", repository.git_dir, "for-each-ref", "--format=%(objectname) %(objecttype)")
    tips = {line.split()[0] for line in output.decode("ascii").splitlines() if line.endswith(" commit")}
    with contextlib.suppress(RepositoryError):  # an unborn HEAD has no commit
        tips.add(_git("-C", repository.git_dir, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").decode().strip())
    tips.discard("")
    return tuple(sorted(tips))


def new_commits(repository: Repository, tips: tuple[str, ...], scanned_tips: tuple[str, ...]) -> tuple[str, ...]:
    """Commits reachable from ``tips`` but not from the tips a finished sweep recorded, parents
    first (the order `leakvault scan --git` walks, so a secret is first met where it was added).
    A recorded tip that no longer exists (history rewritten and collected) is ignored."""
    if not tips:
        return ()
    revisions = "".join(f"{tip}\n" for tip in tips) + "".join(f"^{tip}\n" for tip in scanned_tips)
    try:
        completed = subprocess.run(
            ["git", "-C", repository.git_dir, "rev-list", "--topo-order", "--reverse", "--ignore-missing", "--stdin"],
            input=revisions.encode("ascii"),
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise RepositoryError("git is not installed or not on PATH") from None
    if completed.returncode != 0:
        lines = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RepositoryError(lines[-1] if lines else "git rev-list failed")
    return tuple(completed.stdout.decode("ascii").split())
