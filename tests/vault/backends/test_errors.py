"""Service failures become one clear line: unreachable, wrong credentials, refused, throttled.

Real servers wherever the failure can be produced for real: a closed port, OpenBao with a bad token
or a read-only policy, moto with IAM authentication switched on. Throttling is injected by
`faultproxy` in front of the real OpenBao and moto servers (with the responses those services
send), and by the Azure and GCP STAND-INS' fault switch.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from leakvault.errors import LeakvaultError
from leakvault.vault.backends.errors import (
    BackendAuthError,
    BackendDeniedError,
    BackendThrottledError,
    BackendUnreachableError,
)
from leakvault.vault.errors import AccessDeniedError, SecretNotFoundError

from ..helpers import cli_env, run_cli
from .conftest import REMOTE_BACKENDS, Env, open_backend
from .faultproxy import AWS_THROTTLED, VAULT_RATE_LIMITED, Fault, fault_proxy
from .servers import Moto, OpenBao, free_port, run_moto
from .standins.azure import AzureStandin
from .standins.gcp import GcpStandin

# Which setting holds the service address, per backend (transit connects through the hashicorp one).
ADDRESS = {
    "hashicorp": "MAHAVISHNU_SECRETS__HASHICORP__URL",
    "transit": "MAHAVISHNU_SECRETS__HASHICORP__URL",
    "aws": "MAHAVISHNU_SECRETS__AWS__ENDPOINT_URL",
    "azure": "MAHAVISHNU_SECRETS__AZURE__VAULT_URL",
    "gcp": "MAHAVISHNU_SECRETS__GCP__ENDPOINT",
}


def assert_one_clear_line(exc: BaseException, *forbidden: str) -> None:
    message = str(exc)
    assert message and "\n" not in message, message
    assert "Traceback" not in message
    for secret in forbidden:
        assert secret not in message


def first_use(env: Env, tmp_path: Path) -> None:
    """Open the backend and read something: the first moment a service can fail."""
    backend = open_backend(env, tmp_path)
    try:
        backend.read("any/path")
    finally:
        backend.close()


# -- unreachable ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REMOTE_BACKENDS)
def test_unreachable_server(name: str, make_env: Callable[[str], Env], tmp_path: Path) -> None:
    """A closed port is reported as unreachable within seconds, naming the setting to check."""
    env = make_env(name)
    scheme = "https" if name == "azure" else "http"
    env[ADDRESS[name]] = f"{scheme}://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(BackendUnreachableError) as info:
        first_use(env, tmp_path)
    assert time.monotonic() - started < 15
    assert_one_clear_line(info.value)
    assert "cannot reach" in str(info.value)


def test_unreachable_through_the_cli(make_env: Callable[[str], Env], tmp_path: Path) -> None:
    """The CLI prints the same single line and exits 2."""
    env = make_env("hashicorp")
    env["MAHAVISHNU_SECRETS__HASHICORP__URL"] = f"http://127.0.0.1:{free_port()}"
    result = run_cli(["vault", "get", "app/token"], cli_env(tmp_path, env))
    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("leakvault: error: cannot reach HashiCorp Vault")


# -- credentials and policies: OpenBao ------------------------------------------------------------


@pytest.mark.parametrize("name", ["hashicorp", "transit"])
def test_openbao_wrong_token(name: str, make_env: Callable[[str], Env], tmp_path: Path) -> None:
    """A token the server does not know is a credentials error, and the token is never printed."""
    env = make_env(name)
    env["MAHAVISHNU_SECRETS__HASHICORP__TOKEN"] = "s.not-a-real-token-0123456789"
    with pytest.raises(BackendAuthError) as info:
        first_use(env, tmp_path)
    assert_one_clear_line(info.value, "s.not-a-real-token-0123456789")
    assert "MAHAVISHNU_SECRETS__HASHICORP__TOKEN" in str(info.value)


@pytest.fixture(scope="module")
def read_only_token(openbao: OpenBao) -> str:
    import hvac

    root = hvac.Client(url=openbao.url, token=openbao.root_token)
    root.sys.create_or_update_policy(
        "leakvault-read-only",
        'path "secret/data/*" { capabilities = ["read"] }\n'
        'path "secret/metadata/*" { capabilities = ["read", "list"] }',
    )
    return str(root.auth.token.create(policies=["leakvault-read-only"], ttl="1h")["auth"]["client_token"])


def test_openbao_policy_denies(
    openbao: OpenBao, read_only_token: str, make_env: Callable[[str], Env], tmp_path: Path
) -> None:
    """A valid token whose policy forbids the write is a denial (an AccessDeniedError), not a bad token."""
    env = make_env("hashicorp")
    writer = open_backend(env, tmp_path)
    writer.write("app/db", b"v1")
    env["MAHAVISHNU_SECRETS__HASHICORP__TOKEN"] = read_only_token
    reader = open_backend(env, tmp_path)
    try:
        assert reader.read("app/db").value == b"v1"
        with pytest.raises(BackendDeniedError) as info:
            reader.write("app/db", b"v2")
    finally:
        reader.close()
        writer.close()
    assert isinstance(info.value, AccessDeniedError)
    assert_one_clear_line(info.value, read_only_token)
    assert "HashiCorp Vault denied write on 'app/db'" in str(info.value)


def test_approle_login_and_bad_secret_id(openbao: OpenBao, make_env: Callable[[str], Env], tmp_path: Path) -> None:
    """AppRole credentials log in; a wrong secret id is a credentials error naming the settings."""
    import hvac

    root = hvac.Client(url=openbao.url, token=openbao.root_token)
    root.sys.create_or_update_policy(
        "leakvault-app", 'path "secret/*" { capabilities = ["create", "read", "update", "delete", "list"] }'
    )
    root.auth.approle.create_or_update_approle("leakvault-app", token_policies=["leakvault-app"], token_ttl="10m")
    role_id = root.auth.approle.read_role_id("leakvault-app")["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id("leakvault-app")["data"]["secret_id"]
    env = make_env("hashicorp")
    del env["MAHAVISHNU_SECRETS__HASHICORP__TOKEN"]
    env["MAHAVISHNU_SECRETS__HASHICORP__ROLE_ID"] = role_id
    env["MAHAVISHNU_SECRETS__HASHICORP__SECRET_ID"] = secret_id
    backend = open_backend(env, tmp_path)
    try:
        backend.write("via/approle", b"ok")
        assert backend.read("via/approle").value == b"ok"
    finally:
        backend.close()
    env["MAHAVISHNU_SECRETS__HASHICORP__SECRET_ID"] = "00000000-1111-2222-3333-444444444444"
    with pytest.raises(BackendAuthError) as info:
        open_backend(env, tmp_path)
    assert_one_clear_line(info.value, secret_id, "00000000-1111-2222-3333-444444444444")
    assert "ROLE_ID" in str(info.value)


# -- credentials and policies: AWS (moto with IAM authentication on) ---------------------------------


@pytest.fixture(scope="module")
def moto_iam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Moto, dict[str, str]]]:
    """A second moto server that enforces IAM after the four set-up calls below."""
    import boto3

    with run_moto(tmp_path_factory.mktemp("moto-iam"), unauthenticated_actions=4) as server:
        iam = boto3.client("iam", endpoint_url=server.url, region_name="us-east-1")
        iam.create_user(UserName="reader")
        document = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        "secretsmanager:GetSecretValue",
                        "secretsmanager:DescribeSecret",
                        "secretsmanager:ListSecretVersionIds",
                        "secretsmanager:ListSecrets",
                    ],
                    "Resource": "*",
                }
            ],
        }
        policy = iam.create_policy(PolicyName="reader", PolicyDocument=json.dumps(document))
        iam.attach_user_policy(UserName="reader", PolicyArn=policy["Policy"]["Arn"])
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        yield server, {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def test_aws_unknown_credentials(
    moto_iam: tuple[Moto, dict[str, str]],
    make_env: Callable[[str], Env],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Access keys AWS does not know are a credentials error."""
    server, _keys = moto_iam
    env = make_env("aws")
    env["MAHAVISHNU_SECRETS__AWS__ENDPOINT_URL"] = server.url
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7UNKNOWN")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-key")
    with pytest.raises(BackendAuthError) as info:
        first_use(env, tmp_path)
    assert_one_clear_line(info.value, "not-a-key")


