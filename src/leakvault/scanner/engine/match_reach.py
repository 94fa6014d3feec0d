"""How far a rule's matches can reach: what makes searching only near a hit exactly as good as
searching the whole chunk.

For a pattern whose matches are at most ``width`` characters long and whose assertions look at
most ``lookahead`` characters past the position they are tested at, a match that contains (or ends
at) a known offset lies inside a window of ``width`` around it, and a search bounded ``width +
lookahead`` characters past that window behaves exactly like a search of the whole text (the
`regex` module's ``pos`` argument keeps the text before the window visible to lookbehinds, ``\\b``
and ``^``). docs/performance.md gives the argument in full.

The analysis uses the standard library's regular-expression parser, which reads the syntax rule
authors use; a pattern it cannot read, or whose matches are unbounded, gets ``None`` and is then
always searched over the whole chunk, which is slower but never wrong.
"""

from __future__ import annotations

import re._constants as sre_constants  # type: ignore[import-not-found]  # private, stable since 3.11
import re._parser as sre_parse  # type: ignore[import-not-found]  # the only width oracle at hand
from dataclasses import dataclass
from typing import Any

import regex

# Wider matches are searched over the whole chunk: past this, windows stop saving much.
MAX_WINDOW = 8192
# Extra characters past a window so that end-of-text assertions never fire at the cut.
SAFETY_MARGIN = 2
# What the standard parser raises on syntax it does not know (the `regex` module knows more).
_PARSE_ERRORS = (sre_constants.error, OverflowError, RecursionError, TypeError, ValueError)
# Syntax both parsers accept but read differently: POSIX classes ([[:alpha:]]) and fuzzy
# constraints ({e<=1}) are literal characters to the standard parser, so its width would be wrong.
NEWLINE = 10
_NEWLINE_CATEGORIES = frozenset(
    {sre_constants.CATEGORY_SPACE, sre_constants.CATEGORY_NOT_DIGIT, sre_constants.CATEGORY_NOT_WORD}
)
_REGEX_ONLY_SYNTAX = regex.compile(r"\[:\^?[a-z]+:\]|\{\s*[edis]\s*[<=]")


@dataclass(frozen=True, slots=True)
class MatchReach:
    """Where a rule's matches can lie relative to a hit, so that searching near hits is exact.

    ``width``: the longest match, or None if unbounded; ``single_line``: no match contains a
    newline; ``tail``: how far past a region's end the search must be allowed to look.
    """

    width: int | None
    single_line: bool
    tail: int


def _class_matches_newline(items: Any) -> bool:
    negate = False
    hit = False
    for op, arg in items:
        if op is sre_constants.NEGATE:
            negate = True
        elif op is sre_constants.LITERAL:
            hit = hit or arg == NEWLINE
        elif op is sre_constants.RANGE:
            hit = hit or arg[0] <= NEWLINE <= arg[1]
        elif op is sre_constants.CATEGORY:
            hit = hit or arg in _NEWLINE_CATEGORIES
        else:
            return True  # something we do not model: assume it can
    return hit != negate


def _can_match_newline(items: Any, dotall: bool) -> bool:
    """Whether any string consumed by ``items`` (lookarounds excluded) can contain a newline."""
    for op, arg in items:
        if op is sre_constants.LITERAL:
            if arg == NEWLINE:
                return True
        elif op is sre_constants.NOT_LITERAL:
            if arg != NEWLINE:
                return True
        elif op is sre_constants.ANY:
            if dotall:
                return True
        elif op is sre_constants.IN:
            if _class_matches_newline(arg):
                return True
        elif op is sre_constants.BRANCH:
            if any(_can_match_newline(branch, dotall) for branch in arg[1]):
                return True
        elif op is sre_constants.SUBPATTERN:
            _, add_flags, del_flags, sub = arg
            inner = (dotall or bool(add_flags & sre_constants.SRE_FLAG_DOTALL)) and not (
                del_flags & sre_constants.SRE_FLAG_DOTALL
            )
            if _can_match_newline(sub, inner):
                return True
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT):
            if _can_match_newline(arg[2], dotall):
                return True
        elif op is sre_constants.ATOMIC_GROUP:
            if _can_match_newline(arg, dotall):
                return True
        elif op is sre_constants.GROUPREF_EXISTS:
            if any(_can_match_newline(branch, dotall) for branch in arg[1:] if branch is not None):
                return True
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT, sre_constants.AT, sre_constants.GROUPREF):
            continue  # zero-width, or a repeat of a group checked on its own
        else:
            return True  # an operator we do not model: assume the worst
    return False


