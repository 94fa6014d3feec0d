"""Run the leakvault CLI and SIGKILL it at the worst moment of an atomic file write.

``python _crash.py N ARGS...`` runs ``leakvault ARGS`` in this process with ``os.replace``
wrapped: the N-th rename kills the process with SIGKILL instead, after the temporary file is
complete and just before it would take the target's place. It is a real process dying from a real
signal, at a point a random kill would only sometimes hit.
"""

from __future__ import annotations

import os
import signal
import sys

from leakvault.cli import main


def _install(crash_at: int) -> None:
    real_replace = os.replace
    calls = {"n": 0}

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls["n"] += 1
        if calls["n"] == crash_at:
            os.kill(os.getpid(), signal.SIGKILL)
        real_replace(src, dst)

    os.replace = replace  # type: ignore[assignment]  # a test double or a value the test asserts is set


if __name__ == "__main__":
    _install(int(sys.argv[1]))
    main(sys.argv[2:])
