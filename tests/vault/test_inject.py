"""Injection with real processes: leakvault run (env, files, signals, exit codes, --watch) and inject."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leakvault.vault.errors import InjectionError
from leakvault.vault.factory import open_vault
from leakvault.vault.inject import MountDir, load_map, parse_ref, render_template, sweep_stale_mounts
from leakvault.vault.secret_vault import SecretVault

from .helpers import cli_env, make_vault, run_cli

VALUE = "s3cret-value-for-injection"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = cli_env(
        tmp_path,
        {
            "MAHAVISHNU_SECRETS__LOCAL__PATH": str(tmp_path / "vault.db"),
            "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": "injection tests",
        },
    )
    # Made through the API with a cheap KDF: every CLI call below then unlocks in milliseconds.
    with open_vault(make_vault(tmp_path / "vault.db", "injection tests")) as sv:
        sv.set("app/token", VALUE)
        sv.set("app/db", "db-password")
    return e


def _leakvault(args: list[str], env: dict[str, str], **kwargs: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]  # a test double or a value the test asserts is set
        [sys.executable, "-m", "leakvault.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def _py(code: str) -> list[str]:
    return [sys.executable, "-u", "-c", code]


# -- leakvault run ---------------------------------------------------------------------------------


def test_run_env_and_exit_code(env: dict[str, str]) -> None:
    """The child sees the secret in its environment, not the vault passphrase; its exit code is ours."""
    code = (
        "import os, sys; print(os.environ['TOKEN']); "
        "print(os.environ.get('MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE', 'no-passphrase')); sys.exit(7)"
    )
    result = run_cli(["run", "--env", "TOKEN=app/token", "--", *_py(code)], env)
    assert result.returncode == 7, result.stderr.decode()
    assert result.stdout.decode().split() == [VALUE, "no-passphrase"]


def test_run_map_file(env: dict[str, str], tmp_path: Path) -> None:
    """--map reads NAME = "path" lines (the file scan --fix writes) and a [files] table."""
    mapping = tmp_path / "env.toml"
    mapping.write_text('TOKEN = "app/token"\nDB = "app/db@1"\n[files]\nDB_FILE = "app/db"\n')
    code = "import os; print(os.environ['TOKEN'], os.environ['DB'], open(os.environ['DB_FILE']).read())"
    result = run_cli(["run", "--map", str(mapping), "--", *_py(code)], env)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().split() == [VALUE, "db-password", "db-password"]


def test_run_values_not_in_argv_or_parent_env(env: dict[str, str]) -> None:
    """While the child runs, neither leakvault's nor the child's argv, nor leakvault's environment, holds the value."""
    proc = _leakvault(
        ["run", "--env", "TOKEN=app/token", "--", *_py("import time; print('ready', flush=True); time.sleep(30)")],
        env,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"ready"
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    for pid in [proc.pid, *map(int, children)]:
        assert VALUE.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
    try:
        parent_environ = Path(f"/proc/{proc.pid}/environ").read_bytes()
    except PermissionError:  # leakvault is not dumpable: other processes cannot read its environ at all
        parent_environ = b""
    assert VALUE.encode() not in parent_environ
    assert VALUE.encode() in Path(f"/proc/{children[0]}/environ").read_bytes()
    proc.terminate()
    proc.communicate(timeout=30)


def test_run_forwards_sigterm(env: dict[str, str]) -> None:
    """SIGTERM to leakvault reaches the child, and the child's exit status comes back."""
    code = (
        "import signal, sys, time\n"
        "def bye(*_):\n    print('got SIGTERM', flush=True); sys.exit(42)\n"
        "signal.signal(signal.SIGTERM, bye)\nprint('ready', flush=True)\ntime.sleep(30)\nsys.exit(1)\n"
    )
    proc = _leakvault(["run", "--env", "TOKEN=app/token", "--", *_py(code)], env)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"ready"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 42, err.decode()
    assert b"got SIGTERM" in out


def test_run_child_killed_by_signal(env: dict[str, str]) -> None:
    """A child killed by signal N makes leakvault exit 128 + N, like a shell."""
    result = run_cli(["run", "--env", "T=app/token", "--", "sh", "-c", "kill -9 $$"], env)
    assert result.returncode == 128 + signal.SIGKILL


def test_run_command_not_found(env: dict[str, str]) -> None:
    """A missing command exits 127 with one line."""
    result = run_cli(["run", "--env", "T=app/token", "--", "no-such-command-xyz"], env)
    assert result.returncode == 127
    assert b"command not found" in result.stderr


def test_run_missing_secret_starts_nothing(env: dict[str, str], tmp_path: Path) -> None:
    """A missing secret is an error before the command starts."""
    marker = tmp_path / "started"
    result = run_cli(["run", "--env", "T=app/nope", "--", "touch", str(marker)], env)
    assert result.returncode == 2
    assert b"secret 'app/nope' does not exist" in result.stderr
    assert not marker.exists()


def test_file_mount_private_and_removed(env: dict[str, str]) -> None:
    """--file: a 0600 file in a 0700 directory, holding the value, gone after the command exits."""
    code = (
        "import os; p = os.environ['F']; print(p); print(oct(os.stat(p).st_mode & 0o777)); "
        "print(oct(os.stat(os.path.dirname(p)).st_mode & 0o777)); print(open(p).read())"
    )
    result = run_cli(["run", "--file", "F=app/token", "--", *_py(code)], env)
    assert result.returncode == 0, result.stderr.decode()
    path, mode, dir_mode, content = result.stdout.decode().split()
    assert (mode, dir_mode, content) == ("0o600", "0o700", VALUE)
    assert not Path(path).exists()
    assert not Path(path).parent.exists()
    if Path("/dev/shm").is_dir():
        assert path.startswith("/dev/shm/")  # RAM-backed where available


def test_file_mount_removed_when_child_killed(env: dict[str, str]) -> None:
    """The mount is removed even when the command dies from SIGKILL."""
    code = "import os, time; print(os.environ['F'], flush=True); time.sleep(30)"
    proc = _leakvault(["run", "--file", "F=app/token", "--", *_py(code)], env)
    assert proc.stdout is not None
    path = Path(proc.stdout.readline().decode().strip())
    assert path.exists()
    child = int(Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()[0])
    os.kill(child, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGKILL
    assert not path.parent.exists()


def test_file_mount_removed_when_leakvault_terminated(env: dict[str, str]) -> None:
    """SIGTERM to leakvault ends the child and still removes the mount."""
    code = "import os, time; print(os.environ['F'], flush=True); time.sleep(30)"
    proc = _leakvault(["run", "--file", "F=app/token", "--", *_py(code)], env)
    assert proc.stdout is not None
    path = Path(proc.stdout.readline().decode().strip())
    proc.terminate()
    proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM
    assert not path.parent.exists()


def test_stale_mount_swept(tmp_path: Path) -> None:
    """A mount directory left by a dead leakvault process is removed by the next run."""
    dead = subprocess.run(["true"], check=True)
    assert dead.returncode == 0
    proc = subprocess.Popen(["true"])
    proc.wait()
    stale = tmp_path / f"leakvault-run.{proc.pid}.abc"
    stale.mkdir()
    (stale / "F").write_text("x")
    alive = tmp_path / f"leakvault-run.{os.getpid()}.def"
    alive.mkdir()
    sweep_stale_mounts(tmp_path)
    assert not stale.exists()
    assert alive.exists()
    mount = MountDir(tmp_path)
    mount.write("X", b"v")
    mount.close()
    assert not mount.path.exists()


# -- templates -------------------------------------------------------------------------------------


def test_inject_renders_template(env: dict[str, str], tmp_path: Path) -> None:
    """inject renders secret() calls, with versions, into a 0600 file."""
    template = tmp_path / "app.conf.j2"
    template.write_text('token = "{{ secret("app/token") }}"\ndb = "{{ secret("app/db", version=1) }}"\n')
    out = tmp_path / "app.conf"
    result = run_cli(["inject", str(template), "-o", str(out)], env)
    assert result.returncode == 0, result.stderr.decode()
    assert out.read_text() == f'token = "{VALUE}"\ndb = "db-password"\n'
    assert out.stat().st_mode & 0o777 == 0o600
    stdout = run_cli(["inject", str(template)], env)
    assert stdout.stdout.decode() == out.read_text()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ('{{ secret("app/missing") }}', "secret 'app/missing' does not exist"),
        ("{{ not_defined }}", "'not_defined' is undefined"),
        ("{{ ''.__class__.__mro__ }}", "SecurityError"),
        ("{{ secret('../etc') }}", "invalid secret path"),
        ("{% include '/etc/passwd' %}", "details withheld"),
    ],
    ids=["missing-secret", "undefined", "sandbox", "bad-path", "include"],
)
def test_inject_errors(env: dict[str, str], tmp_path: Path, source: str, message: str) -> None:
    """A missing secret, an undefined name or an unsafe construct fails with exit 2 and no output file."""
    template = tmp_path / "bad.j2"
    template.write_text(source)
    out = tmp_path / "out"
    result = run_cli(["inject", str(template), "-o", str(out)], env)
    assert result.returncode == 2
    assert message.lower() in result.stderr.decode().lower(), result.stderr.decode()
    assert not out.exists()


