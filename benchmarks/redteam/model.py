"""The one record the generator, the corpus writer and the scorer share."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Snippet:
    """One file of the corpus. ``secret`` is the planted value (None for a non-leak); ``style``
    names how it is written (the row of the report) and ``kind`` what it is."""

    path: str
    text: str
    style: str
    kind: str
    secret: str | None = None
    # Other credential-like values in the same file (an access key id beside its secret): a
    # finding on their lines is neither a hit nor a false positive.
    also: tuple[str, ...] = ()

    def lines(self) -> tuple[int, int] | None:
        """1-based first and last line of the planted value in the text."""
        return None if self.secret is None else self.span_of(self.secret)

    def span_of(self, value: str) -> tuple[int, int]:
        start = self.text.find(value)
        if start < 0:
            raise ValueError(f"{self.path}: planted value not in text")
        first = self.text.count("\n", 0, start) + 1
        return first, first + value.count("\n")
