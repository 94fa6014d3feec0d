"""Concatenated string literals: ``"abc" + "def"``, PHP's ``'abc' . 'def'``, Python's and C's
implicit concatenation (``("abc"\\n "def")``), and backslash line continuations between pieces.

A secret split into pieces (to keep lines short, or to get past a scanner) matches no rule: each
piece is too short, or lacks the token's prefix. Each run of two or more adjacent literals without
whitespace in them is presented joined, as one literal, behind the text that precedes the first
piece (``API_KEY = "abcdef"``); the finding starts at the first piece's first character and ends
after the last piece's last one. Only code files, and only where two pieces meet at all: most
files have no such run, and pay one search for it.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from leakvault.scanner.contexts.view import ViewBuilder

CODE_SUFFIXES = (
    ".py", ".pyw", ".ipynb", ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".java", ".kt", ".kts",
    ".groovy", ".gradle", ".scala", ".cs", ".go", ".rb", ".php", ".swift", ".c", ".h", ".cc", ".cpp",
    ".cxx", ".hpp", ".m", ".mm", ".dart", ".ps1",
)  # fmt: skip
# Between two pieces: an operator (+, or PHP's .) across at most one line break, a line break
# alone (implicit concatenation), or spaces alone on one line.
JOINT = rb"""(?:[ \t]*[+.][ \t]*(?:\\?\n[ \t]*)?|[ \t]*\\?\n[ \t]*(?:\+[ \t]*)?|[ \t]+)"""
PIECE_BODY = rb"""[^\s"'\\]{1,200}"""
QUOTES = (b'"', b"'")
FIRST_PIECE = re.compile(rb"""(["'])(""" + PIECE_BODY + rb""")\1""")
# The next piece of a run, in the run's own quote.
NEXT_PIECE = {quote: re.compile(JOINT + quote + b"(" + PIECE_BODY + b")" + quote) for quote in QUOTES}
# Where two pieces may meet (a quote, a joint, a quote), each pattern beginning with a literal
# character, which `re` finds fast; the pieces around a joint are then read on its line only.
JOINT_HINTS = tuple(re.compile(quote + JOINT + quote) for quote in QUOTES)
# A run is joined when it holds 8 characters or more, one piece at least 4 of them (a split secret
# has a long piece; operators and punctuation joined in code, '(' + '|', are short on both sides).
MIN_JOINED = 8
MIN_LONGEST_PIECE = 4
LONG_PIECE_BODY = rb"""[^\s"'\\]{4,200}"""
# Two pieces, one of them long, and a joint: every joined run has such a pair. What Hyperscan
# looks for, once per code file, before anything else.
RUN = b"|".join(
    b"(?:" + quote + first + quote + JOINT + quote + second + quote + b")"
    for quote in QUOTES
    for first, second in ((LONG_PIECE_BODY, PIECE_BODY), (PIECE_BODY, LONG_PIECE_BODY))
)
# Below this size `re` answers as fast as a Hyperscan call.
SMALL_DATA = 2 << 10
ASSIGNED_PAREN = re.compile(rb"""[=:][ \t]*\([ \t]*$""")


@functools.cache
def run_database() -> Any:
    """A Hyperscan database of `RUN`, or None without the wheel (compiled once per process, ~30 ms)."""
    try:
        import hyperscan  # optional: the wheel exists for x86-64 Linux and macOS only
    except ImportError:
        return None
    database = hyperscan.Database()
    database.compile(expressions=[RUN], ids=[0], elements=1, flags=[0])
    return database, hyperscan.Scratch(database), hyperscan.ScanTerminated


def has_run(data: bytes) -> bool:
    """Whether two pieces meet anywhere in ``data`` (Hyperscan where installed: about the speed
    of counting newlines; the engines agree because this only decides whether `re` looks)."""
    compiled = None if len(data) < SMALL_DATA else run_database()
    if compiled is None:
        return any(hint.search(data) for hint in JOINT_HINTS)
    database, scratch, terminated = compiled
    try:
        database.scan(data, match_event_handler=_stop, scratch=scratch)
    except terminated:
        return True
    return False


def _stop(*_: object) -> bool:
    return True  # the first match answers the question


def add_concatenations(builder: ViewBuilder) -> None:
    """A view line per run of concatenated literals, joined into one literal."""
    if not builder.source.path.lower().endswith(CODE_SUFFIXES):
        return
    data = builder.source.data
    if not has_run(data):
        return
    joints = sorted({match.start() for hint in JOINT_HINTS for match in hint.finditer(data)})
    position = 0  # runs never overlap: the next one starts after the previous one's end
    for joint in joints:
        if joint < position:
            continue
        line_start = data.rfind(b"\n", 0, joint) + 1
        for first in FIRST_PIECE.finditer(data, max(line_start, position), joint + 1):
            quote = first.group(1)
            pieces = [first.span(2)]
            end = first.end()
            while (following := NEXT_PIECE[quote].match(data, end)) is not None:
                pieces.append(following.span(1))
                end = following.end()
            if end <= joint:
                continue  # a run before the joint; the one across it starts further on
            position = end
            lengths = [stop - start for start, stop in pieces]
            if len(pieces) >= 2 and sum(lengths) >= MIN_JOINED and max(lengths) >= MIN_LONGEST_PIECE:
                _write(builder, first.start(), end, quote, pieces)
            break


def _write(builder: ViewBuilder, opening: int, closing: int, quote: bytes, pieces: list[tuple[int, int]]) -> None:
    data = builder.source.data
    line_start = data.rfind(b"\n", 0, opening) + 1
    prefix_end = opening
    unwrapped = ASSIGNED_PAREN.search(data, line_start, opening)
    if unwrapped is not None:  # NAME = ("abc" "def"): the parentheses only group the pieces
        prefix_end = unwrapped.start() + 1
    if not data[line_start:prefix_end].strip() and line_start > 0:
        # The pieces start their line: the name is at the end of the line above.
        above_start = data.rfind(b"\n", 0, line_start - 1) + 1
        above = data[above_start : line_start - 1]
        stripped = above.rstrip(b" \t\\")
        bracket = stripped.endswith(b"(") and ASSIGNED_PAREN.search(stripped) is not None
        builder.copy(above_start, above_start + len(stripped) - (1 if bracket else 0))
        builder.insert(b" ")
    else:
        builder.copy(line_start, prefix_end)
        if unwrapped is not None:
            builder.insert(b" ")
    builder.insert(quote)
    for start, stop in pieces:
        builder.copy(start, stop)
    builder.insert(quote)
    line_end = data.find(b"\n", closing)
    rest_end = len(data) if line_end < 0 else line_end
    builder.copy(closing, rest_end)
    builder.end_line()
