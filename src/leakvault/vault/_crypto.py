"""Every cryptographic primitive the vault uses, and nothing else (see DESIGN.md §4).

Format version 1, pinned by tests/vault/vectors/*.json:

Master key
    32 random bytes. With a passphrase it is stored *wrapped*: a key-encryption key (KEK) is derived
    with PBKDF2-HMAC-SHA256 (16-byte random salt, iteration count stored beside it so it can be
    raised later), and the master key is sealed with AES-256-GCM under the KEK:
    ``wrapped = nonce(12) || ciphertext(32) || tag(16)``, associated data ``WRAP_AAD``.
    A *key check* (HKDF of the master key with its own label) is stored too, so a master key
    supplied directly can be recognised as right or wrong without decrypting any secret.

Secret version
    ``blob = 0x01 || salt(16) || nonce(12) || ciphertext || tag(16)`` where the AES-256-GCM key is
    HKDF-SHA256(master key, salt, info=VERSION_KEY_INFO) and the associated data is
    ``b"leakvault\\0v1\\0" || u32be(len(path)) || path(UTF-8) || u64be(version)``. Binding the
    path and version means a ciphertext copied to another row fails authentication. A fresh salt
    per version gives each version its own key, so the GCM nonce-reuse bound applies per key, not
    across the whole vault.

Audit chain
    Each audit record's digest is HMAC-SHA256 over ``previous digest || record`` with a key derived
    from the master key (so someone who can edit the file but does not hold the key cannot re-forge
    the chain), or plain SHA-256 when no key is available.

Format version 2 adds, pinned by tests/vault/vectors/v2/*.json:

Row MACs
    ``HMAC-SHA256(integrity key, label || encoded fields)`` where the integrity key is
    HKDF-SHA256(master key, info=INTEGRITY_KEY_INFO), the label names the kind of row
    (``ROW_LABEL + kind + 0x00``) and each field is encoded with a type byte: ``0x00`` None,
    ``0x01`` int (i64be), ``0x02`` str (u32be length || UTF-8), ``0x03`` bytes (u32be length ||
    bytes), ``0x04`` float (f64be; only an edited cell holds one). The encoding is injective, so
    no two different rows share an input.

Master-key rotation journal
    While `rekey --new-master-key` runs, the new master key waits in the file sealed under the old
    one: ``nonce(12) || AES-256-GCM(HKDF(old, info=JOURNAL_KEY_INFO), new, JOURNAL_AAD)``, so a
    crashed rotation can be finished by whoever can open the vault with the old key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import struct
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from leakvault.vault.errors import IntegrityError, KeySourceError, UnlockError

FORMAT_VERSION = 1
KEY_SIZE = 32
SALT_SIZE = 16
NONCE_SIZE = 12
TAG_SIZE = 16
# OWASP's 2023 figure for PBKDF2-HMAC-SHA256. Stored per vault, so it can be raised by `rekey`.
DEFAULT_ITERATIONS = 600_000
# The count is read from the vault file, so it is bounded: a header altered to ask for 10^12
# iterations would otherwise hang every unlock for days. 100 million takes seconds, not hours.
MAX_ITERATIONS = 100_000_000
KDF_NAME = "pbkdf2-sha256"

_BLOB_VERSION = b"\x01"
_BLOB_HEADER = len(_BLOB_VERSION) + SALT_SIZE + NONCE_SIZE
WRAP_AAD = b"leakvault\x00v1\x00master-key"
VERSION_KEY_INFO = b"leakvault\x00v1\x00secret-version-key"
KEY_CHECK_INFO = b"leakvault\x00v1\x00key-check"
AUDIT_KEY_INFO = b"leakvault\x00v1\x00audit-chain"
_AAD_PREFIX = b"leakvault\x00v1\x00"
INTEGRITY_KEY_INFO = b"leakvault\x00v2\x00row-mac"
ROW_LABEL = b"leakvault\x00v2\x00row\x00"
JOURNAL_KEY_INFO = b"leakvault\x00v2\x00rekey-journal"
JOURNAL_AAD = b"leakvault\x00v2\x00new-master-key"
MAC_SIZE = 32


@dataclass(frozen=True, slots=True)
class MasterKey:
    """The 256-bit vault master key. Never printed: repr shows only a fingerprint-free marker."""

    material: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.material) != KEY_SIZE:
            raise KeySourceError(f"a master key must be {KEY_SIZE} bytes, got {len(self.material)}")


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A master key sealed under a passphrase, as stored in the vault file."""

    kdf: str
    salt: bytes
    iterations: int
    wrapped: bytes


def new_master_key() -> MasterKey:
    """A fresh random master key from the OS CSPRNG."""
    return MasterKey(os.urandom(KEY_SIZE))


