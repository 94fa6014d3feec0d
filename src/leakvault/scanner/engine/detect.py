"""Run one rule's regex where the engine located possible matches, apply the rule's own checks,
yield candidates.

Patterns run on the chunk's bytes (compiled as bytes patterns, so ``\\w``, ``\\b`` and ``(?i)`` are
ASCII, exactly as in Hyperscan): offsets are byte offsets and nothing is decoded until something
is reported. A pattern that cannot be a bytes pattern runs on ``data.decode("latin-1")``, which
keeps the offsets.

Where the engine located hits, a rule with bounded matches searches only regions around them;
`match_reach` explains why that finds exactly what a search of the whole chunk finds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import regex

from leakvault.patterns.loader import CompiledRule, compile_rule
from leakvault.patterns.model import Rule
from leakvault.scanner.entropy import shannon_entropy
from leakvault.scanner.model import Candidate, Chunk

if TYPE_CHECKING:
    from leakvault.scanner.engine.match_reach import MatchReach

# A region: search for matches starting in [start, end] (the search may look up to end + tail).
Region = tuple[int, int]


# The longest run of starts one anchored match() tries (longer regions take several calls).
MAX_ANCHOR_RUN = 63


class Starts(list[Region]):
    """Regions from keyword hits for a rule with a keyword anchor: the possible *starts* of its
    matches, tried with the anchored pattern (a match may run on past the region)."""


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

    __slots__ = ("_anchored", "_anchors", "_compiled", "_pattern", "_reach", "index", "rule")

    def __init__(self, index: int, rule: Rule) -> None:
        self.index = index
        self.rule = rule
        self._pattern: Any = _UNSET
        self._reach: Any = _UNSET
        self._anchors: Any = _UNSET
        self._anchored: dict[int, Any] = {}
        self._compiled: CompiledRule | None = None

    @property
    def pattern(self) -> regex.Pattern[bytes] | regex.Pattern[str]:
        if self._pattern is _UNSET:
            text_pattern: Any = self.rule.regex
            self._pattern = compile_bytes_pattern(text_pattern) or regex.compile(text_pattern)
        return self._pattern  # type: ignore[no-any-return]  # the slot holds a sentinel until compiled; it is a Pattern here

    @property
    def on_bytes(self) -> bool:
        return isinstance(self.pattern.pattern, bytes)

    @property
    def reach(self) -> MatchReach | None:
        """Width and look-ahead of the rule's matches; None: search whole chunks."""
        if self._reach is _UNSET:
            from leakvault.scanner.engine.match_reach import match_reach  # only once a rule hits: start-up

            self._reach = match_reach(self.rule.regex)
        return self._reach  # type: ignore[no-any-return]  # the slot holds a sentinel until computed

    def preset(self, reach: MatchReach | None, anchors: dict[str, int] | None) -> None:
        """Take a previously computed analysis (see `match_reach_cache`)."""
        self._reach = reach
        self._anchors = anchors

    @property
    def anchors(self) -> dict[str, int] | None:
        """Per keyword, at most how many bytes before its hit a match can start (None: unknown)."""
        if self._anchors is _UNSET:
            from leakvault.scanner.engine.match_reach import keyword_anchors  # as above: start-up

            self._anchors = keyword_anchors(self.rule.regex, self.rule.keywords)
        return self._anchors  # type: ignore[no-any-return]  # the slot holds a sentinel until computed

    def anchored(self, distance: int) -> Any:
        """The pattern behind a lazy skip of up to ``distance`` characters and ``\\K``: one
        ``match()`` at p finds the leftmost match starting in [p, p + distance], as a search would."""
        pattern = self._anchored.get(distance)
        if pattern is None:
            if distance == 0:  # a single start: the rule's own pattern, no second compile
                pattern = self._anchored[0] = self.pattern
            else:
                pattern = self._anchored[distance] = _anchored_pattern(self.rule.regex, distance, self.on_bytes)
        return pattern

    @property
    def compiled(self) -> CompiledRule:
        """The loader's compiled form (allowlists, validator), which the filters take."""
        if self._compiled is None:
            self._compiled = compile_rule(self.rule)
        return self._compiled


_LEADING_FLAGS = regex.compile(r"^(?:\(\?[a-zA-Z]+\))+")


def _anchored_pattern(pattern: str, distance: int, on_bytes: bool) -> Any:
    flags = _LEADING_FLAGS.match(pattern)
    head = flags.group(0) if flags else ""
    body = pattern[len(head) :]
    close = "\n)" if "x" in head else ")"  # a verbose pattern may end in a comment
    source = f"{head}[\\s\\S]{{0,{distance}}}?\\K(?:{body}{close}"
    return regex.compile(source.encode("ascii") if on_bytes else source)


def secret_span(match: Any, groups: int) -> tuple[int, int] | None:
    """Group 1's span, or the first participating group's (rules may use alternation)."""
    for group in range(1, groups + 1):
        start = match.start(group)
        if start >= 0:
            return start, match.end(group)
    return None


def _anchored_matches(rule: EngineRule, text: bytes | str, starts: Starts, timeout: float) -> Iterator[Any]:
    """The rule's matches starting inside ``starts``, as `finditer` would report them. A single
    start is tried with the rule's own pattern; a run with the one anchored form whose skip is the
    rule's largest anchor distance (a start it tries past the run belongs to a later run, or holds
    no match: see `keyword_anchors`), so each rule costs at most two compiled patterns."""
    widest = min(max((rule.anchors or {"": 0}).values()), MAX_ANCHOR_RUN)
    resume = 0
    for first, last in starts:
        position = max(first, resume)
        while position <= last:
            distance = 0 if position == last else widest
            match = rule.anchored(distance).match(text, position, timeout=timeout)
            if match is None:
                position += distance + 1
                continue
            start, end = match.span()
            if start > last:
                break
            yield match
            resume = position = end if end > start else start + 1


def _matches(rule: EngineRule, text: bytes | str, regions: Sequence[Region] | None, timeout: float) -> Iterator[Any]:
    """The rule's matches in ``text``: all of them, or those starting inside ``regions``."""
    pattern: Any = rule.pattern
    if isinstance(regions, Starts):
        yield from _anchored_matches(rule, text, regions, timeout)
        return
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
    if rule.rule.path is not None and not rule.compiled.path_pattern.search(chunk.path):  # type: ignore[union-attr]  # rule.path set means path_pattern is compiled
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
