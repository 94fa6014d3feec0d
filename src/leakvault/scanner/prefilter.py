"""One Aho-Corasick automaton over every rule's keywords: which rules can possibly match a chunk,
and where.

A rule whose keywords do not occur (case-insensitively) in a chunk cannot match it, because the
rule lint and a property test demand that every string a rule's regex matches contains one of its
keywords. So only the rules whose keywords hit run their regex, most files run none, and a rule
whose matches are at most W bytes long searches only the W bytes either side of each hit.

The automaton walks the lowered bytes as latin-1 text (pyahocorasick wants `str`; latin-1 keeps
one character per byte), a few MB at a time so a huge file never costs three copies of itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import ahocorasick

from leakvault.scanner.detect import EngineRule, Region

SLICE_BYTES = 4 << 20
# Past this many regions a rule searches the whole chunk: one long search beats many short ones.
MAX_REGIONS = 256
# Past this many keyword hits in one chunk (a pathological file), stop recording positions: every
# rule hit so far searches the whole chunk, and the rest of the chunk is only checked for the
# keywords not yet seen (each found once), so the cost stays linear in the chunk with a small factor.
MAX_HITS = 200_000

_ABSENT: Any = object()

# Located rules: index -> regions to search, or None for the whole chunk.
Located = dict[int, list[Region] | None]


WHOLE, LINE = -1, -2


def _window_width(rule: EngineRule) -> int:
    """How the rule's regions are cut: the match width, LINE (the hit's line) or WHOLE."""
    reach = rule.reach
    if reach is None:
        return WHOLE
    return LINE if reach.width is None else reach.width


def keyword_text(keyword: str) -> str:
    """A keyword as the automaton sees it: its UTF-8 bytes, one latin-1 character each."""
    return keyword.encode("utf-8").decode("latin-1")


def _automaton(owners: dict[str, tuple[int, ...]]) -> Any:
    automaton = ahocorasick.Automaton()
    for keyword, indices in owners.items():
        automaton.add_word(keyword, (len(keyword), indices))
    automaton.make_automaton()
    return automaton


class KeywordPrefilter:
    """Maps a chunk's bytes to the rules that may match it and the regions to search."""

    __slots__ = ("_automaton", "_keywordless", "_overlap", "_owners", "_rules")

    def __init__(self, rules: Sequence[EngineRule]) -> None:
        owners: dict[str, list[int]] = {}
        keywordless: list[int] = []
        for rule in rules:
            if not rule.rule.keywords:
                keywordless.append(rule.index)  # such a rule runs on every chunk (kept rare; see rule lint)
            for keyword in rule.rule.keywords:
                owners.setdefault(keyword_text(keyword), []).append(rule.index)
        self._rules = {rule.index: rule for rule in rules}
        self._owners = {keyword: tuple(indices) for keyword, indices in owners.items()}
        self._automaton = _automaton(self._owners) if owners else None
        self._keywordless = tuple(keywordless)
        self._overlap = max((len(keyword) for keyword in owners), default=1) - 1

    def _slices(self, data: bytes, start: int = 0) -> Iterable[tuple[int, int, str]]:
        """(offset, floor, lowered text) pieces covering data[start:]. Each piece starts the
        longest keyword less one before its floor, so every keyword ending after the floor (and
        not after the piece) is whole inside it; hits ending at or before the floor belong to the
        previous piece."""
        position = start
        while position < len(data):
            low = max(0, position - self._overlap)
            yield low, position, data[low : position + SLICE_BYTES].lower().decode("latin-1")
            position += SLICE_BYTES

    def locate(self, data: bytes) -> Located:
        """Rules whose keywords occur in ``data``, each with the regions its regex must search."""
        found: Located = dict.fromkeys(self._keywordless)
        if self._automaton is None:
            return found
        widths: dict[int, int] = {}
        hits = 0
        for offset, floor, text in self._slices(data):
            for last, (length, owners) in self._automaton.iter(text):
                end = offset + last + 1
                if end <= floor:
                    continue
                hits += 1
                if hits > MAX_HITS:
                    self._presence_only(data, end - 1, found)
                    return found
                for index in owners:
                    regions: Any = found.get(index, _ABSENT)
                    if regions is None:
                        continue
                    width = widths.get(index)
                    if width is None:
                        width = widths[index] = _window_width(self._rules[index])
                    if width == WHOLE:
                        found[index] = None
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
        each time one is found, so a flood of one keyword costs one C-speed walk."""
        for index in found:
            found[index] = None
        pending = {kw: owners for kw, owners in self._owners.items() if any(i not in found for i in owners)}
        position = start
        while pending and position < len(data):
            automaton = _automaton(pending)
            seen: str | None = None
            for offset, floor, text in self._slices(data, position):
                for last, (length, owners) in automaton.iter(text):
                    end = offset + last + 1
                    if end > floor:
                        seen = text[last - length + 1 : last + 1]
                        position = end - 1  # others may end at the same byte
                        found.update(dict.fromkeys(owners))
                        break
                if seen is not None:
                    break
            if seen is None:
                return
            pending = {kw: owners for kw, owners in pending.items() if any(i not in found for i in owners)}
