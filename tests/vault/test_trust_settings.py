"""Trust settings (backend, server, TLS, vault and key paths, policy, hooks) never come from a repository.

Each attack runs for real: a repository whose pyproject.toml points the vault somewhere, the CLI as a
subprocess inside it, a real HTTP listener standing in for the attacker's server, real vault files.
"""

from __future__ import annotations

import http.server
import os
import random
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from leakvault.errors import ConfigError
from leakvault.vault.backends._support import Section, check_transport
from leakvault.vault.config import load_settings, user_config_path
from leakvault.vault.factory import init_local_vault, open_vault
from leakvault.vault.keys import KeyMaterial, write_key_file
from leakvault.vault.secret_vault import current_os_user
from tests.fix.conftest import fake_token
from tests.scanner.gitrepo import GitRepo

from .helpers import PASSPHRASE, cli_env, make_vault, run_cli, settings_for


class Listener:
    """A real HTTP server on 127.0.0.1 that records every request it receives (and answers 500)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        recorded = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self) -> None:
                recorded.append((self.command, self.path, dict(self.headers.items())))
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_DELETE = do_LIST = _any

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def user(tmp_path: Path) -> dict[str, str]:
    """The victim's environment: a token in the environment, a vault at the default location."""
    home = tmp_path / "home"
    data = tmp_path / "data"
    env = cli_env(
        tmp_path,
        {
            "MAHAVISHNU_SECRETS__HASHICORP__TOKEN": "hvs." + secrets.token_urlsafe(24),
            "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": PASSPHRASE,
            "XDG_DATA_HOME": str(data),
            "XDG_CONFIG_HOME": str(home / ".config"),
        },
    )
    make_vault(data / "leakvault" / "vault.db")
    return env


def _user_vault(env: dict[str, str]) -> Path:
    return Path(env["XDG_DATA_HOME"]) / "leakvault" / "vault.db"


def _malicious_repo(root: Path, body: str) -> GitRepo:
    repo = GitRepo(root)
    repo.write("pyproject.toml", '[project]\nname = "innocent"\n\n' + body)
    return repo


def test_repository_cannot_send_the_token_anywhere(
    tmp_path: Path, listener: Listener, user: dict[str, str], rng: random.Random
) -> None:
    """vault get/set/run/inject and scan --fix --apply in a repository that names a server send it nothing."""
    token = fake_token(rng)
    repo = _malicious_repo(
        tmp_path / "repo",
        f'[tool.leakvault.vault]\nbackend = "hashicorp"\n[tool.leakvault.vault.hashicorp]\nurl = "{listener.url}"\n'
        'verify = false\nca_cert = "evil-ca.pem"\n',
    )
    repo.write("app.py", f'TOKEN = "{token}"\n')
    repo.write("t.j2", 'x={{ secret("app/x") }}\n')
    repo.write("evil-ca.pem", "not a certificate\n")
    repo.commit("init")
    cwd = repo.path
    results = [
        run_cli(["vault", "set", "app/x", "-"], user, input=b"value-1\n", cwd=cwd),
        run_cli(["vault", "get", "app/x"], user, cwd=cwd),
        run_cli(["run", "--env", "X=app/x", "--", "true"], user, cwd=cwd),
        run_cli(["inject", "t.j2"], user, cwd=cwd),
        run_cli(["scan", "--fix", "--apply", "."], user, cwd=cwd),
    ]
    assert listener.requests == []  # before the fix: X-Vault-Token arrived here on the first command
    for result in results[:4]:
        assert result.returncode == 0, result.stderr
    assert results[1].stdout == b"value-1"
    warning = results[0].stderr.decode()
    assert "ignoring [tool.leakvault.vault] setting(s) backend, hashicorp.ca_cert, hashicorp.url, hashicorp.verify" in (
        warning
    )
    assert len([line for line in warning.splitlines() if "warning" in line]) == 1
    assert user["MAHAVISHNU_SECRETS__HASHICORP__TOKEN"] not in warning
    # The secret scan --fix took went into the user's own vault.
    with open_vault(settings_for(_user_vault(user), MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE=PASSPHRASE)) as sv:
        assert token in [sv.get_text(p) for p in sv.list()]


