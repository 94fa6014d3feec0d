"""Names: the environment variable a literal becomes and the vault path its value goes to.

A vault path reads ``<repo>/<file stem>/<NAME>`` (``shop/settings/STRIPE_API_KEY``) so a person
browsing the vault can tell where a value came from; the environment variable is the key the
literal was assigned to, in SCREAMING_SNAKE_CASE, or the rule id when the literal had no key.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_NAME = re.compile(r"[^A-Za-z0-9]+")
_NOT_SEGMENT = re.compile(r"[^A-Za-z0-9_.\-]+")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_NAME_LENGTH = 64


def env_name(key: str) -> str:
    """``apiKey`` -> ``API_KEY``, ``db.password`` -> ``DB_PASSWORD``, ``x-api-key`` -> ``X_API_KEY``."""
    spaced = _CAMEL_BOUNDARY.sub("_", key.strip())
    name = _NOT_NAME.sub("_", spaced).strip("_").upper()
    if not name:
        return "SECRET"
    if name[0].isdigit():
        name = "_" + name
    return name[:MAX_NAME_LENGTH].rstrip("_")


def is_env_name(name: str) -> bool:
    return ENV_NAME.fullmatch(name) is not None


def path_segment(text: str, fallback: str) -> str:
    """A valid vault path segment: letters, digits, '_', '.', '-', not starting with '.' or '-'."""
    segment = _NOT_SEGMENT.sub("_", text).lstrip(".-")
    return segment or fallback


def file_stem(path: str) -> str:
    """The file part of a vault path: ``config/settings.py`` -> ``settings``, ``.env.prod`` ->
    ``env.prod`` (every .env variant keeps its suffix so they stay apart), ``Dockerfile`` as is."""
    name = os.path.basename(path).lstrip(".")
    if name.lower().startswith("env.") or name.lower() == "env":
        return path_segment(name, "env")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return path_segment(stem, "file")


def repository_root(start: Path) -> Path:
    """The git work tree holding ``start``, else ``start`` itself."""
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=start,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return start
    top = completed.stdout.strip()
    return Path(top) if completed.returncode == 0 and top else start


def repository_name(root: Path) -> str:
    return path_segment(root.resolve().name, "repo")


def vault_path(repo: str, path: str, name: str) -> str:
    return f"{repo}/{file_stem(path)}/{name}"
