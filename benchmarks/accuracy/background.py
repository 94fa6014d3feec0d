"""Real, secret-free code to surround the planted values: files from this machine's Python standard
library, the project's site-packages and npm's own JavaScript.

Precision on generated filler says little; precision on real code is what users feel. The sample
is deterministic for a given seed and machine (sorted candidate list, seeded choice), and the
truth file records which files were copied so two runs can be compared.
"""

from __future__ import annotations

import os
import random
import re
import sysconfig
from dataclasses import dataclass
from pathlib import Path

STDLIB = Path(sysconfig.get_paths()["stdlib"])
# The running interpreter's site-packages (/work/venv/... here): the project's own dependencies.
SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])
NPM = Path("/usr/lib/node_modules/npm")

# A fixed set of installed distributions, so that somebody pip-installing a new package does not
# reshuffle the sample.
SITE_PACKAGE_DIRS = (
    "click",
    "jinja2",
    "markupsafe",
    "cryptography",
    "hypothesis",
    "_pytest",
    "botocore",
    "boto3",
    "moto",
    "pathspec",
    "git",
    "gitdb",
    "jsonschema",
    "yaml",
    "pre_commit",
    "hvac",
    "requests",
    "urllib3",
    "idna",
    "certifi",
    "docker",
    "flask",
    "werkzeug",
    "pip",
    "networkx",
    "dateutil",
    "attr",
    "identify",
    "joserfc",
    "cfnlint",
    "openapi_spec_validator",
    "jsonschema_specifications",
    "pluggy",
    "packaging",
    "platformdirs",
)
TEXT_SUFFIXES = frozenset(
    ".py .pyi .json .txt .rst .md .cfg .toml .yaml .yml .ini .js .mjs .cjs .html .css .xml .sh .sql .csv "
    ".tmpl .j2 .properties".split()
)
NAMES_WITHOUT_SUFFIX = frozenset({"RECORD", "METADATA", "LICENSE", "Makefile", "README"})
MAX_FILE_BYTES = 120_000
# Data directories hold hundreds of near-identical files (botocore service models, cfn-lint
# schemas, one per region); without a cap they would be half the sample and stand in for "real
# code" far more than they should.
MAX_PER_DIRECTORY = 6
MAX_DATA_PER_DIRECTORY = 2  # JSON data files: per-region and per-resource schemas repeat each other
# botocore keeps one directory per API version with near-identical files: one file name counts
# once across versions, and the versions share one directory's quota.
VERSIONED_PART = re.compile(r"/(?:\d{4}-\d{2}-\d{2}|v\d+(?:\.\d+)*)(?=/|$)")
# Files that hold real key material or credentials for their own tests: a scanner is right to
# report them, so they are not "secret-free background". Checked on content, see `_is_clean`.
KEY_MARKERS = (b"PRIVATE KEY-----", b"PRIVATE KEY BLOCK-----", b"PuTTY-User-Key-File")


@dataclass(frozen=True)
class BackgroundFile:
    source: Path
    target: str  # path inside the corpus


def _is_clean(path: Path) -> bool:
    try:
        data = path.read_bytes()
    except OSError:
        return False
    if b"\0" in data[:4096]:
        return False
    return not any(marker in data for marker in KEY_MARKERS)


def _candidates(root: Path, prefix: str, skip_dirs: frozenset[str] = frozenset()) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    if not root.is_dir():
        return found
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and d not in skip_dirs)
        for filename in sorted(filenames):
            path = Path(directory) / filename
            if path.suffix not in TEXT_SUFFIXES and filename not in NAMES_WITHOUT_SUFFIX:
                continue
            try:
                size = path.stat().st_size
            except OSError:
                continue
            if 0 < size <= MAX_FILE_BYTES and not path.is_symlink():
                found.append((path, f"{prefix}/{path.relative_to(root).as_posix()}"))
    return found


def candidates() -> list[tuple[Path, str]]:
    """Every file the background may draw from, in a stable order."""
    found = _candidates(STDLIB, "third_party/cpython/Lib", frozenset({"site-packages", "idlelib", "turtledemo"}))
    for name in SITE_PACKAGE_DIRS:
        found += _candidates(SITE_PACKAGES / name, f"third_party/python/{name}")
    for info in sorted(SITE_PACKAGES.glob("*.dist-info")):
        if info.name.split("-")[0].lower().replace("_", "") in {d.replace("_", "") for d in SITE_PACKAGE_DIRS}:
            found += _candidates(info, f"third_party/python/{info.name}")
    found += _candidates(NPM, "tools/npm")
    return found


def sample(rng: random.Random, count: int) -> list[BackgroundFile]:
    """``count`` clean files, drawn without replacement."""
    pool = candidates()
    rng.shuffle(pool)
    chosen: list[BackgroundFile] = []
    per_directory: dict[tuple[str, bool], int] = {}
    seen: set[str] = set()
    for source, target in pool:
        if len(chosen) >= count:
            break
        normalised = VERSIONED_PART.sub("/*", target)
        directory = (normalised.rpartition("/")[0], target.endswith(".json"))
        limit = MAX_DATA_PER_DIRECTORY if directory[1] else MAX_PER_DIRECTORY
        if normalised in seen or per_directory.get(directory, 0) >= limit or not _is_clean(source):
            continue
        seen.add(normalised)
        per_directory[directory] = per_directory.get(directory, 0) + 1
        chosen.append(BackgroundFile(source, target))
    return sorted(chosen, key=lambda item: item.target)


def python_slice(rng: random.Random, min_lines: int = 12, max_lines: int = 40) -> list[str]:
    """A run of real code from a standard-library module, starting at a top-level def or class."""
    modules = sorted(path for path in STDLIB.glob("*.py") if _is_clean(path))
    while True:
        lines = rng.choice(modules).read_text(encoding="utf-8", errors="replace").splitlines()
        starts = [i for i, line in enumerate(lines) if line.startswith(("def ", "class "))]
        if not starts:
            continue
        start = rng.choice(starts)
        end = start + 1
        while (
            end < len(lines)
            and end - start < max_lines
            and (not lines[end] or lines[end][0] in " \t#)" or end - start < min_lines)
        ):
            end += 1
        chunk = lines[start:end]
        text = "\n".join(chunk)
        if text.count('"""') % 2 == 0 and text.count("'''") % 2 == 0:
            return chunk
