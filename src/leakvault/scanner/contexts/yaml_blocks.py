"""YAML block scalars: ``key: |`` or ``key: >-`` with the value on the next, indented line.

Rules read ``key: value`` on one line; a block scalar puts the value on the line below, where no
name is in sight. A block whose content is a single line is presented as ``key: value`` (the
value keeps its own line and column in the file). Multi-line blocks are left alone: a literal
block of several lines is a document (a PEM key, which its own rules match across lines), and a
folded one joins its lines with spaces, which no secret contains.
"""

from __future__ import annotations

import re

from leakvault.scanner.contexts.view import ViewBuilder

YAML_SUFFIXES = (".yaml", ".yml")
# The key line: indentation (and a list dash), the key, the block indicator with its modifiers.
BLOCK_KEY = re.compile(
    rb"""^([ \t]*(?:-[ \t]+)?)((?:[\w.-]+|"[^"\n]+"|'[^'\n]+')[ \t]*:)"""
    rb"""[ \t]*[|>][+-]?[1-9]?[+-]?[ \t]*(?:\#[^\n]*)?\r?\n""",
    re.MULTILINE,
)
NEXT_LINE = re.compile(rb"([ \t]*)([^\n]*?)[ \t]*\r?(?:\n|$)")


def _indent(text: bytes) -> int:
    return len(text.expandtabs(2))


def add_block_scalars(builder: ViewBuilder) -> None:
    """A view line ``key: value`` per block scalar holding one line."""
    if not builder.source.path.lower().endswith(YAML_SUFFIXES):
        return
    data = builder.source.data
    if b": |" not in data and b": >" not in data and b":|" not in data and b":>" not in data:
        return
    for match in BLOCK_KEY.finditer(data):
        key_indent = _indent(match.group(1))
        content: tuple[int, int] | None = None
        position = match.end()
        while position < len(data):
            line = NEXT_LINE.match(data, position)
            if line is None or line.end() == position:
                break
            position = line.end()
            if line.end(2) == line.start(2):  # a blank line inside the block
                continue
            if _indent(line.group(1)) <= key_indent:
                break  # the block ended
            if content is not None:
                content = None  # a second line: a document, not a value
                break
            content = line.span(2)
        if content is not None:
            builder.copy(match.start(1), match.end(2))
            builder.insert(b" ")
            builder.copy(*content)
            builder.end_line()
