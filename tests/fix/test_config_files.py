"""Config data (YAML, TOML, JSON, INI, .properties) and .env files."""

from __future__ import annotations

import json
import random
import tomllib
from pathlib import Path

import yaml

from tests.fix.conftest import fake_token, only_file, plan_for


def test_yaml_plain_and_quoted_scalars(tmp_path: Path, rng: random.Random) -> None:
    """YAML values become ${NAME}; comments and layout stay; the data differs only by the placeholder."""
    a, b = fake_token(rng), fake_token(rng)
    text = f'# service config\nservice:\n  name: demo   # the name\n  token: {a}\n  refresh: "{b}"\n'
    fix = only_file(plan_for(tmp_path, {"config.yaml": (text, [a, b])}))
    assert fix.rewritten == (
        '# service config\nservice:\n  name: demo   # the name\n  token: ${TOKEN}\n  refresh: "${REFRESH}"\n'
    )
    assert yaml.safe_load(fix.rewritten) == {"service": {"name": "demo", "token": "${TOKEN}", "refresh": "${REFRESH}"}}
    assert fix.checked_by == "PyYAML"


def test_yaml_flow_mapping_that_would_break_is_left_untouched(tmp_path: Path, rng: random.Random) -> None:
    """A rewrite YAML cannot parse leaves the file as it was, with the reason."""
    token = fake_token(rng)
    text = f"auth: {{user: bot, token: {token}}}\n"
    plan = plan_for(tmp_path, {"flow.yml": (text, [token])})
    assert plan.files == ()
    assert plan.secrets == ()
    assert any(r.line == 0 and "left untouched" in r.reason and "PyYAML" in r.reason for r in plan.refusals)
    assert (tmp_path / "flow.yml").read_text(encoding="utf-8") == text


def test_github_workflow_uses_actions_secrets(tmp_path: Path, rng: random.Random) -> None:
    """A workflow gets the file's own templating, ${{ secrets.NAME }}."""
    token = fake_token(rng)
    text = f"on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    env:\n      GH_TOKEN: {token}\n"
    fix = only_file(plan_for(tmp_path, {".github/workflows/ci.yml": (text, [token])}))
    assert "      GH_TOKEN: ${{ secrets.GH_TOKEN }}\n" in fix.rewritten
    assert "gh secret set" in fix.sites[0].note


def test_compose_environment_list(tmp_path: Path, rng: random.Random) -> None:
    """docker-compose environment entries get ${NAME}, which compose reads from the environment."""
    token = fake_token(rng)
    text = f"services:\n  web:\n    image: demo\n    environment:\n      - GITHUB_TOKEN={token}\n"
    fix = only_file(plan_for(tmp_path, {"docker-compose.yml": (text, [token])}))
    assert "      - GITHUB_TOKEN=${GITHUB_TOKEN}\n" in fix.rewritten
    assert "docker compose" in fix.sites[0].note


def test_json_and_toml(tmp_path: Path, rng: random.Random) -> None:
    """JSON and TOML strings take ${NAME}; both still parse to the same structure."""
    a, b = fake_token(rng), fake_token(rng)
    json_text = f'{{\n  "oauth": {{"refresh_token": "{a}"}},\n  "debug": true\n}}\n'
    toml_text = f'[github]\napi_key = "{b}"  # comment\nretries = 3\n'
    plan = plan_for(tmp_path, {"settings.json": (json_text, [a]), "app.toml": (toml_text, [b])})
    by_path = {fix.path: fix for fix in plan.files}
    assert json.loads(by_path["settings.json"].rewritten) == {
        "oauth": {"refresh_token": "${REFRESH_TOKEN}"},
        "debug": True,
    }
    assert by_path["app.toml"].rewritten == '[github]\napi_key = "${API_KEY}"  # comment\nretries = 3\n'
    assert tomllib.loads(by_path["app.toml"].rewritten)["github"]["retries"] == 3


def test_npmrc_and_properties(tmp_path: Path, rng: random.Random) -> None:
    """.npmrc (keys without a section) and .properties use ${NAME}."""
    a, b = fake_token(rng, "gho_"), fake_token(rng)
    npmrc = f"registry=https://registry.example.test/\n//registry.example.test/:_authToken={a}\n"
    props = f"spring.datasource.url=jdbc:x\ngithub.token={b}\n"
    plan = plan_for(tmp_path, {".npmrc": (npmrc, [a]), "application.properties": (props, [b])})
    by_path = {fix.path: fix for fix in plan.files}
    assert by_path[".npmrc"].rewritten.endswith("/:_authToken=${AUTH_TOKEN}\n")
    assert by_path[".npmrc"].checked_by == "configparser"
    assert by_path["application.properties"].rewritten == "spring.datasource.url=jdbc:x\ngithub.token=${GITHUB_TOKEN}\n"


def test_dotenv_line_leaves_the_file(tmp_path: Path, rng: random.Random) -> None:
    """A .env assignment is removed whole; its key is the name and its unquoted value is stored."""
    token = fake_token(rng)
    text = f"# local settings\nDEBUG=1\nexport GH_TOKEN='{token}'  # personal\nPORT=8000\n"
    plan = plan_for(tmp_path, {".env": (text, [token])})
    fix = only_file(plan)
    assert fix.rewritten == "# local settings\nDEBUG=1\nPORT=8000\n"
    assert fix.sites[0].name == "GH_TOKEN"
    assert fix.sites[0].vault_path == f"{tmp_path.name}/env/GH_TOKEN"
    assert [secret.value for secret in plan.secrets] == [token]


def test_dotenv_partial_value_stores_the_whole_value(tmp_path: Path, rng: random.Random) -> None:
    """When the secret is part of a value, the program's variable holds the whole value, so the vault does too."""
    token = fake_token(rng)
    text = f'REPO_URL="https://bot:{token}@github.example.test/x.git"\n'
    plan = plan_for(tmp_path, {"prod.env": (text, [token])})
    assert only_file(plan).rewritten == ""
    assert [secret.value for secret in plan.secrets] == [f"https://bot:{token}@github.example.test/x.git"]


def test_dotenv_interpolation_is_refused(tmp_path: Path, rng: random.Random) -> None:
    """A value that refers to other variables is not guessed at."""
    token = fake_token(rng)
    plan = plan_for(tmp_path, {".env": (f'URL="https://${{HOST}}/{token}"\n', [token])})
    assert plan.files == ()
    assert "other variables" in plan.refusals[0].reason
