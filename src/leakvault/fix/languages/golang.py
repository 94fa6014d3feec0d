"""Go: a string literal becomes ``os.Getenv("NAME")`` and ``"os"`` joins the imports.

Go has no parser on most machines that run leakvault, so the checks are structural: the result
must lex, and a literal in a ``const`` declaration is refused (a function call is not a constant).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from leakvault.fix.languages.clike import UNDECODED, LexError, Span, lex, literal_value, span_at
from leakvault.fix.languages.javascript import key_before
from leakvault.fix.model import Target
from leakvault.fix.rewriter import CheckResult, LineIndex, concatenation, external_check, has_odd_backslashes

_CONST_LINE = re.compile(r"^\s*const\b")
_CONST_BLOCK = re.compile(r"^\s*const\s*\(")
_BLOCK_END = re.compile(r"^\s*\)")
_IMPORT_BLOCK = re.compile(r"^import\s*\(\s*$", re.MULTILINE)
_IMPORT_SINGLE = re.compile(r"^import\s+(?:[\w.]+\s+)?\"[^\"]+\"[ \t]*(?://[^\n]*)?$", re.MULTILINE)
_IMPORTS_OS = re.compile(r"^\s*(?:import\s+)?\"os\"", re.MULTILINE)
_PACKAGE = re.compile(r"^package\s+\w+[^\n]*$", re.MULTILINE)
_IMPORT_LINE = re.compile(r"^\s*(?:[\w.]+\s+)?\"(?P<path>[^\"]+)\"")


class GoRewriter:
    language = "go"

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = LineIndex(text)
        self._spans: list[Span] | None = None
        self._error: str | None = None
        try:
            self._spans = lex(text, javascript=False)
        except LexError as exc:
            self._error = f"the file does not lex as Go ({exc})"

    def locate(self, start: int, end: int) -> Target | str:
        if self._spans is None:
            return self._error or "the file does not lex as Go"
        span = span_at(self._spans, start, end)
        if span is None or span.kind == "rune":
            return "not inside a string literal"
        if span.kind == "comment":
            return "in a comment: delete the secret from the comment by hand"
        if self._in_const(span.start):
            return "in a const declaration; os.Getenv is not a constant (make it a var first)"
        if span.kind == "string" and has_odd_backslashes(self.text[span.start : start]):
            return "the secret starts right after an escape sequence"
        secret = literal_value(self.text, span, start, end)
        if secret is None:
            return UNDECODED
        key = key_before(self.text, self.lines, span.start)
        body_start, body_end = span.start + 1, span.end - 1
        if start == body_start and end == body_end:
            return Target(span.start, span.end, "whole", key, secret)
        head = self.text[span.start : start] + span.quote if start > body_start else ""
        tail = span.quote + self.text[end : span.end] if end < body_end else ""
        indexed = self.text[span.end : span.end + 1] == "["
        return Target(span.start, span.end, "concat-paren" if indexed else "concat", key, secret, head=head, tail=tail)

    def _in_const(self, offset: int) -> bool:
        line_number = self.lines.line_of(offset)
        lines = self.text.split("\n")
        if _CONST_LINE.match(lines[line_number - 1]) and not _CONST_BLOCK.match(lines[line_number - 1]):
            return True
        inside = False
        for line in lines[: line_number - 1]:
            if _CONST_BLOCK.match(line) and ")" not in line:
                inside = True
            elif inside and _BLOCK_END.match(line):
                inside = False
        return inside

    def render(self, target: Target, name: str) -> str:
        reference = f'os.Getenv("{name}")'
        return reference if target.form == "whole" else concatenation(target, reference)

    def finish(self, text: str, names: Sequence[str]) -> str:
        if not names or _IMPORTS_OS.search(text):
            return text
        return add_import(text, "os")

    def check(self, rewritten: str, placed: Sequence[tuple[Target, str]]) -> CheckResult:
        result = external_check(["gofmt", "-e"], self.text, rewritten, "gofmt")
        if result.parser:
            return result
        try:
            lex(rewritten, javascript=False)
        except LexError as exc:
            return CheckResult("leakvault lexer", f"the rewritten file does not lex: {exc}")
        return CheckResult("leakvault lexer")


def add_import(text: str, package: str) -> str:
    """Add ``package`` to the imports: into the first group of an ``import (...)`` block in
    alphabetical order, beside a single ``import "x"``, or after the package clause."""
    block = _IMPORT_BLOCK.search(text)
    if block is not None:
        position = block.end() + 1
        while position < len(text):
            line_end = text.find("\n", position)
            line_end = len(text) if line_end < 0 else line_end
            line = text[position:line_end]
            match = _IMPORT_LINE.match(line)
            if match is None or match["path"] > package:
                break  # the block's end, a blank line between groups, or the alphabetical spot
            position = line_end + 1
        return text[:position] + f'\t"{package}"\n' + text[position:]
    single = _IMPORT_SINGLE.search(text)
    if single is not None:
        return text[: single.end()] + f'\nimport "{package}"' + text[single.end() :]
    clause = _PACKAGE.search(text)
    if clause is None:
        return text  # not a Go source file; check() will say so
    return text[: clause.end()] + f'\n\nimport "{package}"' + text[clause.end() :]
