"""JavaScript/TypeScript (process.env.NAME) and Go (os.Getenv("NAME")) rewrites."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fix.conftest import fake_token, only_file, plan_for


def test_javascript_literals_and_templates(tmp_path: Path, rng: random.Random) -> None:
    """Whole literals become process.env.NAME; part of one a template literal; template text a ${...}."""
    a, b, c = fake_token(rng), fake_token(rng), fake_token(rng)
    text = (
        "// client\n"
        f"const apiToken = '{a}';\n"
        f'const headers = {{ "Authorization": "token {b}" }};\n'
        f"const url = `https://x/${{host}}/{c}/repos`;\n"
        "const re = /ab+c/g;\n"
    )
    fix = only_file(plan_for(tmp_path, {"client.js": (text, [a, b, c])}))
    assert fix.rewritten == (
        "// client\n"
        "const apiToken = process.env.API_TOKEN;\n"
        'const headers = { "Authorization": `token ${process.env.AUTHORIZATION}` };\n'
        "const url = `https://x/${host}/${process.env.URL}/repos`;\n"
        "const re = /ab+c/g;\n"
    )
    if shutil.which("node"):
        assert fix.checked_by == "node"


def test_typescript_gets_a_non_null_assertion(tmp_path: Path, rng: random.Random) -> None:
    """TypeScript keeps a string-typed variable compiling."""
    token = fake_token(rng)
    text = f'export const token: string = "{token}";\n'
    fix = only_file(plan_for(tmp_path, {"config.ts": (text, [token])}))
    assert fix.rewritten == "export const token: string = process.env.TOKEN!;\n"
    assert fix.language == "typescript"


def test_javascript_comment_is_refused(tmp_path: Path, rng: random.Random) -> None:
    """A token in a comment is reported, not rewritten."""
    token = fake_token(rng)
    plan = plan_for(tmp_path, {"a.js": (f"/* old: {token} */\nlet x = 1;\n", [token])})
    assert plan.files == ()
    assert "comment" in plan.refusals[0].reason


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_node_runs_the_rewritten_module(tmp_path: Path, rng: random.Random) -> None:
    """The rewritten file runs under node and sees the value from its environment."""
    token = fake_token(rng)
    text = f'const auth = "Bearer {token}";\nconsole.log(auth);\n'
    fix = only_file(plan_for(tmp_path, {"show.js": (text, [token])}))
    (tmp_path / "show.js").write_text(fix.rewritten, encoding="utf-8")
    completed = subprocess.run(
        ["node", "show.js"],
        cwd=tmp_path,
        env={"AUTH": token, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert completed.stdout.strip() == f"Bearer {token}"


def test_go_var_and_import_block(tmp_path: Path, rng: random.Random) -> None:
    """A Go literal becomes os.Getenv and "os" joins the import block in order."""
    token = fake_token(rng)
    text = (
        'package main\n\nimport (\n\t"fmt"\n\t"strings"\n)\n\n'
        f'var apiToken = "{token}"\n\nfunc main() {{ fmt.Println(strings.ToUpper(apiToken)) }}\n'
    )
    fix = only_file(plan_for(tmp_path, {"main.go": (text, [token])}))
    assert fix.rewritten == (
        'package main\n\nimport (\n\t"fmt"\n\t"os"\n\t"strings"\n)\n\n'
        'var apiToken = os.Getenv("API_TOKEN")\n\nfunc main() { fmt.Println(strings.ToUpper(apiToken)) }\n'
    )


def test_go_partial_and_no_imports(tmp_path: Path, rng: random.Random) -> None:
    """Part of a Go string is concatenated; a file without imports gains one after the package clause."""
    token = fake_token(rng)
    text = f'package auth\n\nfunc Header() string {{\n\tauth := "token {token}"\n\treturn auth\n}}\n'
    fix = only_file(plan_for(tmp_path, {"auth.go": (text, [token])}))
    assert fix.rewritten == (
        'package auth\n\nimport "os"\n\n'
        'func Header() string {\n\tauth := "token " + os.Getenv("AUTH")\n\treturn auth\n}\n'
    )


def test_go_const_is_refused(tmp_path: Path, rng: random.Random) -> None:
    """os.Getenv cannot initialise a constant, so a const block is left alone."""
    token = fake_token(rng)
    text = f'package main\n\nconst (\n\tName = "x"\n\tToken = "{token}"\n)\n'
    plan = plan_for(tmp_path, {"c.go": (text, [token])})
    assert plan.files == ()
    assert "const" in plan.refusals[0].reason
