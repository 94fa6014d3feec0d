"""``leakvault init``: a repository set up for leakvault in one command."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import click

from leakvault.errors import UsageError


def _repository_root() -> Path:
    try:
        completed = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise UsageError("git is not installed or not on PATH; leakvault init sets up a git repository") from None
    if completed.returncode != 0:
        raise UsageError("not inside a git repository; run leakvault init at the top of one (git init first)")
    return Path(completed.stdout.strip())


@click.command()
@click.option("--baseline", "write_baseline", is_flag=True, help="Accept today's findings in .leakvault-baseline.json.")
@click.option("--no-workflow", is_flag=True, help="Do not add .github/workflows/leakvault.yml.")
@click.option("--no-install", is_flag=True, help="Do not run 'pre-commit install' (only write the config).")
@click.option("--dry-run", is_flag=True, help="Show the changes as a diff; write nothing.")
def init(write_baseline: bool, no_workflow: bool, no_install: bool, dry_run: bool) -> int:
    """Set this repository up: pre-commit hook, GitHub workflow, a first scan (and a baseline if asked).

    Running it again changes nothing."""
    # Deferred: the scanner, rules and reports load only when this command runs, not for --help.
    from leakvault.integrations.repo_setup import BASELINE, apply, plan
    from leakvault.scanner.config import load_config
    from leakvault.scanner.findings.baseline import Baseline, entries_for, render_baseline
    from leakvault.scanner.findings.fingerprint import fingerprint_key
    from leakvault.scanner.pipeline import scan
    from leakvault.scanner.report import render

    root = _repository_root()
    config = load_config(None, root)
    result = scan([str(root)], config)
    baseline_text = None
    if write_baseline:
        entries = entries_for(result.findings)
        baseline_text = render_baseline(Baseline(tuple(entries), fingerprint_key()[1], {"paths": ["."]}))
    changes = plan(root, workflow=not no_workflow, baseline_text=baseline_text)

    if result.findings:
        click.echo(render("text", result, [], reveal=False), nl=False)
    count = len(result.findings)
    if dry_run:
        for change in changes:
            click.echo(change.diff(), nl=False)
        click.echo(f"leakvault: dry run: {len(changes)} file(s) would change; nothing written", err=True)
        return 0
    apply(root, changes)
    for change in changes:
        click.echo(f"leakvault: {'created' if change.old is None else 'updated'} {change.path}", err=True)
    if not changes:
        click.echo("leakvault: already set up; nothing to change", err=True)
    if not no_install:
        _install_hook(root)
    if count and not write_baseline:
        click.echo(
            f"leakvault: {count} secret{'s' * (count != 1)} already in the tree: move them into the vault "
            "(leakvault scan --fix) or accept them (leakvault init --baseline)",
            err=True,
        )
    elif count:
        click.echo(f"leakvault: {count} finding{'s' * (count != 1)} accepted in {BASELINE}", err=True)
    return 0


def _install_hook(root: Path) -> None:
    """Run ``pre-commit install`` so the hook works at the next commit (where pre-commit is installed)."""
    pre_commit = shutil.which("pre-commit")
    if pre_commit is None:
        click.echo("leakvault: pre-commit is not installed: pip install pre-commit && pre-commit install", err=True)
        return
    completed = subprocess.run([pre_commit, "install"], cwd=root, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        reason = (completed.stderr or completed.stdout).strip().splitlines()
        click.echo(f"leakvault: pre-commit install failed: {reason[-1] if reason else 'no output'}", err=True)
        return
    click.echo("leakvault: pre-commit hook installed (.git/hooks/pre-commit)", err=True)