def _lookahead_extent(items: Any) -> int:
    """The most characters past the current position any assertion in ``items`` may examine."""
    extent = 0
    for op, arg in items:
        if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            direction, sub = arg
            inner = _lookahead_extent(sub)
            if direction == 1:
                inner += _width(sub)
            extent = max(extent, inner)
        elif op is sre_constants.AT:
            extent = max(extent, 1)  # \b, \B, $ look at the next character
        elif op is sre_constants.BRANCH:
            extent = max([extent, *(_lookahead_extent(branch) for branch in arg[1])])
        elif op is sre_constants.SUBPATTERN:
            extent = max(extent, _lookahead_extent(arg[-1]))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT):
            extent = max(extent, _lookahead_extent(arg[2]))
        elif op is sre_constants.ATOMIC_GROUP:
            extent = max(extent, _lookahead_extent(arg))
        elif op is sre_constants.GROUPREF_EXISTS:
            extent = max(extent, *(_lookahead_extent(branch) for branch in arg[1:] if branch is not None))
    return extent


def _width(sub: Any) -> int:
    return int(sub.getwidth()[1])


def _lookaheads(items: Any) -> Any:
    """Every look-ahead sub-pattern in ``items``, at any depth."""
    for op, arg in items:
        if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            if arg[0] == 1:
                yield arg[1]
            yield from _lookaheads(arg[1])
        elif op is sre_constants.BRANCH:
            for branch in arg[1]:
                yield from _lookaheads(branch)
        elif op is sre_constants.SUBPATTERN:
            yield from _lookaheads(arg[-1])
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT):
            yield from _lookaheads(arg[2])
        elif op is sre_constants.ATOMIC_GROUP:
            yield from _lookaheads(arg)
        elif op is sre_constants.GROUPREF_EXISTS:
            for branch in arg[1:]:
                if branch is not None:
                    yield from _lookaheads(branch)


def _past_newline(items: Any, dotall: bool) -> int:
    """At most how many characters ``items`` consume from the first newline they consume on
    (0 if they never consume one): the first item that can take a newline and all after it."""
    for position, item in enumerate(items):
        if _can_match_newline([item], dotall):
            return _width(sre_parse.SubPattern(items.state, list(items)[position:]))
    return 0


def match_reach(pattern: str) -> MatchReach | None:
    """Where ``pattern``'s matches can lie, or None when nothing useful is known (search whole
    chunks): unreadable here, or matches (or look-aheads) both unbounded and multi-line."""
    if _REGEX_ONLY_SYNTAX.search(pattern):
        return None
    try:
        parsed = sre_parse.parse(pattern, 0)
        width: int | None = _width(parsed)
        lookahead = _lookahead_extent(parsed)
        dotall = bool(parsed.state.flags & sre_constants.SRE_FLAG_DOTALL)
        single_line = not _can_match_newline(parsed, dotall)
        # How far past a line's end a look-ahead can see (0: it stops at the newline).
        past_line = max((_past_newline(sub, dotall) for sub in _lookaheads(parsed)), default=0)
    except _PARSE_ERRORS:
        return None
    if width is not None and width <= MAX_WINDOW and lookahead <= MAX_WINDOW:
        return MatchReach(width=width, single_line=single_line, tail=width + lookahead + SAFETY_MARGIN)
    if single_line and past_line <= MAX_WINDOW:
        # A line region ends at its newline; the search sees one character past it (so '$' is
        # not fooled into thinking the newline is the text's last) and as far as a look-ahead
        # can reach past it.
        return MatchReach(width=None, single_line=True, tail=SAFETY_MARGIN + past_line)
    return None


# At most this many spellings are followed when reading a pattern's literal prefixes.
_MAX_SPELLINGS = 512
# A character class of at most this many literal characters is read as an alternation.
_MAX_CLASS_SPELLINGS = 8

Spelling = tuple[str, bool]  # (lowercased literal text, whether the items were spelled to the end)


def _class_letters(arg: Any) -> list[str] | None:
    if len(arg) > _MAX_CLASS_SPELLINGS or any(op is not sre_constants.LITERAL for op, _ in arg):
        return None
    return [chr(char).lower() for _, char in arg]


