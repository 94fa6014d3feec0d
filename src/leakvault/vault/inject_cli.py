"""``leakvault run`` and ``leakvault inject``: thin click commands over `leakvault.vault.inject`."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import click

from leakvault.errors import UsageError

_identity_option = click.option(
    "--as", "identity", metavar="IDENTITY", help="Act as IDENTITY (the policy must allow it)."
)
_interval_option = click.option(
    "--interval",
    type=click.FloatRange(0.1, 86_400),
    default=1.0,
    show_default=True,
    help="With --watch: seconds between version checks.",
)


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--env", "envs", multiple=True, metavar="NAME=PATH", help="Put a secret in environment variable NAME.")
@click.option(
    "--file", "files", multiple=True, metavar="NAME=PATH", help="Mount a secret as a 0600 file; NAME holds its path."
)
@click.option(
    "--template",
    "templates",
    multiple=True,
    metavar="NAME=TEMPLATE",
    help="Render a Jinja2 template to a private 0600 file; NAME holds its path.",
)
@click.option(
    "--map",
    "map_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='A TOML file of NAME = "vault/path" lines (and optional [files] table).',
)
@click.option("--watch", is_flag=True, help="Keep secrets current: rewrite files and signal, or restart for --env.")
@_interval_option
@click.option("--signal", "signal_name", default="HUP", show_default=True, help="Signal sent when files change.")
@click.option("--no-restart", is_flag=True, help="With --watch: never restart the command for changed --env values.")
@_identity_option
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run(
    envs: tuple[str, ...],
    files: tuple[str, ...],
    templates: tuple[str, ...],
    map_file: Path | None,
    watch: bool,
    interval: float,
    signal_name: str,
    no_restart: bool,
    identity: str | None,
    command: tuple[str, ...],
) -> int:
    """Run COMMAND with secrets in its environment or in private files; exit with its status.

    Example: leakvault run --env DATABASE_URL=prod/db/url -- ./server --port 8080
    """
    from leakvault.vault.inject import Runner, RunPlan, load_map, parse_assignments, parse_signal

    plan = RunPlan()
    if map_file is not None:
        plan.env, plan.files = load_map(map_file)
    plan.env.update(parse_assignments(envs, "--env"))
    plan.files.update(parse_assignments(files, "--file"))
    for item in templates:
        name, sep, template = item.partition("=")
        if not sep or not template:
            raise UsageError(f"--template {item!r}: expected NAME=TEMPLATE")
        parse_assignments([f"{name}=x"], "--template")  # validates NAME
        plan.templates[name] = Path(template)
    clash = (set(plan.env) & set(plan.files)) | (set(plan.templates) & (set(plan.env) | set(plan.files)))
    if clash:
        raise UsageError(f"variable(s) {sorted(clash)} are mapped twice")
    if plan.empty:
        raise UsageError("nothing to inject: give --env, --file, --template or --map")
    reload_signal = parse_signal(signal_name)
    from leakvault.vault.cli import open_cli_vault

    vault = open_cli_vault(identity)
    try:
        runner = Runner(
            vault,
            plan,
            command,
            watch=watch,
            interval=interval,
            reload_signal=reload_signal,
            restart=not no_restart,
        )
        return runner.run()
    finally:
        vault.close()


@click.command()
@click.argument("template", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here (mode 0600) instead of stdout."
)
@click.option("--watch", is_flag=True, help="Keep running and re-render when a secret used changes (needs -o).")
@_interval_option
@_identity_option
def inject(template: Path, output: Path | None, watch: bool, interval: float, identity: str | None) -> int:
    """Render a Jinja2 TEMPLATE where {{ secret("path") }} reads the vault.

    The template runs in a sandbox; an undefined variable or a missing secret is an error.
    """
    from leakvault.vault.cli import open_cli_vault
    from leakvault.vault.config import decode_text, read_text
    from leakvault.vault.errors import InjectionError
    from leakvault.vault.inject import render_template, watch_template, write_private

    if watch and output is None:
        raise UsageError("--watch needs -o/--output")
    if str(template) == "-":
        source = decode_text(sys.stdin.buffer.read(), "the template on standard input", InjectionError)
    else:
        source = read_text(template, "template", InjectionError)
    with open_cli_vault(identity) as vault:
        if watch and output is not None:
            stopping = {"now": False}

            def stop(_signum: int, _frame: Any) -> None:
                stopping["now"] = True

            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
            watch_template(vault, template, output, interval=interval, stop=lambda: stopping["now"])
            return 0
        result = render_template(vault, source, name=str(template))
    if output is None:
        sys.stdout.write(result.text)
        sys.stdout.flush()
    else:
        write_private(output, result.text.encode("utf-8"))
    return 0
