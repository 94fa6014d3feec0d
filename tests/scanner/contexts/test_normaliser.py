"""The contexts stage: comments, YAML block scalars and concatenated literals reach the rules as
ordinary assignments, and their findings land on the file's own line and column."""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leakvault.patterns.loader import load_builtin_rules
from leakvault.scanner.chunk_scanner import Scanner
from leakvault.scanner.config import ScanConfig
from leakvault.scanner.contexts import build_view
from leakvault.scanner.contexts.concat import JOINT_HINTS, has_run
from leakvault.scanner.contexts.view import ViewBuilder
from leakvault.scanner.engine.hyperscan_locator import hyperscan_available
from leakvault.scanner.model import Chunk, Finding
from tests.scanner.gitrepo import json_findings

RULES = load_builtin_rules()
ALNUM = string.ascii_letters + string.digits
RunCli = Callable[..., CompletedProcess[str]]
ENGINES = ["regex", "hyperscan"] if hyperscan_available() else ["regex"]


@pytest.fixture(scope="module", params=ENGINES)
def scanner(request: pytest.FixtureRequest) -> Scanner:
    return Scanner(RULES, ScanConfig(), engine=request.param)


@pytest.fixture
def seeded() -> random.Random:
    return random.Random(1405)


def _token(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(ALNUM) for _ in range(length))


def _scan(scanner: Scanner, path: str, text: str, **chunk: object) -> list[Finding]:
    return scanner.scan_chunk(Chunk(path=path, data=text.encode(), **chunk)).findings  # type: ignore[arg-type]


def _place(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of ``needle`` in ``text``."""
    offset = text.index(needle)
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


@pytest.mark.parametrize("indicator", ["|", ">-", "|-", ">", "|+"])
def test_yaml_block_scalar_is_found_on_its_value_line(scanner: Scanner, seeded: random.Random, indicator: str) -> None:
    """A one-line block scalar under a secret name is reported at the value's line and column."""
    value = _token(seeded, 28)
    text = f"db:\n  host: db.internal\n  password: {indicator}\n      {value}\n  port: 5432\n"
    findings = _scan(scanner, "deploy/values.yaml", text)
    assert [(f.secret, f.line, f.column, f.end_line, f.end_column) for f in findings] == [
        (value, 4, 7, 4, 7 + len(value))
    ]


def test_multi_line_block_scalars_and_vault_tags_are_not_joined(scanner: Scanner, seeded: random.Random) -> None:
    """A block of several lines is a document, and `!vault |` holds ciphertext: neither is presented."""
    text = (
        f"notes: |\n  password: see the wiki\n  {_token(seeded, 20)}\n"
        f"api_key: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  {_token(seeded, 64)}\n"
    )
    assert _scan(scanner, "group_vars/all.yml", text) == []
    assert build_view(Chunk(path="group_vars/all.yml", data=text.encode())) is None


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("config/secrets.yml", "  # secret_key_base: {value}\n"),
        ("app.ini", "; password = {value}\n"),
        (".env", "#DB_PASSWORD={value}\n"),
        ("conf/web.config", "<!-- password: {value} -->\n"),
        ("scripts/deploy.bat", "REM set API_TOKEN={value}\n"),
        ("scripts/env.sh", "#   db_pass={value}\n"),
        ("settings.properties", "## mail.smtp.password={value}\n"),
    ],
)
def test_commented_out_assignment_is_found(scanner: Scanner, seeded: random.Random, path: str, template: str) -> None:
    """A commented-out assignment in a config or script file is reported where its value is."""
    value = _token(seeded, 24)
    text = "name: app\n" + template.format(value=value)
    findings = _scan(scanner, path, text)
    assert [(f.secret, (f.line, f.column)) for f in findings] == [(value, _place(text, value))]


def test_comments_in_code_files_are_left_to_the_code_rules(scanner: Scanner, seeded: random.Random) -> None:
    """An unquoted name=value in a Python comment is no assignment there, commented or not."""
    text = f"# password = {_token(seeded, 24)}\nx = 1\n"
    assert _scan(scanner, "app/settings.py", text) == []


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("app.py", 'API_KEY = "{a}" + "{b}"\n'),
        ("app.py", 'SECRET = (\n    "{a}"\n    "{b}"\n)\n'),
        ("app.py", 'SECRET = ("{a}"\n          "{b}")\n'),
        ("app.py", 'token = "{a}" \\\n    "{b}"\n'),
        ("src/app.js", 'const password = "{a}" +\n  "{b}";\n'),
        ("src/App.java", 'private static final String CLIENT_SECRET = "{a}"\n    + "{b}";\n'),
        ("wp-config.php", "$db_password = '{a}' . '{b}';\n"),
    ],
)
def test_concatenated_literals_are_joined(scanner: Scanner, seeded: random.Random, path: str, template: str) -> None:
    """A secret split into literals is reported once, whole, from its first to its last character."""
    first, second = _token(seeded, 6), _token(seeded, 14)
    text = "import os\n" + template.format(a=first, b=second)
    findings = _scan(scanner, path, text)
    assert [(f.secret, (f.line, f.column), (f.end_line, f.end_column - len(second))) for f in findings] == [
        (first + second, _place(text, first), _place(text, second))
    ]


def test_a_piece_found_alone_gives_way_to_the_whole_value(scanner: Scanner, seeded: random.Random) -> None:
    """When the first piece is a finding on its own, the joined value replaces it (one finding)."""
    first, second = _token(seeded, 20), _token(seeded, 20)
    findings = _scan(scanner, "app.py", f'API_KEY = "{first}" + "{second}"\n')
    assert [f.secret for f in findings] == [first + second]


