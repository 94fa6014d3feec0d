"""Hostile or degenerate input costs bounded work and memory: a 100 MB minified one-line file, a
file of ten million keyword hits, a directory tree 1,500 levels deep, a flood of Hyperscan
matches. Each runs the real CLI in a subprocess that reports its own peak memory; work is bounded
by counting the searches the engine makes, never by timing (a loaded machine is no bug)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from leakvault.patterns.examples import expand
from leakvault.scanner.engine.hyperscan_locator import hyperscan_available

ENGINES = [
    "regex",
    pytest.param("hyperscan", marks=pytest.mark.skipif(not hyperscan_available(), reason="no hyperscan wheel")),
]
# Only against a hang (a bug that loops forever), never as a speed check: far above any run.
HANG_GUARD_SECONDS = 3600
# Runs the CLI in-process, then prints the process's peak RSS (KiB) as the last stderr line. On
# Linux it is VmHWM, the peak of this process's own memory: ru_maxrss survives exec, so a child
# forked from a large pytest worker would report the worker's size (seen once in CI: 345 MB for a
# scan that peaks at 35 MB).
MEASURED_CLI = (
    "import resource, runpy, sys\n"
    "sys.argv = ['leakvault', *sys.argv[1:]]\n"
    "def peak():\n"
    "    try:\n"
    "        with open('/proc/self/status') as status:\n"
    "            return next(int(line.split()[1]) for line in status if line.startswith('VmHWM:'))\n"
    "    except (OSError, StopIteration):\n"
    "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "try:\n"
    "    runpy.run_module('leakvault.cli', run_name='__main__')\n"
    "finally:\n"
    "    print(peak(), file=sys.stderr)\n"
)


def _scan(cwd: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], int]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cwd / ".cache")}
    done = subprocess.run(
        [sys.executable, "-c", MEASURED_CLI, "scan", *args, "--format", "json"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )
    last_line = done.stderr.strip().splitlines()[-1]
    assert last_line.isdigit(), done.stderr[-3000:]
    peak_kib = int(last_line)
    return done, peak_kib


def _github_token(rng: random.Random) -> str:
    return expand("{token:ghp_}", "crc32_base62", rng)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_minified_100mb_single_line(tmp_path: Path, engine: str) -> None:
    """A 100 MB file with no newline and three tokens in it: all three found, time and memory bounded."""
    rng = random.Random(71)  # seeded: a failure reproduces
    unit = b"var a=function(b,c){return b+c*2},d=[1,2,3].map(function(x){return x.key||x.token});"
    data = bytearray(unit * (100_000_000 // len(unit)))
    tokens = [_github_token(rng) for _ in range(3)]
    for index, token in enumerate(tokens):
        position = (index + 1) * 25_000_000
        data[position:position] = b'var t="' + token.encode() + b'";'
    (tmp_path / "bundle.min.js").write_bytes(bytes(data))
    (tmp_path / ".leakvault.toml").write_text('max_file_size = "200MB"\n')
    done, peak_kib = _scan(tmp_path, "bundle.min.js", "--engine", engine)
    assert done.returncode == 1, done.stderr
    found = [finding for finding in json.loads(done.stdout)["findings"] if finding["rule_id"] == "github-pat"]
    assert len(found) == 3
    assert all(finding["line"] == 1 for finding in found)
    assert peak_kib < 450 * 1024, f"peak RSS {peak_kib} KiB"


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_ten_million_keyword_hits(tmp_path: Path, engine: str) -> None:
    """Ten million occurrences of a keyword: no finding, and memory stays bounded (the work is
    counted by the next test)."""
    (tmp_path / "hits.txt").write_bytes(b"token " * 10_000_000)
    (tmp_path / ".leakvault.toml").write_text('max_file_size = "100MB"\n')
    done, peak_kib = _scan(tmp_path, "hits.txt", "--engine", engine)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["findings"] == []
    assert report["stats"]["files_scanned"] == 1
    assert peak_kib < 400 * 1024, f"peak RSS {peak_kib} KiB"


@pytest.mark.slow
def test_a_keyword_flood_costs_one_search_per_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten times MAX_HITS hits of a keyword eleven rules share: each of those rules runs once, over
    the whole chunk, so the work grows with the chunk, not with the hits."""
    from leakvault.scanner import chunk_scanner
    from leakvault.scanner.config import ScanConfig
    from leakvault.scanner.engine.prefilter import MAX_HITS
    from leakvault.scanner.model import Chunk
    from leakvault.scanner.pipeline import build_scanner

    scanner = build_scanner(ScanConfig(), engine="regex")
    searches: list[int | None] = []  # per search: how many regions it was given (None: the whole chunk)
    real_detect = chunk_scanner.detect

    def counting_detect(rule: Any, chunk: Chunk, timeout: float, regions: Any, text: Any) -> Any:
        searches.append(None if regions is None else len(regions))
        return real_detect(rule, chunk, timeout, regions, text)

    monkeypatch.setattr(chunk_scanner, "detect", counting_detect)
    result = scanner.scan_chunk(Chunk("hits.txt", b"secret=" * (10 * MAX_HITS)))
    assert result.findings == []
    assert searches, "the keyword located no rule: the test no longer tests the flood"
    assert len(searches) <= len(scanner.rules)  # one search per located rule
    assert searches == [None] * len(searches), searches  # past MAX_HITS: no positions kept


