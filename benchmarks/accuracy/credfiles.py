"""Files whose only job is to hold credentials, in the layout the owning tool writes them:
``.npmrc``, ``.pypirc``, ``~/.aws/credentials``, ``.netrc``, ``.git-credentials``,
``~/.docker/config.json``. Each builder takes the plants it can hold and returns the file."""

from __future__ import annotations

import json
import random
from collections.abc import Callable

from benchmarks.accuracy.model import Plant, Rendered

CredFile = tuple[str, list[Rendered | str]]  # path, lines and rendered plants in order
Builder = Callable[[list[Plant], random.Random, int], CredFile]


def npmrc(plants: list[Plant], rng: random.Random, n: int) -> CredFile:
    parts: list[Rendered | str] = ["registry=https://registry.npmjs.org/", "@acme:registry=https://npm.pkg.github.com"]
    for plant in plants:
        host = "registry.npmjs.org" if plant.kind == "npm-token" else "npm.pkg.github.com"
        parts.append(Rendered.at([f"//{host}/:_authToken={plant.value}"], 0))
    return f"web/pkg{n}/.npmrc", parts


def pypirc(plants: list[Plant], rng: random.Random, n: int) -> CredFile:
    parts: list[Rendered | str] = ["[distutils]", "index-servers =", "    pypi", "", "[pypi]", "username = __token__"]
    for plant in plants:
        parts.append(Rendered.at([f"password = {plant.value}"], 0))
    return f"release/pkg{n}/.pypirc", parts


def aws_credentials(plants: list[Plant], rng: random.Random, n: int) -> CredFile:
    parts: list[Rendered | str] = []
    profiles = iter(["default", "prod", "deploy", "ci", "legacy"])
    for plant in plants:
        if plant.kind.endswith("access-key-id") or not parts:
            parts += ["", f"[{next(profiles)}]", "region = eu-west-1"]
        key = {
            "aws-access-key-id": "aws_access_key_id",
            "aws-temp-access-key-id": "aws_access_key_id",
            "aws-secret-access-key": "aws_secret_access_key",
            "aws-session-token": "aws_session_token",
        }[plant.kind]
        parts.append(Rendered.at([f"{key} = {plant.value}"], 0))
    return f"ops/aws/profile{n}/credentials", parts


def netrc(plants: list[Plant], rng: random.Random, n: int) -> CredFile:
    parts: list[Rendered | str] = []
    for plant in plants:
        host = "api.heroku.com" if plant.kind.startswith("heroku") else "git.acme.io"
        parts.append(Rendered.at([f"machine {host} login ci@acme.io password {plant.value}"], 0))
    return f"ops/home{n}/.netrc", parts


def git_credentials(plants: list[Plant], rng: random.Random, n: int) -> CredFile:
    parts: list[Rendered | str] = []
    for plant in plants:
        host = "gitlab.com" if plant.kind.startswith("gitlab") else "github.com"
        parts.append(Rendered.at([f"https://ci-bot:{plant.value}@{host}"], 0))
    return f"ops/home{n}/.git-credentials", parts


def docker_config(plants: list[Plant], rng: random.Random, n: int) -> CredFile:
    parts: list[Rendered | str] = ["{", '  "auths": {']
    for index, plant in enumerate(plants):
        host = ["https://index.docker.io/v1/", "registry.acme.io", "ghcr.io"][index % 3]
        comma = "," if index < len(plants) - 1 else ""
        parts.append(
            Rendered.at([f"    {json.dumps(host)}: {{", f'      "auth": "{plant.value}"', f"    }}{comma}"], 1)
        )
    parts += ["  }", "}"]
    return f"ops/home{n}/.docker/config.json", parts


# kind -> the credential file it is naturally found in
HOMES: dict[str, Builder] = {
    "npm-token": npmrc,
    "pypi-token": pypirc,
    "aws-access-key-id": aws_credentials,
    "aws-secret-access-key": aws_credentials,
    "aws-session-token": aws_credentials,
    "heroku-api-key-legacy": netrc,
    "github-pat": git_credentials,
    "gitlab-pat": git_credentials,
    "docker-config-auth": docker_config,
}
