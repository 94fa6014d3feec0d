"""Backend selection and settings: each missing or bad setting is one line that names the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from leakvault.errors import ConfigError
from leakvault.vault.backends._names import AZURE_NAMES, GCP_NAMES
from leakvault.vault.backends._support import RetryPolicy, Section, crc32c, import_sdk, parse_time
from leakvault.vault.backends.errors import BackendNotInstalledError
from leakvault.vault.config import load_settings
from leakvault.vault.errors import InvalidPathError
from leakvault.vault.factory import open_vault

from ..helpers import cli_env, run_cli


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"MAHAVISHNU_SECRETS__BACKEND": "hashicorp"}, "MAHAVISHNU_SECRETS__HASHICORP__URL"),
        (
            {"MAHAVISHNU_SECRETS__BACKEND": "hashicorp", "MAHAVISHNU_SECRETS__HASHICORP__URL": "http://127.0.0.1:1"},
            "MAHAVISHNU_SECRETS__HASHICORP__TOKEN",
        ),
        ({"MAHAVISHNU_SECRETS__BACKEND": "transit"}, "MAHAVISHNU_SECRETS__HASHICORP__URL"),
        ({"MAHAVISHNU_SECRETS__BACKEND": "azure"}, "MAHAVISHNU_SECRETS__AZURE__VAULT_URL"),
        ({"MAHAVISHNU_SECRETS__BACKEND": "gcp"}, "MAHAVISHNU_SECRETS__GCP__PROJECT"),
        (
            {
                "MAHAVISHNU_SECRETS__BACKEND": "aws",
                "MAHAVISHNU_SECRETS__AWS__REGION": "eu-west-1",
                "MAHAVISHNU_SECRETS__AWS__MAX_RETRIES": "many",
            },
            "MAHAVISHNU_SECRETS__AWS__MAX_RETRIES",
        ),
        (
            {
                "MAHAVISHNU_SECRETS__BACKEND": "gcp",
                "MAHAVISHNU_SECRETS__GCP__PROJECT": "p",
                "MAHAVISHNU_SECRETS__GCP__ANONYMOUS": "maybe",
            },
            "MAHAVISHNU_SECRETS__GCP__ANONYMOUS",
        ),
    ],
)
def test_missing_or_bad_settings(env: dict[str, str], variable: str, tmp_path: Path) -> None:
    """The error names the variable to set; nothing is contacted."""
    with pytest.raises(ConfigError) as info:
        open_vault(load_settings(env, cwd=tmp_path))
    assert variable in str(info.value)
    assert "\n" not in str(info.value)


def test_aws_needs_a_region(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a region anywhere, the aws backend says which variable to set."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(ConfigError, match="MAHAVISHNU_SECRETS__AWS__REGION is not set"):
        open_vault(load_settings({"MAHAVISHNU_SECRETS__BACKEND": "aws"}, cwd=tmp_path))


def test_unknown_backend_via_cli(tmp_path: Path) -> None:
    """An unknown MAHAVISHNU_SECRETS__BACKEND lists the known ones, exit 2."""
    result = run_cli(["vault", "list"], cli_env(tmp_path, {"MAHAVISHNU_SECRETS__BACKEND": "keepass"}))
    assert result.returncode == 2
    message = result.stderr.decode().strip()
    assert "unknown vault backend 'keepass'" in message
    assert "aws, azure, gcp, hashicorp, local, transit" in message


@pytest.mark.parametrize(("section", "key"), [("hashicorp", "token"), ("hashicorp", "secret_id"), ("azure", "token")])
def test_credentials_refused_in_user_config(section: str, key: str, tmp_path: Path) -> None:
    """Tokens must come from the environment, never from a file (not even the user's own)."""
    config = tmp_path / "config.toml"
    config.write_text(f'[vault.{section}]\n{key} = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=f"MAHAVISHNU_SECRETS__{section.upper()}__{key.upper()}"):
        load_settings({}, cwd=tmp_path, user_config=config)


def test_settings_from_user_config(tmp_path: Path) -> None:
    """Non-secret backend settings may live in [vault.<backend>] of the user's config; the environment wins."""
    config = tmp_path / "config.toml"
    config.write_text(
        '[vault]\nbackend = "aws"\n[vault.aws]\nregion = "eu-central-1"\nprefix = "team"\n', encoding="utf-8"
    )
    settings = load_settings({"MAHAVISHNU_SECRETS__AWS__PREFIX": "prod/"}, cwd=tmp_path, user_config=config)
    section = Section("aws", settings.section("aws"))
    assert settings.backend == "aws"
    assert section.text("region") == "eu-central-1"
    assert section.prefix() == "prod/"


def test_missing_sdk_names_the_extra() -> None:
    """A backend whose SDK is not installed says which extra to install."""
    with pytest.raises(BackendNotInstalledError) as info:
        import_sdk("leakvault_no_such_sdk.client", backend="azure", package="azure-keyvault-secrets", extra="azure")
    assert str(info.value) == (
        "the 'azure' vault backend needs the 'azure-keyvault-secrets' package: pip install 'leakvault[azure]'"
    )


def test_retry_policy_is_bounded() -> None:
    """Back-off grows exponentially, is jittered, and never exceeds the cap."""
    policy = RetryPolicy(retries=10, base_delay=0.5)
    assert [policy.delay(n, rng=lambda: 1.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert policy.delay(3, rng=lambda: 0.25) == 1.0


def test_name_codecs_round_trip_and_reject() -> None:
    """Paths map to service names and back; foreign names that are not encodings are skipped."""
    for path in ("a", "prod/db-password", ".leakvault/pending/x_Y.z", "A/b--c"):
        assert GCP_NAMES.decode(GCP_NAMES.encode(path)) == path
        assert AZURE_NAMES.decode(AZURE_NAMES.encode(path)) == path
        assert AZURE_NAMES.decode(AZURE_NAMES.encode(path).upper()) == path  # Key Vault ignores case
    assert GCP_NAMES.encode("prod/db") == "prod--db"
    assert GCP_NAMES.decode("bad-x") is None
    assert AZURE_NAMES.decode("ends-with-dash-") is None
    with pytest.raises(InvalidPathError, match="too long for Azure Key Vault"):
        AZURE_NAMES.encode("A" * 100)


def test_crc32c_known_answer() -> None:
    """CRC-32C matches the standard check value (RFC 3720, appendix B.4)."""
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0


def test_parse_time_handles_nanoseconds() -> None:
    """RFC 3339 with nanoseconds (as Vault writes them) parses to an aware datetime."""
    parsed = parse_time("2026-11-29T02:02:10.829326275Z")
    assert (parsed.microsecond, parsed.utcoffset()) == (829326, parse_time("2026-01-01T00:00:00+00:00").utcoffset())
