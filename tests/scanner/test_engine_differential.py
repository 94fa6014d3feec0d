"""Both engines, and searching near hits versus searching whole chunks, give identical findings:
over every rule's examples and negative examples, over a generated corpus, and over
Hypothesis-built text dense in keywords and token-like values."""

from __future__ import annotations

import dataclasses
import random
import string
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leakvault.patterns.examples import expand
from leakvault.patterns.loader import load_builtin_rules
from leakvault.patterns.model import Rule
from leakvault.scanner.chunk_scanner import Scanner
from leakvault.scanner.config import ScanConfig
from leakvault.scanner.engine.hyperscan_locator import hyperscan_available
from leakvault.scanner.engine.prefilter import KeywordPrefilter, Located
from leakvault.scanner.model import Chunk
from tests.rule_paths import path_for

RULES = load_builtin_rules()
needs_hyperscan = pytest.mark.skipif(not hyperscan_available(), reason="the hyperscan wheel is not installed here")


class WholeChunkScanner(Scanner):
    """The plainest reading of the design: every rule whose keyword occurs runs over the whole chunk
    (built from the rules without their gates, so gates are checked, not trusted)."""

    def locate(self, data: bytes, path: str | None = None) -> Located:
        return dict.fromkeys(self.prefilter.locate(data))


UNGATED_RULES = tuple(dataclasses.replace(rule, gate=None) for rule in RULES)


@pytest.fixture(scope="module")
def scanners() -> dict[str, Scanner]:
    config = ScanConfig()
    pure_python = Scanner(RULES, config, engine="regex")
    pure_python._prefilter = KeywordPrefilter(pure_python.rules, prefer_rust=False)
    engines: dict[str, Scanner] = {
        "whole": WholeChunkScanner(UNGATED_RULES, config, engine="regex"),
        "regex": Scanner(RULES, config, engine="regex"),
        "regex with pyahocorasick": pure_python,
    }
    if hyperscan_available():
        engines["hyperscan"] = Scanner(RULES, config, engine="hyperscan")
    return engines


def _findings(scanner: Scanner, chunk: Chunk) -> list[tuple[Any, ...]]:
    result = scanner.scan_chunk(chunk)
    rows = [(f.rule_id, f.line, f.column, f.end_line, f.end_column, f.secret) for f in result.findings]
    return [*sorted(rows), ("timeouts", result.timeouts)]


def _assert_same(scanners: dict[str, Scanner], chunk: Chunk) -> None:
    expected = _findings(scanners["whole"], chunk)
    for name, scanner in scanners.items():
        assert _findings(scanner, chunk) == expected, f"engine {name} differs on {chunk.path}"


def _texts(rule: Rule, rng: random.Random) -> Iterator[str]:
    for template in rule.examples + rule.negative_examples + rule.known_misses:
        for _ in range(2):
            yield expand(template, rule.checksum, rng)


def _path(rule: Rule) -> str:
    return path_for(rule, default="config/.env") or "example.env"


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_rule_examples_agree(scanners: dict[str, Scanner], rule: Rule) -> None:
    """Each example, alone and inside surrounding code, yields the same findings on every engine."""
    rng = random.Random(rule.id)
    for text in _texts(rule, rng):
        for wrapped in (text, f"import os\n\n{text}\nprint('done')\n", f"x = 1; {text} # trailing\n" * 3):
            _assert_same(scanners, Chunk(path=_path(rule), data=wrapped.encode("utf-8")))


NOISE_WORDS = [keyword for rule in RULES for keyword in rule.keywords] + [
    "password",
    "secret",
    "token",
    "api_key",
    "auth",
    "=",
    ":",
    "=>",
    ":=",
    '"',
    "'",
    "`",
    "(",
    ")",
    "{",
    "}",
    "\n",
    "\n\n",
    "\r\n",
    "\t",
    "  ",
    "-----BEGIN",
    "-----END",
    "PRIVATE KEY-----",
    "://",
    "@",
    "/",
    ";",
    ",",
]


def _token(rng: random.Random) -> str:
    alphabet = rng.choice(
        [
            string.ascii_letters + string.digits,
            string.hexdigits,
            string.ascii_uppercase + "234567",
            string.ascii_letters + string.digits + "+/=",
            string.ascii_letters + string.digits + "-_",
        ]
    )
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(4, 90)))


def _generated_file(rng: random.Random, size: int) -> str:
    parts: list[str] = []
    length = 0
    while length < size:
        kind = rng.random()
        if kind < 0.05:
            rule = rng.choice(RULES)
            templates = rule.examples + rule.negative_examples
            piece = expand(rng.choice(templates), rule.checksum, rng) if templates else ""
        elif kind < 0.55:
            piece = rng.choice(NOISE_WORDS)
        elif kind < 0.8:
            piece = _token(rng)
        else:
            piece = rng.choice([" ", " = ", ": ", "\n", '="', '"\n', "', '", " --", "_"])
        parts.append(piece)
        length += len(piece)
    return "".join(parts)


@pytest.mark.parametrize("seed", range(12))
def test_generated_corpus_agrees(scanners: dict[str, Scanner], seed: int) -> None:
    """Files dense in keywords, separators, token-like values and real examples agree on every engine."""
    rng = random.Random(seed)
    text = _generated_file(rng, rng.choice([2_000, 20_000, 120_000]))
    for path in ("src/app.py", "config/.env", "main.tf", "deploy.yaml", "web.config"):
        _assert_same(scanners, Chunk(path=path, data=text.encode("utf-8")))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pieces=st.lists(
        st.one_of(
            st.sampled_from(NOISE_WORDS),
            st.text(alphabet=string.ascii_letters + string.digits + "+/=-_.", min_size=1, max_size=70),
        ),
        max_size=60,
    )
)
def test_keyword_dense_text_agrees(scanners: dict[str, Scanner], pieces: list[str]) -> None:
    """Hypothesis-built text made of keywords, operators and token-like runs agrees on every engine."""
    _assert_same(scanners, Chunk(path="config/.env", data="".join(pieces).encode("utf-8")))


@needs_hyperscan
def test_hyperscan_runs_every_translatable_rule(scanners: dict[str, Scanner]) -> None:
    """Built-in rules run inside the Hyperscan database unless they really cannot (kept rare)."""
    locator = scanners["hyperscan"].hyperscan
    assert locator is not None
    assert len(locator.fallbacks) <= len(RULES) // 10, sorted(locator.fallback_rule_ids)