def test_provider_token_split_in_two_is_found(scanner: Scanner, seeded: random.Random) -> None:
    """A provider token split after its prefix is found by the provider's rule (here Slack's)."""
    body = f"{seeded.randrange(10**10, 10**11)}-{seeded.randrange(10**12, 10**13)}-{_token(seeded, 24)}"
    text = f'slack = "xoxb-" + "{body}"\n'
    assert [(f.rule_id, f.secret) for f in _scan(scanner, "bot.py", text)] == [("slack-bot-token", "xoxb-" + body)]


def test_prose_and_plain_code_make_no_view(seeded: random.Random) -> None:
    """Literals with spaces, a variable between pieces, and short joins make no view at all."""
    text = 'msg = ("a sentence " "and more")\npath = base + "/" + name\nx = "ab" + "cd"\n'
    assert build_view(Chunk(path="mod.py", data=text.encode())) is None


def test_line_filter_applies_to_view_findings(scanner: Scanner, seeded: random.Random) -> None:
    """In a staged or history chunk, a view finding outside the added lines is not reported."""
    value = _token(seeded, 24)
    text = f"a: 1\nsecret_token: >-\n  {value}\n"
    assert [f.line for f in _scan(scanner, "ci.yml", text, line_filter=frozenset({3}))] == [3]
    assert _scan(scanner, "ci.yml", text, line_filter=frozenset({1, 2})) == []


def test_preview_of_a_joined_secret_never_shows_a_piece(tmp_path: Path, run_cli: RunCli, seeded: random.Random) -> None:
    """Through the real CLI: text and JSON reports place the joined secret and redact every piece."""
    first, second = _token(seeded, 10), _token(seeded, 14)
    (tmp_path / "settings.py").write_text(f'import os\nAPI_KEY = ("{first}"\n           "{second}")\n')
    text = run_cli("scan", ".", cwd=tmp_path)
    assert text.returncode == 1, text.stderr
    assert first not in text.stdout and second not in text.stdout and "settings.py" in text.stdout
    findings = json_findings(run_cli("scan", ".", "--format", "json", "--no-redact", cwd=tmp_path))
    assert [(f["line"], f["column"], f["end_line"], f["secret"]) for f in findings] == [(2, 13, 3, first + second)]


# ---------------------------------------------------------------- the offset map


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_every_copied_byte_maps_back_to_its_source(data: st.DataObject) -> None:
    """Each byte a view copies maps to the offset it came from; a span maps from first to last byte."""
    source = data.draw(st.binary(min_size=1, max_size=200))
    builder = ViewBuilder(Chunk(path="x", data=source))
    origins: list[int | None] = []
    for _ in range(data.draw(st.integers(1, 6))):
        start = data.draw(st.integers(0, len(source) - 1))
        end = data.draw(st.integers(start + 1, len(source)))
        builder.copy(start, end)
        origins.extend(range(start, end))
        if data.draw(st.booleans()):
            builder.insert(b'"')
            origins.append(None)
    view = builder.view()
    assert view is not None
    for offset, origin in enumerate(origins):
        if origin is not None:
            assert view.chunk.data[offset] == source[origin]
            assert view.source_offset(offset) == origin
    copied = [index for index, origin in enumerate(origins) if origin is not None]
    first, last = copied[0], copied[-1]
    assert view.source_span(first, last + 1)[0] == origins[first]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(['"', "'", "+", " ", "\n", "\\", ".", "ab", "XYZ9", "(", "=", "k"]), max_size=40).map(
        "".join
    )
)
def test_hyperscan_and_re_agree_on_whether_pieces_meet(text: str) -> None:
    """The quick test for a run of literals answers alike with Hyperscan and with `re` alone."""
    data = (text * 200).encode()  # large enough for Hyperscan to be asked
    fallback = any(hint.search(data) for hint in JOINT_HINTS)
    assert has_run(data) == fallback or (fallback and not has_run(data) and _no_run(data))


def _no_run(data: bytes) -> bool:
    """No view line comes out, though a joint hint occurs (a joint between non-pieces)."""
    return build_view(Chunk(path="m.py", data=data)) is None


def test_pgpass_entries_are_parsed_field_by_field(scanner: Scanner, seeded: random.Random) -> None:
    """Each .pgpass entry's password (escaped colons included) is reported at its column; comments
    and the `*` wildcard are not passwords, and other files are not parsed as .pgpass."""
    first, second = _token(seeded, 16), _token(seeded, 12)
    text = f"# host:port:db:user:password\ndb.internal:5432:*:app:{first}\nh\\:1:*:orders:rw:p\\:{second}\n"
    findings = _scan(scanner, "home/.pgpass", text)
    assert [(f.secret, (f.line, f.column)) for f in findings] == [
        (first, _place(text, first)),
        (f"p\\:{second}", _place(text, f"p\\:{second}")),
    ]
    assert _scan(scanner, "notes.txt", text) == []


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["app.py", "values.yaml", "app.ini", "home/.pgpass", "Main.java", "x.php"]),
    st.lists(
        st.sampled_from(['"', "'", " + ", "\n", "  ", "# ", "; ", ":", "password", " = ", "|", ">-", "\\", "ab1"])
        | st.text(alphabet=ALNUM, min_size=4, max_size=12),
        max_size=60,
    ).map("".join),
)
def test_views_never_raise_and_stay_inside_the_file(scanner: Scanner, path: str, text: str) -> None:
    """On any text, a scan with the stage ends, and every finding lies within the file's lines."""
    lines = text.encode().count(b"\n") + 1
    for finding in _scan(scanner, path, text):
        assert 1 <= finding.line <= finding.end_line <= lines
