"""Redaction of secrets that are no substring of the line a finding keeps: a secret spanning lines,
and one longer than the context kept of its line. Every report format goes through the real CLI."""

from __future__ import annotations

import random
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from leakvault.patterns.examples import expand
from leakvault.scanner.chunk_scanner import LINE_CONTEXT_BYTES
from tests.scanner.tokens import github_pat

FORMATS = ("text", "json", "sarif", "gitleaks")
Run = Callable[..., subprocess.CompletedProcess[str]]


def _fragments(secret_material: str, size: int = 16) -> list[str]:
    return [secret_material[i : i + size] for i in range(0, len(secret_material) - size + 1, size)]


def _assert_hidden(run_cli: Run, path: Path, material: list[str]) -> None:
    for format_name in FORMATS:
        completed = run_cli("scan", str(path), "--format", format_name)
        assert completed.returncode == 1, completed.stderr
        output = completed.stdout + completed.stderr
        for fragment in material:
            assert fragment not in output, f"{format_name} report shows part of a secret: {fragment!r}"


@pytest.mark.parametrize("lines", [40, 120])  # the second runs past the context kept of a line
def test_one_line_key_longer_than_the_line_context(
    run_cli: Run, tmp_path: Path, rng: random.Random, lines: int
) -> None:
    """A PEM key written on one line with \\n escapes (a service-account JSON) is redacted in the
    preview even when it is longer than the part of its line a finding keeps."""
    body = "\\n".join(expand("{b64:64}", None, rng) for _ in range(lines))
    key = f"-----BEGIN RSA PRIVATE KEY-----\\nMIIEow{body}\\n-----END RSA PRIVATE KEY-----\\n"
    assert (len(key) > LINE_CONTEXT_BYTES) == (lines == 120)
    path = tmp_path / "service-account.json"
    path.write_text(f'{{"type": "service_account", "private_key": "{key}"}}\n')
    _assert_hidden(run_cli, path, _fragments(body))


def test_multi_line_key_starting_mid_line_is_redacted_in_every_preview(
    run_cli: Run, tmp_path: Path, rng: random.Random
) -> None:
    """Key material on the line where a multi-line key starts is hidden in that finding's preview
    and in the preview of another secret on the same line."""
    first = expand("{b64:60}", None, rng)
    rest = "\n".join(expand("{b64:64}", None, rng) for _ in range(6))
    token = github_pat(rng)
    path = tmp_path / "keys.py"
    path.write_text(
        f'TOKEN = "{token}"; KEY = """-----BEGIN RSA PRIVATE KEY-----MIIEow{first}\n{rest}\n'
        '-----END RSA PRIVATE KEY-----"""\n'
    )
    _assert_hidden(run_cli, path, [*_fragments(first), *_fragments(rest), token[4:]])
