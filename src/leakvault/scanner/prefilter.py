"""One Aho-Corasick automaton over every rule's keywords: which rules can possibly match a chunk.

A rule whose keywords do not occur (case-insensitively) in a chunk cannot match it, because the
rule lint and a property test demand that every string a rule's regex matches contains one of its
keywords. So only the rules whose keywords hit run their regex; most files run none.
"""

from __future__ import annotations

from collections.abc import Sequence

import ahocorasick


class KeywordPrefilter:
    """Maps a lowercased text to the indices of the rules that may match it."""

    __slots__ = ("_automaton", "_has_keywords", "_keywordless")

    def __init__(self, keyword_sets: Sequence[Sequence[str]]) -> None:
        owners: dict[str, list[int]] = {}
        keywordless: list[int] = []
        for index, keywords in enumerate(keyword_sets):
            if not keywords:
                keywordless.append(index)  # such a rule runs on every chunk (kept rare; see rule lint)
            for keyword in keywords:
                owners.setdefault(keyword, []).append(index)
        self._automaton = ahocorasick.Automaton()
        for keyword, indices in owners.items():
            self._automaton.add_word(keyword, tuple(indices))
        self._has_keywords = bool(owners)
        if self._has_keywords:
            self._automaton.make_automaton()
        self._keywordless = frozenset(keywordless)

    def rules_hit(self, lowered: str) -> set[int]:
        """Indices of the rules with at least one keyword in ``lowered`` (plus keyword-less rules)."""
        hit: set[int] = set(self._keywordless)
        if self._has_keywords:
            for _, indices in self._automaton.iter(lowered):
                hit.update(indices)
        return hit
