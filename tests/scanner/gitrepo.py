"""A real git repository in a temporary directory, driven through the git command line."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

# Isolated from the system's git configuration (hooks, signing, templates); the global file is
# an empty one of our own (not os.devnull, which is not always a device in sandboxes).
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}


START = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)


class GitRepo:
    """A repository with a fixed identity; dates advance one day per commit unless given."""

    def __init__(self, path: Path, *, init: bool = True) -> None:
        self.path = path
        self._day = 0
        self._global_config = path.parent / ".gitconfig-empty"
        if not self._global_config.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            self._global_config.write_text("")
        if init:
            path.mkdir(parents=True, exist_ok=True)
            self.git("init", "-q", "-b", "main")
            self.git("config", "user.name", "Test Author")
            self.git("config", "user.email", "author@example.test")
            self.git("config", "commit.gpgsign", "false")
            self.git("config", "core.autocrlf", "false")

    def git(self, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
        completed = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env={**os.environ, **GIT_ENV, "GIT_CONFIG_GLOBAL": str(self._global_config), **(env or {})},
            capture_output=True,
            text=True,
            check=False,
        )
        if check and completed.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {completed.stderr}")
        return completed.stdout.strip()

    def write(self, name: str, content: str | bytes) -> Path:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8", newline="")
        return target

    def commit(self, message: str, *names: str, date: str | None = None) -> str:
        """Stage ``names`` (default: everything) and commit; returns the new commit's sha."""
        self.git("add", "-A", *(["--", *names] if names else []))
        self._day += 1
        when = date or (START + timedelta(days=self._day)).isoformat()
        self.git(
            "commit", "-q", "--allow-empty", "-m", message, env={"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
        )
        return self.git("rev-parse", "HEAD")


def json_findings(result: CompletedProcess[str]) -> list[dict[str, Any]]:
    """The findings of a ``--format json`` run that exited 0 or 1."""
    assert result.returncode in (0, 1), result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert isinstance(findings, list)
    return findings
