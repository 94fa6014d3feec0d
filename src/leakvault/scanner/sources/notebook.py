"""Jupyter notebooks: scan each cell's source and text outputs as its own chunk.

Scanning a notebook's JSON as text would miss secrets split across escaped strings (a PEM key is
one JSON string per line with ``\\n`` escapes) and would point at JSON lines nobody reads. So the
notebook is parsed, and every finding names the cell (``cell 3``, ``cell 3 output 1``) in its
location. Its line number is the line in the ``.ipynb`` file, so editors, SARIF viewers and
baselines land on the right place: nbformat writes one JSON string per line of a cell, so a cell's
first line is found in the raw text and the cell's lines follow it one to one. (For a notebook
written compactly, on fewer lines, the cell's first line is the best we can say.) Image, audio,
video and PDF outputs are base64 payloads, not text: skipped. Anything that is not a notebook we
understand is scanned as plain text instead.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator
from typing import Any

from leakvault.scanner.model import Chunk

NOTEBOOK_SUFFIX = ".ipynb"
SKIPPED_MIME_PREFIXES = ("image/", "audio/", "video/", "application/pdf", "application/octet-stream")
# Terminal colour codes: IPython colours tracebacks (and libraries colour their logs), which puts
# escape sequences between a name, its '=' and its value.
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def is_notebook(path: str) -> bool:
    return path.lower().endswith(NOTEBOOK_SUFFIX)


def _text(value: Any) -> str | None:
    """nbformat stores multi-line strings as a string or a list of lines."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return "".join(value)
    return None


class _LineFinder:
    """Finds, in order, where each cell's text starts in the notebook's raw JSON."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.newlines = [index for index, char in enumerate(raw) if char == "\n"]
        self.cursor = 0

    def line_of(self, piece: str | None) -> int:
        """The 1-based file line of the next occurrence of ``piece`` as a JSON string (1 if absent)."""
        if not piece:
            return 1
        for encoded in (json.dumps(piece, ensure_ascii=False), json.dumps(piece)):
            position = self.raw.find(encoded[:-1], self.cursor)  # without the closing quote: a prefix
            if position >= 0:
                self.cursor = position + 1
                return bisect.bisect_left(self.newlines, position) + 1
        return 1


def _output_texts(output: dict[str, Any]) -> Iterator[str | list[str]]:
    """The text an output shows: a stream, a result's text representations, a traceback."""
    kind = output.get("output_type")
    if kind == "stream" or "text" in output:  # nbformat 3 puts stream text under "text" too
        text = _text(output.get("text"))
        if text:
            yield text
    if kind == "error":
        entries = [line for line in output.get("traceback", []) if isinstance(line, str)]
        if entries:
            yield entries  # a traceback: one JSON string (one file line) per entry, see `_add_traceback`
        evalue = output.get("evalue")
        if isinstance(evalue, str) and evalue:
            yield evalue
    data = output.get("data")
    if isinstance(data, dict):
        for mime, value in sorted(data.items()):
            if mime.startswith(SKIPPED_MIME_PREFIXES):
                continue
            text = _text(value)
            if text is None and isinstance(value, dict | list):
                text = json.dumps(value, indent=1, ensure_ascii=False)
            if text:
                yield text


def _cells(document: dict[str, Any]) -> list[dict[str, Any]] | None:
    cells = document.get("cells")
    if cells is None:  # nbformat 3: cells live in worksheets
        worksheets = document.get("worksheets")
        if isinstance(worksheets, list):
            cells = [cell for sheet in worksheets if isinstance(sheet, dict) for cell in sheet.get("cells", [])]
    if not isinstance(cells, list):
        return None
    return [cell for cell in cells if isinstance(cell, dict)]


def notebook_chunks(chunk: Chunk) -> list[Chunk] | None:
    """The notebook in ``chunk`` as one chunk per cell source and per text output, or None when
    the data is not a notebook (the caller then scans it as text)."""
    try:
        raw = chunk.data.decode("utf-8-sig")
        document = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    cells = _cells(document)
    if cells is None:
        return None
    chunks: list[Chunk] = []
    finder = _LineFinder(raw)

    def add(text: str, location: str, *, in_file: bool = True, first_line: int | None = None) -> None:
        if first_line is None:
            first_line = finder.line_of(text.split("\n", 1)[0]) if in_file else 1
        chunks.append(
            Chunk(
                path=chunk.path,
                data=ANSI_ESCAPE.sub("", text).encode("utf-8"),
                first_line=first_line,
                commit=chunk.commit,
                location=location,
            )
        )

    def add_traceback(entries: list[str], location: str) -> None:
        """Each entry of a traceback holds several lines (a frame and its source) but is one JSON
        string, on one line of the file: every line of an entry is its own chunk at that line."""
        for entry in entries:
            first_line = finder.line_of(entry.split("\n", 1)[0])
            for line in entry.split("\n"):
                if line.strip():
                    add(line, location, first_line=first_line)

    for number, cell in enumerate(cells, start=1):
        source = _text(cell.get("source", cell.get("input")))
        if source:
            add(source, f"cell {number}")
        outputs = cell.get("outputs")
        if isinstance(outputs, list):
            texts = (text for output in outputs if isinstance(output, dict) for text in _output_texts(output))
            for index, text in enumerate(texts, start=1):
                if isinstance(text, list):
                    add_traceback(text, f"cell {number} output {index}")
                else:
                    add(text, f"cell {number} output {index}")
    metadata = document.get("metadata")
    if isinstance(metadata, dict) and metadata:
        add(json.dumps(metadata, indent=1, ensure_ascii=False), "notebook metadata", in_file=False)
    return chunks
