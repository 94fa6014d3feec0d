"""JavaScript and TypeScript: a string literal becomes ``process.env.NAME``.

A whole literal is replaced by the reference; part of a quoted literal becomes a template literal
(`` `Bearer ${process.env.NAME}` ``), which is one expression wherever the string stood; inside a
template literal the secret becomes a ``${...}`` substitution. Node checks the result where it can
parse the file (plain JavaScript); otherwise the lexer must still read it cleanly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from leakvault.fix.languages.clike import UNDECODED, LexError, Span, lex, literal_value, span_at
from leakvault.fix.model import Target
from leakvault.fix.rewriter import CheckResult, LineIndex, external_check, has_odd_backslashes

# `const apiKey = "`, `apiKey: "`, `"api-key": "`, `this.token = "`, `token: string = "` (a
# TypeScript annotation), `token := "` (Go) just before the literal.
KEY_BEFORE = re.compile(
    r"""(?:([A-Za-z_$][\w$]*)(?:\s*:\s*[\w$.<>\[\]| ]+?(?==))?|["']([^"'\n]+)["'])\s*(?::=|[:=])\s*$"""
)
NODE_EXTENSIONS = (".js", ".mjs", ".cjs")
TYPESCRIPT_EXTENSIONS = (".ts", ".tsx", ".mts", ".cts")
# Compile as a script, then as a module; exit 1 with the error when neither parses.
_NODE_PARSE = (
    "const vm=require('vm');let s='';process.stdin.setEncoding('utf8');"
    "process.stdin.on('data',d=>s+=d).on('end',()=>{try{new vm.Script(s)}catch(e){"
    "try{new vm.SourceTextModule(s)}catch(f){console.error(String(f.message||f));process.exit(1)}}})"
)


def key_before(text: str, lines: LineIndex, offset: int) -> str | None:
    """The key or variable name written just before ``offset`` on its line."""
    match = KEY_BEFORE.search(text[lines.line_start(offset) : offset])
    if match is None:
        return None
    return match.group(1) or match.group(2)


class JavaScriptRewriter:
    def __init__(self, text: str, path: str = "") -> None:
        self.text = text
        self.path = path
        # TypeScript types process.env values as possibly undefined; the non-null assertion keeps
        # a `string` variable compiling, as the literal did.
        self.typescript = path.endswith(TYPESCRIPT_EXTENSIONS)
        self.language = "typescript" if self.typescript else "javascript"
        self.lines = LineIndex(text)
        self._spans: list[Span] | None = None
        self._error: str | None = None
        try:
            self._spans = lex(text, javascript=True)
        except LexError as exc:
            self._error = f"the file does not lex as JavaScript ({exc})"

    def locate(self, start: int, end: int) -> Target | str:
        if self._spans is None:
            return self._error or "the file does not lex as JavaScript"
        span = span_at(self._spans, start, end)
        if span is None:
            return "not inside a string literal"
        if span.kind == "comment":
            return "in a comment: delete the secret from the comment by hand"
        if span.kind == "regex":
            return "inside a regular expression literal"
        if has_odd_backslashes(self.text[span.start : start]):
            return "the secret starts right after an escape sequence"
        secret = literal_value(self.text, span, start, end)
        if secret is None:
            return UNDECODED
        if span.kind == "template":
            # The key stands before the template's opening backtick (taken as the first on the line).
            line_start = self.lines.line_start(start)
            backtick = self.text.find("`", line_start, start)
            key = key_before(self.text, self.lines, backtick) if backtick >= 0 else None
            return Target(start, end, "template", key, secret)
        key = key_before(self.text, self.lines, span.start)
        body_start, body_end = span.start + 1, span.end - 1
        if start == body_start and end == body_end:
            return Target(span.start, span.end, "whole", key, secret)
        head = _template_escape(self.text[body_start:start])
        tail = _template_escape(self.text[end:body_end])
        return Target(span.start, span.end, "to-template", key, secret, head=head, tail=tail)

    def render(self, target: Target, name: str) -> str:
        reference = f"process.env.{name}" + ("!" if self.typescript else "")
        if target.form == "whole":
            return reference
        if target.form == "template":
            return "${" + reference + "}"
        return f"`{target.head}${{{reference}}}{target.tail}`"

    def finish(self, text: str, names: Sequence[str]) -> str:
        return text

    def check(self, rewritten: str, placed: Sequence[tuple[Target, str]]) -> CheckResult:
        if self.path.endswith(NODE_EXTENSIONS):
            result = external_check(
                ["node", "--experimental-vm-modules", "--no-warnings", "-e", _NODE_PARSE],
                self.text,
                rewritten,
                "node",
            )
            if result.parser:
                return result
        try:
            lex(rewritten, javascript=True)
        except LexError as exc:
            return CheckResult("leakvault lexer", f"the rewritten file does not lex: {exc}")
        return CheckResult("leakvault lexer")


def _template_escape(piece: str) -> str:
    """Source text from inside a quoted string, made valid inside a template literal with the same
    value: the old quote's escape may go (``\\'`` means ``'`` in both); a backtick or ``${`` must be escaped."""
    out: list[str] = []
    index = 0
    while index < len(piece):
        char = piece[index]
        if char == "\\" and index + 1 < len(piece):
            out.append(piece[index : index + 2])
            index += 2
            continue
        if char == "`":
            out.append("\\`")
        elif piece.startswith("${", index):
            out.append("\\$")
        else:
            out.append(char)
        index += 1
    return "".join(out)
