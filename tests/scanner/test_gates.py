"""The reference engine's gates and path-limited rules, at the level of `KeywordPrefilter`."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest
import regex

from leakvault.patterns.examples import expand
from leakvault.patterns.loader import compile_gate, load_builtin_rules
from leakvault.patterns.regex_text import top_level_branches
from leakvault.scanner.chunk_scanner import Scanner
from leakvault.scanner.config import ScanConfig
from leakvault.scanner.engine.prefilter import _union_gate
from leakvault.scanner.model import Chunk

RULES = load_builtin_rules()
RunCli = Callable[..., CompletedProcess[str]]
PATHS = [
    "a/b.py",
    "Dockerfile",
    "svc/Dockerfile.prod",
    "infra/main.tf",
    "k8s/secret.yaml",
    "deploy/x.YML",
    ".env",
    "config/.env.local",
    "app.properties",
    "dir.yaml/readme.md",
    "weird/Dockerfile/inner.c",
    "credentials",
    "a/credentials.json",
]


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner(RULES, ScanConfig(), engine="regex")


@pytest.mark.parametrize("path", PATHS)
def test_inactive_rules_are_exactly_those_whose_path_pattern_fails(scanner: Scanner, path: str) -> None:
    prefilter = scanner.prefilter
    expected = {rule.index for rule in scanner.rules if rule.rule.path and not regex.search(rule.rule.path, path)}
    assert prefilter._inactive(path) == expected
    assert prefilter._inactive(None) == frozenset()


def test_a_path_limited_rule_is_located_only_in_its_files(scanner: Scanner) -> None:
    value = expand("{alnum:24}", None, random.Random(3))
    data = f"ENV DB_PASSWORD {value}\n".encode()  # the space form: only the Dockerfile rule reads it
    docker = next(rule for rule in scanner.rules if rule.rule.id == "generic-dockerfile-env")
    assert docker.index in scanner.prefilter.locate(data, "Dockerfile")
    assert docker.index not in scanner.prefilter.locate(data, "notes.py")
    assert "generic-dockerfile-env" in {f.rule_id for f in scanner.scan_chunk(Chunk("Dockerfile", data)).findings}
    assert "generic-dockerfile-env" not in {f.rule_id for f in scanner.scan_chunk(Chunk("notes.py", data)).findings}


def test_branches_split_only_at_top_level() -> None:
    assert top_level_branches(r"a|b(c|d)|[|x]|\|y|[]|]z") == ["a", "b(c|d)", "[|x]", r"\|y", "[]|]z"]


def test_union_gate_passes_where_any_member_passes() -> None:
    rng = random.Random(11)
    gates = [rule.gate for rule in RULES if rule.gate]
    union = compile_gate(_union_gate(tuple(gates)) or "")
    members = [compile_gate(gate) for gate in gates]
    alphabet = "ab_.-=:\"' \t\n()<>/value{}"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 40))).encode()
        assert bool(union.match(text)) == any(member.match(text) for member in members), text


def test_union_of_a_gateless_owner_is_none() -> None:
    assert _union_gate(("a", None)) is None
    assert _union_gate(("x[0-9]{2}",)) == "x[0-9]{2}"


def _custom_rule_config(gate: str | None, examples: bool) -> str:
    lines = [
        "[[rule]]",
        'id = "acme-key"',
        'keywords = ["acme_"]',
        "regex = '''\\b(acme_[a-z0-9]{24})\\b'''",
    ]
    if gate is not None:
        lines.append(f"gate = '''{gate}'''")
    if examples:
        lines.append("examples = ['key = \"acme_{lowalnum:24}\"']")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("gate", "examples", "code", "message"),
    [
        ("acme_[a-z0-9]{24}", True, 1, None),  # a right gate: the secret is found
        ("acme_[A-Z]{24}", False, 2, "needs 'examples'"),  # unchecked: refused
        ("acme_=", True, 2, "gate fails inside the match of example 1"),  # wrong: refused, not silent
    ],
)
def test_a_custom_rules_gate_is_checked_against_its_examples(
    tmp_path: Path,
    run_cli: Callable[..., CompletedProcess[str]],
    gate: str,
    examples: bool,
    code: int,
    message: str | None,
) -> None:
    (tmp_path / ".leakvault.toml").write_text(_custom_rule_config(gate, examples))
    value = expand("{lowalnum:24}", None, random.Random(5))
    (tmp_path / "app.py").write_text(f'ACME = "acme_{value}"\n')
    done = run_cli("scan", "--engine", "regex", "app.py")
    assert done.returncode == code, done.stderr
    if message is None:
        assert "acme-key" in done.stdout
        assert value not in done.stdout  # redacted
    else:
        assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_flood_of_kept_hits_falls_back_to_whole_chunk_searches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_HITS kept hits the prefilter stops recording positions: the rules seen search the
    whole chunk and the rest of it is only checked for keywords not seen yet. Findings stay the
    same as with positions recorded, including a token of a rule first met after the flood."""
    import leakvault.scanner.engine.prefilter as prefilter

    rng = random.Random(17)
    scanner = Scanner(RULES, ScanConfig(), engine="regex")
    lines = [f'api_key = "{expand("{alnum:24}", None, rng)}"' for _ in range(40)]
    github = expand("{token:ghp_}", "crc32_base62", rng)
    slack = expand("xoxb-{digits:12}-{digits:13}-{alnum:24}", None, rng)
    filler = ["value = compute(1, 2)"] * 60_000  # past the automaton's 1 MB slice: met by the presence walk
    text = "\n".join([*lines[:20], f"GITHUB = '{github}'", *lines[20:], *filler, f"SLACK = '{slack}'"]).encode()
    assert len(text) > prefilter.SLICE_BYTES
    expected = sorted((f.rule_id, f.line) for f in scanner.scan_chunk(Chunk("app.py", text)).findings)
    monkeypatch.setattr(prefilter, "MAX_HITS", 5)
    flooded = Scanner(RULES, ScanConfig(), engine="regex")
    located = flooded.prefilter.locate(text, "app.py")
    assert any(regions is None for regions in located.values())  # the fallback was taken
    assert sorted((f.rule_id, f.line) for f in flooded.scan_chunk(Chunk("app.py", text)).findings) == expected
    assert {"github-pat", "slack-bot-token"} <= {rule_id for rule_id, _ in expected}
