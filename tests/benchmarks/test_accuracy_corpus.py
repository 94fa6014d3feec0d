"""The accuracy benchmark's generator and scorer: small, fast checks that the corpus is what the
truth file says and that scoring counts what docs/accuracy.md says it counts."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from benchmarks.accuracy import generate, idioms, keys, score, tokens, tools
from benchmarks.accuracy.model import Rendered

from leakvault.patterns.validators import VALIDATORS


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("accuracy") / "corpus"
    return root, generate.generate(root, seed=7, background_count=40)


def test_same_seed_same_corpus(tmp_path: Path, corpus: tuple[Path, dict[str, Any]]) -> None:
    """Generating twice with one seed gives the same truth and the same bytes."""
    _, truth = corpus
    again = generate.generate(tmp_path / "again", seed=7, background_count=40)
    assert again == truth
    first = corpus[0] / truth["positives"][0]["file"]
    assert first.read_bytes() == (tmp_path / "again" / truth["positives"][0]["file"]).read_bytes()


def test_every_kind_is_planted_as_often_as_declared(corpus: tuple[Path, dict[str, Any]]) -> None:
    """Each credential kind appears in the truth exactly its declared number of times."""
    _, truth = corpus
    planted: dict[str, int] = {}
    for record in truth["positives"]:
        if not record["context"].startswith("idiom:"):
            planted[record["kind"]] = planted.get(record["kind"], 0) + 1
    assert planted == {kind.id: kind.count for kind in tokens.KINDS}


def test_truth_points_at_existing_nonblank_lines(corpus: tuple[Path, dict[str, Any]]) -> None:
    """Every positive and negative names a file in the corpus and a non-blank line range inside it."""
    root, truth = corpus
    for record in truth["positives"] + truth["negatives"]:
        lines = (root / record["file"]).read_text(encoding="utf-8").splitlines()
        assert 1 <= record["line"] <= record["end_line"] <= len(lines), record
        assert lines[record["line"] - 1].strip(), record


def test_planted_lines_carry_the_secret_hash(corpus: tuple[Path, dict[str, Any]]) -> None:
    """A single-line plain plant's line contains a token whose SHA-256 is the recorded hash."""
    root, truth = corpus
    checked = 0
    for record in truth["positives"]:
        if record["line"] != record["end_line"] or record["context"] in ("kubernetes-data",):
            continue
        if record["kind"] in ("docker-config-auth",):
            continue
        line = (root / record["file"]).read_text(encoding="utf-8").splitlines()[record["line"] - 1]
        pieces = set(re.split(r"""[\s"'`=,;(){}<>\[\]]+""", line.replace("\\n", " ")))
        pieces |= {piece.removesuffix("\\") for piece in pieces}
        hashes = {__import__("hashlib").sha256(piece.encode()).hexdigest() for piece in pieces}
        if record["sha256"] in hashes:
            checked += 1
    # URL- and JSON-embedded values split differently; most plants are whole tokens on their line.
    assert checked >= 0.75 * len(truth["positives"])


def test_every_idiom_plants_its_files(corpus: tuple[Path, dict[str, Any]]) -> None:
    """Each idiom of issue 14 writes as many files as declared, and each file holds a secret."""
    _, truth = corpus
    files: dict[str, set[str]] = {}
    for record in truth["positives"]:
        if record["context"].startswith("idiom:"):
            files.setdefault(record["context"].removeprefix("idiom:"), set()).add(record["file"])
    assert {name: len(paths) for name, paths in files.items()} == {b.__name__: n for b, n in idioms.IDIOMS}


def test_every_idiom_names_its_documentation() -> None:
    """Each idiom names the pages that document its file layout."""
    assert set(idioms.REFERENCES) == {build.__name__ for build, _ in idioms.IDIOMS}
    assert all(url.startswith("https://") for urls in idioms.REFERENCES.values() for url in urls)


def _encodings(value: str) -> set[str]:
    return {value, json.dumps(value)[1:-1], value.replace("&", "&amp;"), value.replace("%", "%25")}