def test_run_template_mount(env: dict[str, str], tmp_path: Path) -> None:
    """run --template renders into the private mount and passes the file path."""
    template = tmp_path / "t.j2"
    template.write_text('url = "postgres://app:{{ secret("app/db") }}@db/app"')
    code = "import os; print(open(os.environ['CONF']).read())"
    result = run_cli(["run", "--template", f"CONF={template}", "--", *_py(code)], env)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().strip() == 'url = "postgres://app:db-password@db/app"'


def test_render_template_api(sv: SecretVault) -> None:
    """render_template reports which secrets a template used (what --watch follows)."""
    sv.set("a/b", "x")
    result = render_template(sv, '{{ secret("a/b") }}-{{ secret("a/b", 1) }}')
    assert result.text == "x-x"
    assert {str(r) for r in result.refs} == {"a/b", "a/b@1"}
    assert "x" not in repr(result)
    with pytest.raises(InjectionError):
        render_template(sv, '{{ secret("a/zzz") }}')


def test_map_and_ref_parsing(tmp_path: Path) -> None:
    """Bad mapping files and references are clear errors."""
    from leakvault.errors import ConfigError, UsageError

    assert str(parse_ref("a/b@3")) == "a/b@3"
    with pytest.raises(UsageError):
        parse_ref("a/b@0")
    bad = tmp_path / "m.toml"
    bad.write_text('"1BAD" = "a/b"\n')
    with pytest.raises(UsageError):
        load_map(bad)
    bad.write_text("X = 3\n")
    with pytest.raises(ConfigError):
        load_map(bad)


