"""The README's vault walkthrough runs as written, and its shown output is what the commands print."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .helpers import cli_env

README = Path(__file__).resolve().parents[2] / "README.md"
SEPARATOR = "@@@ leakvault docs test @@@"


def _console_steps(section: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for each ``$`` line of the section's console blocks."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"README has no '## {section}' section"
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", match.group(1), re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                command = re.sub(r"\s+#.*$", "", line[2:])  # drop trailing comments
                steps.append((command, []))
            elif steps and line.strip():
                steps[-1][1].append(line)
    return steps


def test_readme_vault_walkthrough(tmp_path: Path) -> None:
    """Every command in the README's Vault section succeeds and prints the output shown."""
    steps = _console_steps("Vault")
    used = {m.group(1) for c, _ in steps for m in re.finditer(r"leakvault vault (\w+)", c)}
    assert {"init", "set", "get", "history", "rollback", "audit"} <= used
    script = [f'leakvault() {{ "{sys.executable}" -m leakvault.cli "$@"; }}', "set -e"]
    for command, _ in steps:
        script += [command, f"echo '{SEPARATOR}'"]
    env = cli_env(tmp_path, {"MAHAVISHNU_SECRETS__LOCAL__PATH": str(tmp_path / "vault.db")})
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outputs = result.stdout.split(SEPARATOR)
    assert len(outputs) == len(steps) + 1
    for (command, expected), output in zip(steps, outputs, strict=False):
        for line in expected:
            assert line in output or line in result.stderr, (command, line)
    assert "audit trail intact" in outputs[-2]
