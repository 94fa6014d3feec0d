"""Report writers, one module per format, found through `Format`: each module's ``report`` takes a
`ScanResult` (and the rules, for formats that describe them) and returns text.

Adding a format: a module here with a ``report`` function of the `Reporter` signature, and a
member of `Format` naming it in `REPORTERS` (docs/architecture.md).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol, cast

from leakvault.patterns.model import Rule
from leakvault.scanner.model import ScanResult


class Format(StrEnum):
    """The ``--format`` choices."""

    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    GITLEAKS = "gitleaks"  # gitleaks-compatible JSON
    HTML = "html"  # one self-contained page, always redacted


class Reporter(Protocol):
    def __call__(self, result: ScanResult, rules: Sequence[Rule], *, reveal: bool, color: bool) -> str: ...


# Format -> the module whose `report` writes it. Imported by name on first use (importlib below):
# a run loads only its own format's writer, and sarif-om alone costs tens of milliseconds.
REPORTERS: dict[Format, str] = {
    Format.TEXT: "leakvault.scanner.report.text",
    Format.JSON: "leakvault.scanner.report.json",
    Format.SARIF: "leakvault.scanner.report.sarif",
    Format.GITLEAKS: "leakvault.scanner.report.gitleaks",
    Format.HTML: "leakvault.scanner.report.html",
}
FORMATS = tuple(member.value for member in Format)


def reporter_for(format_name: str) -> Reporter:
    """The writer of ``format_name`` (a `Format` value); ValueError for an unknown one."""
    module = importlib.import_module(REPORTERS[Format(format_name)])
    return cast(Reporter, module.report)


def render(
    format_name: str, result: ScanResult, rules: Sequence[Rule], *, reveal: bool = False, color: bool = False
) -> str:
    """Render ``result`` in ``format_name``; secrets are redacted unless ``reveal``."""
    return reporter_for(format_name)(result, rules, reveal=reveal, color=color)
