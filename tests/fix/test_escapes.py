"""Escape sequences: the vault must hold the value the program saw, never the literal's source text.

A PEM key written as "-----BEGIN ...\\nMII...\\n-----END ..." in code holds newlines; storing the
backslashes instead would hand the program a different key after the fix.
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fix.conftest import fake_token, only_file, plan_for


def _pem_source() -> str:
    """A PEM-shaped private key as one source line with \\n escapes (random body, nobody's key)."""
    body = base64.b64encode(os.urandom(180)).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN RSA PRIVATE KEY-----\\n" + "\\n".join(lines) + "\\n-----END RSA PRIVATE KEY-----"


def _python_value(path: Path, name: str) -> str:
    """What the original Python program holds in `name`, by running it."""
    code = f"import runpy, json; print(json.dumps(runpy.run_path({str(path)!r})[{name!r}]))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    value: str = json.loads(result.stdout)
    return value


def test_python_whole_literal_stores_the_decoded_value(tmp_path: Path) -> None:
    """A whole Python literal with escapes is stored as the string Python builds from it."""
    pem = _pem_source()
    text = f'PRIVATE_KEY = "{pem}"\n'
    plan = plan_for(tmp_path, {"keys.py": (text, [pem])})
    assert only_file(plan).rewritten == 'import os\n\nPRIVATE_KEY = os.environ["PRIVATE_KEY"]\n'
    (stored,) = plan.secrets
    assert stored.value == _python_value(tmp_path / "keys.py", "PRIVATE_KEY")
    assert "\n" in stored.value and "\\n" not in stored.value


def test_python_split_literal_with_escapes(tmp_path: Path, rng: random.Random) -> None:
    """Escapes before, inside and after the secret each stay where they mean the same thing."""
    token = fake_token(rng)
    secret = token[:10] + "\\t" + token[10:]
    text = f"HEADER = 'x\\tBearer {secret}\\n'\n"
    plan = plan_for(tmp_path, {"h.py": (text, [secret])})
    fix = only_file(plan)
    assert fix.rewritten == "import os\n\nHEADER = 'x\\tBearer ' + os.environ[\"HEADER\"] + '\\n'\n"
    assert plan.secrets[0].value == token[:10] + "\t" + token[10:]
    assert "x\tBearer " + plan.secrets[0].value + "\n" == _python_value(tmp_path / "h.py", "HEADER")


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("abc\\u0041\\x42\\u{43}\\\\d\\'e\\\"", "abcABC\\d'e\""),
        ("line\\nbreak\\ttab", "line\nbreak\ttab"),
    ],
    ids=["codes-and-quotes", "controls"],
)
def test_javascript_escapes_are_decoded(tmp_path: Path, rng: random.Random, source: str, value: str) -> None:
    """JavaScript string escapes are decoded for the vault, in plain and in template literals."""
    token = fake_token(rng)
    secret = token + source
    text = f'const apiToken = "{secret}";\nconst url = `x/{secret}/y`;\n'
    plan = plan_for(tmp_path, {"a.js": (text, [secret])})
    fix = only_file(plan)
    assert fix.rewritten == "const apiToken = process.env.API_TOKEN;\nconst url = `x/${process.env.API_TOKEN}/y`;\n"
    assert [s.value for s in plan.secrets] == [token + value]
    if shutil.which("node"):
        shown = subprocess.run(
            ["node", "-e", text + "console.log(JSON.stringify([apiToken, url]))"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        assert json.loads(shown.stdout) == [token + value, f"x/{token + value}/y"]


def test_escapes_that_are_not_certain_are_refused(tmp_path: Path, rng: random.Random) -> None:
    """Octal, \\0, \\a, surrogate halves and bytes past ASCII are left alone with a reason."""
    tokens = [fake_token(rng) for _ in range(4)]
    secrets = [tokens[0] + "\\0", tokens[1] + "\\a", tokens[2] + "\\uD83D", tokens[3] + "\\xff"]
    text = "".join(f'const t{i} = "{secret}";\n' for i, secret in enumerate(secrets))
    plan = plan_for(tmp_path, {"b.js": (text, secrets)})
    assert plan.files == ()
    assert [r.reason for r in plan.refusals] == [
        "the secret holds an escape sequence leakvault cannot decode for certain; move it by hand"
    ] * 4


def test_go_interpreted_and_raw_strings(tmp_path: Path, rng: random.Random) -> None:
    """A Go interpreted string is decoded; in a raw string a backslash is just a backslash."""
    a, b = fake_token(rng), fake_token(rng)
    interpreted, raw = a + "\\n", b + "\\n"
    text = f'package main\n\nvar apiToken = "{interpreted}"\nvar rawToken = `{raw}`\n'
    plan = plan_for(tmp_path, {"main.go": (text, [interpreted, raw])})
    only_file(plan)
    assert sorted(s.value for s in plan.secrets) == sorted([a + "\n", b + "\\n"])


def test_shell_and_properties_backslashes_are_refused(tmp_path: Path, rng: random.Random) -> None:
    """Where a backslash escapes and no parser can check the value, the secret is left alone."""
    a, b, c = fake_token(rng), fake_token(rng), fake_token(rng)
    plan = plan_for(
        tmp_path,
        {
            "run.sh": (f"export TOKEN=\"{a}\\$x\"\nexport OTHER='{b}\\n'\n", [a + "\\$x", b + "\\n"]),
            "app.properties": (f"api.token={c}\\u0041\n", [c + "\\u0041"]),
        },
    )
    reasons = {(r.path, r.line): r.reason for r in plan.refusals}
    assert reasons == {
        ("app.properties", 1): "the secret holds a backslash escape; move it by hand",
        ("run.sh", 1): "the secret holds a backslash escape; move it by hand",
    }
    # Inside single quotes nothing is an escape: the backslash is part of the value.
    assert [s.value for s in plan.secrets] == [b + "\\n"]
