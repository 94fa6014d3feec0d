"""Where the local vault's key comes from: master key variable, key file, passphrase variable, or a prompt.

Order of precedence (first one present wins): ``MAHAVISHNU_SECRETS__LOCAL__MASTER_KEY`` (base64 of
32 bytes), ``MAHAVISHNU_SECRETS__LOCAL__KEY_FILE`` (a file of mode 0600 holding the same base64),
``MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE``, then an interactive prompt when one is available.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from leakvault.vault import _crypto
from leakvault.vault.config import LocalSettings
from leakvault.vault.errors import KeySourceError, VaultError
from leakvault.vault.store import check_private_file

Prompt = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    """A master key or a passphrase, and a description of where it came from (safe to print)."""

    source: str
    master_key: _crypto.MasterKey | None = field(default=None, repr=False)
    passphrase: str | None = field(default=None, repr=False)


def parse_master_key(text: str, *, source: str) -> _crypto.MasterKey:
    """Decode a base64 (standard or URL-safe) 32-byte master key; the error never echoes the text."""
    cleaned = "".join(text.split())
    try:
        raw = base64.b64decode(cleaned.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise KeySourceError(f"{source} is not valid base64") from None
    if len(raw) != _crypto.KEY_SIZE:
        raise KeySourceError(f"{source} must decode to {_crypto.KEY_SIZE} bytes, got {len(raw)}")
    return _crypto.MasterKey(raw)


def encode_master_key(key: _crypto.MasterKey) -> str:
    return base64.b64encode(key.material).decode("ascii")


def read_key_file(path: Path) -> _crypto.MasterKey:
    check_private_file(path)
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeySourceError(f"cannot read key file {path}: {exc}") from None
    return parse_master_key(text, source=f"key file {path}")


def write_key_file(path: Path, key: _crypto.MasterKey) -> None:
    """Create `path` (mode 0600, must not exist) holding the base64 master key."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise VaultError(f"key file {path} already exists; refusing to overwrite it") from None
    except OSError as exc:
        raise VaultError(f"cannot create key file {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(encode_master_key(key) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def resolve_key(settings: LocalSettings, *, prompt: Prompt | None = None) -> KeyMaterial:
    """The key material to unlock (or initialise) the local vault, from the first source present."""
    if settings.master_key:
        return KeyMaterial(
            source="MAHAVISHNU_SECRETS__LOCAL__MASTER_KEY",
            master_key=parse_master_key(settings.master_key, source="MAHAVISHNU_SECRETS__LOCAL__MASTER_KEY"),
        )
    if settings.key_file is not None:
        return KeyMaterial(source=f"key file {settings.key_file}", master_key=read_key_file(settings.key_file))
    if settings.passphrase is not None:
        if not settings.passphrase:
            raise KeySourceError("MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE is set but empty")
        return KeyMaterial(source="MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE", passphrase=settings.passphrase)
    if prompt is not None:
        passphrase = prompt("Vault passphrase")
        if not passphrase:
            raise KeySourceError("empty passphrase")
        return KeyMaterial(source="prompt", passphrase=passphrase)
    raise KeySourceError(
        "no vault key: set MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE, MAHAVISHNU_SECRETS__LOCAL__MASTER_KEY "
        "or MAHAVISHNU_SECRETS__LOCAL__KEY_FILE, or run interactively"
    )
