"""``leakvault init``: set a repository up in one command (pre-commit hook, CI workflow, and a
baseline of what is already there when asked).

Each change is planned first as (path, old text, new text), so ``--dry-run`` can print the plan as
a diff and a real run writes exactly that, atomically, file by file. Edits keep what a file
already holds: the hook goes into an existing ``.pre-commit-config.yaml`` as one more entry of
its ``repos:`` list, with the file's own indentation, and the result is parsed again before it
is written. A second run plans nothing.
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from leakvault.errors import UsageError

PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"
WORKFLOW = ".github/workflows/leakvault.yml"
BASELINE = ".leakvault-baseline.json"
CONFIG = ".leakvault.toml"
HOOK_ID = "leakvault"

# A local hook runs the leakvault installed here: it works at once, offline, with no release tag
# to pin. (The remote form, `repo: https://github.com/leakvault/leakvault` with a `rev`, is in
# docs/pre-commit.md for teams that want pre-commit to install leakvault itself.)
LOCAL_HOOK = """\
- repo: local
  hooks:
    - id: leakvault
      name: leakvault (secrets in staged changes)
      entry: leakvault scan --staged
      language: system
      pass_filenames: true
"""

NEW_CONFIG_HEADER = "# pre-commit hooks (https://pre-commit.com); `pre-commit install` runs them on commit.\nrepos:\n"

WORKFLOW_TEXT = """\
# Added by `leakvault init`: scans every push to main and every pull request, uploads the SARIF
# report to code scanning and fails the job on findings. Pin the action to a release tag or a
# commit sha (leakvault/leakvault@<sha>) for a supply chain you control.
name: leakvault

on:
  push:
    branches: [main]
  pull_request:

permissions:
  contents: read
  security-events: write  # upload SARIF to code scanning

jobs:
  secrets:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0  # history mode needs the pull request's commits
      - uses: leakvault/leakvault@main
        with:
          mode: files
"""


@dataclass(frozen=True, slots=True)
class FileChange:
    path: str  # relative to the repository root
    old: str | None  # None: the file does not exist yet
    new: str

    def diff(self) -> str:
        before = [] if self.old is None else self.old.splitlines(keepends=True)
        lines = difflib.unified_diff(
            before,
            self.new.splitlines(keepends=True),
            fromfile="/dev/null" if self.old is None else f"a/{self.path}",
            tofile=f"b/{self.path}",
        )
        return "".join(lines)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}; fix or remove it and run leakvault init again") from None


def _has_leakvault_hook(document: object) -> bool:
    if not isinstance(document, dict):
        return False
    for repo in document.get("repos") or []:
        if isinstance(repo, dict):
            for hook in repo.get("hooks") or []:
                if isinstance(hook, dict) and str(hook.get("id", "")).startswith(HOOK_ID):
                    return True
    return False


def _indent(block: str, prefix: str) -> str:
    return "".join(prefix + line if line.strip() else line for line in block.splitlines(keepends=True))


def plan_pre_commit(old: str | None, where: str = PRE_COMMIT_CONFIG) -> str | None:
    """The new text of the pre-commit config, or None when a leakvault hook is already in it."""
    if old is None or not old.strip():
        return NEW_CONFIG_HEADER + _indent(LOCAL_HOOK, "  ")
    try:
        document = yaml.safe_load(old)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        raise UsageError(f"{where} is not valid YAML{line}; fix it and run leakvault init again") from None
    if _has_leakvault_hook(document):
        return None
    if document is not None and not isinstance(document, dict):
        raise UsageError(f"{where} is not a mapping with 'repos:'; fix it and run leakvault init again")
    lines = old.splitlines(keepends=True)
    repos_at = next((i for i, line in enumerate(lines) if re.match(r"^repos\s*:", line)), None)
    if repos_at is None:  # no repos key: add one at the end
        text = old if old.endswith("\n") else old + "\n"
        new = text + "repos:\n" + _indent(LOCAL_HOOK, "  ")
    elif re.match(r"^repos\s*:\s*\[\s*\]\s*(#.*)?$", lines[repos_at].rstrip("\n")):  # `repos: []`
        lines[repos_at] = "repos:\n"
        new = "".join(lines[: repos_at + 1]) + _indent(LOCAL_HOOK, "  ") + "".join(lines[repos_at + 1 :])
    else:
        # Insert as the first item, indented as the list's first item is.
        first_item = next(
            (line for line in lines[repos_at + 1 :] if line.strip() and not line.lstrip().startswith("#")), "  - "
        )
        prefix = first_item[: len(first_item) - len(first_item.lstrip())]
        new = "".join(lines[: repos_at + 1]) + _indent(LOCAL_HOOK, prefix) + "".join(lines[repos_at + 1 :])
    try:
        parsed = yaml.safe_load(new)
    except yaml.YAMLError:
        parsed = None
    if (
        not _has_leakvault_hook(parsed)
        or len((parsed or {}).get("repos") or []) != len((document or {}).get("repos") or []) + 1
    ):
        raise UsageError(
            f"cannot add the hook to {where} without disturbing it (an unusual layout); add the "
            "leakvault hook by hand (docs/pre-commit.md)"
        )
    return new


def plan_baseline_config(old: str | None) -> str | None:
    """Point every scan at the baseline: ``baseline = ...`` at the top of .leakvault.toml."""
    if old is not None and re.search(r"(?m)^\s*baseline\s*=", old):
        return None
    line = f'baseline = "{BASELINE}"  # accepted findings (leakvault init --baseline)\n'
    return line if old is None else line + old


def plan(root: Path, *, workflow: bool, baseline_text: str | None) -> list[FileChange]:
    """Every file ``init`` would create or change; empty when the repository is set up."""
    changes: list[FileChange] = []
    old = _read(root / PRE_COMMIT_CONFIG)
    new = plan_pre_commit(old)
    if new is not None:
        changes.append(FileChange(PRE_COMMIT_CONFIG, old, new))
    if workflow and _read(root / WORKFLOW) is None:
        changes.append(FileChange(WORKFLOW, None, WORKFLOW_TEXT))
    if baseline_text is not None:
        current = _read(root / BASELINE)
        if current is None:
            changes.append(FileChange(BASELINE, None, baseline_text))
        config = _read(root / CONFIG)
        new_config = plan_baseline_config(config)
        if new_config is not None:
            changes.append(FileChange(CONFIG, config, new_config))
    return changes


def apply(root: Path, changes: Sequence[FileChange]) -> None:
    """Write each change atomically (temporary file in the same folder, then rename)."""
    for change in changes:
        target = root / change.path
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=target.parent, delete=False, prefix=f".{target.name}.", newline=""
        ) as handle:
            handle.write(change.new)
        os.chmod(handle.name, mode)
        os.replace(handle.name, target)
