"""leakvault's vault as an Oneiric secrets provider, for Mahavishnu-ecosystem services.

Install ``leakvault[oneiric]`` (Python >= 3.13, as Oneiric requires). The distribution registers
`adapter_metadata` in the ``oneiric.adapters`` entry-point group; Oneiric calls it while loading
plugins (``plugins.auto_load`` or ``plugins.entry_points = ["oneiric.adapters"]``) and gets the
metadata of provider ``leakvault`` in the ``secrets`` category. A service then selects it with::

    MAHAVISHNU_SECRETS__PROVIDER=leakvault
    MAHAVISHNU_PLUGINS__AUTO_LOAD=true

and the rest of ``MAHAVISHNU_SECRETS__*`` configures the vault itself (backend, key, identity),
exactly as for the ``leakvault`` command. Oneiric's own fields in that namespace
(``PROVIDER``, ``CACHE_TTL_SECONDS``, ...) are ignored by the vault settings, and vice versa.

The factory Oneiric calls is the class `LeakvaultSecretsProvider` itself: it takes no arguments
and loads its settings from the environment (and ``[tool.leakvault.vault]``). The vault opens on
first use, in a worker thread, so the event loop never waits on disk, KDF or network. Every read
goes through `SecretVault`: RBAC and the audit trail apply to services as to people.

``get_secret(id)`` returns the current value of ``PREFIX + id`` as text (``MAHAVISHNU_SECRETS__
ONEIRIC__PREFIX``, default none), or None when no such secret exists (or its current version is
deleted); values are cached for ``MAHAVISHNU_SECRETS__CACHE_TTL_SECONDS`` (Oneiric's own setting,
default 60) until ``invalidate_cache()``, which Oneiric calls when it rotates secrets.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from typing import TYPE_CHECKING, Any

from leakvault.errors import LeakvaultError

if TYPE_CHECKING:
    from leakvault.vault.config import VaultSettings
    from leakvault.vault.secret_vault import SecretVault

PROVIDER_ID = "leakvault"  # snake_case, as Oneiric provider ids are
CATEGORY = "secrets"
DEFAULT_CACHE_TTL = 60.0


class LeakvaultSecretsProvider:
    """Oneiric secrets adapter: async `get_secret`, `invalidate_cache`, `health`, `cleanup`."""

    def __init__(self, settings: VaultSettings | None = None) -> None:
        # The vault (cryptography, SQLite) loads when the provider is used, not when Oneiric lists it.
        from leakvault.vault.backends import Section
        from leakvault.vault.config import load_settings

        self._settings = settings if settings is not None else load_settings()
        section = Section("oneiric", self._settings.section("oneiric"))
        self._prefix = section.text("prefix", "") or ""
        raw_ttl = self._settings.raw.get("cache_ttl_seconds")
        self._ttl = float(raw_ttl) if raw_ttl not in (None, "") else DEFAULT_CACHE_TTL
        self._vault: SecretVault | None = None
        self._cache: dict[str, tuple[float, str | None]] = {}
        self._lock = asyncio.Lock()  # backends serve one thread at a time

    # -- the Oneiric provider protocol -----------------------------------------------------------

    async def get_secret(self, secret_id: str) -> str | None:
        path = self._prefix + secret_id
        now = time.monotonic()
        cached = self._cache.get(path)
        if cached is not None and cached[0] > now:
            return cached[1]
        async with self._lock:
            vault = await self._open()
            value = await asyncio.to_thread(self._read, vault, path)
        if self._ttl > 0:
            self._cache[path] = (now + self._ttl, value)
        return value

    async def invalidate_cache(self) -> None:
        self._cache.clear()

    async def health(self) -> bool:
        """True when the vault opens and answers (Oneiric runs this when it activates the provider)."""
        try:
            async with self._lock:
                vault = await self._open()
                await asyncio.to_thread(vault.list, self._prefix)
        except LeakvaultError:
            return False
        return True

    async def cleanup(self) -> None:
        async with self._lock:
            if self._vault is not None:
                vault, self._vault = self._vault, None
                await asyncio.to_thread(vault.close)
        self._cache.clear()

    # -- internals -------------------------------------------------------------------------------

    async def _open(self) -> SecretVault:
        if self._vault is None:
            from leakvault.vault.factory import open_vault  # as in __init__

            self._vault = await asyncio.to_thread(open_vault, self._settings)
        return self._vault

    @staticmethod
    def _read(vault: SecretVault, path: str) -> str | None:
        from leakvault.vault.errors import SecretNotFoundError, VaultError  # as in __init__

        try:
            value = vault.get(path).value
        except SecretNotFoundError:  # also a deleted or destroyed current version
            return None
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise VaultError(f"secret {path!r} is binary; an Oneiric provider can only return text") from None

    def __repr__(self) -> str:
        return f"LeakvaultSecretsProvider(backend={self._settings.backend!r}, prefix={self._prefix!r})"


def adapter_metadata() -> Any:
    """The ``oneiric.adapters`` entry point: Oneiric's `AdapterMetadata` for this provider."""
    metadata = importlib.import_module("oneiric.adapters.metadata")
    resolution = importlib.import_module("oneiric.core.resolution")
    return metadata.AdapterMetadata(
        category=CATEGORY,
        provider=PROVIDER_ID,
        # A callable, not an import string: Oneiric checks strings against its own allowlist.
        factory=LeakvaultSecretsProvider,
        description="leakvault SecretVault: local encrypted file, HashiCorp Vault/OpenBao, AWS, Azure or GCP, "
        "with RBAC and a tamper-evident audit trail",
        capabilities=["read", "cache", "audit", "rbac", "versions"],
        source=resolution.CandidateSource.ENTRY_POINT,
        owner="leakvault",
        requires_secrets=False,
        stack_level=50,
        priority=500,
    )
