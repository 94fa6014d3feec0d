"""scan --fix end to end: a real git repository, a real vault, the CLI as subprocesses, leakvault run."""

from __future__ import annotations

import ast
import json
import os
import random
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.fix.conftest import fake_token
from tests.scanner.gitrepo import GitRepo

Run = Callable[..., subprocess.CompletedProcess[str]]

APP = '''"""Demo service."""
import json
import os

GITHUB_TOKEN = "{t_py}"
HEADERS = {{"Authorization": "token {t_header}"}}

if __name__ == "__main__":
    deploy = os.environ.get("GH_DEPLOY")
    print(json.dumps({{"token": GITHUB_TOKEN, "auth": HEADERS["Authorization"], "dotenv": deploy}}))
'''
CLIENT = """// API client
const apiToken = '{t_js}';
module.exports = {{ apiToken, auth: `Bearer {t_header}` }};
if (require.main === module) console.log(JSON.stringify(module.exports));
"""
CONFIG = "service:\n  name: demo\n  refresh_token: {t_yaml}\n"
SETTINGS = '{{\n  "oauth": {{"client_token": "{t_json}"}},\n  "debug": true\n}}\n'
DOTENV = "DEBUG=1\nGH_DEPLOY={t_env}\n"
DOCKERFILE = 'FROM python:3.12-slim\nENV APP_TOKEN={t_docker}\nCOPY . /app\nCMD ["python", "/app/app.py"]\n'
BROKEN = "auth: {{user: bot, token: {t_broken}}}\n"  # a flow mapping: ${NAME} inside it is not YAML


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