@pytest.mark.parametrize(("build", "count"), idioms.IDIOMS, ids=[b.__name__ for b, _ in idioms.IDIOMS])
def test_idiom_lines_hold_their_values(build: idioms.Idiom, count: int) -> None:
    """Every value an idiom plants, secret or hard negative, sits inside the lines the truth names."""
    rng = random.Random(11)
    for n in range(count):
        _, parts, plants = build(rng, n)
        rendered = [part for part in parts if isinstance(part, Rendered)]
        assert len(rendered) == len(plants) > 0
        for part, plant in zip(rendered, plants, strict=True):
            held = "\n".join(part.lines[part.start : part.end + 1])
            assert any(form in held for form in _encodings(plant.value)), (build.__name__, plant.kind)


def test_checksummed_tokens_pass_their_checksum() -> None:
    """GitHub and npm tokens are generated with a valid CRC32, like real ones."""
    rng = random.Random(1)
    for kind_id in ("github-pat", "npm-token", "github-oauth"):
        value = tokens.KINDS_BY_ID[kind_id].make(rng)
        assert VALIDATORS["crc32_base62"](value), kind_id


def test_private_keys_are_framed_pem() -> None:
    """Every private-key maker yields a BEGIN/END framed block of several lines."""
    rng = random.Random(3)
    for name, make in keys.PRIVATE_KEY_MAKERS.items():
        text = make(rng)
        assert len(text.splitlines()) >= 3, name
        if name != "private-key-putty":
            assert text.startswith("-----BEGIN ") and text.rstrip().endswith("-----"), name


def test_background_files_hold_no_key_material(corpus: tuple[Path, dict[str, Any]]) -> None:
    """Copied real files never contain a private key block (those would be true positives)."""
    root, truth = corpus
    for path, role in truth["file_roles"].items():
        if role == "background":
            assert b"PRIVATE KEY-----" not in (root / path).read_bytes(), path


def _truth(positives: list[dict[str, Any]], negatives: list[dict[str, Any]] | None = None) -> score.Truth:
    roles = {r["file"]: "planted" for r in positives} | {"lib/real.py": "background"}
    return score.Truth({"positives": positives, "negatives": negatives or [], "file_roles": roles})


def _pos(file: str, line: int, end_line: int | None = None, kind: str = "k") -> dict[str, Any]:
    return {
        "file": file,
        "line": line,
        "end_line": end_line or line,
        "kind": kind,
        "family": "f",
        "context": "c",
        "sha256": "",
    }


def test_scoring_counts_each_secret_once_and_each_false_line_once() -> None:
    """Two findings on one secret are one TP; two findings on one wrong line are one FP."""
    truth = _truth(
        [_pos("a.env", 3), _pos("key.pem", 10, 40), _pos("b.py", 7)],
        [{"file": "a.env", "line": 5, "end_line": 5, "kind": "neg:uuid"}],
    )
    run = tools.ToolRun(
        "t",
        "1",
        0.0,
        [
            tools.ToolFinding("a.env", 3, 3, "r1"),
            tools.ToolFinding("a.env", 3, 3, "r2"),
            tools.ToolFinding("key.pem", 12, 12, "pem"),  # inside the multi-line block
            tools.ToolFinding("a.env", 5, 5, "r1"),
            tools.ToolFinding("a.env", 5, 5, "r2"),
            tools.ToolFinding("lib/real.py", 9, 9, "r1"),
        ],
    )
    result = score.score(run, truth)
    assert result.counts(3) == (2, 1, 2)
    recall, precision, f1 = result.metrics(3)
    assert recall == pytest.approx(2 / 3)
    assert precision == pytest.approx(2 / 4)
    assert f1 == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    causes = sorted(cause for cause, _, _ in result.false_positives.values())
    assert causes == ["background code", "neg:uuid"]


def test_report_names_missed_kinds() -> None:
    """The report lists the kinds a tool missed, per tool."""
    truth = _truth([_pos("a.env", 1, kind="stripe-secret-key"), _pos("a.env", 2, kind="jwt")])
    found = score.score(tools.ToolRun("leakvault", "1", 0.0, [tools.ToolFinding("a.env", 1, 1, "x")]), truth)
    text = score.report([found], truth)
    assert "| jwt" in text and "1/1" in text
    assert "stripe-secret-key" not in text.split("leakvault misses")[0]


