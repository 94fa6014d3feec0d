"""Progress of a long scan, for people watching a terminal.

The scanner reports what it discovered (`ScanProgress.planned`) and what it finished
(`ScanProgress.done`); it never knows how that is shown. `progress_display` returns a live
status line on stderr only when someone can see it: stderr is a terminal, ``CI`` is not set, and
the user did not ask for quiet. The line appears only once a scan has run for
`SHOW_AFTER_SECONDS`, so a pre-commit run, which ends sooner, never imports the display library
(rich) at all.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Protocol

SHOW_AFTER_SECONDS = 0.4
# Overrides SHOW_AFTER_SECONDS (seconds, 0 shows at once): for people who want the line sooner,
# and for tests, which must not depend on how fast a machine is.
DELAY_VARIABLE = "LEAKVAULT_PROGRESS_DELAY"


class ScanProgress(Protocol):
    def planned(self, items: int = 0, size: int = 0) -> None:
        """More work was found: ``items`` files or commits, ``size`` bytes."""

    def done(self, items: int = 0, size: int = 0, findings: int = 0) -> None:
        """Work finished: ``items`` files or commits of ``size`` bytes, with ``findings``."""


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def progress_display(enabled: bool, unit: str = "files") -> LiveProgress | None:
    """A live status line on stderr, or None when nobody would see it."""
    if not enabled or _in_ci() or not sys.stderr.isatty():
        return None
    return LiveProgress(unit)


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError


class LiveProgress:
    """Files (or commits) done of those found so far, bytes, findings, rate and time left."""

    def __init__(self, unit: str = "files") -> None:
        self.unit = unit
        self.total = self.total_size = self.completed = self.completed_size = self.findings = 0
        self._started = time.monotonic()
        try:
            self._delay = float(os.environ.get(DELAY_VARIABLE, SHOW_AFTER_SECONDS))
        except ValueError:
            self._delay = SHOW_AFTER_SECONDS
        self._display: Any = None  # a rich Progress, once the scan has run long enough
        self._task: Any = None

    def planned(self, items: int = 0, size: int = 0) -> None:
        self.total += items
        self.total_size += size
        self._refresh()

    def done(self, items: int = 0, size: int = 0, findings: int = 0) -> None:
        self.completed += items
        self.completed_size += size
        self.findings += findings
        self._refresh()

    def _refresh(self) -> None:
        if self._display is None:
            if time.monotonic() - self._started < self._delay:
                return
            self._start()
        elapsed = max(time.monotonic() - self._started, 1e-6)
        self._display.update(
            self._task,
            completed=self.completed,
            total=max(self.total, self.completed) or None,
            size=f"{_size(self.completed_size)}",
            findings=self.findings,
            rate=f"{_size(self.completed_size / elapsed)}/s",
        )

    def _start(self) -> None:
        # rich only now: it costs ~40 ms of imports that a short scan should not pay.
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._display = Progress(
            TextColumn("scanning"),
            BarColumn(bar_width=10),
            MofNCompleteColumn(),
            TextColumn(self.unit + " · {task.fields[size]} · {task.fields[findings]} findings · {task.fields[rate]}"),
            TimeRemainingColumn(),
            console=Console(file=sys.stderr),
            transient=True,  # the line goes away when the scan ends; the report follows
            refresh_per_second=8,
        )
        self._task = self._display.add_task("scan", total=None, size="0 B", findings=0, rate="")
        self._display.start()

    def close(self) -> None:
        if self._display is not None:
            self._display.stop()
            self._display = None
