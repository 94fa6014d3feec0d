"""A normalised view of a chunk, and the offset map from the view back to the chunk's bytes.

A context family (comments, YAML block scalars, concatenated strings) writes one view line per
construct it recognises: the construct rewritten as an ordinary one-line assignment. Every byte
of a view line is either copied from the chunk (a segment: view offset, chunk offset, length) or
inserted (a quote, a space); the rules run over the view as over any chunk, and each match is
placed back in the chunk through the segments, so a finding lands on the line and column where
its first character is in the file (and ends after its last one).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace

from leakvault.scanner.model import Chunk


@dataclass(frozen=True, slots=True)
class View:
    """The view's chunk (same path, commit and location as its source), and the way back."""

    chunk: Chunk
    source: Chunk
    # (view offset, source offset, length) of each copied run, in view order.
    segments: tuple[tuple[int, int, int], ...] = field(repr=False)

    def source_offset(self, offset: int) -> int:
        """Where the view's byte at ``offset`` came from; an inserted byte maps to the next copied one."""
        starts = [segment[0] for segment in self.segments]
        index = bisect.bisect_right(starts, offset) - 1
        if index >= 0:
            view_start, source_start, length = self.segments[index]
            if offset < view_start + length:
                return source_start + offset - view_start
        following = index + 1
        if following < len(self.segments):
            return self.segments[following][1]
        _, last_source, last_length = self.segments[-1]
        return last_source + last_length

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The source span from the first to the last byte of the view span [start, end)."""
        first = self.source_offset(start)
        last = self.source_offset(max(end - 1, start)) + 1
        return first, max(last, first + 1)


class ViewBuilder:
    """Collects view lines; `view` returns None when no family wrote one."""

    __slots__ = ("_parts", "_segments", "_size", "source")

    def __init__(self, source: Chunk) -> None:
        self.source = source
        self._parts: list[bytes] = []
        self._segments: list[tuple[int, int, int]] = []
        self._size = 0

    def copy(self, start: int, end: int) -> None:
        """Append the source bytes [start, end)."""
        if end <= start:
            return
        previous = self._segments[-1] if self._segments else None
        if previous is not None and previous[0] + previous[2] == self._size and previous[1] + previous[2] == start:
            self._segments[-1] = (previous[0], previous[1], previous[2] + end - start)
        else:
            self._segments.append((self._size, start, end - start))
        self._parts.append(self.source.data[start:end])
        self._size += end - start

    def insert(self, text: bytes) -> None:
        """Append bytes that are not in the source (a quote, a separator)."""
        self._parts.append(text)
        self._size += len(text)

    def end_line(self) -> None:
        self.insert(b"\n")

    def view(self) -> View | None:
        if not self._segments:
            return None
        chunk = replace(self.source, data=b"".join(self._parts), line_filter=None)
        return View(chunk=chunk, source=self.source, segments=tuple(self._segments))
