"""`SecretVault`: the one API over every backend, enforcing RBAC and writing the audit trail.

Every public method is one audited operation: validate the path, check the caller's capability,
run the backend call, then append an audit record with the outcome (``ok``, ``denied`` or the
error class). Reads are fail-closed: if the audit record cannot be written the value is not
returned. A write whose audit record fails has still happened; the error says so.
"""

from __future__ import annotations

import contextlib
import getpass
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from leakvault.vault.audit import AuditLog, AuditRecord, VerifyReport
from leakvault.vault.backend import SecretBackend
from leakvault.vault.errors import (
    AccessDeniedError,
    IntegrityError,
    InvalidPathError,
    SecretNotFoundError,
    VaultError,
)
from leakvault.vault.model import (
    RESERVED_PREFIX,
    SecretMetadata,
    SecretValue,
    VersionInfo,
    utcnow,
    validate_path,
    validate_prefix,
)
from leakvault.vault.rbac import POLICY_PATH, SINGLE_USER, Policy, parse_policy

if TYPE_CHECKING:
    from leakvault.vault.rotation import Applier, Generator, RotationResult, Verifier

T = TypeVar("T")


class AuditWriteError(VaultError):
    """The operation ran but its audit record could not be written."""


def current_os_user() -> str:
    """The effective OS user, from the password database.

    Not `getpass.getuser()`: it believes $LOGNAME and $USER, which anyone can set, and the OS user
    is what RBAC trusts when it decides who may act as whom (``--as``).
    """
    if not hasattr(os, "geteuid"):  # Windows: no uid to look up
        return getpass.getuser()
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # no passwd entry (some containers)
        return f"uid:{os.geteuid()}"


def _ssh_source() -> str | None:
    # Over SSH the client's address is the most useful "where from" a CLI invocation has.
    client = os.environ.get("SSH_CLIENT", "").split()
    return client[0] if client else None


# The largest version number any backend can hold (SQLite's INTEGER is a signed 64-bit number).
MAX_VERSION = 2**63 - 1


def _possible_versions(path: str, numbers: Iterable[int | None]) -> None:
    """SecretNotFoundError for a version number that cannot exist: below 1, or past MAX_VERSION
    (which SQLite would refuse with an OverflowError). Refusing 0 also keeps a pending value,
    sealed as version 0, from being read as a version through a row planted in the file."""
    for number in numbers:
        if number is not None and not 1 <= number <= MAX_VERSION:
            raise SecretNotFoundError(path, number)


