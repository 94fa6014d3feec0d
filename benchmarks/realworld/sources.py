"""Real files from this machine, by type: the configuration files, READMEs, scripts, SQL and code that
Debian packages, the Python standard library, installed Python packages, npm, the Google Cloud SDK and
the JDK ship. Nobody wrote them for this benchmark.

The sample is deterministic for one seed on one machine (sorted candidates, seeded choice); the
truth file records every file's origin so two runs can be compared. Files holding private-key
blocks are left out, and so are directories whose business is credentials (``/etc/ssl``, ...).
"""

from __future__ import annotations

import functools
import glob
import os
import random
import sysconfig
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 60_000
MAX_PER_DIRECTORY = 3
KEY_MARKERS = (b"PRIVATE KEY-----", b"PRIVATE KEY BLOCK-----", b"PuTTY-User-Key-File")
SKIP_DIRS = frozenset(
    {"__pycache__", "ssl", "ssh", "security", "sudoers.d", "private", "secrets", "test", "tests", "testdata"}
)
SKIP_NAMES = frozenset({"shadow", "gshadow", "shadow-", "gshadow-", "passwd-", "group-", "machine-id"})


@dataclass(frozen=True)
class Origin:
    """A tree of real files and where its files go in the corpus (no ``node_modules``, ``vendor``
    or ``site-packages`` in the target: scanners skip those by default, and the point is to measure
    detection, not path allowlists)."""

    root: str  # a directory, or a glob of directories
    target: str


def default_origins() -> tuple[Origin, ...]:
    stdlib = sysconfig.get_paths()["stdlib"]
    purelib = sysconfig.get_paths()["purelib"]
    return (
        Origin("/etc", "etc"),
        Origin("/usr/share/doc", "share/doc"),
        Origin("/usr/share/postgresql", "share/postgresql"),
        Origin("/usr/share/postgresql-common", "share/postgresql-common"),
        Origin("/usr/lib/jvm/*/conf", "share/jdk/conf"),
        Origin("/usr/lib/google-cloud-sdk", "sdk/gcloud"),
        Origin("/usr/lib/node_modules", "lib/js"),
        Origin(stdlib, "lib/python"),
        Origin(purelib, "lib/pypkgs"),
        Origin("/root/.rustup/toolchains/*/share/doc/rust/html", "share/rustdoc"),
    )


# file type -> how many to take
QUOTAS: dict[str, int] = {
    "py": 150,
    "js": 50,
    "minjs": 8,
    "json": 60,
    "yaml": 90,
    "toml": 30,
    "ini": 90,
    "properties": 25,
    "xml": 40,
    "md": 60,
    "rst": 40,
    "sql": 30,
    "sh": 40,
    "php": 20,
    "go": 4,
    "dockerfile": 12,
}


def file_type(path: Path) -> str | None:
    name, suffix = path.name, path.suffix.lower()
    if name.startswith("Dockerfile") or suffix == ".dockerfile":
        return "dockerfile"
    if name.endswith(".min.js"):
        return "minjs"
    return {
        ".py": "py",
        ".js": "js",
        ".mjs": "js",
        ".cjs": "js",
        ".json": "json",
        ".yaml": "yaml",
        ".yml": "yaml",
        ".toml": "toml",
        ".ini": "ini",
        ".cfg": "ini",
        ".conf": "ini",
        ".properties": "properties",
        ".xml": "xml",
        ".md": "md",
        ".rst": "rst",
        ".sql": "sql",
        ".sh": "sh",
        ".bash": "sh",
        ".php": "php",
        ".go": "go",
    }.get(suffix)


# Path parts that scanners skip by default (gitleaks' and Betterleaks' global allowlists skip
# ``node_modules/``, ``vendor/``, Python library and ``.dist-info`` paths): renamed so that every
# tool reads every file and the comparison is about detection.
RENAMED_PARTS = {
    "node_modules": "npm_modules",
    "site-packages": "pkgs",
    "dist-packages": "pkgs",
    "vendor": "thirdparty",
    "vendored": "thirdparty_src",
    "bower_components": "bower",
    "venv": "pyenv_",
}


def corpus_path(prefix: str, relative: str) -> str:
    parts = [RENAMED_PARTS.get(part, part).replace(".dist-info", "_dist_info") for part in relative.split("/")]
    return f"{prefix}/{'/'.join(parts)}"


@dataclass(frozen=True)
class RealFile:
    source: Path
    target: str
    type: str


def _is_clean(path: Path) -> bool:
    try:
        data = path.read_bytes()
        data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if b"\0" in data or not data.strip():
        return False
    return not any(marker in data for marker in KEY_MARKERS)


@functools.cache
def candidates(origins: tuple[Origin, ...]) -> dict[str, list[RealFile]]:
    """Every usable file under ``origins``, by type, in a stable order (walked once per process)."""
    found: dict[str, list[RealFile]] = {kind: [] for kind in QUOTAS}
    seen: set[str] = set()
    for origin in origins:
        for root_text in sorted(glob.glob(origin.root)):
            root = Path(root_text)
            for directory, dirnames, filenames in os.walk(root):
                dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
                for filename in sorted(filenames):
                    path = Path(directory) / filename
                    kind = file_type(path)
                    if kind is None or filename in SKIP_NAMES or path.is_symlink():
                        continue
                    try:
                        size = path.stat().st_size
                    except OSError:
                        continue
                    target = corpus_path(origin.target, path.relative_to(root).as_posix())
                    if 0 < size <= MAX_BYTES and target not in seen:
                        seen.add(target)
                        found[kind].append(RealFile(path, target, kind))
    return found


def sample(rng: random.Random, scale: float = 1.0, origins: tuple[Origin, ...] | None = None) -> list[RealFile]:
    """Up to ``QUOTAS[type] * scale`` clean files of each type, at most a few per directory, taken
    in turn from each origin so that one large tree (the Cloud SDK) does not stand for all."""
    chosen: list[RealFile] = []
    for kind, pool in sorted(candidates(origins or default_origins()).items()):
        by_origin: dict[str, list[RealFile]] = {}
        for item in pool:
            by_origin.setdefault("/".join(item.target.split("/")[:2]), []).append(item)
        queues = [by_origin[name] for name in sorted(by_origin)]
        for queue in queues:
            rng.shuffle(queue)
        quota = max(1, round(QUOTAS[kind] * scale))
        per_directory: dict[str, int] = {}
        taken = 0
        while taken < quota and any(queues):
            for queue in queues:
                while queue and taken < quota:
                    item = queue.pop()
                    directory = item.target.rpartition("/")[0]
                    if per_directory.get(directory, 0) >= MAX_PER_DIRECTORY or not _is_clean(item.source):
                        continue
                    per_directory[directory] = per_directory.get(directory, 0) + 1
                    chosen.append(item)
                    taken += 1
                    break
    return sorted(chosen, key=lambda item: item.target)
