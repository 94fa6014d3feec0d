"""Translate a rule's `regex` pattern into one Hyperscan compiles, matching a superset of it.

Hyperscan only says *where* matches end; the `regex` module then re-runs the rule near those ends,
so the translation may match more than the original (never less). That lets us drop what
Hyperscan cannot do but which only ever removes matches: lookarounds, atomic groups, possessive
quantifiers. Capture groups stay (Hyperscan accepts and ignores them); named groups become plain
ones. Anything whose meaning we cannot keep (backreferences, conditionals, Unicode properties,
`regex`-only syntax, non-ASCII inside a class) returns None: that rule falls back to the
reference path (keyword prefilter and `regex` over the chunk).
"""

from __future__ import annotations

import regex

from leakvault.patterns.regex_text import group_end, top_level_branches

# Inline flags Hyperscan understands; others (a, u, L, V1, f, w, ...) change meaning: fall back.
HS_INLINE_FLAGS = frozenset("imsx-")
# Escapes whose meaning Hyperscan lacks or reads differently.
UNSUPPORTED_ESCAPES = frozenset("123456789gkpPNXLmMGKRhHVuU")
QUANTIFIER_ENDS = frozenset("*+?}")
# Python's \s on bytes: the same six characters, spelt out so no engine reads it differently.
SPACE_CLASS_ITEMS = r"\t\n\x0b\x0c\r\x20"
_COUNTED_REPEAT_END = regex.compile(r"(?<!\\)\{\d*,?\d*\}$")
_LEADING_FLAGS = regex.compile(r"^(?:\(\?[a-zA-Z]+\))+")
# Any quantifier, and one that allows zero repetitions (greedy, lazy or possessive).
_QUANTIFIER = regex.compile(r"(?:[*+?]|\{\d*,?\d*\})[?+]?")
_OPTIONAL_QUANTIFIER = regex.compile(r"(?:\*|\?|\{0?,\d*\}|\{0\})[?+]?")
# Three plain characters in a row, the last not quantified.
_LITERAL_RUN = regex.compile(r"[\w\-:/@=<>\"' ]{3}(?![*+?{])")
# What may remain that matches nothing at all: then the whole pattern is kept.
_OPTIONAL_REST = regex.compile(r"(?:\[[^\]]*\][*?]|\\.[*?])*")
_COUNTED_REPEAT = regex.compile(r"\{(\d*)(,?)(\d*)\}")
# A counted repeat {m,n} with n - m above this becomes {m,}: a superset, and Hyperscan compiles
# wide counted repeats slowly (seconds for a rule set) and into large databases.
RELAX_SPAN = 16


class _UntranslatableError(Exception):
    """The pattern uses a construct Hyperscan cannot match a superset of."""


def _group_end(pattern: str, index: int) -> int:
    """Index just past the ')' closing the group whose '(' is at ``index``."""
    try:
        return group_end(pattern, index)
    except ValueError:
        raise _UntranslatableError("unbalanced parentheses") from None


def _class_end(pattern: str, index: int) -> int:
    """Index just past the ']' closing the character class opened at ``index``."""
    position = index + 1
    if position < len(pattern) and pattern[position] == "^":
        position += 1
    if position < len(pattern) and pattern[position] == "]":
        position += 1  # a leading ']' is a literal
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            position += 2
            continue
        if char == "[":
            raise _UntranslatableError("nested set or POSIX class")
        if char == "]":
            return position + 1
        position += 1
    raise _UntranslatableError("unterminated character class")


def _translate_class(body: str) -> str:
    """Copy a character class, spelling out \\s; refuse non-ASCII (bytes would split it)."""
    out: list[str] = []
    position = 0
    while position < len(body):
        char = body[position]
        if not char.isascii():
            raise _UntranslatableError("non-ASCII character in a class")
        if char == "\\":
            escaped = body[position + 1 : position + 2]
            if escaped in UNSUPPORTED_ESCAPES:
                raise _UntranslatableError(f"escape \\{escaped} in a class")
            out.append(SPACE_CLASS_ITEMS if escaped == "s" else body[position : position + 2])
            position += 2
            continue
        out.append(char)
        position += 1
    return "".join(out)


def _translate_group_open(pattern: str, index: int, out: list[str]) -> int:
    """Handle '(' at ``index``: emit its translation, return where to continue."""
    rest = pattern[index + 1 : index + 4]
    if rest.startswith(("?=", "?!", "?<=", "?<!")):
        end = _group_end(pattern, index)
        if end < len(pattern) and pattern[end] in "*+?{":
            raise _UntranslatableError("quantified lookaround")
        return end  # dropped: a lookaround only ever removes matches
    if rest.startswith("?#"):
        close = pattern.find(")", index)
        if close < 0:
            raise _UntranslatableError("unterminated comment")
        return close + 1
    if rest.startswith("?P<") or (rest.startswith("?<") and rest[2:3] not in ("=", "!")):
        close = pattern.find(">", index)
        if close < 0:
            raise _UntranslatableError("unterminated group name")
        out.append("(")
        return close + 1
    if rest.startswith("?>"):
        out.append("(?:")
        return index + 3
    if rest.startswith("?:") or not rest.startswith("?"):
        out.append(pattern[index : index + (3 if rest.startswith("?:") else 1)])
        return index + (3 if rest.startswith("?:") else 1)
    # Inline flags: (?i) or (?i:...).
    position = index + 2
    while position < len(pattern) and pattern[position] not in ":)":
        if pattern[position] not in HS_INLINE_FLAGS:
            raise _UntranslatableError(f"construct (?{pattern[position]}")
        position += 1
    if position >= len(pattern):
        raise _UntranslatableError("unterminated group")
    out.append(pattern[index : position + 1])
    return position + 1


