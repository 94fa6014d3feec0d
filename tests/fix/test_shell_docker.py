"""Shell scripts ("${NAME}", quoted to fit) and Dockerfiles (build args instead of baked values)."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fix.conftest import fake_token, only_file, plan_for


def test_shell_quoting_in_each_context(tmp_path: Path, rng: random.Random) -> None:
    """Unquoted, double-quoted and single-quoted secrets each get the quoting that expands the variable."""
    a, b, c, d = (fake_token(rng) for _ in range(4))
    text = (
        "#!/bin/sh\nset -eu\n"
        f"export GITHUB_TOKEN={a}\n"
        f'curl -H "Authorization: token {b}" https://api.example.test\n'
        f"git push 'https://bot:{c}@example.test/r.git'\n"
        f"deploy --token '{d}'\n"
    )
    fix = only_file(plan_for(tmp_path, {"deploy.sh": (text, [a, b, c, d])}))
    assert fix.rewritten == (
        "#!/bin/sh\nset -eu\n"
        'export GITHUB_TOKEN="${GITHUB_TOKEN}"\n'
        'curl -H "Authorization: token ${AUTHORIZATION}" https://api.example.test\n'
        "git push 'https://bot:'\"${GITHUB_PAT}\"'@example.test/r.git'\n"
        'deploy --token "${TOKEN}"\n'
    )
    if shutil.which("bash"):
        assert fix.checked_by == "bash -n"


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_rewritten_script_expands_to_the_original_words(tmp_path: Path, rng: random.Random) -> None:
    """Run under bash with the variables set, the script prints exactly what it printed before."""
    a, b = fake_token(rng), fake_token(rng)
    text = f"echo 'url=https://x:{a}@h/' \"h={b}\" raw={a} 'end={b}' '{a}.start'\n"
    plan = plan_for(tmp_path, {"show.sh": (text, [a, b])})
    fix = only_file(plan)
    assert "''" not in fix.rewritten  # no empty quote pairs left behind
    env = {"PATH": os.environ["PATH"]}
    values = {secret.name: secret.value for secret in plan.secrets}
    before = subprocess.run(["bash", "-c", text], capture_output=True, text=True, env=env, check=True).stdout
    after = subprocess.run(
        ["bash", "-c", fix.rewritten], capture_output=True, text=True, env={**env, **values}, check=True
    )
    assert len(values) == 2 and len(fix.sites) == 5 and after.stdout == before


def test_shell_comment_and_quoted_heredoc_are_refused(tmp_path: Path, rng: random.Random) -> None:
    """Nothing expands in a comment or a quoted here-document, so those are left alone."""
    a, b = fake_token(rng), fake_token(rng)
    text = f"# token {a}\ncat <<'EOF'\n{b}\nEOF\n"
    plan = plan_for(tmp_path, {"x.sh": (text, [a, b])})
    assert plan.files == ()
    reasons = sorted(refusal.reason for refusal in plan.refusals)
    assert "comment" in reasons[0] and "here-document" in reasons[1]


def test_dockerfile_env_arg_and_run(tmp_path: Path, rng: random.Random) -> None:
    """ENV and ARG values become bare build arguments; RUN uses ${NAME} with an ARG declared first."""
    a, b, c = fake_token(rng), fake_token(rng), fake_token(rng)
    text = (
        "FROM python:3.12-slim AS base\n"
        f"ENV APP_TOKEN={a}\n"
        f"ARG PIP_TOKEN={b}\n"
        f'RUN curl -fsS -H "Authorization: token {c}" https://api.example.test/user \\\n'
        "    && echo done\n"
        'CMD ["python", "app.py"]\n'
    )
    fix = only_file(plan_for(tmp_path, {"Dockerfile": (text, [a, b, c])}))
    assert fix.rewritten == (
        "FROM python:3.12-slim AS base\n"
        "ARG APP_TOKEN\n"
        "ARG PIP_TOKEN\n"
        "ARG AUTHORIZATION\n"
        'RUN curl -fsS -H "Authorization: token ${AUTHORIZATION}" https://api.example.test/user \\\n'
        "    && echo done\n"
        'CMD ["python", "app.py"]\n'
    )
    notes = {site.name: site.note for site in fix.sites}
    assert "docker run -e APP_TOKEN" in notes["APP_TOKEN"]
    assert "--build-arg AUTHORIZATION" in notes["AUTHORIZATION"]


def test_dockerfile_refuses_what_cannot_take_a_build_arg(tmp_path: Path, rng: random.Random) -> None:
    """Exec-form RUN and CMD are refused with a reason."""
    a, b = fake_token(rng), fake_token(rng)
    text = f'FROM alpine\nRUN ["wget", "--header=token {a}", "https://x"]\nCMD ["app", "--token", "{b}"]\n'
    plan = plan_for(tmp_path, {"Containerfile": (text, [a, b])})
    assert plan.files == ()
    reasons = [refusal.reason for refusal in plan.refusals]
    assert "exec-form" in reasons[0] and "CMD" in reasons[1]
