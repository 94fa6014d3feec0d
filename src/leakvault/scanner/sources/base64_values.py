"""Base64-encoded config values, decoded one level so the secret inside is scanned.

Kubernetes Secret manifests, Helm values and many .env files hold credentials base64-encoded,
where no rule's keywords can see them. For files that look like configuration, every value of
16 or more base64 characters assigned with ``:`` or ``=`` is decoded; when the result is
printable UTF-8 text it becomes a chunk of its own, located at the encoded value's line. Only one
level is decoded (base64 of base64 is rare and each level doubles the work), and random tokens
(which decode to non-text bytes) are left alone.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Iterator

from leakvault.scanner.model import INLINE_ALLOW_MARKERS, Chunk, Finding

CONFIG_SUFFIXES = (
    ".env",
    ".yaml",
    ".yml",
    ".json",
    ".toml",
    ".ini",
    ".cfg",
    ".conf",
    ".properties",
    ".tfvars",
    ".tf",
    ".xml",
    ".config",
    ".plist",
)
CONFIG_NAMES = frozenset({".env", ".npmrc", ".pypirc", ".netrc", "credentials", "config"})
LOCATION_PREFIX = "base64 value on line "
MIN_DECODED = 8
# A value after ':' or '=' (quoted or not) that is all base64 (standard or URL-safe alphabet) and
# ends its line, allowing closing brackets, a trailing comma/semicolon or a comment.
# Python's `re` (about twice as fast as `regex` here, and this runs over every config file); the
# runs are possessive because nothing after them can match a base64 character anyway.
VALUE = re.compile(
    rb"""[:=][ \t]*["']?
    ([A-Za-z0-9+/]{16,}+={0,2}|[A-Za-z0-9_\-]{16,}+={0,2})
    ["']?[ \t]*[,;}\]]*[ \t]*(?:\#[^\n]*)?\r?$""",
    re.MULTILINE | re.VERBOSE,
)


@functools.cache
def allow_markers() -> tuple[bytes, ...]:
    return tuple(marker.encode() for marker in INLINE_ALLOW_MARKERS)


def is_config_path(path: str) -> bool:
    name = path.rpartition("/")[2].lower()
    return name in CONFIG_NAMES or name.startswith(".env") or name.endswith(CONFIG_SUFFIXES)


def decode_value(value: bytes) -> str | None:
    """The text a base64 value encodes, or None when it is not base64 of printable text."""
    stripped = value.rstrip(b"=")
    if len(stripped) % 4 == 1:
        return None
    padded = stripped + b"=" * (-len(stripped) % 4)
    altchars = b"-_" if (b"-" in value or b"_" in value) else None
    try:
        raw = base64.b64decode(padded, altchars=altchars, validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if len(raw) < MIN_DECODED:
        return None
    if not all(char.isprintable() or char in "\n\r\t" for char in text):
        return None
    return text


def decoded_chunks(chunk: Chunk) -> Iterator[Chunk]:
    """A chunk per decodable base64 value in a config file's chunk (only on the chunk's reported
    lines, and never on a line carrying an inline allow marker)."""
    if not is_config_path(chunk.path):
        return
    data = chunk.data
    line, counted_to = chunk.first_line, 0  # newlines counted so far: counting from 0 per value is quadratic
    for match in VALUE.finditer(data):
        start = match.start(1)
        line += data.count(b"\n", counted_to, start)
        counted_to = start
        if chunk.line_filter is not None and line not in chunk.line_filter:
            continue
        line_start = data.rfind(b"\n", 0, start) + 1
        if any(marker in data[line_start : match.end()] for marker in allow_markers()):
            continue
        text = decode_value(match.group(1))
        if text is None:
            continue
        yield Chunk(
            path=chunk.path,
            data=text.encode("utf-8"),
            first_line=line,
            commit=chunk.commit,
            location=f"{LOCATION_PREFIX}{line}",
        )


def drop_encoded_twins(findings: list[Finding], generic_tag: str) -> list[Finding]:
    """``findings`` without the generic finding on a base64 value whose decoded text a specific
    rule reported too (the same secret twice: once encoded, once decoded, where the decoded one
    names the provider). Works on a whole result, whatever order the findings came in."""
    decoded: dict[tuple[str, str, int], list[str]] = {}
    for finding in findings:
        if finding.location is not None and finding.location.startswith(LOCATION_PREFIX):
            decoded.setdefault(_place(finding), []).append(finding.secret)
    if not decoded:
        return findings
    kept = []
    for finding in findings:
        twins = decoded.get(_place(finding)) if finding.location is None and generic_tag in finding.tags else None
        if twins:
            text = decode_value(finding.secret.encode("utf-8")) or ""
            if any(secret in text for secret in twins):
                continue
        kept.append(finding)
    return kept


def _place(finding: Finding) -> tuple[str, str, int]:
    return finding.path, finding.commit.sha if finding.commit else "", finding.line
