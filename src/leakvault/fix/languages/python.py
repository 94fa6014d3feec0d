"""Python: a string literal becomes ``os.environ["NAME"]``, and ``import os`` is added if missing.

`tokenize` finds the literal's exact source span (so quoting and everything around it stay as
written) and `ast` says what the literal is part of (its assignment target, keyword or dict key,
and whether it is a docstring). Part of a literal becomes a concatenation whose pieces are checked
with `ast.literal_eval` to rebuild exactly the original string.
"""

from __future__ import annotations

import ast
import bisect
import io
import re
import tokenize
from collections.abc import Sequence

from leakvault.fix.model import Target
from leakvault.fix.rewriter import CheckResult, LineIndex, concatenation

_STRING_PREFIX = re.compile(r"(?P<prefix>[A-Za-z]*)(?P<quote>'''|\"\"\"|'|\")")
_LEADING_COMMENT = re.compile(r"#[^\n]*\n")
# Parents where a concatenation needs no parentheses to keep its meaning.
_LOOSE_PARENTS = (ast.Assign, ast.AnnAssign, ast.keyword, ast.Dict, ast.Return, ast.List, ast.Tuple, ast.Set)


class PythonRewriter:
    language = "python"

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = LineIndex(text)
        self._tokens: list[tokenize.TokenInfo] = []
        self._tree = ast.Module(body=[], type_ignores=[])
        self._parents: dict[ast.AST, ast.AST] = {}
        self._error: str | None = None
        try:
            self._tree = ast.parse(text)
            self._tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        except (SyntaxError, tokenize.TokenError, ValueError) as exc:
            self._error = f"the file is not valid Python ({type(exc).__name__})"
            return
        # Built once per file: each finding is then a binary search and a dict lookup.
        self._starts = [self._offset(token.start) for token in self._tokens]
        self._constants: dict[tuple[int, int], ast.Constant] = {}
        for node in ast.walk(self._tree):
            for child in ast.iter_child_nodes(node):
                self._parents[child] = node
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                self._constants.setdefault((node.lineno, node.col_offset), node)

    def _offset(self, position: tuple[int, int]) -> int:
        return self.lines.offset(position[0], position[1] + 1)

    def locate(self, start: int, end: int) -> Target | str:
        if self._error is not None:
            return self._error
        # Tokens do not overlap (zero-width ones aside), so the one holding the span is the last
        # to start at or before it that also reaches its end.
        index = bisect.bisect_right(self._starts, start)
        while index > 0:
            index -= 1
            token = self._tokens[index]
            token_start, token_end = self._starts[index], self._offset(token.end)
            if not (token_start <= start and end <= token_end):
                if token_end <= start and token_end > token_start:
                    break  # a real token ending before the span: nothing earlier can hold it
                continue
            if token.type == tokenize.COMMENT:
                return "in a comment: delete the secret from the comment by hand"
            if token.type != tokenize.STRING:
                return "not inside a string literal"
            if self._is_implicit_concatenation(index):
                return "part of an implicit string concatenation; join the pieces first"
            return self._target(token, token_start, token_end, start, end)
        return "not inside a string literal (an f-string or an unusual construct)"

    def _is_implicit_concatenation(self, index: int) -> bool:
        skip = (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT)
        for step in (-1, 1):
            position = index + step
            while 0 <= position < len(self._tokens) and self._tokens[position].type in skip:
                if self._tokens[position].type == tokenize.NEWLINE:
                    break
                position += step
            if 0 <= position < len(self._tokens) and self._tokens[position].type == tokenize.STRING:
                return True
        return False

    def _target(
        self, token: tokenize.TokenInfo, token_start: int, token_end: int, start: int, end: int
    ) -> Target | str:
        source = token.string
        match = _STRING_PREFIX.match(source)
        if match is None:
            return "not a plain string literal"
        prefix, quote = match["prefix"], match["quote"]
        if "f" in prefix.lower():
            return "inside an f-string; rewrite it as a plain string first"
        if "b" in prefix.lower():
            return "inside a bytes literal; os.environ holds text"
        node = self._constant_at(token.start)
        if node is None:
            return "could not match the literal in the syntax tree"
        parent = self._parents.get(node)
        if isinstance(parent, ast.Expr):
            return "a docstring or a bare string; nothing reads it, delete the secret by hand"
        if isinstance(parent, ast.MatchValue):
            return "a match-case pattern cannot read the environment"
        head_source = source[: start - token_start]
        tail_source = source[end - token_start :]
        opening = prefix + quote
        head_literal = head_source + quote
        tail_literal = opening + tail_source
        # The vault must hold the value the program saw, not its source text: in
        # "-----BEGIN ...\nMII..." the \n is a newline. Each piece is evaluated as a literal of
        # its own, and together they must make exactly the original string.
        try:
            pieces = [
                ast.literal_eval(literal)
                for literal in (head_literal, opening + self.text[start:end] + quote, tail_literal, source)
            ]
        except (SyntaxError, ValueError):
            return "cannot split this string literal safely around the secret"
        head_value, secret, tail_value, whole_value = pieces
        if not all(isinstance(piece, str) for piece in pieces) or head_value + secret + tail_value != whole_value:
            return "cannot split this string literal safely around the secret"
        if head_source == opening and tail_source == quote:
            return Target(token_start, token_end, "whole", self._key(node), secret)
        loose = isinstance(parent, _LOOSE_PARENTS) or (isinstance(parent, ast.Call) and parent.func is not node)
        return Target(
            token_start,
            token_end,
            "concat" if loose else "concat-paren",
            self._key(node),
            secret,
            head=head_literal if head_value else "",
            tail=tail_literal if tail_value else "",
        )

    def _constant_at(self, position: tuple[int, int]) -> ast.Constant | None:
        line_start = self.lines.offset(position[0], 1)
        line = self.text[line_start : line_start + position[1]]
        byte_column = len(line[: position[1]].encode("utf-8"))
        return self._constants.get((position[0], byte_column))

    def _key(self, node: ast.AST) -> str | None:
        """The name the literal is bound to: assignment target, keyword, dict key or parameter."""
        child, parent = node, self._parents.get(node)
        while isinstance(parent, ast.BinOp | ast.JoinedStr | ast.FormattedValue):
            child, parent = parent, self._parents.get(parent)
        if isinstance(parent, ast.Assign | ast.AnnAssign | ast.NamedExpr):
            target = parent.targets[-1] if isinstance(parent, ast.Assign) else parent.target
            return _target_name(target)
        if isinstance(parent, ast.keyword):
            return parent.arg
        if isinstance(parent, ast.Dict):
            for key, value in zip(parent.keys, parent.values, strict=True):
                if value is child and isinstance(key, ast.Constant) and isinstance(key.value, str):
                    return key.value
        if isinstance(parent, ast.arguments):
            return _parameter_for_default(parent, child)
        if isinstance(parent, ast.Call) and len(parent.args) >= 2 and parent.args[1] is child:
            first = parent.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                return first.value  # environ.setdefault("NAME", "..."), headers.set("X-Key", "...")
        return None

    def render(self, target: Target, name: str) -> str:
        reference = f'os.environ["{name}"]'
        return reference if target.form == "whole" else concatenation(target, reference)

    def finish(self, text: str, names: Sequence[str]) -> str:
        if not names:
            return text
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return text  # check() reports it
        return _add_import_os(text, tree)

    def check(self, rewritten: str, placed: Sequence[tuple[Target, str]]) -> CheckResult:
        try:
            ast.parse(rewritten)
        except SyntaxError as exc:
            return CheckResult("python ast", f"Python syntax error after the rewrite at line {exc.lineno}: {exc.msg}")
        return CheckResult("python ast")


