"""AWS Secrets Manager specifics on a real moto server: rotation uses the native staging labels."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..helpers import cli_env, run_cli
from .conftest import Env, open_backend

# Run by `leakvault vault rotate --verify` while the new value is staged: it reads AWSPENDING
# straight from the service with boto3 and checks it is the value being verified.
CHECK_PENDING = (
    f'{sys.executable} -c "import boto3, os, sys; '
    "c = boto3.client('secretsmanager', endpoint_url=os.environ['MAHAVISHNU_SECRETS__AWS__ENDPOINT_URL'], "
    "region_name=os.environ['MAHAVISHNU_SECRETS__AWS__REGION']); "
    "v = c.get_secret_value(SecretId=os.environ['SECRET_NAME'], VersionStage='AWSPENDING')['SecretString']; "
    "sys.exit(0 if v == os.environ['LEAKVAULT_SECRET'] else 3)\""
)


def _stages(env: Env, name: str) -> dict[str, list[str]]:
    import boto3

    client: Any = boto3.client(
        "secretsmanager",
        endpoint_url=env["MAHAVISHNU_SECRETS__AWS__ENDPOINT_URL"],
        region_name=env["MAHAVISHNU_SECRETS__AWS__REGION"],
    )
    versions = client.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]
    return {v["VersionId"]: sorted(v.get("VersionStages") or []) for v in versions if v.get("VersionStages")}


def test_rotation_maps_onto_aws_staging_labels(make_env: Callable[[str], Env], tmp_path: Path) -> None:
    """While verifying, the candidate is AWSPENDING; on success it is AWSCURRENT and the old one AWSPREVIOUS."""
    env = make_env("aws")
    name = env["MAHAVISHNU_SECRETS__AWS__PREFIX"] + "app/db"
    process_env = cli_env(tmp_path, {**env, "SECRET_NAME": name})
    assert run_cli(["vault", "set", "app/db", "-"], process_env, input=b"initial").returncode == 0
    rotated = run_cli(["vault", "rotate", "app/db", "--generator", "token:16", "--verify", CHECK_PENDING], process_env)
    assert rotated.returncode == 0, rotated.stderr.decode()
    assert _stages(env, name) == {
        "leakvault-v000000000000000000001": ["AWSPREVIOUS"],
        "leakvault-v000000000000000000002": ["AWSCURRENT"],
    }
    backend = open_backend(env, tmp_path)
    try:
        assert backend.read("app/db", 1).value == b"initial"
        assert len(backend.read("app/db").value) == 32  # 16 random bytes, hex
        assert not backend.metadata("app/db").has_pending
    finally:
        backend.close()


def test_failed_verification_leaves_awscurrent_alone(make_env: Callable[[str], Env], tmp_path: Path) -> None:
    """A rejected candidate loses its AWSPENDING label; AWSCURRENT never moved."""
    env = make_env("aws")
    name = env["MAHAVISHNU_SECRETS__AWS__PREFIX"] + "app/db"
    process_env = cli_env(tmp_path, {**env, "SECRET_NAME": name})
    assert run_cli(["vault", "set", "app/db", "-"], process_env, input=b"initial").returncode == 0
    rotated = run_cli(["vault", "rotate", "app/db", "--generator", "token:16", "--verify", "false"], process_env)
    assert rotated.returncode != 0
    stages = _stages(env, name)
    assert stages["leakvault-v000000000000000000001"] == ["AWSCURRENT"]
    assert not any("AWSPENDING" in labels for labels in stages.values())
