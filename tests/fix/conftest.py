"""Helpers for the scan --fix tests: findings placed by hand, plans over one file, a real vault."""

from __future__ import annotations

import base64
import os
import random
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from leakvault.fix import FileFix, FixPlan, plan_fixes
from leakvault.patterns.examples import expand
from leakvault.scanner.model import Finding


def fake_token(rng: random.Random, prefix: str = "ghp_") -> str:
    """A checksum-valid GitHub-style token made at run time (nobody's credential)."""
    return expand("{token:" + prefix + "}", "crc32_base62", rng)


def finding_for(path: str, text: str, secret: str, rule_id: str = "github-pat", occurrence: int = 0) -> Finding:
    """The finding the scanner would report for the ``occurrence``-th copy of ``secret`` in ``text``."""
    offset = -1
    for _ in range(occurrence + 1):
        offset = text.index(secret, offset + 1)
    end = offset + len(secret)
    line = text.count("\n", 0, offset) + 1
    end_line = text.count("\n", 0, end) + 1
    line_start = text.rfind("\n", 0, offset) + 1
    end_line_start = text.rfind("\n", 0, end) + 1
    return Finding(
        rule_id=rule_id,
        rule_name=rule_id,
        description="",
        severity="high",
        confidence="high",
        path=path,
        line=line,
        column=offset - line_start + 1,
        end_line=end_line,
        end_column=end - end_line_start + 1,
        fingerprint="fp",
        entropy=4.0,
        secret=secret,
        line_text=text[line_start:].split("\n", 1)[0],
    )


def write(root: Path, name: str, text: str) -> Path:
    target = root / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8", newline="")
    return target


def plan_for(root: Path, files: dict[str, tuple[str, Sequence[str]]]) -> FixPlan:
    """Write ``files`` (name -> (text, secrets in it)) under ``root`` and plan their fix."""
    findings = []
    for name, (text, secrets) in files.items():
        write(root, name, text)
        for secret in secrets:
            for index in range(text.count(secret)):
                findings.append(finding_for(name, text, secret, occurrence=index))
    return plan_fixes(findings, cwd=root, root=root)


def only_file(plan: FixPlan) -> FileFix:
    assert len(plan.files) == 1, [r.reason for r in plan.refusals]
    return plan.files[0]


@pytest.fixture
def vault_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a real local SQLite vault in tmp_path (a master key, so no slow KDF)."""
    env = {
        "MAHAVISHNU_SECRETS__LOCAL__PATH": str(tmp_path / "vault" / "vault.db"),
        "MAHAVISHNU_SECRETS__LOCAL__MASTER_KEY": base64.b64encode(os.urandom(32)).decode("ascii"),
        "MAHAVISHNU_SECRETS__AUDIT__PATH": str(tmp_path / "vault" / "audit.db"),
    }
    (tmp_path / "vault").mkdir()
    return env


@pytest.fixture
def vault(vault_env: dict[str, str], tmp_path: Path) -> Iterator[object]:
    """A real, initialised local vault (SQLite file in tmp_path), opened in this process."""
    from leakvault.vault.config import load_settings
    from leakvault.vault.factory import init_local_vault, open_vault
    from leakvault.vault.keys import KeyMaterial, parse_master_key

    settings = load_settings(vault_env, cwd=tmp_path)
    key = parse_master_key(vault_env["MAHAVISHNU_SECRETS__LOCAL__MASTER_KEY"], source="test")
    init_local_vault(settings, KeyMaterial(source="test", master_key=key))
    with open_vault(settings, key=KeyMaterial(source="test", master_key=key)) as opened:
        yield opened