def _target_name(target: ast.AST) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if (
        isinstance(target, ast.Subscript)
        and isinstance(target.slice, ast.Constant)
        and isinstance(target.slice.value, str)
    ):
        return target.slice.value
    return None


def _parameter_for_default(arguments: ast.arguments, default: ast.AST) -> str | None:
    positional = [*arguments.posonlyargs, *arguments.args]
    for parameter, value in zip(
        positional[len(positional) - len(arguments.defaults) :], arguments.defaults, strict=True
    ):
        if value is default:
            return parameter.arg
    for parameter, kw_value in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        if kw_value is default:
            return parameter.arg
    return None


def _binds_os(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Import):
        return any(
            (alias.asname or alias.name.split(".")[0]) == "os" and alias.name.split(".")[0] == "os"
            for alias in statement.names
        )
    return False


def _is_future_import(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.ImportFrom) and statement.module == "__future__"


def _add_import_os(text: str, tree: ast.Module) -> str:
    """Insert ``import os`` where isort would roughly put it, unless the module already has it."""
    body = tree.body
    if any(_binds_os(statement) for statement in body):
        return text
    lines = text.splitlines(keepends=True)
    index = 0
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        index = 1
    while index < len(body) and _is_future_import(body[index]):
        index += 1
    # Among a leading run of plain ``import x`` statements, keep alphabetical order.
    run = index
    while run < len(body) and body[run].col_offset == 0:
        statement = body[run]
        if not isinstance(statement, ast.Import):
            break
        if statement.names[0].name > "os":
            return _insert_line(lines, statement.lineno - 1, "import os\n")
        run += 1
    if run > index:
        return _insert_line(lines, (body[run - 1].end_lineno or body[run - 1].lineno), "import os\n")
    if index < len(body) and isinstance(body[index], ast.ImportFrom) and body[index].col_offset == 0:
        return _insert_line(lines, body[index].lineno - 1, "import os\n")
    if index > 0:
        after = body[index - 1].end_lineno or body[index - 1].lineno
        return _insert_line(lines, after, "\nimport os\n")
    first = 0
    while first < len(lines) and first < 2 and _LEADING_COMMENT.fullmatch(lines[first]):
        first += 1  # shebang and encoding cookie stay first
    return _insert_line(lines, first, "import os\n\n")


def _insert_line(lines: list[str], index: int, addition: str) -> str:
    if index > 0 and index <= len(lines) and not lines[index - 1].endswith("\n"):
        lines[index - 1] += "\n"
    return "".join([*lines[:index], addition, *lines[index:]])