def _spell_item(op: Any, arg: Any) -> list[Spelling] | None:
    """The ways one item can start: literal text and whether the item is then fully spelled.
    None: the item starts with something that is not literal."""
    if op is sre_constants.LITERAL:
        return [(chr(arg).lower(), True)]
    if op in (sre_constants.AT, sre_constants.ASSERT, sre_constants.ASSERT_NOT):
        return [("", True)]  # zero-width
    if op is sre_constants.IN:
        letters = _class_letters(arg)
        return None if letters is None else [(letter, True) for letter in letters]
    if op is sre_constants.SUBPATTERN:
        return _spell(arg[-1])
    if op is sre_constants.BRANCH:
        options: list[Spelling] = []
        for branch in arg[1]:
            inner = _spell(branch)
            if inner is None:
                return None
            options.extend(inner)
        return options
    if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and arg[1] <= 1:
        inner = _spell(arg[2])
        if inner is None:
            return None
        once = inner if arg[1] == 1 else []
        if arg[0] == 0:
            return [("", True), *[(text, False) if arg[1] != 1 else (text, done) for text, done in once]]
        return once if arg[0] == 1 else None
    return None


def _spell(items: Any) -> list[Spelling] | None:
    """The literal prefixes of ``items`` (each path spelled until its first non-literal item)."""
    paths: list[Spelling] = [("", True)]
    for op, arg in items:
        if all(not done for _, done in paths):
            break
        item = _spell_item(op, arg)
        if item is None:
            paths = [(text, False) for text, _ in paths]
            break
        paths = [(text, False) for text, done in paths if not done] + [
            (text + tail, tail_done) for text, done in paths if done for tail, tail_done in item
        ]
        if len(paths) > _MAX_SPELLINGS:
            return None
    return paths


Anchors = dict[str, int]  # keyword -> at most how far after a match's start it begins


def _first_keyword(paths: list[Spelling], keywords: tuple[str, ...]) -> Anchors | None:
    """For each keyword, the largest offset at which it is the first keyword of some path's
    literal text; None if some path's text holds no keyword."""
    anchors: Anchors = {}
    for text, _ in paths:
        found = [(offset, keyword) for keyword in keywords if (offset := text.find(keyword)) >= 0]
        if not found:
            return None
        offset, keyword = min(found)
        anchors[keyword] = max(anchors.get(keyword, 0), offset)
    return anchors


def _shifted(anchors: Anchors, by: int) -> Anchors:
    return {keyword: offset + by for keyword, offset in anchors.items()}


def _keyword_offset(items: Any, keywords: tuple[str, ...]) -> Anchors | None:
    """Where, counted from the start of any string ``items`` match, its first keyword starts (per
    keyword, a bound): from the first position at which every path's literal prefix holds one,
    plus the most the items before it can consume."""
    consumed = 0
    listed = list(items)
    for index, (op, arg) in enumerate(listed):
        paths = _spell(listed[index:])
        anchors = _first_keyword(paths, keywords) if paths is not None else None
        if anchors is None and op is sre_constants.SUBPATTERN:
            anchors = _keyword_offset(arg[-1], keywords)
        elif anchors is None and op is sre_constants.BRANCH:
            branches = [_keyword_offset(branch, keywords) for branch in arg[1]]
            if all(branch is not None for branch in branches):
                anchors = {}
                for branch in branches:
                    for keyword, offset in (branch or {}).items():
                        anchors[keyword] = max(anchors.get(keyword, 0), offset)
        elif anchors is None and op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and arg[0]:
            anchors = _keyword_offset(arg[2], keywords)
        if anchors is not None:
            return _shifted(anchors, consumed)
        consumed += _width(sre_parse.SubPattern(items.state, [(op, arg)]))
        if consumed > MAX_WINDOW:
            return None
    return None


def keyword_anchors(pattern: str, keywords: tuple[str, ...]) -> Anchors | None:
    """How far before a keyword hit a match can start, per keyword: every match of ``pattern``
    has a first keyword (case-insensitively) starting at most ``anchors[keyword]`` characters
    after the match's start. A keyword absent from the result never starts a match's first
    keyword, so its hits need no search of their own. None when this cannot be shown; then
    regions come from `match_reach`.

    With it a rule needs trying only at the few starts before each hit, however long its matches.
    """
    lowered = tuple(keyword.lower() for keyword in keywords)
    if not lowered or _REGEX_ONLY_SYNTAX.search(pattern):
        return None
    try:
        parsed = sre_parse.parse(pattern, 0)
        return _keyword_offset(parsed, lowered)
    except _PARSE_ERRORS:
        return None
