"""Run the rules a chunk's keywords selected, apply each rule's own checks, yield candidates.

Text is ``data.decode("latin-1")``: one character per byte, so regex offsets are byte offsets and
nothing is decoded until something is reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from leakvault.patterns.loader import CompiledRule
from leakvault.scanner.entropy import shannon_entropy
from leakvault.scanner.model import Candidate, Chunk


@dataclass(frozen=True, slots=True)
class RegexTimeout:
    """A rule's regex hit its time bound on a chunk; the scan goes on and says so."""

    rule_id: str
    path: str


def secret_span(match: object, groups: int) -> tuple[int, int] | None:
    """Group 1's span, or the first participating group's (rules may use alternation)."""
    for group in range(1, groups + 1):
        start = match.start(group)  # type: ignore[attr-defined]
        if start >= 0:
            return start, match.end(group)  # type: ignore[attr-defined]
    return None


def detect(rule: CompiledRule, chunk: Chunk, text: str, timeout: float) -> Iterator[Candidate | RegexTimeout]:
    """Every candidate of one rule in one chunk, after the rule's entropy and checksum checks."""
    if rule.path_pattern is not None and not rule.path_pattern.search(chunk.path):
        return
    groups = rule.pattern.groups
    floor = rule.rule.entropy
    try:
        for match in rule.pattern.finditer(text, timeout=timeout):
            span = secret_span(match, groups)
            if span is None or span[0] == span[1]:
                continue
            start, end = span
            secret = chunk.data[start:end].decode("utf-8", "replace")
            entropy = shannon_entropy(secret)
            if floor is not None and entropy < floor:
                continue
            if rule.validator is not None and not rule.validator(secret):
                continue
            yield Candidate(rule.rule.id, chunk, start, end, secret, entropy)
    except TimeoutError:
        yield RegexTimeout(rule.rule.id, chunk.path)