@pytest.mark.slow
def test_scan_fix_end_to_end(tmp_path: Path, rng: random.Random, run_cli: Run, vault_env: dict[str, str]) -> None:
    """Plan writes nothing; apply stores, rewrites and maps; the program gets its values; apply again is a no-op."""
    tokens = {
        "t_py": fake_token(rng),
        "t_header": fake_token(rng),
        "t_js": fake_token(rng, "gho_"),
        "t_yaml": fake_token(rng, "ghr_"),
        "t_json": fake_token(rng, "ghu_"),
        "t_env": fake_token(rng),
        "t_docker": fake_token(rng, "ghs_"),
        "t_broken": fake_token(rng),
    }
    repo = GitRepo(tmp_path / "shop")
    sources = {
        "app.py": APP,
        "web/client.js": CLIENT,
        "config.yaml": CONFIG,
        "settings.json": SETTINGS,
        ".env": DOTENV,
        "Dockerfile": DOCKERFILE,
        "broken.yml": BROKEN,
    }
    for name, template in sources.items():
        repo.write(name, template.format(**tokens))
    introduced = repo.commit("first version, with secrets")
    before = subprocess.run(
        [sys.executable, "app.py"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "GH_DEPLOY": tokens["t_env"]},
    ).stdout
    assert run_cli("vault", "init", env=vault_env).returncode == 0

    # 1. The plan: a diff, nothing written, no secret shown.
    original = snapshot(repo.path)
    plan = run_cli("scan", "--fix", ".", cwd=repo.path, env=vault_env)
    assert plan.returncode == 1, plan.stderr
    for name in ("app.py", "web/client.js", "config.yaml", "settings.json", ".env", "Dockerfile"):
        assert f"+++ b/{name}\n" in plan.stdout
    assert "broken.yml: left untouched: PyYAML cannot parse the rewritten file" in plan.stdout
    assert not any(token in plan.stdout + plan.stderr for token in tokens.values())
    assert snapshot(repo.path) == original
    listed = run_cli("vault", "list", env=vault_env)
    assert listed.returncode == 0 and listed.stdout.strip() == ""

    # 2. Apply.
    applied = run_cli("scan", "--fix", "--apply", ".", cwd=repo.path, env=vault_env)
    assert applied.returncode == 1, applied.stderr  # broken.yml still holds its secret
    assert not any(token in applied.stdout + applied.stderr for token in tokens.values())
    assert "6 file(s) rewritten" in applied.stdout
    assert "already in git history" in applied.stdout and introduced[:12] in applied.stdout
    assert "leakvault vault rotate shop/app/GITHUB_TOKEN" in applied.stdout

    # 3. Files rewritten, still parse; the broken one untouched.
    files = snapshot(repo.path)
    app = files["app.py"].decode()
    ast.parse(app)
    assert 'GITHUB_TOKEN = os.environ["GITHUB_TOKEN"]' in app
    assert json.loads(files["settings.json"]) == {"oauth": {"client_token": "${CLIENT_TOKEN}"}, "debug": True}
    assert yaml.safe_load(files["config.yaml"]) == {"service": {"name": "demo", "refresh_token": "${REFRESH_TOKEN}"}}
    assert files[".env"] == b"DEBUG=1\n"
    assert b"ARG APP_TOKEN\n" in files["Dockerfile"] and tokens["t_docker"].encode() not in files["Dockerfile"]
    assert b"process.env.API_TOKEN" in files["web/client.js"]
    if shutil.which("node"):
        subprocess.run(["node", "--check", "web/client.js"], cwd=repo.path, check=True)
    assert files["broken.yml"] == original["broken.yml"]
    mapping = tomllib.loads(files[".leakvault/env.toml"].decode())
    assert mapping["GH_DEPLOY"] == "shop/env/GH_DEPLOY" and mapping["GITHUB_TOKEN"] == "shop/app/GITHUB_TOKEN"
    assert run_cli("vault", "get", "shop/env/GH_DEPLOY", env=vault_env).stdout.strip() == tokens["t_env"]

    # 4. A scan afterwards reports only the file that could not be fixed.
    rescan = run_cli("scan", "--format", "json", ".", cwd=repo.path, env=vault_env)
    reported = {finding["path"] for finding in json.loads(rescan.stdout)["findings"]}
    assert reported == {"broken.yml"}, rescan.stdout

    # 5. The program gets the original values from the vault.
    ran = run_cli(
        "run",
        "--map",
        ".leakvault/env.toml",
        "--",
        sys.executable,
        "app.py",
        cwd=repo.path,
        env=vault_env,
    )
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == json.loads(before)
    if shutil.which("node"):
        js = run_cli("run", "--map", ".leakvault/env.toml", "--", "node", "web/client.js", cwd=repo.path, env=vault_env)
        assert json.loads(js.stdout) == {"apiToken": tokens["t_js"], "auth": f"Bearer {tokens['t_header']}"}

    # 6. Apply again: nothing changes, in the files or in the vault.
    versions = run_cli("vault", "history", "shop/app/GITHUB_TOKEN", env=vault_env).stdout
    again = run_cli("scan", "--fix", "--apply", ".", cwd=repo.path, env=vault_env)
    assert again.returncode == 1, again.stderr
    assert "0 value(s) stored" in again.stdout and "0 file(s) rewritten" in again.stdout
    assert snapshot(repo.path) == files
    assert run_cli("vault", "history", "shop/app/GITHUB_TOKEN", env=vault_env).stdout == versions


def test_apply_needs_fix_and_text_format(run_cli: Run, tmp_path: Path) -> None:
    """--apply alone and --fix with another format are usage errors (exit 2, one line)."""
    (tmp_path / "a.txt").write_text("nothing\n")
    alone = run_cli("scan", "--apply", ".")
    assert alone.returncode == 2 and "--apply goes with --fix" in alone.stderr
    fmt = run_cli("scan", "--fix", "--format", "json", ".")
    assert fmt.returncode == 2 and "drop --format" in fmt.stderr


def test_plan_with_nothing_to_fix_exits_zero(run_cli: Run, tmp_path: Path) -> None:
    """A clean tree plans nothing and exits 0."""
    (tmp_path / "a.py").write_text("X = 1\n")
    result = run_cli("scan", "--fix", ".")
    assert result.returncode == 0 and "Nothing to fix." in result.stdout


def test_apply_with_nothing_to_fix_needs_no_vault(run_cli: Run, tmp_path: Path) -> None:
    """--apply on a clean tree exits 0 without asking for a vault key."""
    (tmp_path / "a.py").write_text("X = 1\n")
    result = run_cli(
        "scan", "--fix", "--apply", ".", env={"MAHAVISHNU_SECRETS__LOCAL__PATH": str(tmp_path / "none.db")}
    )
    assert result.returncode == 0 and "Nothing to fix." in result.stdout, result.stderr


