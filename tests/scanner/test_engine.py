"""The engines' parts: pattern analysis, Hyperscan translation, the on-disk caches, engine choice,
and the CLI's --engine flag, each against real patterns, real files and real subprocesses."""

from __future__ import annotations

import json
import os
import random
import stat
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest
import regex

from leakvault.patterns.examples import expand
from leakvault.patterns.loader import load_builtin_rules, parse_rule
from leakvault.scanner.chunk_scanner import AUTO_HYPERSCAN_AFTER_BYTES, Scanner
from leakvault.scanner.config import ScanConfig
from leakvault.scanner.engine import disk_cache as cache
from leakvault.scanner.engine.detect import EngineRule
from leakvault.scanner.engine.hyperscan_locator import hyperscan_available
from leakvault.scanner.engine.hyperscan_translate import strip_leading_context, to_hyperscan
from leakvault.scanner.engine.match_reach import keyword_anchors, match_reach
from leakvault.scanner.model import Chunk

needs_hyperscan = pytest.mark.skipif(not hyperscan_available(), reason="the hyperscan wheel is not installed here")


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache directory for the test."""
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    return home / "leakvault"


def _rule(pattern: str, keywords: list[str], rule_id: str = "test-rule") -> EngineRule:
    table = {"id": rule_id, "regex": pattern, "keywords": keywords}
    return EngineRule(0, parse_rule(table, "test", require_examples=False))


# --- pattern analysis ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "width", "single_line"),
    [
        (r"\b(ghp_[A-Za-z0-9]{36})\b", 40, True),
        (r"key\s{0,3}=\s{0,3}([a-z]{8,64})", 74, False),
        (r"(secret=[^\s]+)", None, True),
        (r"(?s)(begin.*end)", None, None),
        (r"(a\s+b)", None, None),
    ],
)
def test_match_reach(pattern: str, width: int | None, single_line: bool | None) -> None:
    """Bounded patterns get their width, unbounded one-line patterns line regions, others nothing."""
    reach = match_reach(pattern)
    if single_line is None:
        assert reach is None
        return
    assert reach is not None
    assert reach.width == width
    if width is None:
        assert reach.single_line is single_line


def test_match_reach_counts_lookahead_in_the_tail() -> None:
    """A search near a hit may look past the window by as much as a look-ahead reads."""
    reach = match_reach(r"(tok_[a-z]{4})(?=[0-9]{10})")
    assert reach is not None
    assert reach.width == 8
    assert reach.tail >= 8 + 10


@pytest.mark.parametrize(
    ("pattern", "keywords", "expected"),
    [
        (r"\b(ghp_[A-Za-z0-9]{36})\b", ["ghp_"], {"ghp_": 0}),
        (r"(?i)(?:api|access)[_.-]?key\s*=\s*(\S+)", ["key"], {"key": 7}),
        (r"(?:token|(?:api|app)_key)=(\w+)", ["token", "key"], {"token": 0, "key": 4}),
        (r"x[ab]y=(\d+)", ["xay", "xby"], {"xay": 0, "xby": 0}),
        (r"[\w.-]*secret=(\w+)", ["secret"], None),  # unbounded before the keyword
        (r"a(?:b|c)?d(\w+)", ["abd"], None),  # "ad" and "acd" hold no keyword
    ],
)
def test_keyword_anchors(pattern: str, keywords: list[str], expected: dict[str, int] | None) -> None:
    """Per keyword, how far before its hit a match may start; None when some match has no bound."""
    assert keyword_anchors(pattern, tuple(keywords)) == expected


def test_anchored_search_equals_finditer() -> None:
    """Trying only the starts before keyword hits finds what a search of the whole text finds."""
    rule = _rule(r"(?i)(?:api|access)[_.-]?key\s*[:=]\s*['\"]?([A-Za-z0-9]{12,40})", ["key"])
    scanner = Scanner([rule.rule], ScanConfig(), engine="regex")
    rng = random.Random(5)
    pieces = ["api_key = '", "ACCESS-KEY: ", "key=", "monkey ", "\n", "x" * 3, "apikey=", "'; "]
    for _ in range(300):
        text = "".join(rng.choice(pieces) + expand("{alnum:20}", None, rng)[: rng.randint(0, 20)] for _ in range(12))
        data = text.encode()
        located = scanner.locate(data)
        found = [c.secret for c in scanner.candidates(Chunk(path="a.env", data=data), _Result())]
        expected = [m.group(1).decode() for m in regex.finditer(rule.rule.regex.encode(), data)]
        assert found == expected, (text, located)


class _Result:
    """The slice of ChunkResult that `Scanner.candidates` writes to."""

    def __init__(self) -> None:
        self.timeouts = 0
        self.warnings: list[str] = []


# --- Hyperscan translation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\b(ghp_[A-Za-z0-9]{36})\b", rb"(ghp_[A-Za-z0-9]{36})\b"),
        (r"(?P<name>ab)(?=c)d", rb"(ab)d"),
        (r"(?<!x)(?<v>y)", rb"(y)"),
        (r"a++b", rb"a+b"),
        (r"(?>a|b)c", rb"(?:a|b)c"),
        (r"a{,5}", rb"a{0,5}"),
        (r"a{8,200}", rb"a{8,}"),
        (r"x\s=", rb"x[\t\n\x0b\x0c\r\x20]="),
    ],
)
def test_translation(pattern: str, expected: bytes) -> None:
    """Lookarounds, atomic groups and possessive quantifiers go (a superset); names go; \\s is spelt out."""
    assert to_hyperscan(pattern) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"(?im)^[ \t]*(?:export[ \t]+)?[\w.-]*?(?:pass|key)=(\w+)", r"(?im)(?:pass|key)=(\w+)"),
        (r"(?i)<[\w:.-]*?(?:secret)>(\w+)|<add\s+key=\"(\w+)\"", r"(?i)(?:secret)>(\w+)|<add\s+key=\"(\w+)\""),
        (r"[0-9]{6,20}-[a-z0-9]{20,40}\.apps\.example(\w+)", r"apps\.example(\w+)"),
        (r"\bmachine\s+(\S+)", r"machine\s+(\S+)"),
        (r"a[b]*", r"a[b]*"),  # nothing mandatory would remain
        (r"\x41{3}(\w+)", r"(\w+)"),
    ],
)
def test_leading_context_is_stripped_for_hyperscan(pattern: str, expected: str) -> None:
    """Hyperscan looks for a suffix (same match ends or more) that starts at something selective."""
    assert strip_leading_context(pattern) == expected


@pytest.mark.parametrize("pattern", [r"(\w)\1", r"(?P<a>x)(?P=a)", r"\p{L}+", r"[[:alpha:]]+", r"(?a)\w", r"(?(1)a|b)"])
def test_untranslatable_patterns_fall_back(pattern: str) -> None:
    """Backreferences, Unicode properties, POSIX classes, other flags and conditionals fall back."""
    assert to_hyperscan(pattern) is None


@needs_hyperscan
def test_rule_hyperscan_cannot_run_uses_the_reference_path(cache_home: Path) -> None:
    """A rule with a backreference falls back, and still finds what the regex engine finds."""
    rules = [
        parse_rule(
            {"id": "repeat-pair", "regex": r"pair=(([a-z])\2[a-z0-9]{10})", "keywords": ["pair="]},
            "t",
            require_examples=False,
        ),
        *load_builtin_rules()[:5],
    ]
    text = b"x = 1\npair=qqabcdefghij1\n"
    hyperscan = Scanner(rules, ScanConfig(), engine="hyperscan")
    locator = hyperscan.hyperscan
    assert locator is not None
    assert locator.fallback_rule_ids == {"repeat-pair"}
    reference = Scanner(rules, ScanConfig(), engine="regex")
    chunk = Chunk(path="a.txt", data=text)
    assert [f.secret for f in hyperscan.scan_chunk(chunk).findings] == [
        f.secret for f in reference.scan_chunk(chunk).findings
    ]


# --- caches --------------------------------------------------------------------------------------


@needs_hyperscan
def test_hyperscan_database_is_cached_and_reloaded(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled database is written once and loaded afterwards without compiling."""
    from leakvault.scanner.engine import hyperscan_locator as hyperscan_engine

    rules = load_builtin_rules()
    assert Scanner(rules, ScanConfig(), engine="hyperscan").hyperscan is not None
    entries = list(cache_home.glob("hyperscan-*.db"))
    assert len(entries) == 1

    def refuse(*_: object) -> None:
        raise AssertionError("compiled although cached")

    monkeypatch.setattr(hyperscan_engine, "_compile", refuse)
    assert Scanner(rules, ScanConfig(), engine="hyperscan").hyperscan is not None


