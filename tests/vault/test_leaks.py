"""Ways a secret could escape from leakvault itself, each closed: core dumps, child and hook
environments, error messages, the audit trail, files left on disk."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leakvault.vault.config import VaultSettings
from leakvault.vault.factory import open_vault

from .helpers import run_cli

VALUE = "LEAK-PROBE-VALUE-8c1f2e9d"


@pytest.fixture
def env(vault_env: dict[str, str], settings: VaultSettings) -> dict[str, str]:
    with open_vault(settings) as sv:
        sv.set("app/token", VALUE)
    return vault_env


def _allow_core_dumps() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def _crash(argv: list[str], env: dict[str, str], cwd: Path) -> None:
    """Start `argv` with core dumps allowed, wait for its 'ready' line, and SIGSEGV it."""
    proc = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_allow_core_dumps
    )
    assert proc.stdout is not None
    assert b"ready" in proc.stdout.readline(), proc.stderr.read() if proc.stderr else b""
    proc.send_signal(signal.SIGSEGV)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGSEGV


def _core_files(directory: Path) -> list[Path]:
    deadline = time.monotonic() + 2  # the kernel writes the core as the process exits
    while time.monotonic() < deadline:
        found = [p for p in directory.iterdir() if p.name.startswith("core")]
        if found:
            return found
        time.sleep(0.05)
    return []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="core_pattern and prctl are Linux")
def test_no_core_dump_of_a_process_holding_secrets(env: dict[str, str], tmp_path: Path) -> None:
    """A crashing `leakvault run` leaves no core file, while the command it runs may still dump."""
    pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()
    if pattern.startswith("|") or "/" in pattern:
        pytest.skip(f"core files go to a handler or another directory here ({pattern!r})")
    control_dir = tmp_path / "control"
    control_dir.mkdir()
    _crash([sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(30)"], env, control_dir)
    if not _core_files(control_dir):
        pytest.skip("this machine writes no core files even when allowed")

    crash_dir = tmp_path / "crash"
    crash_dir.mkdir()
    child = (
        "import ctypes, time; dumpable = ctypes.CDLL(None).prctl(3, 0, 0, 0, 0); "
        "print('ready', dumpable, flush=True); time.sleep(30)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "leakvault.cli", "run", "--env", "T=app/token", "--", sys.executable, "-c", child],
        env=env,
        cwd=crash_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_allow_core_dumps,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    assert line == [b"ready", b"1"], proc.stderr.read() if proc.stderr else b""  # the child is dumpable again
    child_pid = int(Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()[0])
    proc.send_signal(signal.SIGSEGV)
    proc.wait(timeout=60)
    os.kill(child_pid, signal.SIGKILL)  # orphaned by the crash; it holds our pipes open
    proc.communicate(timeout=60)
    cores = _core_files(crash_dir)
    assert not any(VALUE.encode() in core.read_bytes() for core in cores)
    assert cores == []


_CREDENTIALS = {
    "MAHAVISHNU_SECRETS__HASHICORP__TOKEN": "hvs-credential-probe",
    "MAHAVISHNU_SECRETS__HASHICORP__SECRET_ID": "approle-credential-probe",
    "MAHAVISHNU_SECRETS__AZURE__TOKEN": "azure-credential-probe",
    "MAHAVISHNU_SECRETS__GCP__TOKEN": "gcp-credential-probe",
    "MAHAVISHNU_SECRETS__LOCAL__NEW_PASSPHRASE": "new-passphrase-probe",
}
_PRINT_ENV = "import os; print(sorted(k for k in os.environ if k.startswith('MAHAVISHNU_SECRETS__')))"


def _visible(stdout: bytes) -> list[str]:
    names: list[str] = eval(stdout.decode().strip().splitlines()[-1])  # noqa: S307 - our own child's repr of a list
    return names


def test_children_and_hooks_get_no_vault_credentials(env: dict[str, str]) -> None:
    """Neither a `run` child nor a rotation hook sees the passphrase or any backend credential; the
    vault's other settings (its path) stay visible to programs that use the vault themselves."""
    full = {**env, **_CREDENTIALS}
    run = run_cli(["run", "--env", "T=app/token", "--", sys.executable, "-c", _PRINT_ENV], full)
    assert run.returncode == 0, run.stderr.decode()
    assert _visible(run.stdout) == ["MAHAVISHNU_SECRETS__LOCAL__PATH"]

    hook = f'{sys.executable} -c "{_PRINT_ENV}"'
    rotate = run_cli(["vault", "rotate", "app/token", "--verify", hook, "--apply-cmd", hook], full)
    assert rotate.returncode == 0, rotate.stderr.decode()
    hook_lines = [line for line in rotate.stderr.decode().splitlines() if line.startswith("[")]
    assert len(hook_lines) == 2  # apply and verify (their stdout goes to our stderr)
    for line in hook_lines:
        assert _visible(line.encode()) == ["MAHAVISHNU_SECRETS__LOCAL__PATH"]
    for probe in _CREDENTIALS.values():
        assert probe.encode() not in run.stdout + rotate.stdout + rotate.stderr