def test_aws_policy_denies(
    moto_iam: tuple[Moto, dict[str, str]],
    make_env: Callable[[str], Env],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A user allowed to read but not write gets an AccessDeniedError on write; reads still work."""
    server, keys = moto_iam
    env = make_env("aws")
    env["MAHAVISHNU_SECRETS__AWS__ENDPOINT_URL"] = server.url
    for name, value in keys.items():
        monkeypatch.setenv(name, value)
    backend = open_backend(env, tmp_path)
    try:
        with pytest.raises(SecretNotFoundError):
            backend.read("app/db")
        with pytest.raises(BackendDeniedError) as info:
            backend.write("app/db", b"v1")
    finally:
        backend.close()
    assert isinstance(info.value, AccessDeniedError)
    assert_one_clear_line(info.value, keys["AWS_SECRET_ACCESS_KEY"])


# -- credentials and policies: the stand-ins ------------------------------------------------------------


def test_azure_wrong_and_denied_token(
    azure_standin: AzureStandin, make_env: Callable[[str], Env], tmp_path: Path
) -> None:
    """Azure: an unknown bearer token is a credentials error; a token without rights is a denial."""
    env = make_env("azure")
    env["MAHAVISHNU_SECRETS__AZURE__TOKEN"] = "unknown-token-abc"
    with pytest.raises(BackendAuthError) as auth:
        first_use(env, tmp_path)
    assert_one_clear_line(auth.value, "unknown-token-abc")
    azure_standin.denied_tokens.add("denied-token-xyz")
    env["MAHAVISHNU_SECRETS__AZURE__TOKEN"] = "denied-token-xyz"
    with pytest.raises(BackendDeniedError) as denied:
        first_use(env, tmp_path)
    assert_one_clear_line(denied.value, "denied-token-xyz")


def test_gcp_wrong_and_denied_token(gcp_standin: GcpStandin, make_env: Callable[[str], Env], tmp_path: Path) -> None:
    """GCP: an unknown access token is a credentials error; a token without rights is a denial."""
    env = make_env("gcp")
    del env["MAHAVISHNU_SECRETS__GCP__ANONYMOUS"]
    env["MAHAVISHNU_SECRETS__GCP__TOKEN"] = "ya29.unknown-token"
    with pytest.raises(BackendAuthError) as auth:
        first_use(env, tmp_path)
    assert_one_clear_line(auth.value, "ya29.unknown-token")
    gcp_standin.denied_tokens.add("ya29.denied-token")
    env["MAHAVISHNU_SECRETS__GCP__TOKEN"] = "ya29.denied-token"
    with pytest.raises(BackendDeniedError) as denied:
        first_use(env, tmp_path)
    assert_one_clear_line(denied.value, "ya29.denied-token")


# -- throttling -----------------------------------------------------------------------------------


def _throttling_switch(name: str, request: pytest.FixtureRequest, env: Env) -> Iterator[Callable[[int], int]]:
    """Yield a function: fail the next N requests with the service's throttling answer -> requests seen."""
    if name in ("azure", "gcp"):
        server: AzureStandin | GcpStandin = request.getfixturevalue(f"{name}_standin")

        def fail(count: int) -> int:
            before = server.requests_served
            server.inject_faults(429, count)
            return before

        try:
            yield fail
        finally:  # the stand-ins live for the whole session: leave no fault queued for other tests
            server.clear_faults()
        return
    upstream = env[ADDRESS[name]]
    fault: Fault = AWS_THROTTLED if name == "aws" else VAULT_RATE_LIMITED
    with fault_proxy(upstream) as proxy:
        env[ADDRESS[name]] = proxy.url

        def fail_proxy(count: int) -> int:
            proxy.fail_next(fault, count)
            return 0

        yield fail_proxy


@pytest.mark.parametrize("name", ["hashicorp", "aws", "azure", "gcp"])
def test_throttling_is_retried_then_bounded(
    name: str, request: pytest.FixtureRequest, make_env: Callable[[str], Env], tmp_path: Path
) -> None:
    """Throttled requests are retried with back-off; past the bound the error says so, quickly."""
    env = make_env(name)
    env[f"MAHAVISHNU_SECRETS__{name.upper()}__MAX_RETRIES"] = "3"
    env[f"MAHAVISHNU_SECRETS__{name.upper()}__RETRY_BASE_DELAY"] = "0.01"
    switch = _throttling_switch(name, request, env)
    fail = next(switch)
    backend = open_backend(env, tmp_path)
    try:
        backend.write("app/db", b"v1")
        fail(3)  # three throttled answers, three retries: the read still succeeds
        assert backend.read("app/db").value == b"v1"
        fail(50)
        started = time.monotonic()
        with pytest.raises(BackendThrottledError) as info:
            backend.read("app/db")
        assert time.monotonic() - started < 5
        assert_one_clear_line(info.value)
        assert "4 times" in str(info.value)  # the first try and three retries, then it stops
    finally:
        backend.close()
        switch.close()


def test_every_service_error_is_a_leakvault_error() -> None:
    """All four failure kinds are LeakvaultErrors, so the CLI prints one line and exits 2."""
    for cls in (BackendUnreachableError, BackendAuthError, BackendDeniedError, BackendThrottledError):
        assert issubclass(cls, LeakvaultError)
        assert cls.exit_code == 2
