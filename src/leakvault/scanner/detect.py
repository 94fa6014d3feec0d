"""Run one rule's regex where the engine located possible matches, apply the rule's own checks,
yield candidates.

Patterns run on the chunk's bytes (compiled as bytes patterns, so ``\\w``, ``\\b`` and ``(?i)`` are
ASCII, exactly as in Hyperscan): offsets are byte offsets and nothing is decoded until something
is reported. A pattern that cannot be a bytes pattern runs on ``data.decode("latin-1")``, which
keeps the offsets.

Where the engine located hits, a rule with bounded matches searches only regions around them;
`regex_width` explains why that finds exactly what a search of the whole chunk finds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import regex

from leakvault.patterns.loader import CompiledRule, compile_rule
from leakvault.patterns.model import Rule
from leakvault.scanner.entropy import shannon_entropy
from leakvault.scanner.model import Candidate, Chunk
from leakvault.scanner.regex_width import MatchReach, match_reach

# A region: search for matches starting in [start, end] (the search may look up to end + tail).
Region = tuple[int, int]
_UNSET: Any = object()


# One rule yielding more candidates than this in one chunk is a generated or hostile file: the rest
# are not reported (and a warning says so), which bounds memory and report size.
MAX_CANDIDATES_PER_RULE = 10_000


@dataclass(frozen=True, slots=True)
class RegexTimeout:
    """A rule's regex hit its time bound on a chunk; the scan goes on and says so."""

    rule_id: str
    path: str


@dataclass(frozen=True, slots=True)
class TooManyMatches:
    """A rule matched more than `MAX_CANDIDATES_PER_RULE` times in a chunk; the rest were dropped."""

    rule_id: str
    path: str


def compile_bytes_pattern(pattern: str) -> regex.Pattern[bytes] | None:
    """``pattern`` as a bytes pattern, or None if it only makes sense over text."""
    try:
        return regex.compile(pattern.encode("ascii"))
    except (UnicodeEncodeError, regex.error):
        return None


class EngineRule:
    """A rule as the engines use it: its index, its regex compiled on first use (most rules never
    hit most files, and compiling all of them would dominate a pre-commit run), its reach.

    Mutable only as a cache: every lazily filled slot is a pure function of the rule.
    """

    __slots__ = ("_compiled", "_pattern", "_reach", "index", "rule")

    def __init__(self, index: int, rule: Rule) -> None:
        self.index = index
        self.rule = rule
        self._pattern: Any = _UNSET
        self._reach: Any = _UNSET
        self._compiled: CompiledRule | None = None

    @property
    def pattern(self) -> regex.Pattern[bytes] | regex.Pattern[str]:
        if self._pattern is _UNSET:
            text_pattern: Any = self.rule.regex
            self._pattern = compile_bytes_pattern(text_pattern) or regex.compile(text_pattern)
        return self._pattern  # type: ignore[no-any-return]

    @property
    def on_bytes(self) -> bool:
        return isinstance(self.pattern.pattern, bytes)

    @property
    def reach(self) -> MatchReach | None:
        """Width and look-ahead of the rule's matches; None: search whole chunks."""
        if self._reach is _UNSET:
            self._reach = match_reach(self.rule.regex)
        return self._reach  # type: ignore[no-any-return]

    @property
    def compiled(self) -> CompiledRule:
        """The loader's compiled form (allowlists, validator), which the filters take."""
        if self._compiled is None:
            self._compiled = compile_rule(self.rule)
        return self._compiled


def secret_span(match: Any, groups: int) -> tuple[int, int] | None:
    """Group 1's span, or the first participating group's (rules may use alternation)."""
    for group in range(1, groups + 1):
        start = match.start(group)
        if start >= 0:
            return start, match.end(group)
    return None


def _matches(rule: EngineRule, text: bytes | str, regions: Sequence[Region] | None, timeout: float) -> Iterator[Any]:
    """The rule's matches in ``text``: all of them, or those starting inside ``regions``."""
    pattern: Any = rule.pattern
    if regions is None or rule.reach is None:
        yield from pattern.finditer(text, timeout=timeout)
        return
    tail = rule.reach.tail
    length = len(text)
    resume = 0  # where the previous region's last match ended: searches never overlap it
    for start, end in regions:
        position = max(start, resume)
        if position > end:
            continue
        for match in pattern.finditer(text, position, min(length, end + tail), timeout=timeout):
            if match.start() > end:
                break
            resume = match.end()
            yield match


def detect(
    rule: EngineRule, chunk: Chunk, timeout: float, regions: Sequence[Region] | None = None, text: str | None = None
) -> Iterator[Candidate | RegexTimeout | TooManyMatches]:
    """Every candidate of one rule in one chunk, after the rule's entropy and checksum checks.

    ``regions`` None searches the whole chunk. ``text`` is the chunk as latin-1 text, for the
    rare rule that cannot run on bytes (computed by the caller once per chunk).
    """
    if rule.rule.path is not None and not rule.compiled.path_pattern.search(chunk.path):  # type: ignore[union-attr]
        return
    groups = rule.pattern.groups
    floor = rule.rule.entropy
    validator = rule.compiled.validator if rule.rule.checksum else None
    subject: bytes | str = chunk.data if rule.on_bytes else (text or chunk.data.decode("latin-1"))
    emitted = 0
    try:
        for match in _matches(rule, subject, regions, timeout):
            span = secret_span(match, groups)
            if span is None or span[0] == span[1]:
                continue
            start, end = span
            secret = chunk.data[start:end].decode("utf-8", "replace")
            entropy = shannon_entropy(secret)
            if floor is not None and entropy < floor:
                continue
            if validator is not None and not validator(secret):
                continue
            emitted += 1
            if emitted > MAX_CANDIDATES_PER_RULE:
                yield TooManyMatches(rule.rule.id, chunk.path)
                return
            yield Candidate(rule.rule.id, chunk, start, end, secret, entropy)
    except TimeoutError:
        yield RegexTimeout(rule.rule.id, chunk.path)
