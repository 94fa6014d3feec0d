"""Reading a regex as text: which characters are structure (groups, alternation) rather than
escaped or inside a character class. Enough to split a pattern at its top-level ``|`` or find
where a group ends, without parsing it."""

from __future__ import annotations

from collections.abc import Iterator


def structural(pattern: str, start: int = 0) -> Iterator[tuple[int, str]]:
    """(index, character) for each character of ``pattern`` outside escapes and character classes
    (a ``]`` right after ``[`` or ``[^`` is a member of the class, not its end), from ``start``,
    which must itself be outside any escape or class."""
    index, in_class = start, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern.startswith("^]", index + 1):
                index += 2
            elif pattern.startswith("]", index + 1):
                index += 1
        else:
            yield index, char
        index += 1


def top_level_branches(pattern: str) -> list[str]:
    """``pattern`` split at its top-level ``|`` (outside groups and classes): its alternatives."""
    branches: list[str] = []
    depth, start = 0, 0
    for index, char in structural(pattern):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            branches.append(pattern[start:index])
            start = index + 1
    branches.append(pattern[start:])
    return branches


def group_end(pattern: str, start: int) -> int:
    """Index just past the group that opens at ``start``."""
    depth = 0
    for index, char in structural(pattern, start):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index + 1
    raise ValueError(f"unbalanced group at {start} in {pattern!r}")
