"""The pre-commit hook's fast path: ``leakvault scan --staged FILE ...`` without click.

pre-commit calls the hook once per commit with the staged file names and nothing else. Importing
click and building the command tree costs about a third of such a run, so the entry point sends
exactly that command line here, where `run_scan` does what ``scan --staged`` does with its
defaults. Any other option, or a file name that looks like one, goes to the click application.
"""

from __future__ import annotations

from leakvault.cli.scan_run import ScanRequest, run_scan


def staged_paths(args: list[str]) -> tuple[str, ...] | None:
    """The file names of a plain ``scan --staged FILE ...`` command line, else None."""
    if len(args) < 2 or args[0] != "scan" or args[1] != "--staged":
        return None
    paths = args[2:]
    if any(path.startswith("-") for path in paths):
        return None  # an option (or a name git would need `--` for): the full parser decides
    return tuple(paths)


def scan_staged_files(paths: tuple[str, ...]) -> int:
    """Scan what the next commit adds to ``paths`` (all staged files if none); the exit code."""
    return run_scan(ScanRequest(paths=paths, staged=True))
