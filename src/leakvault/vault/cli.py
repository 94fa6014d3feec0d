"""``leakvault vault ...``: a thin click layer over `SecretVault` (no vault logic here).

Sub-commands that live in their own modules (``rotate``, ``migrate``) are registered by import
path in `LAZY_SUBCOMMANDS` and loaded only when used, so each can be written and shipped alone.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from leakvault.vault.errors import KeySourceError, VaultError

if TYPE_CHECKING:
    from leakvault.vault.secret_vault import SecretVault

LAZY_SUBCOMMANDS: dict[str, str] = {
    "rotate": "leakvault.vault.rotation_cli:rotate",
    "migrate": "leakvault.vault.migrate_cli:migrate",
}

NEW_PASSPHRASE_ENV = "MAHAVISHNU_SECRETS__LOCAL__NEW_PASSPHRASE"  # noqa: S105 - a variable name, not a secret


class _VaultGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_SUBCOMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = LAZY_SUBCOMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, _, attribute = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # not part of this build yet
                return None
            raise
        command = getattr(module, attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def prompt_passphrase(label: str) -> str:
    value: str = click.prompt(label, hide_input=True, err=True)
    return value


def open_cli_vault(identity: str | None) -> SecretVault:
    """Open the configured vault for a command (prompting for the passphrase on a terminal), in a
    process whose memory stays out of core dumps."""
    from leakvault.vault._process import disable_core_dumps
    from leakvault.vault.config import load_settings
    from leakvault.vault.factory import open_vault

    disable_core_dumps()
    return open_vault(load_settings(), identity=identity, prompt=prompt_passphrase if _interactive() else None)


def open_from_context(ctx: click.Context) -> SecretVault:
    """Open the configured vault for the identity chosen with ``--as`` (or the environment)."""
    return open_cli_vault(ctx.find_root().ensure_object(dict).get("vault_identity"))


@click.group(cls=_VaultGroup)
@click.option(
    "--as",
    "identity",
    metavar="IDENTITY",
    help="Act as IDENTITY (default: MAHAVISHNU_SECRETS__IDENTITY, else the OS user); the policy must allow it.",
)
@click.pass_context
def vault(ctx: click.Context, identity: str | None) -> None:
    """Store, version, rotate and audit secrets in the encrypted vault."""
    from leakvault.vault._process import disable_core_dumps

    # Every sub-command handles key material (init and migrate too, which open vaults themselves).
    disable_core_dumps()
    ctx.find_root().ensure_object(dict)["vault_identity"] = identity


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _read_value(value: str | None) -> bytes:
    if value is not None and value != "-":
        click.echo(
            "leakvault: warning: a value on the command line can end up in shell history and process "
            "lists; prefer '-' and stdin",
            err=True,
        )
        return value.encode("utf-8")
    if value is None and sys.stdin.isatty():
        entered: str = click.prompt("Secret value", hide_input=True, confirmation_prompt=True, err=True)
        return entered.encode("utf-8")
    data = sys.stdin.buffer.read()
    # `echo x | leakvault vault set p -` appends one newline that is not part of the secret.
    if data.endswith(b"\r\n"):
        return data[:-2]
    return data[:-1] if data.endswith(b"\n") else data


# -- init / rekey ----------------------------------------------------------------------------------


@vault.command()
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Generate a random master key into this new file (mode 0600) instead of using a passphrase.",
)
def init(key_file: Path | None) -> None:
    """Create a new, empty vault at the configured path."""
    from leakvault.vault import _crypto
    from leakvault.vault.config import load_settings
    from leakvault.vault.factory import init_local_vault
    from leakvault.vault.keys import KeyMaterial, resolve_key, write_key_file

    settings = load_settings()
    if settings.backend != "local":
        raise VaultError(f"'init' creates a local vault; backend {settings.backend!r} is set up on its server")
    if settings.local.path.exists():
        raise VaultError(f"a vault already exists at {settings.local.path}")
    if key_file is not None:
        master = _crypto.new_master_key()
        write_key_file(key_file, master)
        material = KeyMaterial(source=f"new key file {key_file}", master_key=master)
    else:

        def confirm(label: str) -> str:
            first = prompt_passphrase("New vault passphrase")
            if prompt_passphrase("Repeat passphrase") != first:
                raise KeySourceError("the passphrases do not match")
            return first

        material = resolve_key(settings.local, prompt=confirm if _interactive() else None)
    path = init_local_vault(settings, material)
    click.echo(f"initialised vault {path} (key from {material.source})", err=True)


@vault.command()
@click.option(
    "--iterations", type=click.IntRange(600_000, 100_000_000), help="PBKDF2 iterations for the new passphrase."
)
@click.option(
    "--new-master-key",
    is_flag=True,
    help="Also replace the master key itself and re-encrypt every secret version under the new one.",
)
@click.option(
    "--new-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --new-master-key: write the new key to this new file (mode 0600), for a vault opened by a key.",
)
@click.pass_context
def rekey(ctx: click.Context, iterations: int | None, new_master_key: bool, new_key_file: Path | None) -> None:
    """Change the passphrase (secrets are not re-encrypted; only the master key is re-wrapped).

    The new passphrase comes from MAHAVISHNU_SECRETS__LOCAL__NEW_PASSPHRASE or a prompt. With
    --new-master-key the master key is replaced and every version re-encrypted (resumable: a killed
    rotation finishes on the next open); the passphrase changes only if a new one is given.
    """
    if new_master_key:
        _rekey_master(ctx, iterations, new_key_file)
        return
    if new_key_file is not None:
        raise click.UsageError("--new-key-file goes with --new-master-key")
    new = os.environ.get(NEW_PASSPHRASE_ENV)
    if new is None:
        if not _interactive():
            raise KeySourceError(f"set {NEW_PASSPHRASE_ENV} or run interactively to choose the new passphrase")
        new = prompt_passphrase("New vault passphrase")
        if prompt_passphrase("Repeat new passphrase") != new:
            raise KeySourceError("the passphrases do not match")
    if not new:
        raise KeySourceError("the new passphrase is empty")
    with open_from_context(ctx) as sv:
        sv.rekey(new, iterations=iterations)
    click.echo("vault passphrase changed", err=True)


def _rekey_master(ctx: click.Context, iterations: int | None, new_key_file: Path | None) -> None:
    from leakvault.vault.config import load_settings
    from leakvault.vault.factory import open_vault
    from leakvault.vault.keys import resolve_key

    settings = load_settings()
    # The key is resolved once here: a passphrase vault's new master key is wrapped under the same
    # passphrase unless MAHAVISHNU_SECRETS__LOCAL__NEW_PASSPHRASE names a new one.
    material = resolve_key(settings.local, prompt=prompt_passphrase if _interactive() else None)
    new_passphrase = os.environ.get(NEW_PASSPHRASE_ENV)
    if new_passphrase is not None and not new_passphrase:
        raise KeySourceError(f"{NEW_PASSPHRASE_ENV} is set but empty")
    identity = ctx.find_root().ensure_object(dict).get("vault_identity")
    with open_vault(settings, identity=identity, key=material) as sv:
        sv.rotate_master_key(
            passphrase=new_passphrase or material.passphrase, new_key_file=new_key_file, iterations=iterations
        )
    where = f"; the new key is in {new_key_file}" if new_key_file is not None else ""
    click.echo(f"master key replaced and every secret version re-encrypted{where}", err=True)


@vault.command()
def verify() -> None:
    """Check every row MAC, every manifest, the vault head and the audit trail of the local vault.

    Exit 0 if intact; 2 naming each tampering found (deleted, swapped, rolled-back or altered rows,
    a truncated audit trail). Needs the vault key, not an RBAC role: it reads no value and writes
    nothing (a format-1 vault is upgraded first, as on any open).
    """
    from leakvault.vault.config import load_settings
    from leakvault.vault.factory import open_local_backend
    from leakvault.vault.integrity import TamperError

    settings = load_settings()
    if settings.backend != "local":
        raise VaultError(f"'verify' checks the local vault file; backend {settings.backend!r} keeps no such file")
    backend, _ = open_local_backend(settings, prompt=prompt_passphrase if _interactive() else None)
    try:
        problems = backend.verify()
    finally:
        backend.close()
    if problems:
        for line in problems[1:]:
            click.echo(f"leakvault: also: {line}", err=True)
        more = f" ({len(problems) - 1} more above)" if len(problems) > 1 else ""
        raise TamperError(f"vault {settings.local.path} was tampered with: {problems[0]}{more}")
    click.echo(f"vault {settings.local.path} verified: every row, the head and the audit trail are intact")


# -- secrets ---------------------------------------------------------------------------------------


@vault.command("set")
@click.argument("path")
@click.argument("value", required=False)
@click.option("--cas", type=click.IntRange(min=0), help="Write only if the current version is N (0: only if new).")
@click.pass_context
def set_(ctx: click.Context, path: str, value: str | None, cas: int | None) -> None:
    """Store VALUE (or stdin with '-') as a new version of PATH."""
    data = _read_value(value)
    with open_from_context(ctx) as sv:
        info = sv.set(path, data, cas=cas)
    click.echo(f"{path}: version {info.version}", err=True)


@vault.command()
@click.argument("path")
@click.option("--version", "version", type=click.IntRange(min=1), help="A specific version (default: current).")
@click.option("--json", "as_json", is_flag=True, help="Print the version's metadata as JSON, not the value.")
@click.pass_context
def get(ctx: click.Context, path: str, version: int | None, as_json: bool) -> None:
    """Print the value of PATH (bare, for $(...)), or its metadata with --json."""
    with open_from_context(ctx) as sv:
        if as_json:
            meta = sv.metadata(path)
            number = version or meta.current_version
            info = meta.version(number)
            if info is None:
                from leakvault.vault.errors import SecretNotFoundError

                raise SecretNotFoundError(path, number)
            payload = {
                "path": path,
                "version": number,
                "current_version": meta.current_version,
                "created": _iso(info.created),
                "deleted": _iso(info.deleted),
                "destroyed": info.destroyed,
            }
            click.echo(json.dumps(payload, indent=2))
            return
        secret = sv.get(path, version)
    out = sys.stdout.buffer
    out.write(secret.value)
    if sys.stdout.isatty():
        out.write(b"\n")
    out.flush()


@vault.command("list")
@click.argument("prefix", default="")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_(ctx: click.Context, prefix: str, as_json: bool) -> None:
    """List secret paths starting with PREFIX."""
    with open_from_context(ctx) as sv:
        paths = sv.list(prefix)
    if as_json:
        click.echo(json.dumps(paths, indent=2))
    else:
        for p in paths:
            click.echo(p)


_versions_option = click.option(
    "--version", "versions", multiple=True, type=click.IntRange(min=1), help="Version number (repeatable)."
)


@vault.command()
@click.argument("path")
@_versions_option
@click.pass_context
def delete(ctx: click.Context, path: str, versions: tuple[int, ...]) -> None:
    """Soft-delete the current version of PATH (or --version N); undelete reverses it."""
    with open_from_context(ctx) as sv:
        sv.delete(path, list(versions) or None)
    click.echo(f"{path}: deleted", err=True)


@vault.command()
@click.argument("path")
@_versions_option
@click.pass_context
def undelete(ctx: click.Context, path: str, versions: tuple[int, ...]) -> None:
    """Restore soft-deleted versions of PATH (default: the current version)."""
    with open_from_context(ctx) as sv:
        sv.undelete(path, list(versions) or None)
    click.echo(f"{path}: restored", err=True)


@vault.command()
@click.argument("path")
@click.option("--version", "versions", multiple=True, required=True, type=click.IntRange(min=1))
@click.pass_context
def destroy(ctx: click.Context, path: str, versions: tuple[int, ...]) -> None:
    """Erase versions of PATH for good (cannot be undone)."""
    with open_from_context(ctx) as sv:
        sv.destroy(path, list(versions))
    click.echo(f"{path}: destroyed version(s) {', '.join(map(str, versions))}", err=True)


def _status(info: Any, current: int) -> str:
    if info.destroyed:
        return "destroyed"
    if info.deleted is not None:
        return "deleted"
    return "current" if info.version == current else "live"


@vault.command()
@click.argument("path")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def history(ctx: click.Context, path: str, as_json: bool) -> None:
    """Show the versions of PATH (never their values)."""
    with open_from_context(ctx) as sv:
        meta = sv.history(path)
    if as_json:
        payload = {
            "path": meta.path,
            "current_version": meta.current_version,
            "created": _iso(meta.created),
            "updated": _iso(meta.updated),
            "rotated": _iso(meta.rotated),
            "max_versions": meta.max_versions,
            "has_pending": meta.has_pending,
            "custom": dict(meta.custom),
            "versions": [
                {
                    "version": v.version,
                    "created": _iso(v.created),
                    "deleted": _iso(v.deleted),
                    "destroyed": v.destroyed,
                    "status": _status(v, meta.current_version),
                }
                for v in meta.versions
            ],
        }
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(f"{meta.path}  current: {meta.current_version}  rotated: {_iso(meta.rotated) or 'never'}")
    click.echo(f"{'VERSION':>7}  {'CREATED':<32}  STATUS")
    for v in reversed(meta.versions):
        click.echo(f"{v.version:>7}  {_iso(v.created) or '':<32}  {_status(v, meta.current_version)}")


@vault.command()
@click.argument("path")
@click.option("--to", "to", required=True, type=click.IntRange(min=1), help="The version to restore.")
@click.pass_context
def rollback(ctx: click.Context, path: str, to: int) -> None:
    """Make the value of version N current again (written as a new version)."""
    with open_from_context(ctx) as sv:
        info = sv.rollback(path, to)
    click.echo(f"{path}: version {info.version} (value of version {to})", err=True)


# -- audit -----------------------------------------------------------------------------------------


@vault.command()
@click.option("--verify", is_flag=True, help="Check the hash chain; exit 1 if a record was altered, removed or moved.")
@click.option(
    "--expect-head",
    metavar="HEX",
    help="With --verify: the trail must still contain the record whose digest an earlier verify printed.",
)
@click.option("--json", "as_json", is_flag=True, help="Print records (or the verification) as JSON.")
@click.option("--stats", is_flag=True, help="Reads per secret and secrets not read or rotated recently.")
@click.option("--stale-days", type=click.IntRange(1, 36_500), default=90, show_default=True)
@click.pass_context
def audit(
    ctx: click.Context, verify: bool, expect_head: str | None, as_json: bool, stats: bool, stale_days: int
) -> int:
    """Show, verify or analyse the audit trail (admin only)."""
    from dataclasses import asdict

    with open_from_context(ctx) as sv:
        if verify:
            report = sv.verify_audit(expect_head=expect_head)
            if as_json:
                click.echo(json.dumps(asdict(report), indent=2))
            elif report.ok:
                click.echo(f"audit trail intact: {report.count} records, head {report.head}")
            else:
                click.echo(f"audit trail BROKEN: {report.problem}", err=True)
            ok = report.ok
            return 0 if ok else 1
        records = sv.audit_records()
        if stats:
            _print_stats(sv, records, stale_days, as_json)
            return 0
    if as_json:
        click.echo(json.dumps([asdict(r) for r in records], indent=2))
    else:
        for r in records:
            where = r.path or "-"
            version = "" if r.version is None else f" v{r.version}"
            actor = r.identity if r.actor == r.identity else f"{r.identity} (as {r.actor})"
            click.echo(f"{r.seq:>6} {r.timestamp} {actor} {r.action} {where}{version} {r.outcome}")
    return 0


def _print_stats(sv: Any, records: Any, stale_days: int, as_json: bool) -> None:
    from leakvault.vault.audit import path_stats, stale_paths

    stats = path_stats(records)
    now = sv.clock()
    paths = sv.list()
    not_read = stale_paths(paths, stats, days=stale_days, now=now)
    not_rotated = []
    for p in paths:
        meta = sv.metadata(p)
        last = meta.rotated or meta.updated
        if (now - last).days >= stale_days:
            not_rotated.append(p)
    if as_json:
        payload = {
            "reads": {p: s.reads for p, s in stats.items()},
            "last_read": {p: s.last_read for p, s in stats.items()},
            f"not_read_{stale_days}d": not_read,
            f"not_rotated_{stale_days}d": not_rotated,
        }
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(f"{'READS':>6}  {'LAST READ':<32}  PATH")
    for p in paths:
        s = stats.get(p)
        click.echo(f"{(s.reads if s else 0):>6}  {(s.last_read if s and s.last_read else 'never'):<32}  {p}")
    click.echo(f"not read in {stale_days} days: {', '.join(not_read) or 'none'}")
    click.echo(f"not rotated in {stale_days} days: {', '.join(not_rotated) or 'none'}")


# -- policy ----------------------------------------------------------------------------------------


@vault.group()
def policy() -> None:
    """Show or replace the RBAC policy stored in the vault (admin only)."""


@policy.command("show")
@click.pass_context
def policy_show(ctx: click.Context) -> None:
    """Print the policy stored in the vault as TOML."""
    with open_from_context(ctx) as sv:
        current = sv.policy()
    if not current.enforced:
        click.echo("# no policy: single-user mode, every identity that can unlock the vault has full access")
    else:
        click.echo(current.to_toml(), nl=False)


@policy.command("set")
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--force", is_flag=True, help="Apply even if it removes your own admin right.")
@click.pass_context
def policy_set(ctx: click.Context, file: Path | None, force: bool) -> None:
    """Replace the stored policy with FILE (TOML; '-' for stdin; default: the policy_file setting).

    Only an admin identity may; the policy is then stored encrypted and authenticated in the vault,
    and no file or variable replaces it afterwards.
    """
    from leakvault.errors import UsageError
    from leakvault.vault.config import decode_text, load_settings, read_text

    if file is None:
        file = load_settings().policy_file
        if file is None:
            raise UsageError("give the policy FILE (or '-' for stdin), or set MAHAVISHNU_SECRETS__POLICY_FILE")
    if str(file) == "-":
        text = decode_text(sys.stdin.buffer.read(), "the policy on standard input")
    else:
        text = read_text(file, "policy file")
    with open_from_context(ctx) as sv:
        sv.set_policy(text, force=force)
    click.echo("policy updated", err=True)