# -- --watch ---------------------------------------------------------------------------------------

_WATCH_CHILD = """
import os, signal, sys, time
def show(*_):
    print("value=" + open(os.environ["F"]).read(), flush=True)
signal.signal(signal.SIGHUP, show)
show()
while True:
    time.sleep(0.05)
"""


def _wait_for(proc: subprocess.Popen[bytes], expected: str, timeout: float) -> float:
    """Read lines until one equals `expected`; return the seconds it took."""
    assert proc.stdout is not None
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        line = proc.stdout.readline().decode().strip()
        if line == expected:
            return time.monotonic() - start
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"did not see {expected!r} within {timeout}s")


def test_watch_file_delivers_rotation_within_2s(env: dict[str, str], tmp_path: Path) -> None:
    """--watch rewrites the mounted file and sends SIGHUP; the child sees a rotated value within 2 s."""
    proc = _leakvault(["run", "--watch", "--file", "F=app/token", "--", *_py(_WATCH_CHILD)], env)
    try:
        _wait_for(proc, f"value={VALUE}", 30)
        from .helpers import settings_for

        settings = settings_for(tmp_path / "vault.db", MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE="injection tests")
        with open_vault(settings) as sv:
            sv.rotate("app/token", generator=lambda: b"rotated-value")
        elapsed = _wait_for(proc, "value=rotated-value", 2.0)
        assert elapsed < 2.0
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_watch_env_restarts_child(env: dict[str, str], tmp_path: Path) -> None:
    """With --env, --watch restarts the command with the new value (it cannot change a live environment)."""
    code = "import os, time; print('env=' + os.environ['T'], flush=True); time.sleep(60)"
    proc = _leakvault(["run", "--watch", "--interval", "0.2", "--env", "T=app/token", "--", *_py(code)], env)
    try:
        _wait_for(proc, f"env={VALUE}", 30)
        result = run_cli(["vault", "set", "app/token", "-"], env, input=b"second-value")
        assert result.returncode == 0
        _wait_for(proc, "env=second-value", 5.0)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM


def test_inject_watch_rerenders(env: dict[str, str], tmp_path: Path) -> None:
    """inject --watch re-renders the output when a secret it uses changes."""
    template = tmp_path / "t.j2"
    template.write_text('{{ secret("app/db") }}')
    out = tmp_path / "out"
    proc = _leakvault(["inject", str(template), "-o", str(out), "--watch", "--interval", "0.2"], env)
    try:
        deadline = time.monotonic() + 30
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert out.read_text() == "db-password"
        assert run_cli(["vault", "set", "app/db", "-"], env, input=b"new-db").returncode == 0
        deadline = time.monotonic() + 2
        while out.read_text() != "new-db" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert out.read_text() == "new-db"
        assert out.stat().st_mode & 0o777 == 0o600
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert proc.returncode == 0
