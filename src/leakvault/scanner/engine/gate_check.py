"""Whether a rule's gate holds inside its matches (see docs/provider-rules.md, "Gates").

A gate is a promise: for every match of the rule, some keyword occurrence inside the match (for a
keyword-anchored rule, one no further into it than the rule's anchor distance for that keyword)
has the gate matching at its start. The reference engine drops hits where the gate fails, so a
broken promise loses findings without a word. Built-in gates are held to it by the test suite;
a custom rule's gate is checked against the rule's own examples when the config is loaded.
"""

from __future__ import annotations

from typing import Any

from leakvault.patterns.loader import REGEX_TIMEOUT_SECONDS, compile_gate
from leakvault.patterns.model import Rule
from leakvault.scanner.engine.detect import EngineRule


def gate_violations(rule: Rule, text: bytes) -> list[tuple[int, int]]:
    """Spans of the rule's matches in ``text`` that no gate-passing keyword hit accounts for.
    Raises TimeoutError when the rule's own regex runs past its time bound on ``text``."""

    if not rule.gate:
        return []
    engine = EngineRule(0, rule)
    gate = compile_gate(rule.gate)
    anchors = engine.anchors
    lowered = text.lower()
    subject: Any = text if engine.on_bytes else text.decode("latin-1")
    pattern: Any = engine.pattern
    bad: list[tuple[int, int]] = []
    for match in pattern.finditer(subject, timeout=REGEX_TIMEOUT_SECONDS):
        start, end = match.span()
        if not _accounted(rule, gate.match, anchors, text, lowered, start, end):
            bad.append((start, end))
    return bad


def _accounted(
    rule: Rule,
    gate: object,
    anchors: dict[str, int] | None,
    text: bytes,
    lowered: bytes,
    start: int,
    end: int,
) -> bool:
    for keyword in rule.keywords:
        needle = keyword.encode()
        position = lowered.find(needle, start)
        while position >= 0 and position + len(needle) <= end:
            in_reach = anchors is None or (keyword in anchors and position - start <= anchors[keyword])
            if in_reach and gate(text, position):  # type: ignore[operator]  # compile_gate's matcher is typed loosely (a bound method of a regex)
                return True
            position = lowered.find(needle, position + 1)
    return False
