"""Text for people: the plan as a unified diff with notes, and the summary after ``--apply``.

Secrets are redacted everywhere (in the diff's removed lines too) unless ``--no-redact``.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable

from leakvault.fix.applier import ApplyReport
from leakvault.fix.history import FirstCommit
from leakvault.fix.model import FixPlan
from leakvault.scanner.findings.redact import redact

RUN_HINT = "leakvault run --map {mapping} -- COMMAND"


class Redactor:
    """Replaces every known secret in a text by its redacted form (longest first)."""

    def __init__(self, secrets: Iterable[str], reveal: bool) -> None:
        self.secrets = [] if reveal else sorted({s for s in secrets if s}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, redact(secret))
        return text


def render_diff(plan: FixPlan, clean: Redactor) -> str:
    chunks: list[str] = []
    for fix in plan.files:
        before = clean(fix.original).splitlines(keepends=True)
        after = clean(fix.rewritten).splitlines(keepends=True)
        for line in difflib.unified_diff(before, after, f"a/{fix.path}", f"b/{fix.path}"):
            chunks.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(chunks)


def _mapping_display(plan: FixPlan) -> str:
    """The mapping file as the user would type it from the working directory."""
    return os.path.relpath(plan.mapping_file).replace(os.sep, "/")


def render_plan(plan: FixPlan, clean: Redactor, *, applying: bool) -> str:
    lines: list[str] = []
    diff = render_diff(plan, clean)
    if diff:
        lines.append(diff.rstrip("\n"))
        lines.append("")
    if plan.secrets:
        lines.append(f"Secrets to store in the vault ({len(plan.secrets)}):")
        for secret in plan.secrets:
            reused = "  (already in the vault)" if secret.reused else ""
            lines.append(f"  {secret.name} -> {secret.vault_path}  [{', '.join(secret.paths)}]{reused}")
    notes = sorted({(site.path, site.note) for fix in plan.files for site in fix.sites if site.note})
    for path, note in notes:
        lines.append(f"  note: {path}: {note}")
    if plan.mapping:
        lines.append(f"Mapping {_mapping_display(plan)} gains: " + ", ".join(name for name, _ in plan.mapping))
    if plan.refusals:
        lines.append(f"Left alone ({len(plan.refusals)}):")
        for refusal in plan.refusals:
            where = f"{refusal.path}:{refusal.line}" if refusal.line else refusal.path
            rule = f" {refusal.rule_id}" if refusal.rule_id else ""
            lines.append(f"  {where}{rule}: {clean(refusal.reason)}")
    if plan.is_empty and not plan.refusals:
        lines.append("Nothing to fix.")
    elif not applying and not plan.is_empty:
        lines.append("Nothing written. Run again with --fix --apply to store the values and rewrite the files.")
    return "\n".join(lines) + "\n"


def render_summary(
    plan: FixPlan, report: ApplyReport, history: dict[str, FirstCommit], clean: Redactor, *, history_checked: bool
) -> str:
    stored = sum(1 for s in report.stored if s.status == "stored")
    lines = [
        f"Applied: {stored} value(s) stored in the vault and read back, "
        f"{len(report.stored) - stored} already there; {len(report.rewritten)} file(s) rewritten; "
        f"{report.mapping_entries} mapping entr{'y' if report.mapping_entries == 1 else 'ies'} added."
    ]
    for failure in report.failures:
        lines.append(f"  not done: {failure.path}: {clean(failure.reason)}")
    if report.rewritten or plan.mapping:
        lines.append("Run the program with its secrets: " + RUN_HINT.format(mapping=_mapping_display(plan)))
    burnt = [(secret, history[secret.value]) for secret in plan.secrets if secret.value in history]
    if burnt:
        lines.append("")
        lines.append(
            f"{len(burnt)} of these values are already in git history: rewriting the files does not take them out "
            "of existing clones. Revoke each one and rotate it (for a token its provider issues, use "
            "rotate --generate-cmd, or store the new one with leakvault vault set PATH -):"
        )
        for secret, commit in burnt:
            when = f"{commit.date[:10]}, {commit.author}, {commit.path}"
            lines.append(f"  {secret.vault_path}: added in {commit.sha[:12]} ({when})")
            lines.append(f"      leakvault vault rotate {secret.vault_path}")
    elif history_checked and plan.secrets:
        lines.append("None of these values is in git history.")
    return "\n".join(lines) + "\n"
