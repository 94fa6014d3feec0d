"""One Aho-Corasick automaton over every rule's keywords: which rules can possibly match a chunk,
and where.

A rule whose keywords do not occur (case-insensitively) in a chunk cannot match it, because the
rule lint and a property test demand that every string a rule's regex matches contains one of its
keywords. So only the rules whose keywords hit run their regex, most files run none, and each rule
searches only where its matches can be relative to the hits (see `regex_width`): from a few bytes
before each hit (keyword-anchored rules), a match width around it, or its line.

The automaton runs over the lowered bytes, a slice at a time so that a huge file never costs more
than a slice's worth of extra memory. It is `ahocorasick_rs` (a DFA in Rust, ~600 MB/s here) where
that wheel is installed, else `pyahocorasick` (~50 MB/s); both report every occurrence of every
keyword, overlapping ones included, so both locate exactly the same regions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from leakvault.scanner.detect import EngineRule, Region, Starts

SLICE_BYTES = 1 << 20
# Past this many regions a rule searches the whole chunk: one long search beats many short ones.
MAX_REGIONS = 256
# Past this many keyword hits in one chunk (a pathological file), stop recording positions: every
# rule hit so far searches the whole chunk, and the rest of the chunk is only checked for the
# keywords not yet seen (each found once), so the cost stays linear in the chunk with a small factor.
MAX_HITS = 200_000

_ABSENT: Any = object()

# Located rules: index -> regions to search, or None for the whole chunk.
Located = dict[int, list[Region] | None]


# How a rule's regions are cut, as one int per rule for the hot loop: a match width (>= 0), the
# hit's line, the whole chunk, or ANCHOR - d: matches start at most d bytes before a hit.
WHOLE, LINE, ANCHOR = -1, -2, -3


def _window_width(rule: EngineRule) -> int:
    if rule.anchor is not None:
        return ANCHOR - rule.anchor
    reach = rule.reach
    if reach is None:
        return WHOLE
    return LINE if reach.width is None else reach.width


def _rust_automata() -> Any:
    """The `ahocorasick_rs` module, or None where its wheel is not installed."""
    try:
        import ahocorasick_rs
    except ImportError:
        return None
    return ahocorasick_rs


class _Automaton:
    """Every (keyword index, start, end) occurrence of some byte strings in a lowered text."""

    def __init__(self, keywords: Sequence[bytes], prefer_rust: bool = True) -> None:
        ahocorasick_rs = _rust_automata() if prefer_rust else None
        if ahocorasick_rs is not None:
            self._rs: Any = ahocorasick_rs.BytesAhoCorasick(
                list(keywords), implementation=ahocorasick_rs.Implementation.DFA
            )
            self._py: Any = None
        else:
            import ahocorasick

            self._rs = None
            self._py = ahocorasick.Automaton()
            for index, keyword in enumerate(keywords):
                self._py.add_word(keyword.decode("latin-1"), (index, len(keyword)))
            self._py.make_automaton()

    def occurrences(self, lowered: bytes) -> Iterator[tuple[int, int, int]]:
        if self._rs is not None:
            yield from self._rs.find_matches_as_indexes(lowered, overlapping=True)
            return
        for last, (index, length) in self._py.iter(lowered.decode("latin-1")):
            yield index, last + 1 - length, last + 1


class KeywordPrefilter:
    """Maps a chunk's bytes to the rules that may match it and the regions to search."""

    __slots__ = ("_automaton", "_keywordless", "_keywords", "_overlap", "_owners", "_prefer_rust", "_rules")

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
        self._owners = [tuple(indices) for indices in owners.values()]
        self._prefer_rust = prefer_rust  # False: pyahocorasick (the differential test runs both)
        self._automaton = _Automaton(self._keywords, prefer_rust) if owners else None
        self._keywordless = tuple(keywordless)
        self._overlap = max((len(keyword) for keyword in owners), default=1) - 1

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

    def locate(self, data: bytes) -> Located:
        """Rules whose keywords occur in ``data``, each with the regions its regex must search."""
        found: Located = dict.fromkeys(self._keywordless)
        if self._automaton is None:
            return found
        widths: dict[int, int] = {}
        hits = 0
        owners_of = self._owners
        for offset, floor, text in self._slices(data):
            for keyword, first, last in self._automaton.occurrences(text):
                end = offset + last
                if end <= floor:
                    continue
                length = last - first
                hits += 1
                if hits > MAX_HITS:
                    self._presence_only(data, end - 1, found)
                    return found
                for index in owners_of[keyword]:
                    regions: Any = found.get(index, _ABSENT)
                    if regions is None:
                        continue
                    width = widths.get(index)
                    if width is None:
                        width = widths[index] = _window_width(self._rules[index])
                    if width == WHOLE:
                        found[index] = None
                        continue
                    if width <= ANCHOR:
                        # Matches start at most (ANCHOR - width) bytes before a keyword hit.
                        window_start, window_end = end - length - (ANCHOR - width), end - length
                        if regions is _ABSENT:
                            found[index] = Starts([(max(0, window_start), window_end)])
                        elif window_start <= regions[-1][1] + 1:
                            regions[-1] = (regions[-1][0], window_end)
                        else:
                            regions.append((window_start, window_end))
                        continue
                    if width == LINE:
                        if regions is not _ABSENT and end - length <= regions[-1][1]:
                            continue  # on a line already in the last region
                        window_start = data.rfind(b"\n", 0, end - length) + 1
                        window_end = data.find(b"\n", end - 1)
                        if window_end < 0:
                            window_end = len(data)
                    else:
                        window_start, window_end = end - width, end - length + width
                    if regions is _ABSENT:
                        found[index] = [(max(0, window_start), window_end)]
                        continue
                    previous_start, previous_end = regions[-1]
                    if window_start <= previous_end:
                        if window_end > previous_end:
                            regions[-1] = (previous_start, window_end)
                    elif len(regions) >= MAX_REGIONS:
                        found[index] = None
                    else:
                        regions.append((window_start, window_end))
        return found

    def _presence_only(self, data: bytes, start: int, found: Located) -> None:
        """Finish a chunk with too many hits: every rule seen searches the whole chunk; the rest of
        the chunk is walked only for keywords with an undecided owner, rebuilding the automaton
        each time one is found, so a flood of one keyword costs one walk."""
        for index in found:
            found[index] = None
        pending = [k for k, owners in enumerate(self._owners) if any(i not in found for i in owners)]
        position = start
        while pending and position < len(data):
            automaton = _Automaton([self._keywords[k] for k in pending], self._prefer_rust)
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
