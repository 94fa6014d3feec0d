"""leakvault: find secrets in code, and move them into a vault.

The public API is what this module re-exports; everything else may change between releases.
Imports are lazy so that ``import leakvault`` (and the CLI's start-up) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from leakvault.scanner.model import ScanResult
    from leakvault.scanner.pipeline import scan

__all__ = ["ScanResult", "__version__", "scan"]


def __getattr__(name: str) -> Any:
    if name == "scan":
        from leakvault.scanner.pipeline import scan

        return scan
    if name == "ScanResult":
        from leakvault.scanner.model import ScanResult

        return ScanResult
    raise AttributeError(f"module 'leakvault' has no attribute {name!r}")
