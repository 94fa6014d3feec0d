"""Every occurrence of a set of byte strings in a text, overlapping ones included: Aho-Corasick.

The prefilter runs it over the rules' keywords; the reports run it over a file's secrets to find
the other secrets on each previewed line. It is `ahocorasick_rs` (a DFA in Rust, ~600 MB/s here)
where that wheel is installed, else `pyahocorasick` (~50 MB/s).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any


def _rust_automata() -> Any:
    """The `ahocorasick_rs` module, or None where its wheel is not installed."""
    try:
        import ahocorasick_rs  # optional: a wheel exists for most platforms, not all
    except ImportError:
        return None
    return ahocorasick_rs


class Automaton:
    """Every (keyword index, start, end) occurrence of some byte strings in a text (the prefilter
    gives it lowered text and lowercase keywords)."""

    def __init__(self, keywords: Sequence[bytes], prefer_rust: bool = True, dense: bool = True) -> None:
        ahocorasick_rs = _rust_automata() if prefer_rust else None
        if ahocorasick_rs is not None:
            # A DFA is fastest, and small for ~1,000 keywords; for many long needles (a report's
            # 10,000 secrets) its table would take hundreds of MB, so those take the NFA.
            kind = ahocorasick_rs.Implementation.DFA if dense else ahocorasick_rs.Implementation.ContiguousNFA
            self._rs: Any = ahocorasick_rs.BytesAhoCorasick(list(keywords), implementation=kind)
            self._py: Any = None
        else:
            import ahocorasick  # the fallback, loaded only where ahocorasick_rs is missing

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
