"""Checksum validators and matching test-token generators, referenced by name from rule data.

A validator is a plain ``(secret: str) -> bool``; a rule whose ``checksum`` names one reports a
match only when the validator accepts it. Each validator has a generator beside it so tests can
build checksum-valid tokens at run time instead of committing live-looking ones.
"""

from __future__ import annotations

import base64
import json
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


# Bech32 (BIP-173): age secret keys are bech32 strings, so a typo or a made-up key fails the
# 30-bit checksum. https://github.com/bitcoin/bips/blob/master/bip-0173.mediawiki
BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _bech32_polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for bit, generator in enumerate(_BECH32_GENERATOR):
            checksum ^= generator if (top >> bit) & 1 else 0
    return checksum


def _bech32_hrp_expand(hrp: str) -> list[int]:
    return [ord(char) >> 5 for char in hrp] + [0] + [ord(char) & 31 for char in hrp]


def bech32_encode(hrp: str, data: list[int]) -> str:
    """Encode 5-bit ``data`` under the human-readable part ``hrp`` (lowercase result)."""
    polymod = _bech32_polymod(_bech32_hrp_expand(hrp) + data + [0] * 6) ^ 1
    checksum = [(polymod >> 5 * (5 - index)) & 31 for index in range(6)]
    return hrp + "1" + "".join(BECH32_CHARSET[value] for value in data + checksum)


def convert_bits(data: bytes, from_bits: int, to_bits: int) -> list[int]:
    """Regroup ``data`` from ``from_bits``-bit to ``to_bits``-bit values, zero-padding the tail."""
    accumulator, bits, result = 0, 0, []
    for value in data:
        accumulator = accumulator << from_bits | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            result.append(accumulator >> bits & (1 << to_bits) - 1)
    if bits:
        result.append(accumulator << (to_bits - bits) & (1 << to_bits) - 1)
    return result


def _generate_bech32_key(prefix: str, rng: random.Random) -> str:
    """``prefix`` is the key's start up to and including the separator, e.g. ``AGE-SECRET-KEY-1``."""
    hrp = prefix[:-1].lower()
    encoded = bech32_encode(hrp, convert_bits(rng.randbytes(32), 8, 5))
    return encoded.upper() if prefix.isupper() else encoded


@register("bech32", _generate_bech32_key)
def is_valid_bech32(secret: str) -> bool:
    """A bech32 string (BIP-173) with a valid checksum; all upper or all lower case."""
    if secret.lower() != secret and secret.upper() != secret:
        return False
    text = secret.lower()
    hrp, separator, data_part = text.rpartition("1")
    if not separator or not hrp or len(data_part) < 6 or any(c not in BECH32_CHARSET for c in data_part):
        return False
    if any(not 33 <= ord(char) <= 126 for char in hrp):
        return False
    data = [BECH32_CHARSET.index(char) for char in data_part]
    return _bech32_polymod(_bech32_hrp_expand(hrp) + data) == 1


