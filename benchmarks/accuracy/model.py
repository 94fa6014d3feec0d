"""Data passed between the corpus generator's parts, and the truth file's records."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Plant:
    """One value to place in a file: a real secret (positive) or a hard negative."""

    kind: str
    family: str
    value: str = field(repr=False)
    name: str  # the variable name a developer would use, in any style
    positive: bool
    needs_name: bool = False
    multiline: bool = False
    url: bool = False
    block: tuple[str, ...] = ()  # pre-rendered lines (a whole JSON key file), if any


@dataclass(frozen=True)
class Rendered:
    """Lines that carry a plant, and which of them (0-based, inclusive) hold the value."""

    lines: list[str]
    start: int
    end: int

    @staticmethod
    def at(lines: list[str], index: int) -> Rendered:
        return Rendered(lines, index, index)


@dataclass(frozen=True)
class TruthRecord:
    """A planted value's location; lines are 1-based and inclusive."""

    file: str
    line: int
    end_line: int
    kind: str
    family: str
    context: str
    sha256: str

    @staticmethod
    def of(plant: Plant, file: str, line: int, end_line: int, context: str) -> TruthRecord:
        digest = hashlib.sha256(plant.value.encode()).hexdigest()
        return TruthRecord(file, line, end_line, plant.kind, plant.family, context, digest)
