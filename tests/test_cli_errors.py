"""Errors nobody foresaw still end in one line and exit code 2, never a traceback or a value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
import leakvault.cli as cli

def boom(*args, **kwargs):
    raise {error}

cli.cli.main = boom
cli.main(sys.argv[1:])
"""


def _run(error: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT.format(error=error), *args], capture_output=True, text=True, timeout=60
    )


def test_unexpected_exception_is_one_line_without_its_message() -> None:
    """An unexpected exception exits 2 with one line naming its type but not its message (which could
    quote a secret); --debug shows the traceback."""
    result = _run("KeyError('s3cr3t-value-in-message')", "scan")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "KeyError" in result.stderr
    assert "s3cr3t" not in result.stderr and "Traceback" not in result.stderr
    debug = _run("KeyError('x')", "--debug", "scan")
    assert "Traceback" in debug.stderr


def test_os_error_names_the_file(tmp_path: Path) -> None:
    """An OSError (a full disk, say) exits 2 with the OS's words and the file."""
    result = _run(f"OSError(28, 'No space left on device', {str(tmp_path / 'out.json')!r})", "scan")
    assert result.returncode == 2
    assert result.stderr.strip() == f"leakvault: error: No space left on device: {tmp_path / 'out.json'}"