def _as_bytes(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


class SecretVault:
    """Versioned secrets with check-and-set, soft delete, rollback, rotation, RBAC and audit.

    One instance serves one thread at a time (it holds one SQLite connection for the local store).
    """

    def __init__(
        self,
        backend: SecretBackend,
        *,
        audit: AuditLog | None,
        identity: str | None = None,
        actor: str | None = None,
        policy: Policy | None = None,
        source: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        on_close: Callable[[], None] | None = None,
        unit_of_work: Callable[[], AbstractContextManager[object]] | None = None,
    ) -> None:
        self._backend = backend
        # Where backend and audit share a store (the local file), one transaction around an
        # operation and its audit record makes them atomic: no write without its record.
        self._unit_of_work = unit_of_work or contextlib.nullcontext
        self._audit_is_atomic = unit_of_work is not None
        self._audit = audit
        self.actor = actor or current_os_user()
        self.identity = identity or self.actor
        self._fixed_policy = policy
        self._policy: Policy | None = policy
        self._source = source if source is not None else _ssh_source()
        self._clock = clock
        self._on_close = on_close
        self._impersonation_checked = False

    # -- plumbing --------------------------------------------------------------------------------

    @property
    def backend(self) -> SecretBackend:
        return self._backend

    @property
    def clock(self) -> Callable[[], datetime]:
        return self._clock

    def _load_policy(self) -> Policy:
        if self._policy is None:
            try:
                stored = self._backend.read(POLICY_PATH)
            except SecretNotFoundError:
                if self._audit_is_atomic and self._audit is not None and self._audit.has_succeeded("policy_set"):
                    # The local vault's audit trail (authenticated with the vault key, in the same
                    # file) says a policy was stored: its rows were removed from the file, which
                    # would otherwise silently open the vault to every identity.
                    raise IntegrityError(
                        POLICY_PATH, None, "the stored access policy is missing although the audit trail records one"
                    ) from None
                self._policy = SINGLE_USER
            else:
                self._policy = parse_policy(stored.text(), source=f"vault policy ({POLICY_PATH})")
        return self._policy

    def _authorize(self, capability: str | tuple[str, ...] | None, path: str | None) -> None:
        policy = self._load_policy()
        if not self._impersonation_checked:
            if not policy.may_act_as(self.actor, self.identity):
                raise AccessDeniedError(self.actor, f"act as {self.identity}", None)
            self._impersonation_checked = True
        if capability is None:
            return
        capabilities = (capability,) if isinstance(capability, str) else capability
        if not any(policy.allows(self.identity, c, path) for c in capabilities):
            raise AccessDeniedError(self.identity, "/".join(capabilities), path)

    def _record(self, action: str, path: str | None, version: int | None, outcome: str) -> None:
        if self._audit is not None:
            self._audit.append(
                identity=self.identity,
                actor=self.actor,
                action=action,
                path=path,
                version=version,
                outcome=outcome,
                source=self._source,
            )

    def _run(
        self,
        action: str,
        capability: str | tuple[str, ...] | None,
        path: str | None,
        operation: Callable[[], T],
        *,
        version: int | None = None,
        version_of: Callable[[T], int | None] | None = None,
        validator: Callable[[str], str] = validate_path,
        atomic: bool = True,
    ) -> T:
        """Run one audited operation. With `atomic`, the operation and its success record commit
        together; failures are recorded afterwards in their own transaction."""
        audited_path = path
        unit = self._unit_of_work if atomic else contextlib.nullcontext
        try:
            with unit():
                if path is not None:
                    try:
                        validator(path)
                    except InvalidPathError:
                        audited_path = None  # a malformed "path" may be a pasted value: keep it out of the log
                        raise
                self._authorize(capability, path)
                result = operation()
                recorded_version = version_of(result) if version_of is not None else version
                try:
                    self._record(action, audited_path, recorded_version, "ok")
                except VaultError as exc:
                    raise AuditWriteError(
                        f"{action} on {path!r} was not carried out: its audit record could not be written ({exc})"
                        if atomic and self._audit_is_atomic
                        else f"{action} on {path!r} ran but its audit record could not be written ({exc})"
                    ) from None
        except AuditWriteError:
            raise
        except AccessDeniedError:
            with contextlib.suppress(Exception):
                self._record(action, audited_path, version, "denied")
            raise
        except BaseException as exc:
            with contextlib.suppress(Exception):
                self._record(action, audited_path, version, type(exc).__name__)
            raise
        return result

    # -- secrets ---------------------------------------------------------------------------------

    def get(self, path: str, version: int | None = None) -> SecretValue:
        """The current value of `path`, or `version` of it."""

        def read() -> SecretValue:
            _possible_versions(path, [version])
            return self._backend.read(path, version)

        return self._run(
            "get",
            "read",
            path,
            read,
            version=version,
            version_of=lambda v: v.version,
        )

    def get_text(self, path: str, version: int | None = None) -> str:
        return self.get(path, version).text()

    def set(self, path: str, value: bytes | str, *, cas: int | None = None) -> VersionInfo:
        """Write a new version. `cas`: 0 = only if absent, N = only if the current version is N."""
        data = _as_bytes(value)
        return self._run(
            "set",
            "write",
            path,
            lambda: self._backend.write(path, data, cas=cas),
            version_of=lambda i: i.version,
        )

    def create(self, path: str, value: bytes | str) -> VersionInfo:
        """Write version 1; CasConflictError if the path already exists."""
        return self.set(path, value, cas=0)

    def update(self, path: str, value: bytes | str, *, cas: int) -> VersionInfo:
        """Write a new version only if the current one is `cas` (no lost updates)."""
        return self.set(path, value, cas=cas)

    def delete(self, path: str, versions: Sequence[int] | None = None) -> None:
        """Soft-delete `versions` (the current one when None); `undelete` reverses it."""

        def run() -> None:
            _possible_versions(path, versions or ())
            self._backend.delete(path, versions)

        single = versions[0] if versions and len(versions) == 1 else None
        self._run("delete", "delete", path, run, version=single)

    def undelete(self, path: str, versions: Sequence[int] | None = None) -> None:
        """Restore soft-deleted `versions` (the current one when None)."""

        def run() -> None:
            _possible_versions(path, versions or ())
            chosen = versions if versions else [self._backend.metadata(path).current_version]
            self._backend.undelete(path, chosen)

        single = versions[0] if versions and len(versions) == 1 else None
        self._run("undelete", "delete", path, run, version=single)

    def destroy(self, path: str, versions: Sequence[int]) -> None:
        """Erase the values of `versions` for good."""
        if not versions:
            raise VaultError("destroy needs at least one explicit version")

        def run() -> None:
            _possible_versions(path, versions)
            self._backend.destroy(path, versions)

        single = versions[0] if len(versions) == 1 else None
        self._run("destroy", "delete", path, run, version=single)

    def list(self, prefix: str = "") -> list[str]:
        """Paths under `prefix` that this identity may list (internal paths never appear)."""

        def run() -> list[str]:
            policy = self._load_policy()
            return [
                p
                for p in self._backend.list(prefix)
                if not p.startswith(RESERVED_PREFIX) and policy.allows(self.identity, "list", p)
            ]

        # No up-front capability check: the per-path filter is the real one, and an identity
        # with no list right anywhere simply sees nothing.
        return self._run("list", None, prefix or None, run, validator=validate_prefix)

    def metadata(self, path: str) -> SecretMetadata:
        """Versions, timestamps and annotations of `path` (needs read or list)."""
        return self._run("metadata", ("read", "list"), path, lambda: self._backend.metadata(path))

    def history(self, path: str) -> SecretMetadata:
        """Alias of `metadata`, audited as ``history``."""
        return self._run("history", ("read", "list"), path, lambda: self._backend.metadata(path))

    def rollback(self, path: str, to: int, *, cas: int | None = None) -> VersionInfo:
        """Write the value of version `to` as a new current version (KV v2 rollback semantics)."""

        def run() -> VersionInfo:
            _possible_versions(path, [to])
            expected = cas if cas is not None else self._backend.metadata(path).current_version
            old = self._backend.read(path, to)
            return self._backend.write(path, old.value, cas=expected)

        return self._run("rollback", "write", path, run, version=to, version_of=lambda i: i.version)

    def set_metadata(
        self,
        path: str,
        *,
        max_versions: int | None = None,
        custom: Mapping[str, str | None] | None = None,
    ) -> SecretMetadata:
        """Set `max_versions` and annotations (needs write). Lowering `max_versions` (or setting a
        limit where there was none) erases the oldest versions, so it also needs what `destroy`
        needs: the delete capability."""

        def run() -> SecretMetadata:
            if max_versions is not None and max_versions > 0:
                current = self._backend.metadata(path).max_versions
                if current == 0 or max_versions < current:
                    self._authorize("delete", path)
            return self._backend.update_metadata(path, max_versions=max_versions, custom=custom)

        return self._run("set_metadata", "write", path, run)

    def watch_versions(self, paths: Sequence[str]) -> dict[str, int]:
        """Current version numbers of `paths`, for watchers (``run --watch``).

        Authorised like a read but not audited: a watcher polls every second and a version number
        reveals no value. Each value a watcher then fetches goes through `get` and is audited.
        """
        out: dict[str, int] = {}
        for path in paths:
            validate_path(path)
            self._authorize("read", path)
            out[path] = self._backend.metadata(path).current_version
        return out

    # -- rotation staging (used by `rotation`; each step audited) --------------------------------

    def stage_pending(self, path: str, value: bytes | str) -> None:
        data = _as_bytes(value)
        self._run("stage_pending", "rotate", path, lambda: self._backend.stage_pending(path, data))

    def get_pending(self, path: str) -> SecretValue | None:
        """The pending value of an interrupted rotation: a value, so it needs read as well as rotate."""

        def run() -> SecretValue | None:
            self._authorize("read", path)
            return self._backend.read_pending(path)

        return self._run("get_pending", "rotate", path, run)

    def promote_pending(self, path: str, *, cas: int | None = None) -> VersionInfo:
        def run() -> VersionInfo:
            info = self._backend.promote_pending(path, cas=cas)
            self._backend.update_metadata(path, custom={"rotated_at": self._clock().isoformat()})
            return info

        return self._run("promote_pending", "rotate", path, run, version_of=lambda i: i.version)

    def discard_pending(self, path: str) -> None:
        self._run("discard_pending", "rotate", path, lambda: self._backend.discard_pending(path))

    def rotate(
        self,
        path: str,
        *,
        generator: Generator,
        verify: Verifier | None = None,
        apply: Applier | None = None,
        rollback_apply: Applier | None = None,
        resume: bool = False,
        discard_pending: bool = False,
    ) -> RotationResult:
        """Generate, stage, apply, verify and promote a new value (see `leakvault.vault.rotation`);
        RotationFailedError when it rolls back. `rollback_apply` re-applies the previous value after
        a failure; by default it is `apply`."""
        from leakvault.vault.rotation import run_rotation

        def run() -> RotationResult:
            if apply is not None or rollback_apply is not None or verify is not None:
                # Hooks are handed values: apply gets the value it replaces (and the rollback
                # re-applies it), verify gets the new value, which becomes current, or under
                # --resume a pending value someone else staged. With "rotate" alone an identity
                # could read secrets through a hook of its choosing, so hooks need "read".
                self._authorize("read", path)
            return run_rotation(self, path, generator, verify, apply, rollback_apply or apply, resume, discard_pending)

        # Not atomic: each step must commit on its own (the pending value has to be durable before
        # the apply hook runs), and hooks may take minutes, far too long to hold the write lock.
        return self._run("rotate", "rotate", path, run, version_of=lambda r: r.new_version, atomic=False)

    # -- administration --------------------------------------------------------------------------

    def policy(self) -> Policy:
        return self._run("policy_show", "admin", None, self._load_policy)

    def set_policy(self, policy_text: str, *, force: bool = False) -> Policy:
        """Store a new policy in the vault; refuses one that would lock this identity out of admin."""

        def run() -> Policy:
            if self._fixed_policy is not None:
                raise VaultError("the policy comes from a file (policy_file setting); edit that file instead")
            new = parse_policy(policy_text, source="new policy")
            if not force and not new.allows(self.identity, "admin", None):
                raise VaultError(
                    f"the new policy would not grant {self.identity!r} admin on '**'; "
                    "refusing to lock you out (use --force to apply it anyway)"
                )
            self._backend.write(POLICY_PATH, policy_text.encode("utf-8"))
            self._policy = new
            return new

        return self._run("policy_set", "admin", None, run)

    def audit_records(self) -> tuple[AuditRecord, ...]:
        log = self._require_audit()
        return self._run("audit_read", "admin", None, lambda: tuple(log.records()))

    def verify_audit(self, *, expect_head: str | None = None) -> VerifyReport:
        """Check the audit chain (and that it still contains the record `expect_head` pinned)."""
        log = self._require_audit()
        return self._run("audit_verify", "admin", None, lambda: log.verify(expect_head=expect_head))

    def _require_audit(self) -> AuditLog:
        if self._audit is None:
            raise VaultError("this vault has no audit log configured")
        return self._audit

    def rekey(self, new_passphrase: str, *, iterations: int | None = None) -> None:
        """Re-wrap the local vault's master key under a new passphrase (secrets are not re-encrypted)."""
        from leakvault.vault.sqlite_backend import SqliteBackend

        def run() -> None:
            if not isinstance(self._backend, SqliteBackend):
                raise VaultError(f"rekey applies to the local backend, not {self._backend.name!r}")
            self._backend.rekey(new_passphrase, iterations=iterations)

        self._run("rekey", "admin", None, run)

    def rotate_master_key(
        self, *, passphrase: str | None, new_key_file: Path | None = None, iterations: int | None = None
    ) -> None:
        """Re-encrypt the local vault under a new random master key (`leakvault.vault.master_key`).

        `passphrase` wraps the new key; `new_key_file` receives it for a vault opened by a key.
        """
        from leakvault.vault.sqlite_backend import SqliteBackend

        def run() -> None:
            if not isinstance(self._backend, SqliteBackend):
                raise VaultError(f"master-key rotation applies to the local backend, not {self._backend.name!r}")
            self._backend.rotate_master_key(
                passphrase=passphrase,
                new_key_file=new_key_file,
                iterations=iterations,
                identity=self.identity,
                actor=self.actor,
            )

        # Not atomic: the rotation commits batch by batch (see master_key), never in one transaction.
        self._run("rekey_master", "admin", None, run, atomic=False)

    def close(self) -> None:
        self._backend.close()
        if self._on_close is not None:
            self._on_close()
            self._on_close = None

    def __enter__(self) -> SecretVault:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SecretVault(backend={self._backend.name!r}, identity={self.identity!r})"
