"""``leakvault vault migrate --from BACKEND --to BACKEND [PREFIX]`` (loaded lazily by vault.cli)."""

from __future__ import annotations

import contextlib
import dataclasses
import json

import click

from leakvault.errors import UsageError


@click.command()
@click.option("--from", "source_name", required=True, metavar="BACKEND", help="Copy from this backend.")
@click.option("--to", "target_name", required=True, metavar="BACKEND", help="Copy into this backend.")
@click.argument("prefix", default="")
@click.option("--skip-existing", is_flag=True, help="Leave paths that already exist in the target alone.")
@click.option("--dry-run", is_flag=True, help="Only list what would be copied.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def migrate(
    ctx: click.Context,
    source_name: str,
    target_name: str,
    prefix: str,
    skip_existing: bool,
    dry_run: bool,
    as_json: bool,
) -> int:
    """Copy the secrets under PREFIX, with their versions, from one backend to another.

    Both backends are configured by the usual MAHAVISHNU_SECRETS__* variables (each reads its own
    section); MAHAVISHNU_SECRETS__BACKEND is ignored here. Every copied version is read back from
    the target and compared. Nothing is written if a path already exists in the target.
    """
    from leakvault.vault.cli import _interactive, prompt_passphrase
    from leakvault.vault.config import load_settings
    from leakvault.vault.factory import BACKENDS, open_vault
    from leakvault.vault.migrate import migrate as run_migration
    from leakvault.vault.migrate import plan
    from leakvault.vault.model import validate_prefix

    known = sorted({"local", *BACKENDS})
    for option, name in (("--from", source_name), ("--to", target_name)):
        if name not in known:
            raise UsageError(f"{option} {name!r} is not a backend; choose one of {', '.join(known)}")
    if source_name == target_name:
        raise UsageError("--from and --to name the same backend; there is nothing to migrate")
    validate_prefix(prefix)
    settings = load_settings()
    identity = ctx.find_root().ensure_object(dict).get("vault_identity")
    prompt = prompt_passphrase if _interactive() else None
    with contextlib.ExitStack() as stack:
        source = stack.enter_context(
            open_vault(dataclasses.replace(settings, backend=source_name), identity=identity, prompt=prompt)
        )
        target = stack.enter_context(
            open_vault(dataclasses.replace(settings, backend=target_name), identity=identity, prompt=prompt)
        )
        if dry_run:
            paths, existing = plan(source, target, prefix)
            for path in paths:
                note = " (exists in the target)" if path in existing else ""
                click.echo(f"would copy {path}{note}")
            return 0
        report = run_migration(
            source,
            target,
            prefix,
            skip_existing=skip_existing,
            progress=None if as_json else lambda line: click.echo(f"copied {line}", err=True),
        )
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(report), indent=2))
    else:
        skipped = f", {len(report.skipped)} skipped" if report.skipped else ""
        click.echo(f"migrated {len(report.copied)} secret(s) from {source_name} to {target_name}{skipped}", err=True)
    return 0
