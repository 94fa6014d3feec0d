"""Carry out a `FixPlan`: vault first, then the mapping, then the files.

The order is what keeps a crash harmless. Each value is written to the vault and read back before
anything refers to it; the mapping gains its names before any file uses them; each file is then
replaced atomically (temp file in the same directory, fsync, rename, mode kept), and only if it
still holds exactly the text the plan was made from. A file whose secrets did not all reach the
vault stays as it is, and the report says why. Running the same plan again finds every value
already stored and every file already rewritten, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from leakvault.errors import LeakvaultError
from leakvault.fix.mapping import read_mapping, updated_mapping_text
from leakvault.fix.model import FileFix, FixPlan, PlannedSecret
from leakvault.vault import replace_file
from leakvault.vault.errors import CasConflictError, SecretNotFoundError, VaultError

if TYPE_CHECKING:
    from leakvault.vault.secret_vault import SecretVault


@dataclass(frozen=True, slots=True)
class StoredSecret:
    name: str
    vault_path: str
    status: str  # "stored", "already in the vault"


@dataclass(frozen=True, slots=True)
class Failure:
    path: str  # a file or a vault path
    reason: str


@dataclass(slots=True)
class ApplyReport:
    stored: list[StoredSecret] = field(default_factory=list)
    rewritten: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    mapping_entries: int = 0


def known_values(vault: SecretVault, mapping_file: Path) -> dict[str, tuple[str, str]]:
    """Values already stored under the mapping's paths -> (name, vault path), so a value met again
    (another copy of it, or a second run) reuses its name instead of being stored twice."""

    known: dict[str, tuple[str, str]] = {}
    for name, path in sorted(read_mapping(mapping_file).items()):
        try:
            value = vault.get(path).text()
        except (VaultError, UnicodeDecodeError):
            continue  # missing or unreadable: nothing to reuse
        known.setdefault(value, (name, path))
    return known


def store_secret(vault: SecretVault, secret: PlannedSecret) -> str:
    """Write ``secret`` unless the vault already holds it, then read it back. Returns the status;
    raises `LeakvaultError` with a reason when the path holds something else or the read-back differs."""

    status = "already in the vault"
    try:
        current = vault.get(secret.vault_path).text()
    except SecretNotFoundError:
        current = None
    if current is None:
        try:
            vault.create(secret.vault_path, secret.value)
        except CasConflictError:
            raise LeakvaultError(
                "the vault path exists (deleted, or written meanwhile); undelete or destroy it, then run again"
            ) from None
        status = "stored"
    elif current != secret.value:
        raise LeakvaultError("the vault path already holds a different value; leaving it and the files alone")
    if vault.get(secret.vault_path).text() != secret.value:
        raise LeakvaultError("reading the value back from the vault gave something else")
    return status


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``: temp file beside it, fsync, rename; the file's mode is kept."""

    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, text.encode("utf-8"))


def _rewrite_file(fix: FileFix) -> str | None:
    """Write one planned file; the reason when it is left alone."""
    try:
        on_disk = fix.absolute.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot read it again ({type(exc).__name__})"
    if on_disk == fix.rewritten:
        return None  # already done (an interrupted earlier run)
    if on_disk != fix.original:
        return "the file changed after the plan was made; run scan --fix again"
    try:
        write_atomic(fix.absolute, fix.rewritten)
    except OSError as exc:
        return f"cannot write it ({exc.strerror or type(exc).__name__}); the file is unchanged"
    return None


def apply_plan(plan: FixPlan, vault: SecretVault) -> ApplyReport:
    report = ApplyReport()
    failed_paths: dict[str, str] = {}
    for secret in plan.secrets:
        try:
            status = store_secret(vault, secret)
        except LeakvaultError as exc:
            failed_paths[secret.vault_path] = str(exc)
            report.failures.append(Failure(secret.vault_path, str(exc)))
            continue
        report.stored.append(StoredSecret(secret.name, secret.vault_path, status))

    files: list[FileFix] = []
    for fix in plan.files:
        blocked = next((s.vault_path for s in fix.sites if s.vault_path in failed_paths), None)
        if blocked is not None:
            report.failures.append(Failure(fix.path, f"left untouched: {blocked} could not be stored"))
        else:
            files.append(fix)

    entries = _entries_for(files, plan.mapping)
    if entries:
        try:
            existing = plan.mapping_file.read_text(encoding="utf-8") if plan.mapping_file.exists() else None
            text = updated_mapping_text(existing, entries)
            if text != existing:
                write_atomic(plan.mapping_file, text)
            report.mapping_entries = len(entries)
        except (OSError, LeakvaultError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            report.failures.append(
                Failure(str(plan.mapping_file), f"cannot update the mapping ({reason}); no file rewritten")
            )
            report.failures.extend(
                Failure(fix.path, "left untouched: the mapping could not be written") for fix in files
            )
            return report

    for fix in files:
        why = _rewrite_file(fix)
        if why is None:
            report.rewritten.append(fix.path)
        else:
            report.failures.append(Failure(fix.path, f"left untouched: {why}"))
    return report


def _entries_for(files: list[FileFix], planned: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    used: Mapping[str, str] = {site.name: site.vault_path for fix in files for site in fix.sites}
    return [(name, path) for name, path in planned if used.get(name) == path]
