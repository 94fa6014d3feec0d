"""``leakvault vault rotate PATH`` and ``leakvault vault rotate --due`` (loaded lazily by vault.cli)."""

from __future__ import annotations

import json

import click

from leakvault.errors import UsageError
from leakvault.vault.cli import open_from_context
from leakvault.vault.errors import RotationError


@click.command()
@click.argument("path", required=False)
@click.option("--due", is_flag=True, help="Rotate every secret whose policy says it is due.")
@click.option("--dry-run", is_flag=True, help="With --due: only show what is due.")
@click.option(
    "--generator",
    "generator_spec",
    metavar="SPEC",
    help="password[:LEN[:CLASSES]] | token[:BYTES[:hex|base64|base64url|base62]] (default: the policy's, "
    "else password:32).",
)
@click.option("--generate-cmd", metavar="CMD", help="A shell command whose stdout is the new value.")
@click.option("--apply-cmd", metavar="CMD", help="Push the value to its user ($LEAKVAULT_SECRET); re-run to roll back.")
@click.option("--verify", "verify_cmd", metavar="CMD", help="Must exit 0 for the new value ($LEAKVAULT_SECRET).")
@click.option("--timeout", type=click.FloatRange(1, 86_400), help="Seconds each command may take (default 120).")
@click.option("--resume", is_flag=True, help="Finish an interrupted rotation with its pending value.")
@click.option("--discard-pending", is_flag=True, help="Drop a pending value left by an interrupted rotation.")
@click.option("--json", "as_json", is_flag=True, help="Print the result(s) as JSON.")
@click.pass_context
def rotate(
    ctx: click.Context,
    path: str | None,
    due: bool,
    dry_run: bool,
    generator_spec: str | None,
    generate_cmd: str | None,
    apply_cmd: str | None,
    verify_cmd: str | None,
    timeout: float | None,
    resume: bool,
    discard_pending: bool,
    as_json: bool,
) -> int:
    """Replace PATH with a new verified value, or rotate everything due with --due.

    Hooks run through /bin/sh with the new value in $LEAKVAULT_SECRET and the old one in
    $LEAKVAULT_PREVIOUS_SECRET, never on a command line. On failure the current version is kept
    and --apply-cmd runs again with the previous value.
    """
    from leakvault.vault.config import load_settings
    from leakvault.vault.rotation import DEFAULT_TIMEOUT, RotationFailedError, hooks_for, load_policies

    if due == bool(path):
        raise UsageError("give either PATH or --due")
    if dry_run and not due:
        raise UsageError("--dry-run goes with --due")
    if generator_spec and generate_cmd:
        raise UsageError("--generator and --generate-cmd exclude each other")
    settings = load_settings()
    policies = load_policies(settings)
    with open_from_context(ctx) as sv:
        if path is not None:
            policy = next((p for p in policies if p.matches(path)), None)
            gen, ver, app, back = hooks_for(
                sv,
                path,
                generator_spec=generator_spec or (policy.generator if policy and not generate_cmd else None),
                generate_cmd=generate_cmd,
                verify_cmd=verify_cmd or (policy.verify if policy else None),
                apply_cmd=apply_cmd or (policy.apply if policy else None),
                timeout=timeout or (policy.timeout if policy else DEFAULT_TIMEOUT),
            )
            result = sv.rotate(
                path,
                generator=gen,
                verify=ver,
                apply=app,
                rollback_apply=back,
                resume=resume,
                discard_pending=discard_pending,
            )
            if as_json:
                click.echo(json.dumps({"path": path, "previous": result.previous_version, "new": result.new_version}))
            else:
                click.echo(f"{path}: rotated, version {result.previous_version} -> {result.new_version}")
            return 0

        if any((generator_spec, generate_cmd, apply_cmd, verify_cmd, resume, discard_pending)):
            raise UsageError("with --due the generator and hooks come from the rotation policies")
        if not policies:
            raise UsageError(
                "no rotation policies configured ([[vault.rotation.policy]] in ~/.config/leakvault/config.toml, "
                "or MAHAVISHNU_SECRETS__ROTATION__POLICY_FILE)"
            )
        from leakvault.vault.rotation import due_entries

        now = sv.clock()
        entries = due_entries(sv, policies, now=now)
        summary: list[dict[str, object]] = []
        failed = 0
        for entry in entries:
            row: dict[str, object] = {"path": entry.path, "due_at": entry.due_at.isoformat()}
            if not entry.is_due(now):
                row["status"] = "not due"
            elif dry_run:
                row["status"] = "due"
            else:
                gen, ver, app, back = hooks_for(
                    sv,
                    entry.path,
                    generator_spec=entry.policy.generator,
                    generate_cmd=None,
                    verify_cmd=entry.policy.verify,
                    apply_cmd=entry.policy.apply,
                    timeout=entry.policy.timeout,
                )
                try:
                    result = sv.rotate(entry.path, generator=gen, verify=ver, apply=app, rollback_apply=back)
                except RotationFailedError as exc:
                    failed += 1
                    row.update(status="failed", error=str(exc), rolled_back=exc.result.rolled_back)
                except RotationError as exc:
                    failed += 1
                    row.update(status="failed", error=str(exc))
                else:
                    row.update(status="rotated", previous=result.previous_version, new=result.new_version)
            summary.append(row)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        for row in summary:
            detail = ""
            if row["status"] == "rotated":
                detail = f" (version {row['previous']} -> {row['new']})"
            elif row["status"] == "failed":
                detail = f": {row['error']}"
            elif row["status"] == "not due":
                detail = f" (due {row['due_at']})"
            click.echo(f"{row['status']:>8}  {row['path']}{detail}")
        counts = {s: sum(1 for r in summary if r["status"] == s) for s in ("rotated", "failed", "due", "not due")}
        click.echo(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no secrets covered by a policy")
    return 2 if failed else 0
