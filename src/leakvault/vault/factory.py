"""Build a `SecretVault` from settings: pick the backend, unlock the key, attach audit and policy.

Backends other than ``local`` register here by import path, so their SDKs load only when chosen:
``BACKENDS["hashicorp"] = "leakvault.vault.backends.hashicorp:open_backend"`` where the function
takes `VaultSettings` and returns a `SecretBackend`. Their audit trail goes to a local SQLite file
(``MAHAVISHNU_SECRETS__AUDIT__PATH``, default beside the local vault), chained with HMAC-SHA256 under
the key in ``MAHAVISHNU_SECRETS__AUDIT__KEY_FILE`` (default ``~/.config/leakvault/audit.key``).
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from leakvault.errors import ConfigError
from leakvault.vault import _crypto
from leakvault.vault._files import make_private_dirs
from leakvault.vault.audit import AuditLog, open_remote_trail
from leakvault.vault.backend import SecretBackend
from leakvault.vault.config import VaultSettings, load_settings, read_text
from leakvault.vault.errors import UnlockError
from leakvault.vault.keys import KeyMaterial, Prompt, resolve_key
from leakvault.vault.model import utcnow
from leakvault.vault.rbac import Policy, parse_policy
from leakvault.vault.secret_vault import SecretVault
from leakvault.vault.sqlite_backend import SqliteBackend
from leakvault.vault.store import VaultFile, header_for_new_vault, unlock

BackendFactory = Callable[[VaultSettings], SecretBackend]

# name -> "module:function" (leakvault.vault.backends; each imports its SDK only when opened).
BACKENDS: dict[str, str] = {
    "hashicorp": "leakvault.vault.backends.hashicorp:open_backend",
    "transit": "leakvault.vault.backends.transit:open_backend",
    "aws": "leakvault.vault.backends.aws:open_backend",
    "azure": "leakvault.vault.backends.azure:open_backend",
    "gcp": "leakvault.vault.backends.gcp:open_backend",
}


def load_policy_file(settings: VaultSettings) -> Policy | None:
    """The policy in the file `settings.policy_file` names, parsed: only the input of
    ``vault policy set`` (run by an admin). It never replaces the policy stored in the vault."""
    if settings.policy_file is None:
        return None
    text = read_text(settings.policy_file, "policy file")
    return parse_policy(text, source=str(settings.policy_file))


def open_local_backend(
    settings: VaultSettings,
    *,
    key: KeyMaterial | None = None,
    prompt: Prompt | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> tuple[SqliteBackend, AuditLog]:
    """Open and unlock the local vault file; the audit log lives in the same file."""
    file = VaultFile.open(settings.local.path, busy_timeout_ms=settings.local.busy_timeout_ms)
    try:
        header = file.read_header()
        material = key if key is not None else resolve_key(settings.local, prompt=prompt)
        try:
            master = unlock(header, master_key=material.master_key, passphrase=material.passphrase)
        except UnlockError as exc:
            raise UnlockError(f"{exc} (key from {material.source}, vault {settings.local.path})") from None
    except BaseException:
        file.close()
        raise
    backend = SqliteBackend(file, master, clock=clock)
    return backend, AuditLog(file, _crypto.audit_key(master), clock=clock)


def open_vault(
    settings: VaultSettings | None = None,
    *,
    identity: str | None = None,
    prompt: Prompt | None = None,
    key: KeyMaterial | None = None,
    source: str | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> SecretVault:
    """Open the configured vault, unlocked and ready; the caller closes it (or uses ``with``)."""
    settings = load_settings() if settings is None else settings
    # The stored policy is the policy (SecretVault loads it): a policy_file setting is only the
    # input of `vault policy set`, so no policy is passed in here.
    policy = None
    identity = identity or settings.identity
    if settings.backend == "local":
        backend, audit = open_local_backend(settings, key=key, prompt=prompt, clock=clock)
        return SecretVault(
            backend,
            audit=audit,
            identity=identity,
            policy=policy,
            source=source,
            clock=clock,
            unit_of_work=backend.file.transaction,
        )
    target = BACKENDS.get(settings.backend)
    if target is None:
        known = ", ".join(sorted({"local", *BACKENDS}))
        raise ConfigError(f"unknown vault backend {settings.backend!r} (MAHAVISHNU_SECRETS__BACKEND; known: {known})")
    module_name, _, function = target.partition(":")
    factory: BackendFactory = getattr(importlib.import_module(module_name), function)
    remote = factory(settings)
    try:
        audit_path = settings.audit_path or settings.local.path.parent / f"audit-{settings.backend}.db"
        audit_file, audit = open_remote_trail(
            audit_path, settings.audit_key_file, busy_timeout_ms=settings.local.busy_timeout_ms, clock=clock
        )
    except BaseException:
        remote.close()
        raise
    return SecretVault(
        remote,
        audit=audit,
        identity=identity,
        policy=policy,
        source=source,
        clock=clock,
        on_close=audit_file.close,
    )


def init_local_vault(
    settings: VaultSettings,
    key: KeyMaterial,
    *,
    iterations: int | None = None,
) -> Path:
    """Create the local vault file for `key` (a new master key is generated for a passphrase)."""
    if key.master_key is not None:
        master = key.master_key
        header = header_for_new_vault(master, None)
    else:
        master = _crypto.new_master_key()
        header = header_for_new_vault(master, key.passphrase, iterations=iterations or settings.local.kdf_iterations)
    with contextlib.suppress(OSError):  # VaultFile.create reports a folder it cannot make
        make_private_dirs(settings.local.path.parent)  # 0700 at every level, even under umask 000
    file = VaultFile.create(settings.local.path, header, busy_timeout_ms=settings.local.busy_timeout_ms)
    file.close()
    return settings.local.path