def random_bytes(n: int) -> bytes:
    """`n` bytes from the OS CSPRNG (for generated secrets and identifiers)."""
    return os.urandom(n)


def random_below(n: int) -> int:
    """A uniformly random integer in [0, n) from the OS CSPRNG."""
    return secrets.randbelow(n)


def _normalize_passphrase(passphrase: str) -> bytes:
    # NFC so that the same passphrase typed on different systems (composed vs decomposed accents)
    # derives the same key.
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


# "Derive once per process": PBKDF2 at 600k iterations costs ~0.3 s, so repeated opens in one
# process (rotation, --watch polling) reuse the KEK. The key of this cache is a SHA-256 of the
# inputs, never the passphrase itself.
_KEK_CACHE: dict[bytes, bytes] = {}
_KEK_CACHE_MAX = 4
_KEK_LOCK = threading.Lock()


def derive_kek(passphrase: str, salt: bytes, iterations: int) -> bytes:
    """PBKDF2-HMAC-SHA256(passphrase, salt, iterations) -> 32-byte key-encryption key (cached)."""
    if not 1 <= iterations <= MAX_ITERATIONS:
        raise ValueError(f"iterations must be between 1 and {MAX_ITERATIONS:,}")
    if len(salt) != SALT_SIZE:
        raise ValueError(f"salt must be {SALT_SIZE} bytes")
    secret = _normalize_passphrase(passphrase)
    cache_key = hashlib.sha256(salt + struct.pack(">Q", iterations) + secret).digest()
    with _KEK_LOCK:
        cached = _KEK_CACHE.get(cache_key)
    if cached is not None:
        return cached
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=salt, iterations=iterations)
    kek = kdf.derive(secret)
    with _KEK_LOCK:
        if len(_KEK_CACHE) >= _KEK_CACHE_MAX:
            _KEK_CACHE.pop(next(iter(_KEK_CACHE)))
        _KEK_CACHE[cache_key] = kek
    return kek


def clear_kek_cache() -> None:
    """Forget every cached key-encryption key (tests, and `rekey` after changing the passphrase)."""
    with _KEK_LOCK:
        _KEK_CACHE.clear()


def seal_master_key(
    master: MasterKey,
    passphrase: str,
    *,
    iterations: int = DEFAULT_ITERATIONS,
    salt: bytes | None = None,
    nonce: bytes | None = None,
) -> WrappedKey:
    """Wrap `master` under a key derived from `passphrase`. `salt`/`nonce` exist for test vectors."""
    salt = os.urandom(SALT_SIZE) if salt is None else salt
    nonce = os.urandom(NONCE_SIZE) if nonce is None else nonce
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"nonce must be {NONCE_SIZE} bytes")
    kek = derive_kek(passphrase, salt, iterations)
    wrapped = nonce + AESGCM(kek).encrypt(nonce, master.material, WRAP_AAD)
    return WrappedKey(kdf=KDF_NAME, salt=salt, iterations=iterations, wrapped=wrapped)


def open_master_key(wrapped: WrappedKey, passphrase: str) -> MasterKey:
    """Unwrap the master key; UnlockError if the passphrase is wrong (or the wrapped key altered)."""
    if wrapped.kdf != KDF_NAME:
        raise UnlockError(f"unsupported key derivation {wrapped.kdf!r}")
    if len(wrapped.wrapped) != NONCE_SIZE + KEY_SIZE + TAG_SIZE:
        raise UnlockError("the stored wrapped key has the wrong length; the vault header is damaged")
    if not 1 <= wrapped.iterations <= MAX_ITERATIONS or len(wrapped.salt) != SALT_SIZE:
        raise UnlockError("the stored key derivation parameters are out of range; the vault header is damaged")
    kek = derive_kek(passphrase, wrapped.salt, wrapped.iterations)
    nonce, body = wrapped.wrapped[:NONCE_SIZE], wrapped.wrapped[NONCE_SIZE:]
    try:
        material = AESGCM(kek).decrypt(nonce, body, WRAP_AAD)
    except InvalidTag:
        raise UnlockError("wrong passphrase: it does not open this vault") from None
    return MasterKey(material)


def _hkdf(master: MasterKey, salt: bytes | None, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=salt, info=info).derive(master.material)


def key_check(master: MasterKey) -> bytes:
    """A one-way value stored in the vault so a directly supplied master key can be checked."""
    return _hkdf(master, None, KEY_CHECK_INFO)


def matches_key_check(master: MasterKey, stored: bytes) -> bool:
    """True if `master` is the key whose check value is `stored` (constant-time comparison)."""
    return hmac.compare_digest(key_check(master), stored)


def associated_data(path: str, version: int) -> bytes:
    """The AES-GCM associated data binding a ciphertext to its path and version."""
    encoded = path.encode("utf-8")
    return _AAD_PREFIX + struct.pack(">I", len(encoded)) + encoded + struct.pack(">Q", version)


