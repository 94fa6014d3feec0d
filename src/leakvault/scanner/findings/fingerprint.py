"""Stable finding fingerprints: ``rule-id:path:hash``.

- **rule id**: a secret found by two rules is two findings, each suppressible on its own.
- **path**: forward slashes, relative to the repository root (not to the working directory), so a
  scan from a sub-directory, a scan of the index and a scan of history agree. Outside a
  repository the path is used as given (normalised).
- **hash**: 80 bits of HMAC-SHA256 of the secret. No line number goes in, so a fingerprint
  survives edits above the secret and baselines on parallel branches do not conflict.

The HMAC key is fixed and versioned (``leakvault-fingerprint-v1``) so every machine, CI run and
teammate computes the same fingerprints with no setup. Being public, it only keeps our hashes
out of generic unkeyed lookup tables: anyone holding a candidate secret can check it against a
fingerprint. Where fingerprints are published (a public SARIF upload, a baseline in an open
repository) and a rule can match guessable values (a weak password), set
``LEAKVAULT_FINGERPRINT_KEY`` to a private value in CI and for the people who maintain the
baseline; baselines record which key made them (`key_id`), and a mismatch is an error rather
than every entry silently failing to match.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os

DEFAULT_KEY = b"leakvault-fingerprint-v1"
DEFAULT_KEY_ID = "v1"
KEY_ENVIRONMENT_VARIABLE = "LEAKVAULT_FINGERPRINT_KEY"
HASH_HEX_CHARS = 20  # 80 bits: collisions between two secrets of one rule and path are not a concern


def fingerprint_key() -> tuple[bytes, str]:
    """The HMAC key in force and its public id (``v1``, or ``custom-<8 hex>`` for a private key;
    the id is a hash of the key, so it can be stored without revealing the key)."""
    custom = os.environ.get(KEY_ENVIRONMENT_VARIABLE)
    if not custom:
        return DEFAULT_KEY, DEFAULT_KEY_ID
    key = custom.encode("utf-8")
    return key, "custom-" + hashlib.sha256(b"leakvault-key-id\x00" + key).hexdigest()[:8]


def secret_hash(secret: str) -> str:
    """The keyed hash of a secret used in fingerprints and baselines."""
    key, _ = fingerprint_key()
    digest = hmac.new(key, secret.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    return digest[:HASH_HEX_CHARS]


def normalise_path(path: str) -> str:
    """Forward slashes, no leading './'."""
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


@functools.lru_cache(maxsize=1024)
def _repository_root(directory: str) -> str | None:
    """The nearest directory at or above ``directory`` holding ``.git`` (a directory, or a file
    in worktrees and submodules); the directory need not exist (paths from history)."""
    while True:  # a loop, not recursion: a path 1,500 directories deep must not hit the recursion limit
        if os.path.exists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def repository_path(path: str) -> str:
    """``path`` (relative to the working directory, or absolute) relative to its repository's
    root; unchanged (but normalised) outside a repository or for pseudo-paths like ``<stdin>``."""
    if not path or path.startswith("<"):
        return path
    absolute = os.path.abspath(path)
    root = _repository_root(os.path.dirname(absolute))
    if root is None:
        return normalise_path(path)
    return normalise_path(os.path.relpath(absolute, root))


def fingerprint(rule_id: str, path: str, secret: str) -> str:
    """``rule-id:path:hash`` for one finding."""
    return f"{rule_id}:{repository_path(path)}:{secret_hash(secret)}"
