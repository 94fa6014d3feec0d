"""Dockerfiles: values move out of the image and come in as build arguments from the mapping.

- ``ENV NAME=secret`` and ``ARG NAME=secret`` become ``ARG NAME``: the build takes the value from
  ``--build-arg NAME`` (which reads it from the environment ``leakvault run`` sets up), and the
  image no longer carries it; the container gets it at run time with ``docker run -e NAME``.
- A secret inside a ``RUN`` command becomes ``"${NAME}"`` (shell quoting as for scripts) with an
  ``ARG NAME`` declared before it in its build stage.
Other instructions (``CMD``, ``LABEL``, exec-form ``RUN``) cannot read a build argument safely and
are refused. docker-compose files are YAML and handled there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from leakvault.fix.languages.dotenv import parse_value
from leakvault.fix.languages.shell import quoting_at, render_shell, shell_key, shell_target
from leakvault.fix.model import Target
from leakvault.fix.naming import is_env_name
from leakvault.fix.rewriter import CheckResult

INSTRUCTIONS = frozenset(
    "FROM RUN CMD LABEL MAINTAINER EXPOSE ENV ADD COPY ENTRYPOINT VOLUME USER WORKDIR ARG ONBUILD "
    "STOPSIGNAL HEALTHCHECK SHELL".split()
)
_PAIR = re.compile(r"^(?P<key>[A-Za-z_][\w.\-]*)(?:=(?P<value>.*)|[ \t]+(?P<legacy>.*))$")
_ARG = re.compile(r"^(?P<key>[A-Za-z_]\w*)(?:=.*)?$")
BUILD_NOTE = (
    "build argument: leakvault run --map ... -- docker build --build-arg NAME . "
    "(a RUN that reads a build argument records it in `docker history`: for an image others can pull, "
    "use RUN --mount=type=secret instead)"
)
ENV_NOTE = "no longer baked into the image: --build-arg NAME for the build, docker run -e NAME at run time"


@dataclass(frozen=True, slots=True)
class Instruction:
    keyword: str  # upper case
    start: int  # offset of the first character of the instruction (after indentation)
    line_start: int
    args_start: int
    end: int  # offset of the end of its last line (before the newline)


def instructions(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile, following ``\\`` line continuations."""
    found: list[Instruction] = []
    position = 0
    while position < len(text):
        line_end = text.find("\n", position)
        line_end = len(text) if line_end < 0 else line_end
        line = text[position:line_end]
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            position = line_end + 1
            continue
        start = position + len(line) - len(stripped)
        keyword = stripped.split(None, 1)[0]
        args_start = start + len(keyword)
        while args_start < line_end and text[args_start] in " \t":
            args_start += 1
        end = line_end
        while text[position:end].rstrip().endswith("\\") and end < len(text):
            position = end + 1
            next_end = text.find("\n", position)
            end = len(text) if next_end < 0 else next_end
        found.append(Instruction(keyword.upper(), start, start - (len(line) - len(stripped)), args_start, end))
        position = end + 1
    return found


class DockerfileRewriter:
    language = "dockerfile"

    def __init__(self, text: str) -> None:
        self.text = text
        self.instructions = instructions(text)

    def locate(self, start: int, end: int) -> Target | str:
        instruction = next((i for i in self.instructions if i.start <= start and end <= i.end), None)
        if instruction is None:
            return "in a comment: delete the secret from the comment by hand"
        if start < instruction.args_start:
            return "not in the instruction's arguments"
        if instruction.keyword in ("ENV", "ARG"):
            return self._variable(instruction, start, end)
        if instruction.keyword == "RUN":
            if self.text[instruction.args_start : instruction.args_start + 1] == "[":
                return "an exec-form RUN has no shell to expand a build argument; use the shell form"
            quoting = quoting_at(self.text, start, instruction.args_start)
            key = shell_key(self.text[instruction.args_start : start])
            target = shell_target(self.text, start, end, quoting, key)
            if isinstance(target, str):
                return target
            return Target(target.start, target.end, target.form, target.key, target.value, note=BUILD_NOTE)
        return f"a {instruction.keyword} instruction cannot take a build argument safely; move the secret by hand"

    def _variable(self, instruction: Instruction, start: int, end: int) -> Target | str:
        args = self.text[instruction.args_start : instruction.end]
        if "\n" in args:
            return f"a multi-line {instruction.keyword}; put the secret on a line of its own"
        match = _PAIR.match(args.strip())
        if match is None:
            return f"cannot read the {instruction.keyword} instruction"
        key = match["key"]
        raw = match["value"] if match["value"] is not None else match["legacy"]
        if instruction.keyword == "ENV" and match["value"] is not None and re.search(r"\s[A-Za-z_][\w.\-]*=", raw):
            return "an ENV with several variables; give the secret an ENV line of its own"
        value = parse_value(raw.strip())
        if value is None or self.text[start:end] not in value:
            return "the value is quoted oddly or refers to other variables; move it by hand"
        if not is_env_name(key):
            return f"{key!r} is not a valid environment variable name"
        note = ENV_NOTE if instruction.keyword == "ENV" else BUILD_NOTE
        return Target(instruction.start, instruction.end, "arg", key, value, name_required=True, note=note)

    def render(self, target: Target, name: str) -> str:
        if target.form == "arg":
            return f"ARG {name}"
        return render_shell(target, name)

    def finish(self, text: str, names: Sequence[str]) -> str:
        """Declare ``ARG NAME`` before the first instruction of a stage that uses ``${NAME}``."""
        for name in sorted(set(names)):
            insertions: list[int] = []
            declared = False
            for instruction in instructions(text):
                args = text[instruction.args_start : instruction.end]
                if instruction.keyword == "FROM":
                    declared = False  # each build stage declares its own arguments
                elif instruction.keyword == "ARG":
                    arg = _ARG.match(args.strip())
                    declared = declared or (arg is not None and arg["key"] == name)
                elif "${" + name + "}" in args and not declared:
                    insertions.append(instruction.line_start)
                    declared = True
            for offset in reversed(insertions):
                line = text[offset : text.find("\n", offset) if "\n" in text[offset:] else len(text)]
                indent = line[: len(line) - len(line.lstrip(" \t"))]
                text = text[:offset] + f"{indent}ARG {name}\n" + text[offset:]
        return text

    def check(self, rewritten: str, placed: Sequence[tuple[Target, str]]) -> CheckResult:
        found = instructions(rewritten)
        unknown = [i.keyword for i in found if i.keyword not in INSTRUCTIONS]
        if unknown:
            return CheckResult("leakvault Dockerfile parser", f"unknown instruction {unknown[0]!r} after the rewrite")
        if sum(i.keyword == "FROM" for i in found) != sum(i.keyword == "FROM" for i in self.instructions):
            return CheckResult("leakvault Dockerfile parser", "the build stages changed")
        return CheckResult("leakvault Dockerfile parser")
