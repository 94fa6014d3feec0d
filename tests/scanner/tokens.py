"""Fake credentials generated at run time, shaped like the real formats (never committed)."""

from __future__ import annotations

import random

from leakvault.patterns.examples import expand


def github_pat(rng: random.Random) -> str:
    """A checksum-valid classic GitHub PAT (random, so it is nobody's token)."""
    return expand("{token:ghp_}", "crc32_base62", rng)


def aws_key_pair(rng: random.Random) -> tuple[str, str]:
    """An AWS access key id and a 40-character secret access key."""
    return expand("AKIA{b32:16}", None, rng), expand("{b64:40}", None, rng)


def pem_private_key(rng: random.Random) -> str:
    body = "\n".join(expand("{b64:64}", None, rng) for _ in range(6))
    return f"-----BEGIN RSA PRIVATE KEY-----\nMIIEow{body}\n-----END RSA PRIVATE KEY-----\n"
