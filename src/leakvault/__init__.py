"""leakvault: find secrets in code, and move them into a vault.

The public API is what this module re-exports; everything else may change between releases.
Imports are lazy so that ``import leakvault`` (and the CLI's start-up) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from leakvault.version import __version__

if TYPE_CHECKING:
    from leakvault.scanner.model import ScanResult
    from leakvault.scanner.pipeline import scan

__all__ = ["ScanResult", "__version__", "scan"]


def __getattr__(name: str) -> Any:
    if name == "scan":
        from leakvault.scanner.pipeline import scan  # lazy: `import leakvault` must not load the scanner

        return scan
    if name == "ScanResult":
        from leakvault.scanner.model import ScanResult  # lazy, as above

        return ScanResult
    raise AttributeError(f"module 'leakvault' has no attribute {name!r}")