def test_apply_without_a_vault_key_is_a_one_line_error(run_cli: Run, tmp_path: Path, rng: random.Random) -> None:
    """Findings to fix but no vault: exit 2, one line, nothing written."""
    token = fake_token(rng)
    (tmp_path / "app.py").write_text(f'TOKEN = "{token}"\n')
    result = run_cli(
        "scan", "--fix", "--apply", ".", env={"MAHAVISHNU_SECRETS__LOCAL__PATH": str(tmp_path / "none.db")}
    )
    assert result.returncode == 2 and result.stderr.startswith("leakvault: error: ")
    assert len(result.stderr.strip().splitlines()) == 1 and token not in result.stderr
    assert (tmp_path / "app.py").read_text() == f'TOKEN = "{token}"\n'


def test_apply_killed_mid_write_loses_nothing(
    tmp_path: Path, rng: random.Random, run_cli: Run, vault_env: dict[str, str], vault: object
) -> None:
    """--apply SIGKILLed just before a rewritten file takes the original's place leaves every file
    as it was (the values already safe in the vault); running it again finishes the job cleanly."""
    crash = Path(__file__).parents[1] / "vault" / "_crash.py"
    repo = tmp_path / "repo"
    repo.mkdir()
    a, b = fake_token(rng), fake_token(rng)
    (repo / "app.py").write_text(f'GITHUB_TOKEN = "{a}"\n')
    (repo / "worker.py").write_text(f'import os\n\nDEPLOY_TOKEN = "{b}"\n')
    before = snapshot(repo)
    killed = subprocess.run(
        [sys.executable, str(crash), "2", "scan", "--fix", "--apply", "."],  # 1: the mapping, 2: a file
        cwd=repo,
        env={**os.environ, **vault_env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -9, killed.stderr
    after = snapshot(repo)
    assert {name: after[name] for name in before} == before
    new = {name for name in after if name not in before}
    (leftover,) = new - {".leakvault/env.toml"}  # the mapping came first; one rename was cut short
    assert leftover.endswith(".leakvault-tmp") and a not in (repo / leftover).read_text()  # rewritten text
    again = run_cli("scan", "--fix", "--apply", ".", cwd=repo, env=vault_env)
    assert again.returncode == 0, again.stdout + again.stderr
    done = snapshot(repo)
    assert not [name for name in done if name.endswith(".leakvault-tmp")]
    assert done["app.py"] == b'import os\n\nGITHUB_TOKEN = os.environ["GITHUB_TOKEN"]\n'
    assert done["worker.py"] == b'import os\n\nDEPLOY_TOKEN = os.environ["DEPLOY_TOKEN"]\n'
    shown = run_cli(
        "run",
        "--map",
        ".leakvault/env.toml",
        "--",
        sys.executable,
        "-c",
        "import os; print(os.environ['GITHUB_TOKEN'], os.environ['DEPLOY_TOKEN'])",
        cwd=repo,
        env=vault_env,
    )
    assert shown.stdout.split() == [a, b], shown.stderr


def test_bad_mapping_file_and_non_utf8_source(run_cli: Run, tmp_path: Path, rng: random.Random) -> None:
    """A mapping file that is not UTF-8 is one line and exit 2; a source file that is not UTF-8 is
    left alone with a reason; nothing is written."""
    token, other = fake_token(rng), fake_token(rng)
    (tmp_path / "app.py").write_text(f'GITHUB_TOKEN = "{token}"\n')
    latin1 = f'# caf\xe9\nOTHER_TOKEN = "{other}"\n'.encode("latin-1")
    (tmp_path / "old.py").write_bytes(latin1)
    (tmp_path / ".leakvault").mkdir()
    (tmp_path / ".leakvault" / "env.toml").write_bytes(b'X = "caf\xe9"\n')
    bad = run_cli("scan", "--fix", ".")
    assert bad.returncode == 2 and bad.stderr.startswith("leakvault: error: ") and bad.stderr.count("\n") == 1
    assert "env.toml is not UTF-8 text" in bad.stderr
    (tmp_path / ".leakvault" / "env.toml").unlink()
    plan = run_cli("scan", "--fix", ".")
    assert plan.returncode == 1, plan.stderr
    assert "old.py:2 github-pat: not UTF-8 text" in plan.stdout
    assert (tmp_path / "old.py").read_bytes() == latin1
    assert (tmp_path / "app.py").read_text() == f'GITHUB_TOKEN = "{token}"\n'
