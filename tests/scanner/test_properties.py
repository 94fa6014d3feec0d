"""Hypothesis properties of the scanner: it never raises on any input, and never shows a whole secret."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leakvault.patterns.loader import load_builtin_rules
from leakvault.scanner.chunk_scanner import Scanner
from leakvault.scanner.config import ScanConfig
from leakvault.scanner.findings.redact import MASK, preview, redact
from leakvault.scanner.model import Chunk
from leakvault.scanner.sources.files import decode_text

SCANNER = Scanner(list(load_builtin_rules()), ScanConfig())
# Bytes that look like the inputs rules care about: keywords and token alphabets, plus noise.
FRAGMENTS = sorted({keyword for rule in load_builtin_rules() for keyword in rule.keywords})
tokenish = st.lists(
    st.one_of(
        st.binary(max_size=40),
        st.sampled_from(FRAGMENTS).map(str.encode),
        st.text(alphabet="abcXYZ019_-+/=:'\" \n\r\t{}$", max_size=60).map(str.encode),
    ),
    max_size=30,
).map(b"".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=4096), tokenish), st.text(max_size=30))
def test_scanning_arbitrary_bytes_never_raises(data: bytes, path: str) -> None:
    """Any bytes under any path scan without an exception, and findings point inside the data."""
    text = decode_text(data)
    if text is None:
        return
    result = SCANNER.scan_chunk(Chunk(path=path or "x", data=text))
    for finding in result.findings:
        assert 1 <= finding.line <= text.count(b"\n") + 1
        assert finding.secret


@given(st.text(min_size=1, max_size=300))
def test_redaction_never_shows_the_whole_secret(secret: str) -> None:
    """redact() never returns a string containing the secret (unless the secret is only mask characters)."""
    if set(secret) <= set(MASK):
        return
    assert secret not in redact(secret)


@given(st.text(min_size=1, max_size=80), st.text(max_size=80), st.text(max_size=80))
def test_preview_never_shows_the_secret(secret: str, before: str, after: str) -> None:
    """A redacted preview of a line never contains the secret it is about."""
    if set(secret) <= set(MASK) or secret.strip() != secret or "\n" in before + after:
        return
    shown = preview(f"{before}{secret}{after}", [secret], reveal=False)
    assert secret not in shown or secret in f"{before}{after}".replace(secret, redact(secret))
