"""Python rewrites: literal -> os.environ["NAME"], formatting kept, import os added once."""

from __future__ import annotations

import ast
import random
from pathlib import Path

from tests.fix.conftest import fake_token, only_file, plan_for


def test_assignment_becomes_environ_and_import_goes_after_docstring(tmp_path: Path, rng: random.Random) -> None:
    """A module-level assignment reads os.environ; import os lands in alphabetical order; nothing else moves."""
    token = fake_token(rng)
    text = f'"""Settings."""\n\nimport sys\n\nGITHUB_TOKEN = "{token}"  # keep me\nDEBUG = True\n'
    fix = only_file(plan_for(tmp_path, {"settings.py": (text, [token])}))
    assert fix.rewritten == (
        '"""Settings."""\n\nimport os\nimport sys\n\n'
        'GITHUB_TOKEN = os.environ["GITHUB_TOKEN"]  # keep me\nDEBUG = True\n'
    )
    ast.parse(fix.rewritten)
    assert fix.checked_by == "python ast"
    assert fix.sites[0].vault_path == f"{tmp_path.name}/settings/GITHUB_TOKEN"


def test_import_os_not_duplicated(tmp_path: Path, rng: random.Random) -> None:
    """A module that imports os keeps a single import."""
    token = fake_token(rng)
    text = f"import os\n\nclass Config:\n    api_key = '{token}'\n"
    fix = only_file(plan_for(tmp_path, {"app.py": (text, [token])}))
    assert fix.rewritten == 'import os\n\nclass Config:\n    api_key = os.environ["API_KEY"]\n'


def test_part_of_a_literal_becomes_a_concatenation(tmp_path: Path, rng: random.Random) -> None:
    """A secret inside a longer string keeps the rest of the string as literal pieces."""
    token = fake_token(rng)
    text = f'HEADERS = {{"Authorization": "token {token}"}}\n'
    fix = only_file(plan_for(tmp_path, {"client.py": (text, [token])}))
    assert fix.rewritten == 'import os\n\nHEADERS = {"Authorization": "token " + os.environ["AUTHORIZATION"]}\n'


def test_method_call_on_partial_literal_is_parenthesised(tmp_path: Path, rng: random.Random) -> None:
    """Where precedence matters the concatenation is wrapped in parentheses."""
    token = fake_token(rng)
    text = f'import os\nraw = "Bearer {token}".encode()\n'
    fix = only_file(plan_for(tmp_path, {"c.py": (text, [token])}))
    assert fix.rewritten == 'import os\nraw = ("Bearer " + os.environ["GITHUB_PAT"]).encode()\n'


def test_keyword_and_default_and_setdefault_give_names(tmp_path: Path, rng: random.Random) -> None:
    """Keyword arguments, parameter defaults and environ.setdefault name the variable."""
    a, b, c = fake_token(rng), fake_token(rng), fake_token(rng)
    text = (
        "import os\n"
        f"client = connect(host='x', access_token='{a}')\n"
        f"def login(user, password='{b}'):\n    return user\n"
        f"os.environ.setdefault('GH_TOKEN', '{c}')\n"
    )
    fix = only_file(plan_for(tmp_path, {"m.py": (text, [a, b, c])}))
    assert [site.name for site in fix.sites] == ["ACCESS_TOKEN", "PASSWORD", "GH_TOKEN"]
    assert 'access_token=os.environ["ACCESS_TOKEN"]' in fix.rewritten
    assert 'password=os.environ["PASSWORD"]' in fix.rewritten
    ast.parse(fix.rewritten)


def test_shebang_and_no_imports(tmp_path: Path, rng: random.Random) -> None:
    """Without imports or docstring, import os goes after the shebang."""
    token = fake_token(rng)
    text = f"#!/usr/bin/env python3\nTOKEN = r'{token}'\n"
    fix = only_file(plan_for(tmp_path, {"tool.py": (text, [token])}))
    assert fix.rewritten == '#!/usr/bin/env python3\nimport os\n\nTOKEN = os.environ["TOKEN"]\n'


def test_crlf_line_endings_are_kept(tmp_path: Path, rng: random.Random) -> None:
    """Windows line endings survive the rewrite."""
    token = fake_token(rng)
    text = f'import os\r\nTOKEN = "{token}"\r\nX = 1\r\n'
    fix = only_file(plan_for(tmp_path, {"w.py": (text, [token])}))
    assert fix.rewritten == 'import os\r\nTOKEN = os.environ["TOKEN"]\r\nX = 1\r\n'


def test_unsafe_places_are_refused_with_reasons(tmp_path: Path, rng: random.Random) -> None:
    """f-strings, comments, docstrings, bytes and implicit concatenation are left alone and explained."""
    tokens = [fake_token(rng) for _ in range(5)]
    text = (
        f'"""Module doc {tokens[0]}."""\n'
        f"# old token {tokens[1]}\n"
        f'URL = f"https://{{host}}/{tokens[2]}"\n'
        f'RAW = b"{tokens[3]}"\n'
        f'JOINED = ("abc" "{tokens[4]}")\n'
    )
    plan = plan_for(tmp_path, {"bad.py": (text, tokens)})
    assert plan.files == ()
    reasons = {refusal.line: refusal.reason for refusal in plan.refusals}
    assert "docstring" in reasons[1]
    assert "comment" in reasons[2]
    assert "f-string" in reasons[3] or "string literal" in reasons[3]
    assert "bytes" in reasons[4]
    assert "implicit string concatenation" in reasons[5]


def test_invalid_python_is_refused(tmp_path: Path, rng: random.Random) -> None:
    """A file that is not valid Python to begin with is not touched."""
    token = fake_token(rng)
    plan = plan_for(tmp_path, {"broken.py": (f'TOKEN = "{token}"\ndef (:\n', [token])})
    assert plan.files == ()
    assert "not valid Python" in plan.refusals[0].reason


def test_secret_twice_in_one_literal_leaves_the_file(tmp_path: Path, rng: random.Random) -> None:
    """A rewrite that would keep a second copy of the secret is refused, so nothing leaks through."""
    token = fake_token(rng)
    text = f'PAIR = "{token}:{token}"\n'
    plan = plan_for(tmp_path, {"twice.py": (text, [token])})
    assert plan.files == ()
    assert any("occurs again" in refusal.reason for refusal in plan.refusals)
