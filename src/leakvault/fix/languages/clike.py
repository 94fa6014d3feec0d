"""A small lexer for C-family sources (JavaScript, TypeScript, Go): where the strings and comments are.

The rewriters need only to know whether a secret sits in a string literal (and which kind) or in a
comment. JavaScript template literals are followed through ``${...}`` so that only their text parts
count as string; a ``/`` after a value is division, elsewhere it opens a regular expression literal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# After these characters a '/' starts a regex literal (an operand is expected), in JavaScript.
_REGEX_PRECEDERS = frozenset("(,=:[!&|?{};+-*%<>~^")
_REGEX_KEYWORDS = frozenset(
    {"return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw", "yield", "await"}
)


@dataclass(frozen=True, slots=True)
class Span:
    """A string (``kind`` "string", "raw" for Go raw strings, "template" for a text part of a
    JavaScript template literal), "comment", "regex" or "rune", with its opening quote."""

    kind: str
    start: int
    end: int  # exclusive; for a "string"/"raw" span it covers the quotes
    quote: str = ""


class LexError(ValueError):
    """The source does not lex (an unterminated string or comment)."""


def lex(text: str, *, javascript: bool) -> list[Span]:
    """Every string, comment and regex literal in ``text``, in order."""
    spans: list[Span] = []
    # Brace depths at which an open template literal resumes after its ${...} expression.
    template_stack: list[int] = []
    depth = 0
    last_significant = ""  # the last code character, to tell division from a regex literal
    last_word = ""
    position, length = 0, len(text)
    while position < length:
        char = text[position]
        pair = text[position : position + 2]
        if pair == "//":
            end = text.find("\n", position)
            end = length if end < 0 else end
            spans.append(Span("comment", position, end))
            position = end
            continue
        if pair == "/*":
            end = text.find("*/", position + 2)
            if end < 0:
                raise LexError("unterminated block comment")
            spans.append(Span("comment", position, end + 2))
            position = end + 2
            continue
        if char in "\"'" or (char == "`" and not javascript):
            end = _quoted_end(text, position, char, escapes=char != "`", multiline=char == "`")
            kind = "raw" if char == "`" else "rune" if (char == "'" and not javascript) else "string"
            spans.append(Span(kind, position, end, char))
            position, last_significant, last_word = end, "a", ""
            continue
        # A backtick opens a template literal; the '}' closing a ${...} resumes the one around it.
        resumes = char == "}" and bool(template_stack) and depth - 1 == template_stack[-1]
        if resumes or (char == "`" and javascript):
            if resumes:
                template_stack.pop()
                depth -= 1
            position = _template(text, position + 1, spans)
            if position < 0:
                # The template opened a ${...}: continue in code until its closing brace.
                position = -position
                template_stack.append(depth)
                depth += 1
                last_significant, last_word = "{", ""
            else:
                last_significant, last_word = "a", ""
            continue
        if (
            javascript
            and char == "/"
            and (last_significant in _REGEX_PRECEDERS or last_significant == "" or last_word in _REGEX_KEYWORDS)
        ):
            end = _regex_end(text, position)
            spans.append(Span("regex", position, end))
            position, last_significant, last_word = end, "a", ""
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        if char.isalnum() or char in "_$":
            word_end = position
            while word_end < length and (text[word_end].isalnum() or text[word_end] in "_$"):
                word_end += 1
            last_word = text[position:word_end]
            last_significant = "a"
            position = word_end
            continue
        if not char.isspace():
            last_significant, last_word = char, ""
        position += 1
    if template_stack:
        raise LexError("unterminated template literal")
    return spans


def _quoted_end(text: str, start: int, quote: str, *, escapes: bool, multiline: bool) -> int:
    position = start + 1
    while position < len(text):
        char = text[position]
        if escapes and char == "\\":
            position += 2
            continue
        if char == quote:
            return position + 1
        if char == "\n" and not multiline:
            raise LexError(f"unterminated string at offset {start}")
        position += 1
    raise LexError(f"unterminated string at offset {start}")


def _template(text: str, start: int, spans: list[Span]) -> int:
    """Lex a template literal's text part from ``start``; return the offset after its closing
    backtick, or minus the offset after a ``${`` that opens an expression."""
    position = start
    while position < len(text):
        char = text[position]
        if char == "\\":
            position += 2
            continue
        if char == "`":
            spans.append(Span("template", start, position, "`"))
            return position + 1
        if text.startswith("${", position):
            spans.append(Span("template", start, position, "`"))
            return -(position + 2)
        position += 1
    raise LexError("unterminated template literal")


def _regex_end(text: str, start: int) -> int:
    position, in_class = start + 1, False
    while position < len(text):
        char = text[position]
        if char == "\\":
            position += 2
            continue
        if char == "\n":
            raise LexError(f"unterminated regular expression at offset {start}")
        if char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "/" and not in_class:
            position += 1
            while position < len(text) and text[position].isalpha():
                position += 1  # flags
            return position
        position += 1
    raise LexError(f"unterminated regular expression at offset {start}")


# Escapes that mean the same in JavaScript strings and template literals and in Go interpreted
# strings. Others (octal, \0, \a, JavaScript's identity escapes, line continuations) are refused.
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v", "\\": "\\", "'": "'", '"': '"', "`": "`"}
_CODE_ESCAPE = re.compile(r"x([0-7][0-9A-Fa-f])|u([0-9A-Fa-f]{4})|u\{([0-9A-Fa-f]{1,6})\}|U([0-9A-Fa-f]{8})")


def string_value(source: str) -> str | None:
    """The value of source text from inside a string literal, escapes decoded; None when it holds
    an escape whose meaning this does not know for certain (the caller then leaves it alone)."""
    out: list[str] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        follower = source[index + 1 : index + 2]
        if follower in _ESCAPES:
            out.append(_ESCAPES[follower])
            index += 2
            continue
        match = _CODE_ESCAPE.match(source, index + 1)
        if match is None:
            return None
        code = int(match[match.lastindex or 0], 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:  # surrogate halves pair up in JavaScript only
            return None
        out.append(chr(code))
        index = match.end()
    return "".join(out)


UNDECODED = "the secret holds an escape sequence leakvault cannot decode for certain; move it by hand"


def literal_value(text: str, span: Span, start: int, end: int) -> str | None:
    """The value the program sees for ``text[start:end]`` inside the string literal ``span``
    (escapes decoded; a Go raw string has none), or None when that is not certain."""
    return text[start:end] if span.kind == "raw" else string_value(text[start:end])


def span_at(spans: list[Span], start: int, end: int) -> Span | None:
    """The span that contains ``[start, end)``."""
    for span in spans:
        if span.start <= start and end <= span.end:
            return span
        if span.start > start:
            break
    return None
