"""Configuration data (YAML, TOML, JSON, INI, .properties): the secret becomes ``${NAME}``.

``${NAME}`` is the placeholder most loaders expand (docker compose, Spring, npm's ``.npmrc``, many
YAML and TOML config libraries); a GitHub Actions workflow gets its own ``${{ secrets.NAME }}``.
The check is semantic, not just syntactic: the rewritten file must parse to exactly the original
data with each secret replaced by its placeholder, so no key, type or neighbouring value changed.
"""

from __future__ import annotations

import configparser
import json
import re
import tomllib
from collections.abc import Callable, Sequence
from typing import Any

from leakvault.fix.model import Target
from leakvault.fix.rewriter import CheckResult, LineIndex, substitute

# The key whose value reaches the secret: `key: v`, `- KEY=v`, `"key": "v`, `key = "v`, `a.b.c=v`,
# `url: https://user:` (a value may hold ':' but not '=', quotes or brackets, so the nearest real
# key wins in `{"a": {"key": "` and in `//host/:_authToken=`).
_LINE_KEY = re.compile(r"""["']?(?P<key>[A-Za-z_][\w.\-/]*)["']?\s*[:=]\s*["']?[^"'{},\[\]=]*$""")
_WORKFLOW_PATH = re.compile(r"(^|/)\.github/workflows/[^/]+\.ya?ml$")
_COMPOSE_NAME = re.compile(r"(^|/)(docker-)?compose(\.[\w-]+)?\.ya?ml$")

Parser = Callable[[str], Any]


def _yaml(text: str) -> Any:
    import yaml  # PyYAML takes ~20 ms to import: only for YAML files

    class Loader(yaml.SafeLoader):
        """Safe loading that keeps unknown tags (CloudFormation's !Ref, ...) as plain data."""

    def untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
        if isinstance(node, yaml.MappingNode):
            return {"!" + suffix: loader.construct_mapping(node)}
        if isinstance(node, yaml.SequenceNode):
            return {"!" + suffix: loader.construct_sequence(node)}
        assert isinstance(node, yaml.ScalarNode)  # noqa: S101 - the remaining node kind, for mypy
        return {"!" + suffix: loader.construct_scalar(node)}

    Loader.add_multi_constructor("!", untagged)
    return list(yaml.load_all(text, Loader=Loader))


def _ini(text: str) -> Any:
    # Files like .npmrc have keys before any section: give them one so configparser reads them.
    parser = configparser.RawConfigParser(strict=False, interpolation=None, delimiters=("=", ":"))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # configparser's documented way to keep keys' case
    parser.read_string("[leakvault:top]\n" + text)
    return {section: dict(parser.items(section)) for section in parser.sections()}


PARSERS: dict[str, tuple[str, Parser | None]] = {
    "yaml": ("PyYAML", _yaml),
    "toml": ("tomllib", tomllib.loads),
    "json": ("json", json.loads),
    "ini": ("configparser", _ini),
    "properties": ("", None),
}


class DataFileRewriter:
    def __init__(self, text: str, language: str, path: str = "") -> None:
        self.text = text
        self.language = language
        self.path = path
        self.lines = LineIndex(text)
        self.workflow = language == "yaml" and _WORKFLOW_PATH.search(path) is not None
        self.compose = language == "yaml" and _COMPOSE_NAME.search(path) is not None

    def locate(self, start: int, end: int) -> Target | str:
        line_start = self.lines.line_start(start)
        if self.text.find("\n", start, end) >= 0:
            return "the secret spans several lines; move it into the vault by hand"
        if self.language == "json" and not _inside_json_string(self.text, start):
            return "not inside a JSON string"
        if self.language == "properties" and "\\" in self.text[start:end]:
            # .properties has escapes (\uXXXX, \:) and no parser here to check the value against.
            return "the secret holds a backslash escape; move it by hand"
        match = _LINE_KEY.search(self.text[line_start:start])
        key = match["key"] if match else None
        note = ""
        if self.workflow:
            note = "GitHub Actions: add a repository secret of this name (gh secret set NAME)"
        elif self.compose:
            note = "docker compose reads ${NAME} from the environment: leakvault run --map ... -- docker compose up"
        return Target(start, end, "placeholder", key, self.text[start:end], note=note)

    def render(self, target: Target, name: str) -> str:
        return f"${{{{ secrets.{name} }}}}" if self.workflow else f"${{{name}}}"

    def finish(self, text: str, names: Sequence[str]) -> str:
        return text

    def check(self, rewritten: str, placed: Sequence[tuple[Target, str]]) -> CheckResult:
        parser_name, parse = PARSERS[self.language]
        if parse is None:
            return CheckResult("")
        try:
            before = parse(self.text)
        except Exception:  # any parser error: the original is not plain data, nothing to compare
            return CheckResult("")
        try:
            after = parse(rewritten)
        except Exception as exc:  # every parser raises its own error classes
            return CheckResult(parser_name, f"{parser_name} cannot parse the rewritten file ({type(exc).__name__})")
        replacements = {target.value: self.render(target, name) for target, name in placed}
        if substitute(before, replacements) != after:
            return CheckResult(
                parser_name, f"{parser_name} reads different data after the rewrite (a value changed type or structure)"
            )
        return CheckResult(parser_name)


def _inside_json_string(text: str, offset: int) -> bool:
    inside, index = False, 0
    while index < offset:
        char = text[index]
        if inside and char == "\\":
            index += 2
            continue
        if char == '"':
            inside = not inside
        index += 1
    return inside
