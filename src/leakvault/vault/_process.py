"""Process-level protection for the secrets a CLI process holds in memory.

A process that has unlocked the vault holds the master key and decrypted values. If it crashes
with core dumps enabled (``ulimit -c unlimited``, systemd-coredump, apport), all of that lands in a
core file that outlives the process and is often readable by administrators or crash reporters.
On Linux ``prctl(PR_SET_DUMPABLE, 0)`` turns core dumps off for this process only, as ssh-agent
and gpg-agent do; it also stops other processes of the same user from attaching a debugger or
reading ``/proc/<pid>/mem`` and ``/proc/<pid>/environ``. The flag is reset by ``execve``, so the
programs ``leakvault run`` starts keep their normal behaviour. Elsewhere the soft core-size limit
is set to 0 (children inherit it, but may raise it again up to the hard limit).

Only the CLI calls this: a library user (a server embedding `SecretVault`) decides for its own process.
"""

from __future__ import annotations

import contextlib
import sys

_PR_SET_DUMPABLE = 4


def disable_core_dumps() -> None:
    """Keep this process's memory out of core files (best effort; never fails)."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) == 0:
                return
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        _soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
