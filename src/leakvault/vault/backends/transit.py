"""Encryption as a service: a local vault file whose values Vault's transit engine encrypts.

``MAHAVISHNU_SECRETS__BACKEND=transit``. The file has the local store's schema and semantics
(versions, check-and-set, soft delete, destroy, pending values, all in SQLite transactions), but
holds only transit ciphertexts (``vault:v3:...``): the key that can open them never leaves Vault
(or OpenBao), so the file alone is useless to a thief, and access can be revoked centrally.

Each value is encrypted under a *derived* transit key with the context set to the same path +
version encoding the local store uses as AES-GCM associated data (`_crypto.associated_data`), so
a ciphertext copied to another row fails to decrypt, exactly as in the local store. Key rotation
(`TransitBackend.rotate_key`) adds a key version in Vault; `TransitBackend.rewrap` re-encrypts
every stored ciphertext under the newest version without the plaintext ever reaching this process.

Settings: the connection is ``MAHAVISHNU_SECRETS__HASHICORP__*`` (URL, token or AppRole, TLS,
namespace); ``MAHAVISHNU_SECRETS__TRANSIT__PATH`` (the file, default beside the local vault as
``transit.db``), ``__KEY`` (default ``leakvault``), ``__MOUNT`` (default ``transit``),
``__CREATE_KEY`` (default true: create the derived key if it does not exist).
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from leakvault.errors import ConfigError
from leakvault.vault import _crypto
from leakvault.vault._files import make_private_dirs
from leakvault.vault.backends._hvac import SERVICE, HvacConnection, HvacSettings
from leakvault.vault.backends._support import Section, describe
from leakvault.vault.config import VaultSettings, default_vault_path
from leakvault.vault.errors import BackendError, IntegrityError, VaultError, VaultFormatError
from leakvault.vault.model import utcnow
from leakvault.vault.sqlite_backend import SqliteBackend
from leakvault.vault.store import KeyHeader, VaultFile

SEALER_KEY = "sealer"  # meta row naming the transit key that sealed this file
REWRAP_BATCH = 100


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True, slots=True)
class RewrapReport:
    """What `TransitBackend.rewrap` did: rows re-encrypted, rows that failed, the key version now used."""

    rewrapped: int
    failed: tuple[str, ...]
    key_version: int


class TransitCipher:
    """Encrypt/decrypt/rewrap through one derived transit key; errors name the path, never the value."""

    def __init__(self, connection: HvacConnection, *, mount: str, key: str) -> None:
        self._conn = connection
        self.mount = mount.strip("/")
        self.key = key
        self._transit = connection.client.secrets.transit

    @property
    def sealer(self) -> str:
        return f"transit:{self.mount}/{self.key}"

    def ensure_key(self, *, create: bool) -> None:
        """Check the key exists and is derived (it must bind each value to its path); create it if allowed."""
        missing = self._conn.exceptions.InvalidPath
        try:
            info = self.key_info()
        except missing:
            if not create:
                raise ConfigError(
                    f"transit key {self.key!r} does not exist on mount {self.mount!r}; create it with "
                    "derived=true or set MAHAVISHNU_SECRETS__TRANSIT__CREATE_KEY=true"
                ) from None
            self._conn.call(
                "create transit key",
                None,
                lambda: self._transit.create_key(name=self.key, derived=True, mount_point=self.mount),
            )
            info = self.key_info()
        if not info.get("derived"):
            # Without derivation transit silently ignores the context, and a ciphertext could be
            # moved to another path undetected.
            raise ConfigError(
                f"transit key {self.key!r} is not a derived key; leakvault needs derived=true to bind "
                "each value to its path and version (create a new key for it)"
            )
        if not info.get("supports_encryption", True):
            raise ConfigError(f"transit key {self.key!r} cannot encrypt (type {info.get('type')!r})")

    def key_info(self) -> dict[str, Any]:
        response = self._conn.call(
            "read transit key", None, lambda: self._transit.read_key(name=self.key, mount_point=self.mount)
        )
        data: dict[str, Any] = response.get("data") or {}
        return data

    def encrypt(self, path: str, version: int, value: bytes) -> bytes:
        context = _b64(_crypto.associated_data(path, version))
        response = self._conn.call(
            "encrypt",
            path,
            lambda: self._transit.encrypt_data(
                name=self.key, plaintext=_b64(value), context=context, mount_point=self.mount
            ),
        )
        return str(response["data"]["ciphertext"]).encode("ascii")

    def decrypt(self, path: str, version: int, blob: bytes) -> bytes:
        context = _b64(_crypto.associated_data(path, version))
        invalid = self._conn.exceptions.InvalidRequest
        try:
            response = self._conn.call(
                "decrypt",
                path,
                lambda: self._transit.decrypt_data(
                    name=self.key, ciphertext=blob.decode("ascii"), context=context, mount_point=self.mount
                ),
            )
        except (invalid, UnicodeDecodeError) as exc:
            raise IntegrityError(path, version, f"transit refused the ciphertext: {describe(exc, 100)}") from None
        return base64.b64decode(response["data"]["plaintext"] or "")

    def rewrap(self, items: Sequence[tuple[str, int, bytes]]) -> list[bytes | None]:
        """New ciphertexts for (path, version, ciphertext) items, None where transit refused one."""
        batch = [
            {"ciphertext": blob.decode("ascii"), "context": _b64(_crypto.associated_data(path, version))}
            for path, version, blob in items
        ]
        response = self._conn.call(
            "rewrap",
            None,
            lambda: self._transit.rewrap_data(
                name=self.key, ciphertext=None, batch_input=batch, mount_point=self.mount
            ),
        )
        results = (response.get("data") or {}).get("batch_results") or []
        if len(results) != len(items):
            raise BackendError(f"{SERVICE} returned {len(results)} rewrap results for {len(items)} ciphertexts")
        return [None if r.get("error") else str(r["ciphertext"]).encode("ascii") for r in results]

    def rotate(self) -> int:
        self._conn.call(
            "rotate transit key", None, lambda: self._transit.rotate_key(name=self.key, mount_point=self.mount)
        )
        return int(self.key_info().get("latest_version") or 0)

    def close(self) -> None:
        self._conn.close()


class TransitBackend(SqliteBackend):
    """The local store's semantics, with every value sealed by Vault's transit engine."""

    def __init__(
        self,
        file: VaultFile,
        cipher: TransitCipher,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        # SqliteBackend wants a master key; this one is random, never stored and never used,
        # because _seal/_unseal below go to transit instead.
        super().__init__(file, _crypto.new_master_key(), clock=clock)
        self._cipher = cipher

    @property
    def name(self) -> str:
        return "transit"

    def _seal(self, path: str, version: int, value: bytes) -> bytes:
        return self._cipher.encrypt(path, version, value)

    def _unseal(self, path: str, version: int, blob: bytes) -> bytes:
        return self._cipher.decrypt(path, version, blob)

    def rotate_key(self) -> int:
        """Add a new version of the transit key (new writes use it); returns that version."""
        return self._cipher.rotate()

    def rewrap(self) -> RewrapReport:
        """Re-encrypt every stored ciphertext (versions and pending) under the newest key version.

        The plaintext never comes back from Vault. A row changed meanwhile by a writer is left as
        that writer made it. Rows transit refuses (tampered or moved) are reported, not changed.
        """
        failed: list[str] = []
        rewrapped = 0
        latest = f"vault:v{int(self._cipher.key_info().get('latest_version') or 0)}:".encode()
        for table, sealed in (("versions", self._sealed_versions()), ("pending", self._sealed_pending())):
            rows = [row for row in sealed if not row[2].startswith(latest)]  # already under the newest key
            for start in range(0, len(rows), REWRAP_BATCH):
                chunk = rows[start : start + REWRAP_BATCH]
                fresh = self._cipher.rewrap(chunk)
                with self.file.transaction() as conn:
                    for (path, version, old), new in zip(chunk, fresh, strict=True):
                        if new is None:
                            failed.append(f"{path!r} version {version}" if version else f"{path!r} (pending)")
                        elif new != old:
                            # "AND ciphertext = old": a row rewritten meanwhile is left as it is.
                            if table == "versions":
                                cursor = conn.execute(
                                    "UPDATE versions SET ciphertext = ? "
                                    "WHERE path = ? AND version = ? AND ciphertext = ?",
                                    (new, path, version, old),
                                )
                            else:
                                cursor = conn.execute(
                                    "UPDATE pending SET ciphertext = ? WHERE path = ? AND ciphertext = ?",
                                    (new, path, old),
                                )
                            rewrapped += cursor.rowcount
        return RewrapReport(
            rewrapped=rewrapped,
            failed=tuple(failed),
            key_version=int(self._cipher.key_info().get("latest_version") or 0),
        )

    def _sealed_versions(self) -> list[tuple[str, int, bytes]]:
        with self.file.transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT path, version, ciphertext FROM versions WHERE ciphertext IS NOT NULL ORDER BY path, version"
            ).fetchall()
        return [(str(p), int(v), bytes(c)) for p, v, c in rows]

    def _sealed_pending(self) -> list[tuple[str, int, bytes]]:
        with self.file.transaction(write=False) as conn:
            rows = conn.execute("SELECT path, ciphertext FROM pending ORDER BY path").fetchall()
        return [(str(p), 0, bytes(c)) for p, c in rows]

    def rekey(self, new_passphrase: str, *, iterations: int | None = None) -> None:
        raise VaultError("a transit store has no passphrase; rotate the transit key instead (rotate_key, rewrap)")

    def close(self) -> None:
        super().close()
        self._cipher.close()


def open_store(path: Path, cipher: TransitCipher, *, busy_timeout_ms: int = 10_000) -> VaultFile:
    """Open the transit store at `path`, creating it on first use; refuse a file sealed otherwise."""
    if not path.exists():
        # The key check of a random, discarded key: the file can never be unlocked as a local vault.
        header = KeyHeader(key_check=_crypto.key_check(_crypto.new_master_key()), wrapped=None)
        with contextlib.suppress(OSError):  # VaultFile.create reports a folder it cannot make
            make_private_dirs(path.parent)  # 0700 at every level, even under umask 000
        file = VaultFile.create(path, header, busy_timeout_ms=busy_timeout_ms)
        with file.transaction() as conn:
            conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (SEALER_KEY, cipher.sealer.encode()))
        return file
    file = VaultFile.open(path, busy_timeout_ms=busy_timeout_ms)
    with file.transaction(write=False) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (SEALER_KEY,)).fetchone()
    sealer = bytes(row[0]).decode() if row is not None else None
    if sealer != cipher.sealer:
        file.close()
        what = "a local vault (not a transit store)" if sealer is None else f"sealed by {sealer}"
        raise VaultFormatError(f"{path} is {what}; MAHAVISHNU_SECRETS__TRANSIT__KEY/__MOUNT name {cipher.sealer}")
    return file


def open_backend(settings: VaultSettings) -> TransitBackend:
    """The factory `leakvault.vault.factory` calls for ``MAHAVISHNU_SECRETS__BACKEND=transit``."""
    section = Section("transit", settings.section("transit"))
    store = section.file("path", must_exist=False) or default_vault_path().with_name("transit.db")
    connection = HvacConnection(HvacSettings.from_settings(settings))
    cipher = TransitCipher(
        connection,
        mount=section.text("mount", "transit") or "transit",
        key=section.text("key", "leakvault") or "leakvault",
    )
    try:
        cipher.ensure_key(create=section.flag("create_key", True))
        file = open_store(store, cipher, busy_timeout_ms=settings.local.busy_timeout_ms)
    except BaseException:
        cipher.close()
        raise
    return TransitBackend(file, cipher)
