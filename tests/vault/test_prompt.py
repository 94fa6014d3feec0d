"""The interactive prompt as a key source, driven through a real pseudo-terminal."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from pathlib import Path

from .helpers import cli_env, run_cli


def _drive(
    args: list[str], env: dict[str, str], answers: list[tuple[bytes, bytes]], timeout: float = 60
) -> tuple[int, bytes]:
    """Run the CLI on a pty; for each (prompt, reply), wait for the prompt and type the reply."""
    pid, fd = pty.fork()
    if pid == 0:  # child: the pty is our controlling terminal and stdin/stdout/stderr
        os.execve(sys.executable, [sys.executable, "-m", "leakvault.cli", *args], env)  # noqa: S606 - our own CLI
    seen = b""
    deadline = time.monotonic() + timeout
    pending = list(answers)
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        for item in pending:
            prompt, reply = item
            if prompt in seen:
                pending.remove(item)
                seen = seen.replace(prompt, b"<answered>", 1)
                os.write(fd, reply + b"\n")
                break
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), seen


def test_prompted_passphrase(tmp_path: Path) -> None:
    """init asks for the passphrase twice without echo; later commands prompt once and unlock."""
    env = cli_env(tmp_path, {"MAHAVISHNU_SECRETS__LOCAL__PATH": str(tmp_path / "v.db")})
    code, output = _drive(
        ["vault", "init"],
        env,
        [(b"New vault passphrase:", b"typed passphrase"), (b"Repeat passphrase:", b"typed passphrase")],
    )
    assert code == 0, output
    assert b"typed passphrase" not in output  # not echoed
    code, output = _drive(
        ["vault", "set", "k"],
        env,
        [
            (b"Secret value:", b"typed value"),
            (b"Repeat for confirmation:", b"typed value"),
            (b"Vault passphrase:", b"typed passphrase"),
        ],
    )
    assert code == 0, output
    assert b"typed value" not in output
    with_env = {**env, "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": "typed passphrase"}
    assert run_cli(["vault", "get", "k"], with_env).stdout == b"typed value"


def test_prompted_passphrases_must_match(tmp_path: Path) -> None:
    """Two different passphrases at init are refused and no vault is created."""
    env = cli_env(tmp_path, {"MAHAVISHNU_SECRETS__LOCAL__PATH": str(tmp_path / "v.db")})
    code, output = _drive(["vault", "init"], env, [(b"New vault passphrase:", b"one"), (b"Repeat passphrase:", b"two")])
    assert code == 2
    assert b"do not match" in output
    assert not (tmp_path / "v.db").exists()