@pytest.mark.parametrize(
    "pasted",
    [f"{VALUE}+tail==", f"/{VALUE}", f"{VALUE} ", f"a/.{VALUE}", f"{VALUE}//x"],
    ids=["plus", "leading-slash", "space", "hidden-segment", "empty-segment"],
)
def test_a_value_given_as_path_is_not_echoed(env: dict[str, str], settings: VaultSettings, pasted: str) -> None:
    """A value pasted where a path belongs is neither printed in the error nor kept in the audit trail."""
    result = run_cli(["vault", "get", pasted], env)
    err = result.stderr.decode()
    assert result.returncode == 2
    assert err.startswith("leakvault: error: invalid secret path (segment ") and err.count("\n") == 1, err
    assert VALUE not in err
    with open_vault(settings) as sv:
        assert not any(VALUE in str(record) for record in sv.audit_records())


@pytest.mark.parametrize(
    "source",
    [
        '{{ {"a": 1}[secret("app/token")] }}',
        '{{ secret("app/token") | attr(secret("app/token")) }}',
        '{{ secret(secret("app/token") ~ "+") }}',
        '{{ {"a": 1}[secret("app/token") ~ "\\n" ~ secret("app/token")] }}',
    ],
    ids=["missing-key", "missing-attribute", "value-as-path", "escaped-in-repr"],
)
def test_template_errors_do_not_quote_secrets(
    env: dict[str, str], tmp_path: Path, settings: VaultSettings, source: str
) -> None:
    """A template error that would quote a fetched value (as a key, attribute or path name) withholds it."""
    template = tmp_path / "t.j2"
    template.write_text(source)
    result = run_cli(["inject", str(template)], env)
    err = result.stderr.decode()
    assert result.returncode == 2 and err.startswith("leakvault: error: ") and err.count("\n") == 1, err
    assert VALUE not in err and not result.stdout
    assert "withheld" in err or "not shown" in err


def test_rotation_errors_do_not_quote_the_values(env: dict[str, str], settings: VaultSettings) -> None:
    """A verify or apply callable whose exception quotes the new or previous value is reported scrubbed."""
    from leakvault.vault.rotation import RotationFailedError

    def verify(value: bytes) -> bool:
        raise ValueError(f"login refused for password {value.decode()!r}")

    def apply(value: bytes) -> None:
        if value == VALUE.encode():  # the rollback, with the previous value
            raise RuntimeError(f"cannot restore {value.decode()}")

    with open_vault(settings) as sv:
        with pytest.raises(RotationFailedError) as info:
            sv.rotate("app/token", generator=lambda: b"NEW-VALUE-f00d1e", verify=verify, apply=apply)
        message = str(info.value)
        assert "login refused for password '<redacted>'" in message
        assert "cannot restore <redacted>" in message
        assert "NEW-VALUE-f00d1e" not in message and VALUE not in message
        assert sv.get_text("app/token") == VALUE
