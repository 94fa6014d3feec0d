"""Child processes for the fault tests: concurrent writers and a writer that gets SIGKILLed.

Run as ``python _worker.py MODE ARGS`` with the vault configured through MAHAVISHNU_SECRETS__*.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from leakvault.vault.errors import CasConflictError
from leakvault.vault.factory import open_vault


def increment(path: str, count: int, start_file: str, pause: float) -> None:
    """Add 1 to the integer at `path` `count` times, with check-and-set and retry on conflict.

    `pause` seconds between the read and the write widen the race window, so that the two
    writers really do collide rather than happening to take turns.
    """
    conflicts = 0
    with open_vault() as sv:
        while not Path(start_file).exists():  # start together so the writers really overlap
            time.sleep(0.001)
        done = 0
        while done < count:
            current = sv.get(path)
            time.sleep(pause)
            try:
                sv.update(path, str(int(current.text()) + 1), cas=current.version)
            except CasConflictError:
                conflicts += 1
                continue
            done += 1
    print(conflicts, flush=True)


def expected_value(i: int) -> str:
    """The value write number `i` stores; sizes vary so that some writes span several pages."""
    return f"value-{i}-" + "x" * (i % 7 * 700)


def write_forever(path: str) -> None:
    """Write versions 1, 2, 3, ... and report each one on stdout only after it is committed."""
    with open_vault() as sv:
        i = 0
        while True:
            i += 1
            info = sv.set(path, expected_value(i))
            print(info.version, i, flush=True)


REKEY_PASSPHRASES = ("rekey passphrase A", "rekey passphrase B", "rekey passphrase C")


def next_passphrase(current: str) -> str:
    """The passphrase `rekey_forever` moves to from `current` (A -> B -> C -> A ...)."""
    return REKEY_PASSPHRASES[(REKEY_PASSPHRASES.index(current) + 1) % len(REKEY_PASSPHRASES)]


def rekey_forever(current: str) -> None:
    """Re-wrap the master key under the next passphrase, again and again, reporting each one on
    stdout only after the change is committed."""
    with open_vault() as sv:
        while True:
            current = next_passphrase(current)
            sv.rekey(current, iterations=1_000)
            print(current, flush=True)


def kill_at_transaction(kill_at: int, when: str) -> None:
    """SIGKILL this process at write transaction number `kill_at` from now: ``mid`` once its
    statements ran but before COMMIT, ``after`` once COMMIT returned."""
    from leakvault.vault.store import VaultFile

    real = VaultFile.transaction
    count = {"n": 0}

    @contextlib.contextmanager
    def transaction(self: VaultFile, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        outermost = write and self._depth == 0
        with real(self, write=write) as conn:
            yield conn
            if outermost:
                count["n"] += 1
                if when == "mid" and count["n"] == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)
        if outermost and when == "after" and count["n"] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    VaultFile.transaction = transaction  # type: ignore[method-assign, assignment]


def rekey_master_killed(kill_at: int, when: str, new_key_file: str, batch: int) -> None:
    """Rotate the master key in batches of `batch`, killed at write transaction `kill_at`."""
    from leakvault.vault.sqlite_backend import SqliteBackend

    with open_vault() as sv:
        assert isinstance(sv.backend, SqliteBackend)
        kill_at_transaction(kill_at, when)
        sv.backend.rotate_master_key(
            passphrase=None, new_key_file=Path(new_key_file), identity="worker", actor="worker", batch=batch
        )
    print("done", flush=True)


def open_killed(kill_at: int, when: str) -> None:
    """Open the vault (upgrading a format-1 file), killed at write transaction `kill_at`."""
    kill_at_transaction(kill_at, when)
    with open_vault():
        pass
    print("done", flush=True)


def main() -> None:
    mode, *args = sys.argv[1:]
    if mode == "increment":
        increment(args[0], int(args[1]), args[2], float(args[3]))
    elif mode == "write-forever":
        write_forever(args[0])
    elif mode == "rekey-forever":
        rekey_forever(args[0])
    elif mode == "rekey-master-killed":
        rekey_master_killed(int(args[0]), args[1], args[2], int(args[3]))
    elif mode == "open-killed":
        open_killed(int(args[0]), args[1])
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
