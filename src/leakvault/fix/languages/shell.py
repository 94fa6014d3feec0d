"""Shell scripts: the secret becomes ``"${NAME}"``, quoted to suit where it stood.

Unquoted it becomes ``"${NAME}"``; inside double quotes ``${NAME}``; inside single quotes (where
nothing expands) the quotes are closed around it, ``'head'"${NAME}"'tail'``. A small lexer follows
quotes, escapes, comments and here-documents from the start of the text; ``bash -n`` checks the
result. The Dockerfile rewriter uses the same quoting for ``RUN`` commands.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from leakvault.fix.model import Target
from leakvault.fix.rewriter import CheckResult, LineIndex, external_check

_HEREDOC = re.compile(r"<<(-?)[ \t]*(['\"]?)([A-Za-z_][\w.\-]*)\2")
_KEYS_BEFORE = (
    re.compile(r"(?:^|[\s;&|(])([A-Za-z_]\w*)=['\"]?$"),  # NAME=value, export NAME=value
    re.compile(r"--([A-Za-z][\w-]*)[= ]['\"]?$"),  # --token=value, --token value
    re.compile(r"['\"]([A-Za-z][\w-]*):\s*(?:[A-Za-z]+\s+)?$"),  # -H "Authorization: token value"
)
_WORD_BREAK = frozenset(" \t\n;&|()<>")


def quoting_at(text: str, offset: int, start: int = 0) -> str:
    """The quoting in force at ``offset`` when lexing from ``start``: "none", "single", "double",
    "ansi" ($'...'), "comment", "heredoc" or "heredoc-quoted"."""
    state = "none"
    pending: list[tuple[str, bool, bool]] = []  # here-documents opened on the current line
    heredoc: tuple[str, bool, bool] | None = None  # (delimiter, strip tabs, quoted)
    index = start
    while index < offset:
        char = text[index]
        if heredoc is not None:
            line_end = text.find("\n", index)
            line_end = len(text) if line_end < 0 else line_end
            line = text[index:line_end]
            if (line.lstrip("\t") if heredoc[1] else line) == heredoc[0]:
                heredoc = None
                if line_end >= offset:
                    return "none"
            elif line_end >= offset:
                return "heredoc-quoted" if heredoc[2] else "heredoc"
            index = line_end + 1
            continue
        if state == "comment":
            if char == "\n":
                state = "none"
        elif state == "single" or state == "ansi":
            if state == "ansi" and char == "\\":
                index += 2
                continue
            if char == "'":
                state = "none"
        elif state == "double":
            if char == "\\":
                index += 2
                continue
            if char == '"':
                state = "none"
        else:
            if char == "\\":
                index += 2
                continue
            if char == "'":
                state = "ansi" if index > start and text[index - 1] == "$" else "single"
            elif char == '"':
                state = "double"
            elif char == "#" and (index == start or text[index - 1] in _WORD_BREAK):
                state = "comment"
            elif char == "<" and text.startswith("<<", index) and not text.startswith("<<<", index):
                match = _HEREDOC.match(text, index)
                if match is not None:
                    pending.append((match[3], match[1] == "-", bool(match[2])))
                    index = match.end()
                    continue
            elif char == "\n" and pending:
                heredoc = pending.pop(0)
                pending.clear()  # several here-documents on one line: too rare to follow
        index += 1
    if heredoc is not None:  # the offset is the first character of a here-document line
        return "heredoc-quoted" if heredoc[2] else "heredoc"
    return state


def shell_target(text: str, start: int, end: int, quoting: str, key: str | None) -> Target | str:
    """How to put ``"${NAME}"`` in place of ``text[start:end]`` given the quoting there."""
    secret = text[start:end]
    if quoting == "comment":
        return "in a comment: delete the secret from the comment by hand"
    if quoting == "heredoc-quoted":
        return "inside a quoted here-document, where nothing expands"
    if quoting == "ansi":
        return "inside a $'...' string; rewrite it as a plain string first"
    if quoting != "single" and "\\" in secret:
        # Outside single quotes a backslash escapes what follows: the text is not the value.
        return "the secret holds a backslash escape; move it by hand"
    if quoting == "single":
        # Close the single quotes around the reference where text stays on that side, and take
        # a quote that would be left empty ('') into the replaced span instead.
        opens = text[start - 1 : start] == "'"
        closes = text[end : end + 1] == "'"
        return Target(
            start - 1 if opens else start,
            end + 1 if closes else end,
            "splice",
            key,
            secret,
            head="" if opens else "'",
            tail="" if closes else "'",
        )
    if quoting in ("double", "heredoc"):
        return Target(start, end, "bare", key, secret)
    return Target(start, end, "quoted", key, secret)


def render_shell(target: Target, name: str) -> str:
    if target.form == "bare":
        return f"${{{name}}}"
    if target.form == "splice":
        return f'{target.head}"${{{name}}}"{target.tail}'
    return f'"${{{name}}}"'


def shell_key(prefix: str) -> str | None:
    for pattern in _KEYS_BEFORE:
        match = pattern.search(prefix)
        if match is not None:
            return match.group(1)
    return None


class ShellRewriter:
    language = "shell"

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = LineIndex(text)

    def locate(self, start: int, end: int) -> Target | str:
        quoting = quoting_at(self.text, start)
        key = shell_key(self.text[self.lines.line_start(start) : start])
        return shell_target(self.text, start, end, quoting, key)

    def render(self, target: Target, name: str) -> str:
        return render_shell(target, name)

    def finish(self, text: str, names: Sequence[str]) -> str:
        return text

    def check(self, rewritten: str, placed: Sequence[tuple[Target, str]]) -> CheckResult:
        return external_check(["bash", "-n"], self.text, rewritten, "bash -n")
