"""``.env`` files: the whole ``KEY=value`` line leaves the file and the mapping takes it over.

The program already reads ``KEY`` from its environment, so the name is kept exactly and the vault
stores the line's whole value (quotes removed), which ``leakvault run --map`` puts back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from leakvault.fix.model import Target
from leakvault.fix.naming import is_env_name
from leakvault.fix.rewriter import CheckResult, LineIndex

_ASSIGNMENT = re.compile(r"^[ \t]*(?:export[ \t]+)?(?P<key>[A-Za-z_][\w.\-]*)[ \t]*=[ \t]*(?P<value>.*?)[ \t]*$")
_DOUBLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$"}


def parse_value(raw: str) -> str | None:
    """The value of a ``.env`` assignment's right-hand side, or None for what we will not guess at
    (an unterminated quote, a variable reference that a loader would expand)."""
    if raw.startswith("'"):
        closing = raw.find("'", 1)
        return raw[1:closing] if closing > 0 and _only_comment(raw[closing + 1 :]) else None
    if raw.startswith('"'):
        out: list[str] = []
        index = 1
        while index < len(raw):
            char = raw[index]
            if char == "\\" and index + 1 < len(raw):
                out.append(_DOUBLE_ESCAPES.get(raw[index + 1], "\\" + raw[index + 1]))
                index += 2
                continue
            if char == '"':
                return "".join(out) if _only_comment(raw[index + 1 :]) else None
            if char == "$":
                return None
            out.append(char)
            index += 1
        return None
    value = re.split(r"[ \t]#", raw, maxsplit=1)[0].rstrip()
    return None if "$" in value else value


def _only_comment(rest: str) -> bool:
    stripped = rest.strip()
    return not stripped or stripped.startswith("#")


class DotenvRewriter:
    language = "dotenv"

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = LineIndex(text)

    def locate(self, start: int, end: int) -> Target | str:
        line_start = self.lines.line_start(start)
        line_end = self.lines.line_end(self.text, start)
        if end > line_end:
            return "the value spans several lines; move it into the vault by hand"
        line = self.text[line_start:line_end].rstrip("\r\n")
        match = _ASSIGNMENT.match(line)
        if match is None or line_start + match.start("value") > start:
            return "not the value of a KEY=value line"
        key = match["key"]
        if not is_env_name(key):
            return f"{key!r} is not a valid environment variable name"
        value = parse_value(match["value"])
        if value is None:
            return "the value is quoted oddly or refers to other variables; move it by hand"
        if self.text[start:end] not in value:
            return "the secret is not inside the value"
        return Target(line_start, line_end, "drop", key, value, name_required=True)

    def render(self, target: Target, name: str) -> str:
        return ""

    def finish(self, text: str, names: Sequence[str]) -> str:
        return text

    def check(self, rewritten: str, placed: Sequence[tuple[Target, str]]) -> CheckResult:
        return CheckResult("")