def test_repository_cannot_choose_the_vault_file_or_key(tmp_path: Path, user: dict[str, str]) -> None:
    """A repository that ships its own vault and key file (local.path, key_file) receives no secret."""
    repo = _malicious_repo(
        tmp_path / "repo",
        '[tool.leakvault.vault.local]\npath = "stolen/vault.db"\nkey_file = "stolen.key"\n',
    )
    # The attacker's vault, unlockable by the attacker's key file, committed in the repository.
    key_file = repo.path / "stolen.key"
    from leakvault.vault import _crypto

    master = _crypto.new_master_key()
    write_key_file(key_file, master)
    attacker = settings_for(repo.path / "stolen" / "vault.db")
    init_local_vault(attacker, KeyMaterial("attacker", master_key=master))
    before = (repo.path / "stolen" / "vault.db").read_bytes()

    result = run_cli(["vault", "set", "prod/db", "-"], user, input=b"hunter2-value\n", cwd=repo.path)
    assert (repo.path / "stolen" / "vault.db").read_bytes() == before  # before the fix: the secret went here
    assert result.returncode == 0, result.stderr
    assert "local.key_file, local.path" in result.stderr.decode()
    attacker_view = settings_for(repo.path / "stolen" / "vault.db", MAHAVISHNU_SECRETS__LOCAL__KEY_FILE=str(key_file))
    with open_vault(attacker_view) as stolen:
        assert stolen.list() == []
    with open_vault(settings_for(_user_vault(user), MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE=PASSPHRASE)) as sv:
        assert sv.get_text("prod/db") == "hunter2-value"


def test_repository_policy_file_grants_nothing(tmp_path: Path, user: dict[str, str]) -> None:
    """A policy_file named by a repository does not replace the policy stored in the vault."""
    me = current_os_user()
    settings = settings_for(_user_vault(user), MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE=PASSPHRASE)
    with open_vault(settings) as sv:
        sv.set("prod/db", "v")
        sv.set_policy(
            '[roles.admin]\ncapabilities = ["admin"]\npaths = ["**"]\n'
            '[roles.pub]\ncapabilities = ["read"]\npaths = ["pub/*"]\n'
            f'[bindings]\nalice = ["admin"]\n"{me}" = ["pub"]\n',
            force=True,
        )
    repo = _malicious_repo(tmp_path / "repo", '[tool.leakvault.vault]\npolicy_file = "grant.toml"\n')
    repo.write("grant.toml", '[roles.all]\ncapabilities = ["admin"]\npaths = ["**"]\n[bindings]\n"*" = ["all"]\n')
    result = run_cli(["vault", "get", "prod/db"], user, cwd=repo.path)
    assert result.returncode == 2
    assert "access denied" in result.stderr.decode()
    assert result.stdout == b""


def test_repository_hooks_never_run(tmp_path: Path, user: dict[str, str]) -> None:
    """Rotation policies (with verify/apply commands) in a repository are ignored: their commands never run."""
    settings = settings_for(_user_vault(user), MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE=PASSPHRASE)
    with open_vault(settings) as sv:
        sv.set("prod/db", "v")
    marker = tmp_path / "pwned"
    repo = _malicious_repo(
        tmp_path / "repo",
        f'[[tool.leakvault.vault.rotation.policy]]\npath = "**"\nrotate_every = "1s"\n'
        f'verify = "env > {marker}-verify"\napply = "env > {marker}-apply"\n',
    )
    one = run_cli(["vault", "rotate", "prod/db"], user, cwd=repo.path)
    due = run_cli(["vault", "rotate", "--due"], user, cwd=repo.path)
    # Before the fix both commands ran with the current and new values in their environment.
    assert not Path(f"{marker}-verify").exists() and not Path(f"{marker}-apply").exists()
    assert one.returncode == 0, one.stderr
    assert due.returncode == 2 and "no rotation policies configured" in due.stderr.decode()


# -- the user's own config file ----------------------------------------------------------------------


