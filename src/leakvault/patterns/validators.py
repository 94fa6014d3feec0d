"""Checksum validators and matching test-token generators, referenced by name from rule data.

A validator is a plain ``(secret: str) -> bool``; a rule whose ``checksum`` names one reports a
match only when the validator accepts it. Each validator has a generator beside it so tests can
build checksum-valid tokens at run time instead of committing live-looking ones.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable

BASE62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

Validator = Callable[[str], bool]
Generator = Callable[[str, random.Random], str]

VALIDATORS: dict[str, Validator] = {}
GENERATORS: dict[str, Generator] = {}


def register(name: str, generator: Generator) -> Callable[[Validator], Validator]:
    """Register a validator under ``name`` together with its test-token generator."""

    def decorate(function: Validator) -> Validator:
        VALIDATORS[name] = function
        GENERATORS[name] = generator
        return function

    return decorate


def base62_encode(number: int, width: int) -> str:
    """Encode ``number`` in base62 (digits, upper, lower), left-padded with '0' to ``width``."""
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(BASE62_ALPHABET[remainder])
    return "".join(reversed(digits)).rjust(width, "0")


def _crc32_base62(text: str) -> str:
    return base62_encode(zlib.crc32(text.encode("ascii")), 6)


def _generate_crc32_token(prefix: str, rng: random.Random) -> str:
    body = "".join(rng.choice(_ALNUM) for _ in range(30))
    return f"{prefix}{body}{_crc32_base62(body)}"


@register("crc32_base62", _generate_crc32_token)
def is_valid_crc32_base62(secret: str) -> bool:
    """GitHub (2021 format) and npm tokens: prefix, 30 random base62 characters, then the CRC32 of
    those 30 characters in base62 (6 characters). See
    https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/
    """
    _, _, tail = secret.rpartition("_")
    if len(tail) != 36 or not tail.isascii() or not tail.isalnum():
        return False
    return _crc32_base62(tail[:30]) == tail[30:]
