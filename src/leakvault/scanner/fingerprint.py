"""Stable finding fingerprints: rule id + normalised path + a keyed hash of the secret.

No line number goes in, so a fingerprint survives edits above the secret; the secret itself never
appears, only an HMAC of it under a fixed, versioned key (so a fingerprint cannot be looked up in
an unkeyed hash table of known tokens, and two tools never share hashes by accident).
"""

from __future__ import annotations

import hashlib
import hmac

FINGERPRINT_KEY = b"leakvault-fingerprint-v1"
HASH_HEX_CHARS = 20  # 80 bits: collisions between two secrets of one rule and path are not a concern


def secret_hash(secret: str) -> str:
    """The keyed hash of a secret used in fingerprints and baselines."""
    digest = hmac.new(FINGERPRINT_KEY, secret.encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:HASH_HEX_CHARS]


def normalise_path(path: str) -> str:
    """Forward slashes, no leading './'."""
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def fingerprint(rule_id: str, path: str, secret: str) -> str:
    """``rule-id:path:hash`` for one finding."""
    return f"{rule_id}:{normalise_path(path)}:{secret_hash(secret)}"