def _write_user_config(env: dict[str, str], text: str, mode: int = 0o600) -> Path:
    path = user_config_path(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def test_user_config_file_is_used(tmp_path: Path, user: dict[str, str]) -> None:
    """Trust settings in ~/.config/leakvault/config.toml apply (relative paths beside the file)."""
    config = _write_user_config(user, '[vault]\nidentity = "ci"\n[vault.local]\npath = "mine.db"\n')
    settings = load_settings(user, cwd=tmp_path)
    assert settings.local.path == config.parent / "mine.db"
    assert settings.identity == "ci"
    assert settings.source == str(config)
    # The environment still wins.
    settings = load_settings({**user, "MAHAVISHNU_SECRETS__IDENTITY": "me"}, cwd=tmp_path)
    assert settings.identity == "me"


@pytest.mark.parametrize("mode", [0o620, 0o602, 0o666])
def test_user_config_writable_by_others_is_refused(tmp_path: Path, user: dict[str, str], mode: int) -> None:
    """A config file others can write is refused with one line and exit 2: it could redirect the token."""
    config = _write_user_config(user, '[vault]\nbackend = "local"\n', mode)
    result = run_cli(["vault", "list"], user, cwd=tmp_path)
    assert result.returncode == 2
    message = result.stderr.decode()
    assert message.count("\n") == 1 and str(config) in message and "chmod go-w" in message
    assert oct(mode)[2:] in message


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another owner needs root")
def test_user_config_owned_by_someone_else_is_refused(tmp_path: Path, user: dict[str, str]) -> None:
    """A config file owned by another user is refused (exit 2)."""
    config = _write_user_config(user, '[vault]\nbackend = "local"\n')
    os.chown(config, 65534, 65534)
    result = run_cli(["vault", "list"], user, cwd=tmp_path)
    assert result.returncode == 2
    assert "not by you" in result.stderr.decode()


def test_rotation_policy_file_writable_by_others_is_refused(tmp_path: Path, user: dict[str, str]) -> None:
    """A rotation policy file (it names commands) must not be writable by others."""
    policy = tmp_path / "rotation.toml"
    policy.write_text('[[policy]]\npath = "**"\nrotate_every = "1d"\n')
    policy.chmod(0o666)
    result = run_cli(
        ["vault", "rotate", "--due", "--dry-run"],
        {**user, "MAHAVISHNU_SECRETS__ROTATION__POLICY_FILE": str(policy)},
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "rotation policy file" in result.stderr.decode() and "chmod go-w" in result.stderr.decode()
    policy.chmod(0o600)
    ok = run_cli(
        ["vault", "rotate", "--due", "--dry-run"],
        {**user, "MAHAVISHNU_SECRETS__ROTATION__POLICY_FILE": str(policy)},
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stderr


def test_credentials_in_user_config_refused(tmp_path: Path, user: dict[str, str]) -> None:
    """Tokens stay in the environment: the user's config file may not hold one either."""
    _write_user_config(user, '[vault.hashicorp]\ntoken = "x-secret-x"\n')
    with pytest.raises(ConfigError, match="MAHAVISHNU_SECRETS__HASHICORP__TOKEN") as info:
        load_settings(user, cwd=tmp_path)
    assert "x-secret-x" not in str(info.value)


# -- plain http --------------------------------------------------------------------------------------


def test_plain_http_to_a_remote_host_is_refused(tmp_path: Path, user: dict[str, str]) -> None:
    """http:// to a host that is not loopback is refused before any connection, unless opted in."""
    env = {
        **user,
        "MAHAVISHNU_SECRETS__BACKEND": "hashicorp",
        "MAHAVISHNU_SECRETS__HASHICORP__URL": "http://192.0.2.7:8200",
    }
    result = run_cli(["vault", "get", "app/x"], env, cwd=tmp_path)
    assert result.returncode == 2
    message = result.stderr.decode()
    assert "MAHAVISHNU_SECRETS__HASHICORP__URL is plain http://192.0.2.7:8200" in message
    assert "MAHAVISHNU_SECRETS__HASHICORP__ALLOW_INSECURE_HTTP=1" in message
    assert env["MAHAVISHNU_SECRETS__HASHICORP__TOKEN"] not in message


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://vault.example.com", True),
        ("http://127.0.0.1:8200", True),
        ("http://127.9.9.9", True),
        ("http://[::1]:8200", True),
        ("http://localhost:8200", True),
        ("http://vault.example.com", False),
        ("HTTP://10.0.0.1", False),
        ("http://localhost.example.com", False),
    ],
)
def test_transport_rule(url: str, allowed: bool) -> None:
    """Only https, or http to a loopback address, passes without the explicit opt-in."""
    section = Section("hashicorp", {})
    if allowed:
        check_transport(section, "url", url)
    else:
        with pytest.raises(ConfigError, match="ALLOW_INSECURE_HTTP"):
            check_transport(section, "url", url)
        check_transport(Section("hashicorp", {"allow_insecure_http": "1"}), "url", url)


def test_repository_cannot_opt_into_plain_http(tmp_path: Path) -> None:
    """allow_insecure_http in a repository is ignored like every other trust setting."""
    (tmp_path / "pyproject.toml").write_text("[tool.leakvault.vault.hashicorp]\nallow_insecure_http = true\n")
    warnings: list[str] = []
    settings = load_settings({"HOME": str(tmp_path / "h")}, cwd=tmp_path, warn=warnings.append)
    assert settings.section("hashicorp") == {}
    assert len(warnings) == 1 and "hashicorp.allow_insecure_http" in warnings[0]
