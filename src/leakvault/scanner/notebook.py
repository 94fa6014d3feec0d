"""Jupyter notebooks: scan each cell's source and text outputs as its own chunk.

Scanning a notebook's JSON as text would miss secrets split across escaped strings (a PEM key is
one JSON string per line with ``\\n`` escapes) and would point at JSON lines nobody reads. So the
notebook is parsed, and every finding names the cell (``cell 3``, ``cell 3 output 1``) and the
line inside it. Image, audio, video and PDF outputs are base64 payloads, not text: skipped.
Anything that is not a notebook we understand is scanned as plain text instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from leakvault.scanner.model import Chunk

NOTEBOOK_SUFFIX = ".ipynb"
SKIPPED_MIME_PREFIXES = ("image/", "audio/", "video/", "application/pdf", "application/octet-stream")


def is_notebook(path: str) -> bool:
    return path.lower().endswith(NOTEBOOK_SUFFIX)


def _text(value: Any) -> str | None:
    """nbformat stores multi-line strings as a string or a list of lines."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return "".join(value)
    return None


def _output_texts(output: dict[str, Any]) -> Iterator[str]:
    """The text an output shows: a stream, a result's text representations, a traceback."""
    kind = output.get("output_type")
    if kind == "stream" or "text" in output:  # nbformat 3 puts stream text under "text" too
        text = _text(output.get("text"))
        if text:
            yield text
    if kind == "error":
        traceback = _text([f"{line}\n" for line in output.get("traceback", []) if isinstance(line, str)])
        if traceback:
            yield traceback
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
        document = json.loads(chunk.data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    cells = _cells(document)
    if cells is None:
        return None
    chunks: list[Chunk] = []

    def add(text: str, location: str) -> None:
        chunks.append(Chunk(path=chunk.path, data=text.encode("utf-8"), commit=chunk.commit, location=location))

    for number, cell in enumerate(cells, start=1):
        source = _text(cell.get("source", cell.get("input")))
        if source:
            add(source, f"cell {number}")
        outputs = cell.get("outputs")
        if isinstance(outputs, list):
            texts = (text for output in outputs if isinstance(output, dict) for text in _output_texts(output))
            for index, text in enumerate(texts, start=1):
                add(text, f"cell {number} output {index}")
    metadata = document.get("metadata")
    if isinstance(metadata, dict) and metadata:
        add(json.dumps(metadata, indent=1, ensure_ascii=False), "notebook metadata")
    return chunks