def test_peer_reports_parse_into_locations(tmp_path: Path) -> None:
    """Each peer's JSON shape becomes corpus-relative path and 1-based line ranges."""
    gitleaks = tools.parse_gitleaks([{"File": "svc/.env", "StartLine": 4, "EndLine": 4, "RuleID": "x"}], tmp_path)
    kingfisher = tools.parse_kingfisher(
        {"findings": [{"rule": {"id": "kf.pem"}, "finding": {"path": "./k.pem", "line": 1, "snippet": "a\nb\nc"}}]},
        tmp_path,
    )
    detect = tools.parse_detect_secrets({"results": {"a/b.py": [{"type": "Hex", "line_number": 9}]}}, tmp_path)
    absolute = tools.parse_gitleaks(
        [{"File": str(tmp_path / "x" / "y.py"), "StartLine": 2, "EndLine": 3, "RuleID": "z"}], tmp_path
    )
    assert gitleaks == [tools.ToolFinding("svc/.env", 4, 4, "x")]
    assert kingfisher == [tools.ToolFinding("k.pem", 1, 3, "kf.pem")]
    assert detect == [tools.ToolFinding("a/b.py", 9, 9, "Hex")]
    assert absolute == [tools.ToolFinding("x/y.py", 2, 3, "z")]


def test_leakvault_runs_on_the_corpus(tmp_path: Path, corpus: tuple[Path, dict[str, Any]]) -> None:
    """The leakvault runner scans the corpus through the real CLI and finds planted secrets."""
    root, truth = corpus
    run = tools.run_leakvault(root, tmp_path, {})
    result = score.score(run, score.Truth(truth))
    assert len(result.found) > len(truth["positives"]) // 2


def test_generate_command_writes_truth_beside_the_corpus(tmp_path: Path) -> None:
    """``python -m benchmarks.accuracy.generate OUT`` writes OUT and OUT.truth.json."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.accuracy.generate", str(tmp_path / "c"), "--background", "5"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    truth = json.loads((tmp_path / "c.truth.json").read_text())
    plain = [record for record in truth["positives"] if not record["context"].startswith("idiom:")]
    assert len(plain) == sum(kind.count for kind in tokens.KINDS)
    assert not (tmp_path / "c" / "truth.json").exists()


def test_saved_runs_can_be_rescored(tmp_path: Path) -> None:
    """A run's report plus its recorded version and time load back as the same ToolRun."""
    report = [{"File": "a.env", "StartLine": 2, "EndLine": 2, "RuleID": "generic"}]
    (tmp_path / "gitleaks.json").write_text(json.dumps(report))
    run = tools.ToolRun("gitleaks", "8.30.1", 1.5, tools.parse_gitleaks(report, tmp_path))
    tools.save_run_info(run, tmp_path)
    assert tools.load_run("gitleaks", tmp_path, tmp_path) == run


REPORTS = Path(__file__).parent / "reports"
# Real reports, redacted, that each peer wrote on one small directory: app/settings.py (a GitLab
# token on line 3), app/deploy.pem (a key block on lines 1-9) and app/.env (a password on line 2,
# a Stripe key on line 3). See reports/README.md for the commands.
REPORTED = {
    "gitleaks": {("app/.env", 2, 2), ("app/.env", 3, 3), ("app/deploy.pem", 1, 9), ("app/settings.py", 3, 3)},
    "betterleaks": {("app/.env", 2, 2), ("app/.env", 3, 3), ("app/deploy.pem", 1, 9), ("app/settings.py", 3, 3)},
    "kingfisher": {("app/.env", 3, 3), ("app/deploy.pem", 1, 1), ("app/settings.py", 3, 3)},
    "detect-secrets": {("app/.env", 3, 3), ("app/deploy.pem", 1, 1), ("app/settings.py", 3, 3)},
}


@pytest.mark.parametrize("tool", sorted(REPORTED))
def test_real_peer_reports_parse(tool: str) -> None:
    """Each peer's real report (its own output, redacted) parses into the locations it reported."""
    document = json.loads((REPORTS / f"{tool}.json").read_text(encoding="utf-8"))
    findings = tools.PARSERS[tool](document, Path("/tmp/fx/src"))
    assert {(f.path, f.line, f.end_line) for f in findings} == REPORTED[tool]
    assert all(f.rule for f in findings)
