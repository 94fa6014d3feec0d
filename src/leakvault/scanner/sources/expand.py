"""From a file's chunk to the chunks the scanner should see.

Most files are scanned as they are. A notebook becomes its cells and text outputs; a config file
is scanned as it is and, in addition, as its base64 values decoded. Every source (the directory
walk, the index, history) goes through `expand_chunk`, so all of them treat these files alike.

A derived chunk always has a ``location`` ("cell 3", "base64 value on line 12"); a chunk without
one stands for a whole file, which is what the file counter counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from leakvault.scanner.model import Chunk
from leakvault.scanner.sources.base64_values import decoded_chunks
from leakvault.scanner.sources.notebook import is_notebook, notebook_chunks


def expand_chunk(chunk: Chunk) -> Iterator[Chunk]:
    """``chunk`` itself (or, for a notebook, an empty stand-in for the file and its cells),
    followed by the chunks derived from it. CRLF line ends become LF first, so no rule's match
    (and no fingerprint) ever ends in a stray ``\r``; columns and line numbers are unchanged."""
    if b"\r\n" in chunk.data:
        chunk = replace(chunk, data=chunk.data.replace(b"\r\n", b"\n"))
    if is_notebook(chunk.path):
        cells = notebook_chunks(chunk)
        if cells is not None:
            # An empty chunk keeps the file counted once; the cells carry the text.
            yield Chunk(path=chunk.path, data=b"", commit=chunk.commit)
            yield from cells
            return
    yield chunk
    yield from decoded_chunks(chunk)
