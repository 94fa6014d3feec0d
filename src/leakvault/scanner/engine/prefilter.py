"""One Aho-Corasick automaton over every rule's keywords: which rules can possibly match a chunk,
and where.

A rule whose keywords do not occur (case-insensitively) in a chunk cannot match it, because the
rule lint and a property test demand that every string a rule's regex matches contains one of its
keywords. So only the rules whose keywords hit run their regex, most files run none, and each rule
searches only where its matches can be relative to the hits (see `match_reach`): from a few bytes
before each hit (keyword-anchored rules), a match width around it, or its line.

The automaton runs over the lowered bytes, a slice at a time so that a huge file never costs more
than a slice's worth of extra memory. It is `ahocorasick_rs` (a DFA in Rust, ~600 MB/s here) where
that wheel is installed, else `pyahocorasick` (~50 MB/s); both report every occurrence of every
keyword, overlapping ones included, so both locate exactly the same regions.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Iterator, Sequence
from typing import Any

import regex

from leakvault.patterns.loader import compile_gate
from leakvault.patterns.regex_text import top_level_branches
from leakvault.scanner.automaton import Automaton
from leakvault.scanner.engine.detect import EngineRule, Region, Starts

SLICE_BYTES = 1 << 20
# Past this many regions (match-width or line windows) a rule searches the whole chunk. Keyword
# anchored starts are never capped: trying a start is cheap whatever the pattern costs per byte.
MAX_REGIONS = 4096
# Past this many keyword hits in one chunk (a pathological file), stop recording positions: every
# rule hit so far searches the whole chunk, and the rest of the chunk is only checked for the
# keywords not yet seen (each found once), so the cost stays linear in the chunk with a small factor.
MAX_HITS = 200_000

# Located rules: index -> regions to search, or None for the whole chunk.
Located = dict[int, list[Region] | None]


# How a rule's regions are cut, as one int per rule: a match width (>= 0), the hit's line, the
# whole chunk, or ANCHOR: matches start at most the keyword's anchor distance before a hit.
WHOLE, LINE, ANCHOR = -1, -2, -3


def _window_width(rule: EngineRule) -> int:
    if rule.anchors is not None:
        return ANCHOR
    reach = rule.reach
    if reach is None:
        return WHOLE
    return LINE if reach.width is None else reach.width


def _line_windows(data: bytes, positions: list[int], length: int) -> Iterator[Region]:
    """The lines holding keyword occurrences at ``positions`` (ascending), each line once."""
    line_end = -1
    for start in positions:
        if start < line_end:
            continue
        line_start = data.rfind(b"\n", 0, start) + 1
        line_end = data.find(b"\n", start + length - 1)
        if line_end < 0:
            line_end = len(data)
        yield line_start, line_end


def _merged(windows: list[Region], mode: int, unsorted: bool) -> list[Region] | None:
    """Overlapping windows joined, and adjacent ones too where that is free: consecutive starts,
    consecutive lines (a line region ends at its newline). None when too many remain."""
    if unsorted:
        windows.sort()
    anchored = mode == ANCHOR
    touch = 1 if anchored or mode == LINE else 0
    merged: list[Region] = Starts() if anchored else []
    last_start, last_end = windows[0]
    for start, end in windows:
        if start <= last_end + touch:
            if end > last_end:
                last_end = end
            continue
        merged.append((max(0, last_start), last_end))
        last_start, last_end = start, end
    merged.append((max(0, last_start), last_end))
    if not anchored and len(merged) > MAX_REGIONS:
        return None
    return merged


class _KeywordTable:
    """Per keyword index: the rules owning it, and the gate they share (None: keep every hit),
    joined on first use (a pre-commit run meets a handful of the ~900 keywords)."""

    __slots__ = ("_gates", "_rules", "owners")

    def __init__(self, owners: list[tuple[int, ...]], rules: dict[int, EngineRule]) -> None:
        self.owners = owners
        self._rules = rules
        self._gates: list[str | object | None] = [_UNJOINED] * len(owners)

    def gate(self, keyword: int) -> str | None:
        gate = self._gates[keyword]
        if gate is _UNJOINED:
            gate = self._gates[keyword] = _union_gate(tuple(self._rules[i].rule.gate for i in self.owners[keyword]))
        return gate  # type: ignore[return-value]  # the list holds a sentinel until joined


_UNJOINED = object()


def _scoped_flags(pattern: str) -> str:
    """``(?i)x`` as ``(?i:x)``, so that the pattern can be one alternative among others."""
    flags = re.match(r"\(\?([a-zA-Z]+)\)", pattern)
    return f"(?{flags.group(1)}:{pattern[flags.end() :]})" if flags else pattern


@functools.cache  # most keywords share their owners (the generic family's hundred names): once each
def _union_gate(gates: tuple[str | None, ...]) -> str | None:
    """One gate passing wherever any of ``gates`` passes; None if some owner has no gate.

    Gates that begin alike (a family's shared identifier scan) are joined behind that beginning,
    ``P(?:A|B)`` rather than ``PA|PB``: the same matches, but the scan runs once per hit."""
    if not gates or any(gate is None for gate in gates):
        return None
    distinct = sorted({gate for gate in gates if gate is not None})
    if len(distinct) == 1:
        return distinct[0]
    distinct = sorted({branch for gate in distinct for branch in top_level_branches(gate)})
    groups: dict[str, list[str]] = {}
    for gate in distinct:
        groups.setdefault(gate[:8], []).append(gate)
    parts = [_factored(members) for members in groups.values()]
    return parts[0] if len(parts) == 1 else "|".join(f"(?:{part})" for part in parts)


def _factored(members: list[str]) -> str:
    """``members`` as one alternation behind their longest shared beginning that is a pattern of
    its own, followed in each member by a group (so the split cannot cut a quantifier off)."""
    if len(members) > 1:
        shared = os.path.commonprefix(members)  # noqa: RUF071 - text, not paths
        # Only cuts before a "(" in every member are candidates: compiling at each cut would cost
        # a pre-commit run milliseconds.
        for cut in range(len(shared), 0, -1):
            if all(member[cut : cut + 1] == "(" for member in members):
                rests = [member[cut:] for member in members]
                if _compiles(shared[:cut], *rests):
                    return shared[:cut] + "(?:" + "|".join(rests) + ")"
    return "|".join(f"(?:{member})" for member in members)


def _compiles(*patterns: str) -> bool:
    try:
        for pattern in patterns:
            re.compile(pattern)
    except re.error:
        return False
    return True


class KeywordPrefilter:
    """Maps a chunk's bytes to the rules that may match it and the regions to search."""

    __slots__ = (
        "_automaton",
        "_keyword_text",
        "_keywordless",
        "_keywords",
        "_overlap",
        "_owners",
        "_path_patterns",
        "_path_rules",
        "_prefer_rust",
        "_rules",
        "_tables",
    )

    def __init__(self, rules: Sequence[EngineRule], *, prefer_rust: bool = True) -> None:
        owners: dict[bytes, list[int]] = {}
        keywordless: list[int] = []
        for rule in rules:
            if not rule.rule.keywords:
                keywordless.append(rule.index)  # such a rule runs on every chunk (kept rare; see rule lint)
            for keyword in rule.rule.keywords:
                owners.setdefault(keyword.encode("utf-8"), []).append(rule.index)
        self._rules = {rule.index: rule for rule in rules}
        self._keywords = list(owners)
        self._keyword_text = [keyword.decode("utf-8") for keyword in owners]
        self._owners = [tuple(indices) for indices in owners.values()]
        self._prefer_rust = prefer_rust  # False: pyahocorasick (the differential test runs both)
        self._automaton = Automaton(self._keywords, prefer_rust) if owners else None
        self._keywordless = tuple(keywordless)
        self._overlap = max((len(keyword) for keyword in owners), default=1) - 1
        # Rules limited to some paths (Dockerfiles, .tf files...) take no part in other files:
        # neither their hits nor their gates, which may be looser than the rest of their family's.
        self._path_rules = tuple(rule.index for rule in rules if rule.rule.path)
        self._path_patterns: dict[int, Any] = {}
        self._tables: dict[frozenset[int], _KeywordTable] = {}
        self._table(frozenset())

    def _slices(self, data: bytes, start: int = 0) -> Iterator[tuple[int, int, bytes]]:
        """(offset, floor, lowered text) pieces covering data[start:]. Each piece starts the
        longest keyword less one before its floor, so every keyword ending after the floor (and
        not after the piece) is whole inside it; hits ending at or before the floor belong to the
        previous piece."""
        position = start
        while position < len(data):
            low = max(0, position - self._overlap)
            yield low, position, data[low : position + SLICE_BYTES].lower()
            position += SLICE_BYTES

    def _table(self, inactive: frozenset[int]) -> _KeywordTable:
        """Owners and shared gates per keyword, without the ``inactive`` rules."""
        table = self._tables.get(inactive)
        if table is None:
            owners = [tuple(i for i in indices if i not in inactive) for indices in self._owners]
            table = self._tables[inactive] = _KeywordTable(owners, self._rules)
        return table

    def _inactive(self, path: str | None) -> frozenset[int]:
        """The path-limited rules that cannot report in ``path`` (none when the path is unknown)."""
        if path is None or not self._path_rules:
            return frozenset()
        # Searched backwards ("(?r)": the same matches exist): path patterns end in "$", so a
        # backward search fails at once where a forward one tries every start (~9x faster).
        if not self._path_patterns:
            # Most files match none of these paths: one search of them all answers for those.
            scoped = [_scoped_flags(self._rules[index].rule.path or "") for index in self._path_rules]
            self._path_patterns[-1] = None
            with contextlib.suppress(regex.error):  # then each pattern is searched on its own
                self._path_patterns[-1] = regex.compile("(?r)" + "|".join(f"(?:{p})" for p in scoped))
        combined = self._path_patterns[-1]
        if combined is not None and not combined.search(path):
            return frozenset(self._path_rules)
        inactive = []
        for index in self._path_rules:  # compiled on first need: a pre-commit run seldom has any
            pattern = self._path_patterns.get(index)
            if pattern is None:
                source = "(?r)" + _scoped_flags(self._rules[index].rule.path or "")
                pattern = self._path_patterns[index] = regex.compile(source)
            if not pattern.search(path):
                inactive.append(index)
        return frozenset(inactive)

    def locate(self, data: bytes, path: str | None = None) -> Located:
        """Rules whose keywords occur in ``data``, each with the regions its regex must search.
        With ``path``, rules limited to other paths are left out."""
        found: Located = dict.fromkeys(self._keywordless)
        if self._automaton is None:
            return found
        table = self._table(self._inactive(path))
        starts = self._keyword_starts(data, found, table)
        # Windows per rule, keyword by keyword: tight loops per mode instead of per-hit dispatch.
        windows: dict[int, list[Region]] = {}
        modes: dict[int, int] = {}
        for keyword, hits in starts.items():
            length = len(self._keywords[keyword])
            shared_gate = table.gate(keyword)
            gated: dict[str, list[int]] = {}
            for index in table.owners[keyword]:
                if index in found and found[index] is None:
                    continue
                positions = hits
                own_gate = self._rules[index].rule.gate
                if own_gate is not None and own_gate != shared_gate:
                    positions = gated.get(own_gate)  # type: ignore[assignment]  # None (gate never matched) is handled just below
                    if positions is None:
                        match = compile_gate(own_gate).match
                        positions = gated[own_gate] = [start for start in hits if match(data, start)]
                    if not positions:
                        continue
                mode = modes.get(index)
                if mode is None:
                    mode = modes[index] = _window_width(self._rules[index])
                if mode == WHOLE:
                    found[index] = None
                    windows.pop(index, None)
                    continue
                out = windows.setdefault(index, [])
                if mode == ANCHOR:
                    distance = self._rules[index].anchors.get(self._keyword_text[keyword])  # type: ignore[union-attr]  # ANCHOR mode is only chosen for rules with anchors
                    if distance is not None:  # else: never a match's first keyword; others locate it
                        out.extend([(start - distance, start) for start in positions])
                elif mode == LINE:
                    out.extend(_line_windows(data, positions, length))
                else:
                    out.extend([(start + length - mode, start + mode) for start in positions])
        for index, collected in windows.items():
            if index not in found and collected:
                found[index] = _merged(collected, modes[index], len(starts) > 1)
        return found

    def _keyword_starts(self, data: bytes, found: Located, table: _KeywordTable) -> dict[int, list[int]]:
        """Start offsets of every keyword occurrence, by keyword (ascending). A flood of hits (a
        pathological file) stops recording: every rule seen so far is marked whole-chunk in
        ``found`` and the rest of the chunk is only checked for keywords of undecided rules."""
        assert self._automaton is not None  # noqa: S101 - locate() checked
        starts: dict[int, list[int]] = {}
        hits = 0
        for offset, floor, text in self._slices(data):
            piece: dict[int, list[int]] = {}
            for keyword, first, last in self._automaton.occurrences(text):
                if offset + last <= floor:
                    continue
                positions = piece.get(keyword)
                if positions is None:
                    piece[keyword] = [offset + first]
                else:
                    positions.append(offset + first)
            for keyword, positions in piece.items():
                if not table.owners[keyword]:
                    continue
                gate = table.gate(keyword)
                if gate is not None:  # filtered as collected: a log full of "token" never piles up
                    match = compile_gate(gate).match
                    positions = [start for start in positions if match(data, start)]
                    if not positions:
                        continue
                kept = starts.get(keyword)
                if kept is None:
                    starts[keyword] = positions
                else:
                    kept.extend(positions)
                hits += len(positions)
            if hits > MAX_HITS:
                for keyword_seen in starts:
                    found.update(dict.fromkeys(table.owners[keyword_seen]))
                self._presence_only(data, offset + len(text), found)
                return {}
        return starts

    def _presence_only(self, data: bytes, start: int, found: Located) -> None:
        """Finish a chunk with too many hits: every rule seen searches the whole chunk; the rest of
        the chunk is walked only for keywords with an undecided owner, rebuilding the automaton
        each time one is found, so a flood of one keyword costs one walk."""
        for index in found:
            found[index] = None
        pending = [k for k, owners in enumerate(self._owners) if any(i not in found for i in owners)]
        position = start
        while pending and position < len(data):
            automaton = Automaton([self._keywords[k] for k in pending], self._prefer_rust)
            seen = False
            for offset, floor, text in self._slices(data, position):
                for keyword, _, last in automaton.occurrences(text):
                    if offset + last > floor:
                        seen = True
                        position = offset + last - 1  # others may end at the same byte
                        found.update(dict.fromkeys(self._owners[pending[keyword]]))
                        break
                if seen:
                    break
            if not seen:
                return
            pending = [k for k in pending if any(i not in found for i in self._owners[k])]