def encrypt_version(
    master: MasterKey,
    path: str,
    version: int,
    plaintext: bytes,
    *,
    salt: bytes | None = None,
    nonce: bytes | None = None,
) -> bytes:
    """Encrypt one secret version. `salt`/`nonce` are for known-answer tests; leave them None."""
    salt = os.urandom(SALT_SIZE) if salt is None else salt
    nonce = os.urandom(NONCE_SIZE) if nonce is None else nonce
    if len(salt) != SALT_SIZE or len(nonce) != NONCE_SIZE:
        raise ValueError("bad salt or nonce length")
    key = _hkdf(master, salt, VERSION_KEY_INFO)
    body = AESGCM(key).encrypt(nonce, plaintext, associated_data(path, version))
    return _BLOB_VERSION + salt + nonce + body


def decrypt_version(master: MasterKey, path: str, version: int, blob: bytes) -> bytes:
    """Decrypt one secret version; IntegrityError naming the path if anything does not check out."""
    if len(blob) < _BLOB_HEADER + TAG_SIZE:
        raise IntegrityError(path, version, "ciphertext is truncated")
    if blob[:1] != _BLOB_VERSION:
        raise IntegrityError(path, version, f"unknown ciphertext format {blob[0]}")
    salt = blob[1 : 1 + SALT_SIZE]
    nonce = blob[1 + SALT_SIZE : _BLOB_HEADER]
    key = _hkdf(master, salt, VERSION_KEY_INFO)
    try:
        return AESGCM(key).decrypt(nonce, blob[_BLOB_HEADER:], associated_data(path, version))
    except InvalidTag:
        raise IntegrityError(path, version, "authentication failed (altered, or moved from another row)") from None


def audit_key(master: MasterKey) -> bytes:
    """The key that authenticates the audit chain of a vault with this master key."""
    return _hkdf(master, None, AUDIT_KEY_INFO)


def chain_digest(key: bytes | None, previous: bytes, record: bytes) -> bytes:
    """Digest linking `record` to the previous digest: HMAC-SHA256 with `key`, else SHA-256."""
    if key is None:
        return hashlib.sha256(previous + record).digest()
    return hmac.new(key, previous + record, hashlib.sha256).digest()


def digests_equal(a: bytes, b: bytes) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(a, b)


# -- format v2: row MACs and the rotation journal --------------------------------------------------

Field = str | bytes | int | float | None


def integrity_key(master: MasterKey) -> bytes:
    """The key that authenticates the rows and the head of a format-v2 vault with this master key."""
    return _hkdf(master, None, INTEGRITY_KEY_INFO)


def _encode_field(value: Field) -> bytes:
    if value is None:
        return b"\x00"
    if isinstance(value, bool):  # a bool is an int to Python; store it as 0/1 explicitly
        return b"\x01" + struct.pack(">q", int(value))
    if isinstance(value, int):
        return b"\x01" + struct.pack(">q", value)
    if isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
        return b"\x02" + struct.pack(">I", len(data)) + data
    if isinstance(value, float):  # never written by leakvault; an edited cell may hold one
        return b"\x04" + struct.pack(">d", value)
    return b"\x03" + struct.pack(">I", len(value)) + bytes(value)


def row_mac(key: bytes, kind: str, fields: Sequence[Field]) -> bytes:
    """HMAC-SHA256 over one row: its kind and its fields, each encoded unambiguously."""
    mac = hmac.new(key, ROW_LABEL + kind.encode("ascii") + b"\x00", hashlib.sha256)
    for value in fields:
        mac.update(_encode_field(value))
    return mac.digest()


def seal_journal_key(old: MasterKey, new: MasterKey, *, nonce: bytes | None = None) -> bytes:
    """The new master key sealed under the old one, for the rotation journal."""
    nonce = os.urandom(NONCE_SIZE) if nonce is None else nonce
    key = _hkdf(old, None, JOURNAL_KEY_INFO)
    return nonce + AESGCM(key).encrypt(nonce, new.material, JOURNAL_AAD)


def open_journal_key(old: MasterKey, sealed: bytes) -> MasterKey:
    """The new master key from the rotation journal; IntegrityError if it was altered."""
    if len(sealed) != NONCE_SIZE + KEY_SIZE + TAG_SIZE:
        raise IntegrityError("(rotation journal)", None, "the sealed new master key has the wrong length")
    key = _hkdf(old, None, JOURNAL_KEY_INFO)
    try:
        return MasterKey(AESGCM(key).decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], JOURNAL_AAD))
    except InvalidTag:
        raise IntegrityError("(rotation journal)", None, "the sealed new master key fails authentication") from None
