"""Checksum and structure validators: known-answer vectors, and every generator's output validates."""

from __future__ import annotations

import base64
import json
import random

import pytest

from leakvault.patterns import validators
from leakvault.patterns.validators import (
    GENERATORS,
    VALIDATORS,
    b64url_json,
    bech32_encode,
    convert_bits,
    is_base64_userpass,
    is_supabase_service_role_jwt,
    is_valid_bech32,
    is_valid_crc32_base62,
    is_valid_jwt,
    make_jwt,
)


def _b64url(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_crc32_base62_known_answers() -> None:
    """The checksum of a fixed 30-character body is pinned, and a changed character breaks it."""
    body = "0123456789abcdefghijABCDEFGHIJ"
    assert is_valid_crc32_base62(f"ghp_{body}3mpbCX")
    assert is_valid_crc32_base62(f"npm_{'a' * 30}1yLcDB")
    assert not is_valid_crc32_base62(f"ghp_{body}3mpbCY")
    assert not is_valid_crc32_base62(f"ghp_{body[:-1]}K3mpbCX")
    assert not is_valid_crc32_base62("ghp_short")


@pytest.mark.parametrize(
    "text",
    [
        # BIP-173 valid test vectors.
        "A12UEL5L",
        "a12uel5l",
        "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
        "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
        "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
        "?1ezyfcl",
    ],
)
def test_bech32_accepts_bip173_vectors(text: str) -> None:
    """Every valid vector of BIP-173 passes."""
    assert is_valid_bech32(text)


@pytest.mark.parametrize(
    "text",
    [
        "pzry9x0s0muk",  # no separator
        "1pzry9x0s0muk",  # empty human-readable part
        "x1b4n0q5v",  # 'b' is not in the data alphabet
        "li1dgmt3",  # checksum too short
        "A1G7SGD8",  # checksum computed over the upper-case form
        "A12uEL5L",  # mixed case
    ],
)
def test_bech32_rejects_bip173_invalid_vectors(text: str) -> None:
    """Invalid vectors of BIP-173 fail."""
    assert not is_valid_bech32(text)


def test_age_key_known_answer() -> None:
    """32 bytes of 0x42 encode to the age test-kit identity, which validates; one changed character does not."""
    key = bech32_encode("age-secret-key-", convert_bits(bytes([0x42]) * 32, 8, 5)).upper()
    assert key == "AGE-SECRET-KEY-1" + "GFPYYSJZ" * 6 + "GFPQ4EGAEX"
    assert is_valid_bech32(key)
    assert not is_valid_bech32(key[:-1] + "Y")


def test_b64url_json_known_answer() -> None:
    """The base64url header of an HS256 token decodes to its JSON object; garbage decodes to None."""
    assert b64url_json("eyJhbGciOiJIUzI1NiJ9") == {"alg": "HS256"}
    assert b64url_json("bm90IGpzb24") is None  # "not json"
    assert b64url_json("WzEsMl0") is None  # a JSON list, not an object


def test_jwt_structure() -> None:
    """A token whose header names an algorithm is a JWT; alg none, two parts or non-JSON are not."""
    payload = _b64url({"sub": "1", "iat": 1})
    assert is_valid_jwt(f"{_b64url({'alg': 'RS256', 'typ': 'JWT'})}.{payload}.c2lnbmF0dXJl")
    assert not is_valid_jwt(f"{_b64url({'alg': 'none'})}.{payload}.c2ln")
    assert not is_valid_jwt(f"{_b64url({'typ': 'JWT'})}.{payload}.c2ln")
    assert not is_valid_jwt(f"{_b64url({'alg': 'HS256'})}.{payload}")
    assert not is_valid_jwt("eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln")
    anon = make_jwt({"iss": "supabase", "ref": "abc", "role": "anon"}, random.Random(0))
    assert not is_valid_jwt(anon), "a Supabase anon key is public by design"


def test_supabase_service_role() -> None:
    """Only a Supabase-issued service_role token passes; anon keys and the local demo keys do not."""
    rng = random.Random(0)
    assert is_supabase_service_role_jwt(make_jwt({"iss": "supabase", "ref": "abc", "role": "service_role"}, rng))
    assert not is_supabase_service_role_jwt(make_jwt({"iss": "supabase", "ref": "abc", "role": "anon"}, rng))
    assert not is_supabase_service_role_jwt(make_jwt({"iss": "supabase-demo", "role": "service_role"}, rng))


def test_base64_userpass_known_answers() -> None:
    """'user:pass' in base64 passes; text without a colon or with an empty side does not."""
    assert is_base64_userpass("dXNlcjpwYXNz")
    assert not is_base64_userpass("dXNlcnBhc3M=")  # "userpass"
    assert not is_base64_userpass("Og==")  # ":"
    assert not is_base64_userpass("not base64!")


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generated_tokens_validate(name: str) -> None:
    """Every registered generator makes tokens its own validator accepts."""
    rng = random.Random(1)
    prefix = {"crc32_base62": "ghp_", "bech32": "AGE-SECRET-KEY-1"}.get(name, "")
    for _ in range(50):
        assert VALIDATORS[name](GENERATORS[name](prefix, rng))


def test_every_validator_has_a_generator() -> None:
    """Tests can build a valid token for every checksum a rule may name."""
    assert set(VALIDATORS) == set(GENERATORS)
    assert validators.BECH32_CHARSET == "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