@needs_hyperscan
def test_damaged_cache_entry_is_rebuilt(cache_home: Path) -> None:
    """A truncated or foreign cache entry is ignored and replaced."""
    rules = load_builtin_rules()
    Scanner(rules, ScanConfig(), engine="hyperscan").hyperscan  # noqa: B018 - builds the entry
    (entry,) = cache_home.glob("hyperscan-*.db")
    entry.write_bytes(b"\x00garbage")
    scanner = Scanner(rules, ScanConfig(), engine="hyperscan")
    token = expand("{token:ghp_}", "crc32_base62", random.Random(211))
    assert [f.rule_id for f in scanner.scan_chunk(Chunk(path="a.env", data=f"T={token}\n".encode())).findings] == [
        "github-pat"
    ]
    assert entry.read_bytes() != b"\x00garbage"


def test_unwritable_cache_directory_is_harmless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the cache cannot be created or written, scans still work and nothing is raised."""
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert cache.cache_dir() is None
    cache.write_entry("x-1", b"data")
    assert cache.read_entry("x-1") is None
    scanner = Scanner(load_builtin_rules(), ScanConfig(), engine="hyperscan" if hyperscan_available() else "regex")
    assert scanner.scan_chunk(Chunk(path="a.txt", data=b"nothing here\n")).findings == []


def test_cache_entries_written_by_others_are_ignored(cache_home: Path) -> None:
    """An entry writable by group or others is not trusted."""
    cache.write_entry("rules-abc", b"payload")
    assert cache.read_entry("rules-abc") == b"payload"
    path = cache_home / "rules-abc"
    path.chmod(path.stat().st_mode | stat.S_IWOTH)
    assert cache.read_entry("rules-abc") is None


def test_cache_keeps_a_few_entries_per_kind(cache_home: Path) -> None:
    """Old entries of one kind are pruned so the directory does not grow with every rule edit."""
    for number in range(cache.KEEP_PER_KIND + 5):
        cache.write_entry(f"kind-{number:04d}", b"x")
        os.utime(cache_home / f"kind-{number:04d}", (number, number))
    cache.write_entry("kind-newest", b"x")
    assert len(list(cache_home.glob("kind-*"))) == cache.KEEP_PER_KIND
    assert (cache_home / "kind-newest").exists()


def test_rule_cache_returns_the_linted_rules(cache_home: Path) -> None:
    """The cached rule set equals a fresh load, and a second call reads it from disk."""
    from leakvault.scanner.engine.builtin_rules import builtin_rules

    fresh = load_builtin_rules()
    assert builtin_rules() == fresh
    assert list(cache_home.glob("rules-*.pickle"))
    assert builtin_rules() == fresh


# --- engine choice -------------------------------------------------------------------------------


def test_auto_starts_with_the_reference_engine_and_switches_on_volume() -> None:
    """``auto`` scans small inputs with the automaton and moves to Hyperscan past the threshold."""
    scanner = Scanner(load_builtin_rules(), ScanConfig(), engine="auto")
    assert scanner.engine_for(1000) == "regex"
    expected = "hyperscan" if hyperscan_available() else "regex"
    assert scanner.engine_for(AUTO_HYPERSCAN_AFTER_BYTES) == expected


def test_regex_engine_never_loads_hyperscan() -> None:
    """``--engine regex`` is the reference engine alone, whatever the volume."""
    scanner = Scanner(load_builtin_rules(), ScanConfig(), engine="regex")
    assert scanner.engine_for(10 * AUTO_HYPERSCAN_AFTER_BYTES) == "regex"
    assert scanner.hyperscan is None


def test_cli_engines_report_the_same_findings(tmp_path: Path, run_cli: Callable[..., CompletedProcess[str]]) -> None:
    """``scan --engine regex``, ``hyperscan`` and ``auto`` print identical JSON findings."""
    rng = random.Random(279)  # seeded: a failure reproduces
    for index in range(60):  # enough files and bytes for the pool and the auto switch
        lines = [f"value_{i} = {i * 7}" for i in range(2000)]
        if index % 7 == 0:
            lines.insert(500, f"GITHUB_TOKEN={expand('{token:ghp_}', 'crc32_base62', rng)}")
            lines.insert(900, f"aws_key = 'AKIA{expand('{upalnum:16}', None, rng)}'")
        (tmp_path / f"module_{index}.py").write_text("\n".join(lines) + "\n")
    engines = ["regex", "auto"] + (["hyperscan"] if hyperscan_available() else [])
    reports = {}
    for engine in engines:
        done = run_cli("scan", ".", "--engine", engine, "--format", "json", "--exit-zero")
        assert done.returncode == 0, done.stderr
        findings = json.loads(done.stdout)["findings"]
        reports[engine] = sorted((f["rule_id"], f["path"], f["line"], f["column"]) for f in findings)
    assert len(reports["regex"]) >= 9
    assert all(report == reports["regex"] for report in reports.values())


def test_cli_rejects_an_unknown_engine(run_cli: Callable[..., CompletedProcess[str]]) -> None:
    """A bad --engine value is a usage error: exit 2, one line."""
    done = run_cli("scan", ".", "--engine", "turbo")
    assert done.returncode == 2
    assert "turbo" in done.stderr


def test_output_to_a_fifo_or_device_is_written_not_replaced(
    tmp_path: Path, run_cli: Callable[..., CompletedProcess[str]]
) -> None:
    """``-o`` naming a FIFO (or /dev/null) writes into it; renaming a temp file over it would replace
    the special file (as root, /dev/null itself)."""
    import threading

    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    done = run_cli("scan", ".", "--format", "json", "-o", str(fifo), "--exit-zero")
    reader.join(timeout=30)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert received, "nothing was written into the FIFO"
    assert json.loads(received[0])["findings"] == []
