"""The backend contract, run against every backend: the local SQLite store, transit and KV v2 on a
real OpenBao dev server, a real moto server, and the Azure and GCP STAND-INS (see conftest.py).

The shared semantics come from `tests/vault/backend_contract.py`; the extra cases here are the ones
that matter once a network and a second writer exist.
"""

from __future__ import annotations

import os
import threading

import pytest

from leakvault.vault.backend import SecretBackend
from leakvault.vault.errors import (
    CasConflictError,
    SecretNotFoundError,
    VersionDeletedError,
    VersionDestroyedError,
)

from ..backend_contract import BackendContract


class TestContract(BackendContract):
    """Every test of the shared contract, once per backend."""


def _race(clients: list[SecretBackend], path: str, cas: int | None) -> dict[int, object]:
    """Let each client write once at the same instant; index -> version number or the exception."""
    barrier = threading.Barrier(len(clients))
    outcome: dict[int, object] = {}

    def attempt(index: int) -> None:
        barrier.wait()
        try:
            outcome[index] = clients[index].write(path, f"writer-{index}".encode(), cas=cas).version
        except CasConflictError as exc:
            outcome[index] = exc

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcome


def test_racing_cas_writers_never_both_win(
    backend: SecretBackend, second_client: SecretBackend, backend_name: str
) -> None:
    """Two clients writing with the same cas at once: at most one succeeds, and its value is current.

    Where the service has an atomic conditional write (local, KV v2, AWS's request tokens, GCP's
    sequential numbers) exactly one wins; on Azure both may be refused (docs/backends.md).
    """
    current = backend.write("race", b"base").version
    for _round in range(4):
        outcome = _race([backend, second_client], "race", current)
        winners = [i for i, result in outcome.items() if isinstance(result, int)]
        assert len(winners) <= 1, outcome
        if backend_name != "azure":
            assert len(winners) == 1, outcome
        assert all(isinstance(r, CasConflictError) for i, r in outcome.items() if i not in winners)
        latest = backend.read("race")
        if winners:
            assert (latest.version, latest.value) == (outcome[winners[0]], f"writer-{winners[0]}".encode())
        else:
            assert (latest.version, latest.value) == (current, backend.read("race", current).value)
        current = latest.version


def test_racing_unconditional_writers_never_share_a_number(
    backend: SecretBackend, second_client: SecretBackend
) -> None:
    """Unconditional writes from two clients at once get distinct versions, all readable.

    (Numbers a service burnt on a refused write, on GCP and Azure, are simply skipped.)
    """
    seen: list[int] = []
    for _round in range(3):
        outcome = _race([backend, second_client], "busy", None)
        assert all(isinstance(r, int) for r in outcome.values()), outcome
        seen.extend(int(r) for r in outcome.values())  # type: ignore[call-overload]  # a test double or a value the test asserts is set
    assert len(set(seen)) == 6
    meta = backend.metadata("busy")
    assert [v.version for v in meta.versions] == sorted(seen)
    assert {backend.read("busy", n).value for n in seen} == {b"writer-0", b"writer-1"}


def test_second_client_sees_writes(backend: SecretBackend, second_client: SecretBackend) -> None:
    """What one client writes, deletes or annotates, another client reads the same way."""
    backend.write("shared/x", b"one")
    backend.write("shared/x", b"two")
    backend.delete("shared/x", [1])
    backend.update_metadata("shared/x", custom={"owner": "team-a"})
    assert second_client.read("shared/x").value == b"two"
    with pytest.raises(VersionDeletedError):
        second_client.read("shared/x", 1)
    assert second_client.metadata("shared/x").custom["owner"] == "team-a"
    assert second_client.list("shared/") == ["shared/x"]


def test_delete_then_write_keeps_history(backend: SecretBackend) -> None:
    """A new write after a soft delete becomes current; the deleted version stays deleted."""
    backend.write("k", b"a")
    backend.delete("k")
    assert backend.write("k", b"b").version == 2
    assert backend.read("k").value == b"b"
    with pytest.raises(VersionDeletedError):
        backend.read("k", 1)
    backend.undelete("k", [1])
    assert backend.read("k", 1).value == b"a"


def test_destroy_current_version(backend: SecretBackend) -> None:
    """Destroying the current version makes reads of the current value fail, with no fallback."""
    backend.write("k", b"a")
    backend.write("k", b"b")
    backend.destroy("k", [2])
    with pytest.raises(VersionDestroyedError):
        backend.read("k")
    assert backend.metadata("k").current_version == 2
    assert backend.read("k", 1).value == b"a"


def test_pending_on_a_new_path(backend: SecretBackend) -> None:
    """A value can be staged for a path with no versions; promotion creates version 1."""
    backend.stage_pending("fresh", b"first")
    with pytest.raises(SecretNotFoundError):
        backend.read("fresh")
    assert "fresh" not in backend.list()
    assert backend.promote_pending("fresh", cas=0).version == 1
    assert backend.read("fresh").value == b"first"
    assert backend.read_pending("fresh") is None
    assert not backend.metadata("fresh").has_pending


def test_pending_replace_and_binary(backend: SecretBackend) -> None:
    """Staging again replaces the pending value; binary and empty pending values round-trip."""
    backend.write("k", b"old")
    backend.stage_pending("k", b"first")
    backend.stage_pending("k", b"\x00\xff binary")
    staged = backend.read_pending("k")
    assert staged is not None
    assert (staged.version, staged.value) == (0, b"\x00\xff binary")
    backend.stage_pending("k", b"")
    staged = backend.read_pending("k")
    assert staged is not None
    assert staged.value == b""
    backend.promote_pending("k")
    assert backend.read("k").value == b""
    assert backend.read("k", 1).value == b"old"


def test_internal_paths_and_odd_names(backend: SecretBackend) -> None:
    """Internal paths and every allowed character survive the service's naming rules."""
    odd = ["Mixed/Case-Path_1.txt", "mixed/case-path_1.txt", "a/b.c-d_e/F", ".leakvault/policy"]
    for index, path in enumerate(odd):
        backend.write(path, f"value-{index}".encode())
    for index, path in enumerate(odd):
        assert backend.read(path).value == f"value-{index}".encode()
    assert backend.list(".leakvault/") == [".leakvault/policy"]
    assert set(backend.list()) == set(odd)


def test_large_binary_value(backend: SecretBackend) -> None:
    """An 8 KiB random binary value round-trips byte for byte."""
    value = os.urandom(8 * 1024)
    backend.write("blob", value)
    assert backend.read("blob").value == value


def test_metadata_times(backend: SecretBackend) -> None:
    """Versions are listed oldest first; created <= updated; deletion is timestamped."""
    backend.write("k", b"1")
    backend.write("k", b"2")
    backend.delete("k", [1])
    meta = backend.metadata("k")
    assert meta.created <= meta.updated
    first, second = meta.versions
    assert first.created <= second.created
    assert first.deleted is not None and second.deleted is None
    assert meta.created.tzinfo is not None