# JSON Web Tokens: three base64url segments whose first two decode to JSON objects; the header names
# an algorithm. Random base64url text with two dots almost never passes, so this keeps the JWT rules
# off minified code and hashes. https://www.rfc-editor.org/rfc/rfc7519#section-7.2
def b64url_json(segment: str) -> dict[str, object] | None:
    """The JSON object a base64url segment encodes, or None."""
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwt(payload: dict[str, object], rng: random.Random, alg: str = "HS256") -> str:
    """A structurally valid JWT with a random (meaningless) signature, for tests."""
    header = _b64url(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64url(json.dumps(payload, separators=(",", ":")).encode())
    return f"{header}.{body}.{_b64url(rng.randbytes(32))}"


def _random_word(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(length))


def _generate_jwt(prefix: str, rng: random.Random) -> str:
    """``prefix`` adds claims: ``admin`` sets the role, ``iss=supabase,role=anon`` sets each pair."""
    issued = rng.randrange(1_600_000_000, 1_800_000_000)
    payload: dict[str, object] = {"sub": _random_word(rng, 12), "iat": issued, "exp": issued + 3600}
    if "=" in prefix:
        for pair in prefix.split(","):
            claim, _, value = pair.partition("=")
            payload[claim] = value
    elif prefix:
        payload["role"] = prefix
    return make_jwt(payload, rng)


def _jwt_parts(secret: str) -> tuple[dict[str, object], dict[str, object]] | None:
    parts = secret.split(".")
    if len(parts) != 3:
        return None
    header, payload = b64url_json(parts[0]), b64url_json(parts[1])
    if header is None or payload is None or not isinstance(header.get("alg"), str):
        return None
    return header, payload


@register("jwt", _generate_jwt)
def is_valid_jwt(secret: str) -> bool:
    """Header and payload decode to JSON objects and the header names an ``alg`` other than none;
    tokens that are public by design (a Supabase project's anon key, shipped to every browser) are
    not credentials worth reporting."""
    parts = _jwt_parts(secret)
    if parts is None or str(parts[0]["alg"]).lower() == "none":
        return False
    payload = parts[1]
    return not (payload.get("iss") == "supabase" and payload.get("role") == "anon")


def _generate_supabase_jwt(prefix: str, rng: random.Random) -> str:
    issued = rng.randrange(1_600_000_000, 1_800_000_000)
    payload: dict[str, object] = {
        "iss": "supabase",
        "ref": _random_word(rng, 20),
        "role": prefix or "service_role",
        "iat": issued,
        "exp": issued + 10 * 365 * 86400,
    }
    return make_jwt(payload, rng)


@register("supabase_service_role_jwt", _generate_supabase_jwt)
def is_supabase_service_role_jwt(secret: str) -> bool:
    """A Supabase project JWT with the ``service_role`` role (the anon key is public by design; the
    local-development demo keys carry ``iss: supabase-demo`` and are not secrets)."""
    parts = _jwt_parts(secret)
    return parts is not None and parts[1].get("iss") == "supabase" and parts[1].get("role") == "service_role"


# HTTP basic credentials stored base64-encoded, as in Docker's config.json "auth" and npm's _auth:
# the value must decode to printable "user:password".
def _generate_basic_auth(prefix: str, rng: random.Random) -> str:
    user = prefix or _random_word(rng, 8)
    password = "".join(rng.choice(_ALNUM) for _ in range(20))
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


@register("base64_userpass", _generate_basic_auth)
def is_base64_userpass(secret: str) -> bool:
    """``secret`` is standard base64 of ``user:password`` with both parts non-empty and printable."""
    try:
        text = base64.b64decode(secret + "=" * (-len(secret) % 4), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    user, colon, password = text.partition(":")
    return bool(colon and user and password) and text.isprintable()


# Kubernetes Secret `data:` values: standard base64 (padded) of what the application reads, which
# is text or a PEM key. Random alphanumeric config values (a ConfigMap's FEATURE_FLAGS, an id)
# decode to binary noise or are not validly padded, so this keeps the rule to real Secret data.
# Certificates and public keys decode fine but are not secrets.
_PUBLIC_MATERIAL = ("-----BEGIN CERTIFICATE", "-----BEGIN PUBLIC KEY", "-----BEGIN RSA PUBLIC KEY", "ssh-")


def _generate_base64_text(prefix: str, rng: random.Random) -> str:
    alphabet = _ALNUM + "!#%&*+-.:=?@^_~"
    text = prefix + "".join(rng.choice(alphabet) for _ in range(rng.randrange(12, 40)))
    return base64.b64encode(text.encode()).decode("ascii")


@register("base64_text", _generate_base64_text)
def is_base64_text(secret: str) -> bool:
    """Padded standard base64 of at least 6 bytes of printable UTF-8 text (or a PEM private key),
    with at least 4 distinct characters, that is not a certificate or public key."""
    if len(secret) % 4:
        return False
    try:
        text = base64.b64decode(secret, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    if len(text) < 6 or len(set(text)) < 4 or text.startswith(_PUBLIC_MATERIAL):
        return False
    return text.replace("\n", "").replace("\r", "").replace("\t", "").isprintable()
