"""About 100 MB of real code and text from this machine that holds no live secrets: the findings
there are the false positives users would see on an ordinary repository.

Deterministic for a given machine: candidates are sorted and sampled by a hash of their path.
"""

from __future__ import annotations

import hashlib
import shutil
import sysconfig
from pathlib import Path

SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])
# (name, root, share of the budget)
SOURCES = (
    ("site-packages", SITE_PACKAGES, 0.50),
    ("include", Path("/usr/include"), 0.25),
    ("doc", Path("/usr/share/doc"), 0.10),
    ("node_modules", Path("/usr/lib/node_modules"), 0.15),
)
TEXT_SUFFIXES = {
    ".py",
    ".pyi",
    ".js",
    ".mjs",
    ".cjs",
    ".ts",
    ".json",
    ".yaml",
    ".yml",
    ".toml",
    ".cfg",
    ".ini",
    ".md",
    ".rst",
    ".txt",
    ".h",
    ".hpp",
    ".c",
    ".html",
    ".css",
    ".sh",
    ".xml",
    ".pem",
    ".crt",
    "",
}
MAX_FILE = 512 * 1024


def _is_text(path: Path) -> bool:
    if path.suffix.lower() not in TEXT_SUFFIXES or path.is_symlink() or not path.is_file():
        return False
    try:
        size = path.stat().st_size
        if not 0 < size <= MAX_FILE:
            return False
        with path.open("rb") as handle:
            return b"\0" not in handle.read(4096)
    except OSError:
        return False


def _ranked(root: Path) -> list[Path]:
    files = [p for p in root.rglob("*") if "__pycache__" not in p.parts and _is_text(p)]
    return sorted(files, key=lambda p: hashlib.sha256(str(p).encode()).hexdigest())


def gather(dest: Path, budget_mb: float = 100.0) -> int:
    """Copy files into ``dest/<source>/...`` until each source's share is used; return bytes."""
    total = 0
    for name, root, share in SOURCES:
        if not root.is_dir():
            continue
        budget = int(budget_mb * 1024 * 1024 * share)
        used = 0
        for path in _ranked(root):
            size = path.stat().st_size
            if used + size > budget:
                continue
            target = dest / name / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            used += size
        total += used
    return total