@pytest.mark.slow
def test_deeply_nested_directory(tmp_path: Path) -> None:
    """A token 1,500 directories down is found; the walk does not recurse itself to death."""
    deepest = str(tmp_path / "tree")
    os.mkdir(deepest)
    for _ in range(1500):  # os.makedirs would itself recurse this deep
        deepest = os.path.join(deepest, "d")
        os.mkdir(deepest)
    token = _github_token(random.Random(137))
    Path(deepest, "settings.env").write_text(f"GITHUB_TOKEN={token}\n")
    try:
        done, peak_kib = _scan(tmp_path, "tree")
    finally:  # pytest's own clean-up (shutil.rmtree) recurses, so take the tree down here
        os.unlink(os.path.join(deepest, "settings.env"))
        while deepest != str(tmp_path):
            os.rmdir(deepest)
            deepest = os.path.dirname(deepest)
    assert done.returncode == 1, done.stderr[-2000:]
    assert [finding["rule_id"] for finding in json.loads(done.stdout)["findings"]] == ["github-pat"]
    assert peak_kib < 300 * 1024


@pytest.mark.skipif(not hyperscan_available(), reason="no hyperscan wheel")
def test_hyperscan_flood_hands_the_chunk_to_the_reference_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """When Hyperscan reports too many match ends in a chunk, the reference engine locates it instead,
    with the same findings."""
    from leakvault.patterns.loader import load_builtin_rules
    from leakvault.scanner.chunk_scanner import Scanner
    from leakvault.scanner.config import ScanConfig
    from leakvault.scanner.engine import hyperscan_locator as hyperscan_engine
    from leakvault.scanner.engine.prefilter import KeywordPrefilter, Located
    from leakvault.scanner.model import Chunk

    rng = random.Random(162)  # seeded: a failure reproduces
    text = "".join(f"token_{i} = '{_github_token(rng)}'\n" for i in range(40)).encode()
    rules = load_builtin_rules()
    expected = Scanner(rules, ScanConfig(), engine="regex").scan_chunk(Chunk(path="a.py", data=text)).findings
    scanner = Scanner(rules, ScanConfig(), engine="hyperscan")
    locator = scanner.hyperscan
    assert locator is not None
    calls: list[int] = []
    original = KeywordPrefilter.locate

    def counting_locate(self: KeywordPrefilter, data: bytes) -> Located:
        calls.append(1)
        return original(self, data)

    monkeypatch.setattr(KeywordPrefilter, "locate", counting_locate)
    monkeypatch.setattr(hyperscan_engine, "MAX_HITS", 5)
    flooded = scanner.scan_chunk(Chunk(path="a.py", data=text)).findings
    assert calls, "the reference engine was not used"
    assert [(f.rule_id, f.line, f.secret) for f in flooded] == [(f.rule_id, f.line, f.secret) for f in expected]
    assert len(expected) >= 40
