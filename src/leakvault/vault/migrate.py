"""Copy secrets between backends with their history, then prove the copy by reading it back.

`migrate` works on two opened `SecretVault`s, so both sides enforce RBAC and write their own audit
trail. For each path under the prefix it replays the source's versions in order, so version N in
the target is version N in the source:

- a live version is copied as is;
- a soft-deleted version is copied and deleted again in the target (reading it means undeleting
  it in the source for a moment; both steps are audited there, and it is deleted again at once);
- a destroyed or pruned version has no value left: an empty placeholder keeps its number and is
  destroyed in the target straight away;
- custom annotations, ``max_versions`` and a pending (staged) value follow.

Nothing is written while any target path already exists (unless ``skip_existing``), so a refused
migration leaves the target as it was. Each write uses check-and-set, so a concurrent writer on
the target makes the migration stop with an error instead of interleaving versions. Afterwards
every live version is read back from the target and compared byte for byte.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field

from leakvault.vault.errors import SecretNotFoundError, VaultError
from leakvault.vault.model import SecretMetadata
from leakvault.vault.secret_vault import SecretVault


class MigrationError(VaultError):
    """The migration stopped; the message says which path, and what the target holds so far."""


@dataclass(frozen=True, slots=True)
class PathReport:
    path: str
    versions: int  # versions written to the target (placeholders included)
    placeholders: int  # destroyed or pruned versions kept only as numbered, destroyed placeholders
    deleted: int  # versions copied and soft-deleted again
    verified: int  # live versions read back and compared
    kept_by_target: int  # versions the target still holds (a service limit may drop the oldest)
    pending: bool


@dataclass(frozen=True, slots=True)
class MigrationReport:
    source: str
    target: str
    copied: tuple[PathReport, ...] = ()
    skipped: tuple[str, ...] = field(default=())


Progress = Callable[[str], None]


def plan(source: SecretVault, target: SecretVault, prefix: str = "") -> tuple[list[str], list[str]]:
    """The paths to copy, and those of them that already exist in the target."""
    paths = source.list(prefix)
    existing = set(target.list(prefix))
    return paths, [p for p in paths if p in existing]


def migrate(
    source: SecretVault,
    target: SecretVault,
    prefix: str = "",
    *,
    skip_existing: bool = False,
    progress: Progress | None = None,
) -> MigrationReport:
    paths, existing = plan(source, target, prefix)
    if existing and not skip_existing:
        shown = ", ".join(repr(p) for p in existing[:5]) + (" ..." if len(existing) > 5 else "")
        raise MigrationError(
            f"{len(existing)} path(s) already exist in the {target.backend.name} backend ({shown}); "
            "nothing was copied (use --skip-existing to leave them alone)"
        )
    copied: list[PathReport] = []
    skipped: list[str] = []
    for path in paths:
        if path in existing:
            skipped.append(path)
            continue
        try:
            report = _copy_path(source, target, path)
        except VaultError as exc:
            raise MigrationError(
                f"migrating {path!r} stopped: {exc} ({len(copied)} path(s) before it were copied and verified)"
            ) from None
        copied.append(report)
        if progress is not None:
            progress(_describe(report))
    return MigrationReport(
        source=source.backend.name, target=target.backend.name, copied=tuple(copied), skipped=tuple(skipped)
    )


def _describe(report: PathReport) -> str:
    extras = []
    if report.deleted:
        extras.append(f"{report.deleted} deleted")
    if report.placeholders:
        extras.append(f"{report.placeholders} destroyed")
    if report.pending:
        extras.append("pending value")
    if report.kept_by_target < report.versions:
        extras.append(f"the target keeps only the newest {report.kept_by_target}")
    detail = f" ({', '.join(extras)})" if extras else ""
    return f"{report.path}: {report.versions} version(s){detail}, {report.verified} verified"


def _read_deleted(source: SecretVault, path: str, number: int) -> bytes:
    """A soft-deleted version's value: undelete it for one read, then delete it again."""
    source.undelete(path, [number])
    try:
        return source.get(path, number).value
    finally:
        source.delete(path, [number])


def _copy_path(source: SecretVault, target: SecretVault, path: str) -> PathReport:
    meta = source.metadata(path)
    copied: dict[int, bytes] = {}
    placeholders = deleted = 0
    for number in range(1, meta.current_version + 1):
        info = meta.version(number)
        if info is None or info.destroyed:
            # No value left to copy: keep the number, as a destroyed version, so history lines up.
            _write(target, path, b"", number)
            target.destroy(path, [number])
            placeholders += 1
            continue
        if info.deleted is not None:
            value = _read_deleted(source, path, number)
            _write(target, path, value, number)
            target.delete(path, [number])
            deleted += 1
            continue
        value = source.get(path, number).value
        _write(target, path, value, number)
        copied[number] = value
    custom: dict[str, str | None] = dict(meta.custom)
    if custom or meta.max_versions:
        target.set_metadata(path, max_versions=meta.max_versions or None, custom=custom or None)
    staged = source.get_pending(path)
    if staged is not None:
        target.stage_pending(path, staged.value)
    verified, kept = _verify(target, path, meta, copied, staged.value if staged is not None else None)
    return PathReport(
        path=path,
        versions=meta.current_version,
        placeholders=placeholders,
        deleted=deleted,
        verified=verified,
        kept_by_target=kept,
        pending=staged is not None,
    )


def _write(target: SecretVault, path: str, value: bytes, number: int) -> None:
    info = target.set(path, value, cas=number - 1)
    if info.version != number:
        raise MigrationError(f"the target numbered {path!r} version {number} as {info.version}")


def _verify(
    target: SecretVault, path: str, meta: SecretMetadata, copied: dict[int, bytes], pending: bytes | None
) -> tuple[int, int]:
    """Read every copied live version back; returns (verified, versions the target keeps)."""
    landed = target.metadata(path)
    if landed.current_version != meta.current_version:
        raise MigrationError(
            f"after copying, the target's current version of {path!r} is {landed.current_version}, "
            f"the source's {meta.current_version}"
        )
    kept = {v.version for v in landed.versions}
    verified = 0
    for number, value in copied.items():
        if number not in kept:
            continue  # dropped by the target's own version limit (e.g. KV v2 keeps 10 by default)
        try:
            read_back = target.get(path, number).value
        except SecretNotFoundError:
            raise MigrationError(f"version {number} of {path!r} is missing in the target after copying") from None
        if not hmac.compare_digest(read_back, value):
            raise MigrationError(f"version {number} of {path!r} reads back differently from the target")
        verified += 1
    for number in range(1, meta.current_version + 1):
        source_info, target_info = meta.version(number), landed.version(number)
        if source_info is not None and target_info is not None and source_info.deleted and not target_info.deleted:
            raise MigrationError(f"version {number} of {path!r} should be deleted in the target but is not")
    if pending is not None:
        staged = target.get_pending(path)
        if staged is None or not hmac.compare_digest(staged.value, pending):
            raise MigrationError(f"the pending value of {path!r} did not arrive intact")
    return verified, len(kept)
