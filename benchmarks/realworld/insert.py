"""Where, in a real file of each type, a developer would paste a credential, and how it would look.

`place(file_type, lines, plant, rng)` picks a plausible line boundary (a top-level statement, a
top-level YAML key, the start of an INI section, a code block in a README, ...) and returns the
position and the lines to insert there, plus which of them (0-based, inclusive) hold the value.
Values are written in the language's idiom; those only a name gives away always get a name.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.accuracy import naming
from benchmarks.accuracy.model import Plant


@dataclass(frozen=True)
class Insertion:
    at: int  # insert before this 0-based line of the original file
    lines: list[str]
    start: int  # 0-based, inside ``lines``
    end: int
    form: str  # the idiom, for the per-context table


Renderer = Callable[[Plant, random.Random], tuple[list[str], int, int, str]]

TYPES_FOR_MULTILINE = ("py", "yaml", "md", "sh", "json", "rst")


def _is_password(plant: Plant) -> bool:
    return any(word in naming.words(plant.name) for word in ("password", "pass", "pwd"))


def _one(line: str, form: str) -> tuple[list[str], int, int, str]:
    return [line], 0, 0, form


# --- where -------------------------------------------------------------------------------------------


def _top_level_positions(lines: list[str], pattern: str) -> list[int]:
    """Lines matching ``pattern`` at column 0 after a blank line: the start of a top-level item."""
    regex = re.compile(pattern)
    return [i for i in range(1, len(lines)) if regex.match(lines[i]) and not lines[i - 1].strip()]


def _blank_positions(lines: list[str]) -> list[int]:
    return [i for i in range(1, len(lines)) if not lines[i].strip() and lines[i - 1].strip()]


def _python_positions(lines: list[str]) -> list[int]:
    # Inside a module docstring a "blank line then def" can occur too; skip the first 5% of the file.
    found = _top_level_positions(lines, r"(def |class |[A-Za-z_][A-Za-z0-9_]* = |if __name__)")
    return [i for i in found if i > len(lines) // 20] or [len(lines)]


def _yaml_positions(lines: list[str]) -> list[int]:
    found = [i for i in range(1, len(lines)) if re.match(r"[A-Za-z_][\w.-]*:( |$)", lines[i])]
    return found or ([len(lines)] if any(re.match(r"[A-Za-z_][\w.-]*:( |$)", line) for line in lines[:1]) else [])


def _section_positions(lines: list[str]) -> list[int]:
    sections = [i + 1 for i, line in enumerate(lines) if re.match(r"\s*\[[^\]]+\]\s*$", line)]
    return sections or _blank_positions(lines) or [len(lines)]


def _statement_positions(lines: list[str]) -> list[int]:
    """JavaScript/Go/PHP/SQL: after a line that ends a statement, before a line at column 0."""
    return [
        i
        for i in range(1, len(lines))
        if lines[i - 1].rstrip().endswith((";", "}", ")")) and (not lines[i].strip() or not lines[i][0].isspace())
    ] or [len(lines)]


def _json_positions(lines: list[str]) -> list[int]:
    if len(lines) > 2 and lines[0].strip() == "{" and re.match(r'\s+"[^"]+"\s*:', lines[1]):
        return [1]
    return []


def _xml_positions(lines: list[str]) -> list[int]:
    for i, line in enumerate(lines):
        stripped = line.strip()
        is_open = stripped.startswith("<") and stripped.endswith(">") and not stripped.endswith("/>")
        if is_open and not stripped.startswith(("<?", "<!", "</")):
            return [i + 1]
    return []


def _sh_positions(lines: list[str]) -> list[int]:
    at = 1 if lines and lines[0].startswith("#!") else 0
    while at < len(lines) and lines[at].startswith("#"):
        at += 1
    return [at, *[i for i in _blank_positions(lines) if i > at][:20]]


def _php_positions(lines: list[str]) -> list[int]:
    return [i + 1 for i, line in enumerate(lines[:50]) if line.strip().startswith("<?php")][:1]


def _dockerfile_positions(lines: list[str]) -> list[int]:
    return [i + 1 for i, line in enumerate(lines) if line.upper().startswith("FROM ")]


def _go_positions(lines: list[str]) -> list[int]:
    return _top_level_positions(lines, r"(func |type |var |const )") or [len(lines)]


POSITIONS: dict[str, Callable[[list[str]], list[int]]] = {
    "py": _python_positions,
    "js": _statement_positions,
    "json": _json_positions,
    "yaml": _yaml_positions,
    "toml": _section_positions,
    "ini": _section_positions,
    "properties": lambda lines: _blank_positions(lines) or [len(lines)],
    "xml": _xml_positions,
    "md": lambda lines: _blank_positions(lines) or [len(lines)],
    "rst": lambda lines: _blank_positions(lines) or [len(lines)],
    "sql": _statement_positions,
    "sh": _sh_positions,
    "php": _php_positions,
    "dockerfile": _dockerfile_positions,
    "go": _go_positions,
}


# --- how ---------------------------------------------------------------------------------------------


def _py(plant: Plant, rng: random.Random) -> tuple[list[str], int, int, str]:
    v, name = plant.value, plant.name
    if plant.multiline:
        body = v.split("\n")
        return (
            [f'{naming.upper(name)} = """{body[0]}', *body[1:-1], f'{body[-1]}"""', ""],
            0,
            len(body) - 1,
            "py-triple-quoted",
        )
    forms: list[tuple[str, str]] = [
        (f'{naming.upper(name)} = "{v}"', "py-assign"),
        (f'{naming.snake(name)} = os.environ.get("{naming.upper(name)}", "{v}")', "py-environ-default"),
    ]
    if plant.url:
        forms.append((f'_engine = create_engine("{v}", pool_pre_ping=True)', "py-url-call"))
    elif _is_password(plant):
        forms.append(
            (f'_conn = psycopg2.connect(host="db.prod.internal", user="app", password="{v}")', "py-connect-kwarg")
        )
    elif not plant.needs_name:
        forms.append((f'_client = Client(api_key="{v}")', "py-call-kwarg"))
        forms.append((f'_HEADERS = {{"Authorization": "Bearer {v}"}}', "py-bearer"))
    line, form = rng.choice(forms)
    return [line, ""], 0, 0, form


def _js(plant: Plant, rng: random.Random) -> tuple[list[str], int, int, str]:
    v, name = plant.value, plant.name
    forms = [
        (f'const {naming.upper(name)} = "{v}";', "js-const"),
        (f"const {naming.camel(name)} = process.env.{naming.upper(name)} || '{v}';", "js-env-fallback"),
        (f"module.exports.{naming.camel(name)} = '{v}';", "js-export"),
    ]
    line, form = rng.choice(forms)
    return [line], 0, 0, form


def _json(plant: Plant, rng: random.Random) -> tuple[list[str], int, int, str]:
    key = rng.choice([naming.camel, naming.snake, naming.upper])(plant.name)
    return _one(f'  "{key}": {json.dumps(plant.value)},', "json-member")


def _yaml(plant: Plant, rng: random.Random) -> tuple[list[str], int, int, str]:
    v, key = plant.value, rng.choice([naming.snake, naming.camel])(plant.name)
    if plant.multiline:
        body = v.split("\n")
        return [f"{key}: |", *("  " + line for line in body)], 1, len(body), "yaml-block"
    forms = [
        ([f"{key}: {json.dumps(v)}"], 0, "yaml-scalar"),
        (["credentials:", f"  {key}: '{v}'"], 1, "yaml-nested"),
        (["env:", f"  - name: {naming.upper(plant.name)}", f"    value: {json.dumps(v)}"], 2, "yaml-env-list"),
    ]
    lines, index, form = rng.choice(forms)
    return lines, index, index, form


def _ini(plant: Plant, rng: random.Random) -> tuple[list[str], int, int, str]:
    return _one(f"{naming.snake(plant.name)} = {plant.value}", "ini-key")


def _toml(plant: Plant, rng: random.Random) -> tuple[list[str], int, int, str]:
    return _one(f'{naming.snake(plant.name)} = "{plant.value}"', "toml-key")


def _properties(plant: Plant, rng: random.Random) -> tuple[list[str], int, int, str]:
    prefix = rng.choice(["app.", "service.", "spring.datasource." if _is_password(plant) else "integration."])
    return _one(f"{prefix}{naming.dotted(plant.name)}={plant.value}", "properties-key")


def _xml(plant: Plant, rng: random.Random) -> tuple[list[str], int, int, str]:
    v = plant.value.replace("&", "&amp;")
    forms = [
        (f'  <add key="{naming.pascal(plant.name)}" value="{v}" />', "xml-add"),
        (f"  <{naming.camel(plant.name)}>{v}</{naming.camel(plant.name)}>", "xml-element"),
        (f'  <property name="{naming.dotted(plant.name)}" value="{v}"/>', "xml-property"),
    ]
    line, form = rng.choice(forms)
    return _one(line, form)


def _md(plant: Plant, rng: random.Random) -> tuple[list[str], int, int, str]:
    v, key = plant.value, naming.upper(plant.name)
    if plant.multiline:
        body = v.split("\n")
        return ["", "```", *body, "```"], 2, 1 + len(body), "md-code-block"
    forms = [(["", "```bash", f"export {key}={v}", "```"], 2, "md-code-export")]
    if not plant.needs_name:
        forms.append((["", f"The staging credential is `{v}`; ask #platform before rotating it."], 1, "md-prose"))
    lines, index, form = rng.choice(forms)
    return lines, index, index, form


def _rst(plant: Plant, rng: random.Random) -> tuple[list[str], int, int, str]:
    v, key = plant.value, naming.upper(plant.name)
    if plant.multiline:
        body = v.split("\n")
        return ["", ".. code-block:: text", "", *("   " + line for line in body)], 3, 2 + len(body), "rst-code-block"
    return ["", ".. code-block:: bash", "", f"   export {key}={v}"], 3, 3, "rst-code-export"


def _sql(plant: Plant, rng: random.Random) -> tuple[list[str], int, int, str]:
    v = plant.value.replace("'", "''")
    if _is_password(plant):
        return _one(f"CREATE USER app_{rng.randint(1, 99)} WITH PASSWORD '{v}';", "sql-create-user")
    statement = f"INSERT INTO settings (name, value) VALUES ('{naming.snake(plant.name)}', '{v}');"  # noqa: S608 (SQL text written into a file, never run)
    return _one(statement, "sql-insert")


def _sh(plant: Plant, rng: random.Random) -> tuple[list[str], int, int, str]:
    v, key = plant.value, naming.upper(plant.name)
    if plant.multiline:
        body = v.split("\n")
        return ["cat > /tmp/deploy_key <<'EOF'", *body, "EOF"], 1, len(body), "sh-heredoc"
    forms = [(f'export {key}="{v}"', "sh-export")]
    if _is_password(plant):
        forms.append((f"mysql -h db.prod.internal -u admin -p'{v}' -e 'SELECT 1'", "sh-mysql-p"))
        forms.append((f"sshpass -p '{v}' ssh deploy@10.0.12.7 uptime", "sh-sshpass"))
    elif not plant.needs_name and not plant.url:
        forms.append(
            (f'curl -fsS -H "Authorization: Bearer {v}" https://api.example.internal/v1/ping', "sh-curl-bearer")
        )
    line, form = rng.choice(forms)
    return _one(line, form)


def _php(plant: Plant, rng: random.Random) -> tuple[list[str], int, int, str]:
    forms = [
        (f"define('{naming.upper(plant.name)}', '{plant.value}');", "php-define"),
        (f"${naming.camel(plant.name)} = '{plant.value}';", "php-assign"),
    ]
    line, form = rng.choice(forms)
    return _one(line, form)


def _dockerfile(plant: Plant, rng: random.Random) -> tuple[list[str], int, int, str]:
    keyword = rng.choice(["ENV", "ARG"])
    return _one(f"{keyword} {naming.upper(plant.name)}={plant.value}", "dockerfile-" + keyword.lower())


def _go(plant: Plant, rng: random.Random) -> tuple[list[str], int, int, str]:
    return [f'const {naming.camel(plant.name)} = "{plant.value}"', ""], 0, 0, "go-const"


RENDERERS: dict[str, Renderer] = {
    "py": _py,
    "js": _js,
    "json": _json,
    "yaml": _yaml,
    "toml": _toml,
    "ini": _ini,
    "properties": _properties,
    "xml": _xml,
    "md": _md,
    "rst": _rst,
    "sql": _sql,
    "sh": _sh,
    "php": _php,
    "dockerfile": _dockerfile,
    "go": _go,
}


def accepts(file_type: str, plant: Plant) -> bool:
    if plant.multiline:
        return file_type in TYPES_FOR_MULTILINE and file_type != "json"
    return file_type in RENDERERS


def place(file_type: str, lines: list[str], plant: Plant, rng: random.Random, taken: set[int]) -> Insertion | None:
    """Where and how ``plant`` goes into this file, or None when the file offers no plausible spot."""
    positions = [p for p in POSITIONS[file_type](lines) if p not in taken]
    if not positions:
        return None
    at = rng.choice(positions)
    new, start, end, form = RENDERERS[file_type](plant, rng)
    if file_type == "json" and at >= len(lines) - 1:
        return None
    return Insertion(at, new, start, end, f"{file_type}:{form}")