def _translate(pattern: str) -> str:
    out: list[str] = []
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            escaped = pattern[position + 1 : position + 2]
            if not escaped or escaped in UNSUPPORTED_ESCAPES:
                raise _UntranslatableError(f"escape \\{escaped}")
            out.append(f"[{SPACE_CLASS_ITEMS}]" if escaped == "s" else pattern[position : position + 2])
            position += 2
        elif char == "[":
            end = _class_end(pattern, position)
            out.append("[" + _translate_class(pattern[position + 1 : end - 1]) + "]")
            position = end
        elif char == "(":
            position = _translate_group_open(pattern, position, out)
        elif (
            char == "+"
            and position > 0
            and pattern[position - 1] in QUANTIFIER_ENDS
            and _is_quantifier_end(pattern, position - 1)
        ):
            position += 1  # possessive quantifier: the plain one matches a superset
        elif char == "{" and (counted := _COUNTED_REPEAT.match(pattern, position)):
            out.append(_relaxed_repeat(counted))
            position = counted.end()
        else:
            out.append(char)
            position += 1
    return "".join(out)


def _relaxed_repeat(counted: regex.Match[str]) -> str:
    low, comma, high = counted.group(1), counted.group(2), counted.group(3)
    if not low and not comma:
        return counted.group(0)  # '{}' is literal text
    lower = int(low or 0)  # Python's {,n}; PCRE syntax reads '{,' literally
    if comma and high and int(high) - lower > RELAX_SPAN:
        return f"{{{lower},}}"
    return f"{{{lower}{comma}{high}}}"


def _is_quantifier_end(pattern: str, index: int) -> bool:
    """Whether pattern[index] ends a quantifier (so a '+' after it makes it possessive)."""
    backslashes = 0
    probe = index - 1
    while probe >= 0 and pattern[probe] == "\\":
        backslashes += 1
        probe -= 1
    if backslashes % 2:
        return False  # an escaped character, matched literally
    if pattern[index] == "}":
        return _COUNTED_REPEAT_END.search(pattern, 0, index + 1) is not None
    return not (pattern[index] == "?" and index > 0 and pattern[index - 1] == "(")


def _token_end(pattern: str, index: int) -> int:
    """Index just past the atom starting at ``index`` (a group, a class, an escape or a character)."""
    char = pattern[index]
    if char == "(":
        return _group_end(pattern, index)
    if char == "[":
        return _class_end(pattern, index)
    if char == "\\":
        return index + (4 if pattern[index + 1 : index + 2] == "x" else 2)  # \\xHH
    return index + 1


def strip_leading_context(pattern: str) -> str:
    """``pattern`` without its unselective leading context: anchors (``^``, ``\\b``), optional
    atoms (``[ \\t]*``, ``(?:export )?``) and character classes or short literals (``<``,
    ``[\\w.-]*?``), up to the first group or run of three literal characters.

    Every match of a pattern ends where a match of any of its suffixes ends, so Hyperscan may look
    for the suffix: the same match ends or more (and the windows still come from the whole
    pattern's width). Unbounded leading context is what makes a Hyperscan database slow.
    """
    flags = _LEADING_FLAGS.match(pattern)
    head = flags.group(0) if flags else ""
    if "x" in head:
        return pattern  # verbose layout: leave as written
    alternatives = top_level_branches(pattern[len(head) :])
    if len(alternatives) > 1:  # each alternative's suffix: the union still holds every match end
        return head + "|".join(_strip_one(alternative) for alternative in alternatives)
    return head + _strip_one(pattern[len(head) :])


def _strip_one(pattern: str) -> str:
    position = 0
    while position < len(pattern):
        if pattern[position] == "^" or pattern.startswith(("\\b", "\\A"), position):
            position += 1 if pattern[position] == "^" else 2
            continue
        char = pattern[position]
        if char in "|)*+?{$" or (char == "\\" and pattern[position + 1 : position + 2] in UNSUPPORTED_ESCAPES):
            break  # (escapes like \\p{L} span more than two characters: leave them to the translator)
        end = _token_end(pattern, position)
        quantifier = _QUANTIFIER.match(pattern, end)
        if char == "(" and not (quantifier and _OPTIONAL_QUANTIFIER.fullmatch(quantifier.group(0))):
            break  # a mandatory group: keywords and literals usually start here
        if char not in "([\\." and _LITERAL_RUN.match(pattern, position):
            break  # a selective literal such as 'export' or 'machine'
        position = quantifier.end() if quantifier else end
    if position >= len(pattern) or _OPTIONAL_REST.fullmatch(pattern, position):
        return pattern  # nothing mandatory would remain
    return pattern[position:]


def to_hyperscan(pattern: str) -> bytes | None:
    """A Hyperscan expression matching a superset of ``pattern`` (with the same match ends), or None."""
    try:
        translated = _translate(strip_leading_context(pattern))
    except _UntranslatableError:
        return None
    return translated.encode("utf-8")
