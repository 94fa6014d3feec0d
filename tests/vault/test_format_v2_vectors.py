"""Known-answer vectors of vault format v2 (row MACs, the empty head, the rotation journal)."""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from leakvault.vault import _crypto
from leakvault.vault.errors import IntegrityError
from leakvault.vault.integrity import Integrity

VECTORS = Path(__file__).parent / "vectors" / "v2"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))
    assert data["format_version"] == 2
    return data


GENERATE = _load("generate")
VERIFY = _load("verify")
INVALID = _load("invalid")


def _key(hexstr: str) -> _crypto.MasterKey:
    return _crypto.MasterKey(bytes.fromhex(hexstr))


def _fields(encoded: list[dict[str, Any]]) -> list[_crypto.Field]:
    out: list[_crypto.Field] = []
    for field in encoded:
        if "null" in field:
            out.append(None)
        elif "int" in field:
            out.append(int(field["int"]))
        elif "str" in field:
            out.append(str(field["str"]))
        else:
            out.append(bytes.fromhex(field["bytes"]))
    return out


def _mac(vector: dict[str, Any]) -> bytes:
    return _crypto.row_mac(_crypto.integrity_key(_key(vector["master_key"])), vector["kind"], _fields(vector["fields"]))


@pytest.mark.parametrize("vector", GENERATE["row_macs"], ids=lambda v: f"{v['kind']}-{v['mac'][:8]}")
def test_generate_row_mac(vector: dict[str, Any]) -> None:
    """The integrity key and each row MAC are reproduced exactly."""
    assert _crypto.integrity_key(_key(vector["master_key"])).hex() == vector["integrity_key"]
    assert _mac(vector).hex() == vector["mac"]


@pytest.mark.parametrize("vector", GENERATE["empty_heads"], ids=lambda v: v["master_key"][:8])
def test_generate_empty_head(vector: dict[str, Any]) -> None:
    """A new vault's sealed empty head (its JSON layout and MACs) is reproduced byte for byte."""
    rows = Integrity(_key(vector["master_key"])).initial_rows()
    assert rows["integrity_head"].decode() == vector["integrity_head"]
    assert rows["integrity_map"].decode() == vector["integrity_map"]
    assert rows["integrity_mac"].hex() == vector["integrity_mac"]


@pytest.mark.parametrize("vector", GENERATE["journal_keys"], ids=lambda v: v["nonce"][:8])
def test_generate_journal_key(vector: dict[str, Any]) -> None:
    """The new master key sealed under the old one, with a fixed nonce, is reproduced exactly."""
    sealed = _crypto.seal_journal_key(
        _key(vector["old_master_key"]), _key(vector["new_master_key"]), nonce=bytes.fromhex(vector["nonce"])
    )
    assert sealed.hex() == vector["sealed"]


@pytest.mark.parametrize("vector", VERIFY["row_macs"], ids=lambda v: f"{v['kind']}-{v['mac'][:8]}")
def test_verify_row_mac(vector: dict[str, Any]) -> None:
    """Every pinned MAC verifies against its row."""
    assert _crypto.digests_equal(_mac(vector), bytes.fromhex(vector["mac"]))


@pytest.mark.parametrize("vector", VERIFY["journal_keys"], ids=lambda v: v["sealed"][:8])
def test_verify_journal_key(vector: dict[str, Any]) -> None:
    """Every pinned journal entry opens to its new master key."""
    opened = _crypto.open_journal_key(_key(vector["old_master_key"]), bytes.fromhex(vector["sealed"]))
    assert opened.material.hex() == vector["new_master_key"]


@pytest.mark.parametrize("vector", INVALID["row_macs"], ids=lambda v: v["reason"])
def test_invalid_row_mac(vector: dict[str, Any]) -> None:
    """A row moved, edited, retyped or re-keyed, or a MAC altered, does not verify."""
    assert not _crypto.digests_equal(_mac(vector), bytes.fromhex(vector["mac"]))


@pytest.mark.parametrize("vector", INVALID["journal_keys"], ids=lambda v: v["reason"])
def test_invalid_journal_key(vector: dict[str, Any]) -> None:
    """A journal entry under another key, altered or truncated, fails with IntegrityError."""
    with pytest.raises(IntegrityError):
        _crypto.open_journal_key(_key(vector["old_master_key"]), bytes.fromhex(vector["sealed"]))


def _independent_row_mac(master: bytes, kind: str, fields: list[_crypto.Field]) -> bytes:
    """The row MAC from its description in docs/vault.md, without leakvault's code."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"leakvault\x00v2\x00row-mac").derive(master)
    data = b"leakvault\x00v2\x00row\x00" + kind.encode() + b"\x00"
    for value in fields:
        if value is None:
            data += b"\x00"
        elif isinstance(value, int):
            data += b"\x01" + struct.pack(">q", value)
        elif isinstance(value, str):
            data += b"\x02" + struct.pack(">I", len(value.encode())) + value.encode()
        elif isinstance(value, bytes):
            data += b"\x03" + struct.pack(">I", len(value)) + value
    return hmac.new(key, data, hashlib.sha256).digest()


@pytest.mark.parametrize("vector", GENERATE["row_macs"], ids=lambda v: f"{v['kind']}-{v['mac'][:8]}")
def test_independent_decoder_agrees(vector: dict[str, Any]) -> None:
    """An implementation written from the documented format alone gets the same MACs."""
    mac = _independent_row_mac(bytes.fromhex(vector["master_key"]), vector["kind"], _fields(vector["fields"]))
    assert mac.hex() == vector["mac"]
