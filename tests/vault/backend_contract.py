"""Behaviour every `SecretBackend` must share (the semantics in `leakvault.vault.backend`).

Subclass `BackendContract` in a test module and provide a ``backend`` fixture that yields a fresh,
empty backend; every test here then runs against it. The local store does this in
test_sqlite_backend.py; the server backends can do the same.
"""

from __future__ import annotations

import pytest

from leakvault.vault.backend import SecretBackend
from leakvault.vault.errors import (
    CasConflictError,
    SecretNotFoundError,
    VersionDeletedError,
    VersionDestroyedError,
)


class BackendContract:
    def test_is_a_secret_backend(self, backend: SecretBackend) -> None:
        """The backend satisfies the runtime-checkable protocol."""
        assert isinstance(backend, SecretBackend)
        assert backend.name

    def test_versions_count_up_from_one(self, backend: SecretBackend) -> None:
        """Each write makes a new current version; older versions stay readable."""
        assert backend.write("app/db", b"one").version == 1
        assert backend.write("app/db", b"two").version == 2
        assert backend.read("app/db").value == b"two"
        assert backend.read("app/db").version == 2
        assert backend.read("app/db", 1).value == b"one"

    def test_binary_and_empty_values(self, backend: SecretBackend) -> None:
        """Values are bytes: NUL bytes, non-UTF-8 and empty values round-trip."""
        backend.write("bin", bytes(range(256)))
        assert backend.read("bin").value == bytes(range(256))
        backend.write("empty", b"")
        assert backend.read("empty").value == b""

    def test_missing(self, backend: SecretBackend) -> None:
        """Reading an unknown path or version raises SecretNotFoundError."""
        with pytest.raises(SecretNotFoundError):
            backend.read("nope")
        backend.write("yes", b"v")
        with pytest.raises(SecretNotFoundError):
            backend.read("yes", 9)
        with pytest.raises(SecretNotFoundError):
            backend.metadata("nope")

    def test_cas_zero_creates_only(self, backend: SecretBackend) -> None:
        """cas=0 writes only when the path has no versions."""
        backend.write("k", b"a", cas=0)
        with pytest.raises(CasConflictError) as info:
            backend.write("k", b"b", cas=0)
        assert (info.value.expected, info.value.actual) == (0, 1)
        assert backend.read("k").value == b"a"

    def test_cas_mismatch_writes_nothing(self, backend: SecretBackend) -> None:
        """A stale cas raises CasConflictError and leaves the secret unchanged."""
        backend.write("k", b"a")
        backend.write("k", b"b", cas=1)
        with pytest.raises(CasConflictError):
            backend.write("k", b"c", cas=1)
        meta = backend.metadata("k")
        assert meta.current_version == 2
        assert backend.read("k").value == b"b"

    def test_soft_delete_and_undelete(self, backend: SecretBackend) -> None:
        """delete hides the current version (no fallback to older ones); undelete restores it."""
        backend.write("k", b"a")
        backend.write("k", b"b")
        backend.delete("k")
        with pytest.raises(VersionDeletedError):
            backend.read("k")
        assert backend.read("k", 1).value == b"a"
        assert backend.metadata("k").version(2).deleted is not None  # type: ignore[union-attr]  # a test double or a value the test asserts is set
        backend.undelete("k", [2])
        assert backend.read("k").value == b"b"

    def test_destroy_is_permanent(self, backend: SecretBackend) -> None:
        """destroy erases a version for good: undelete cannot bring it back, metadata remembers it."""
        backend.write("k", b"a")
        backend.write("k", b"b")
        backend.destroy("k", [1])
        with pytest.raises(VersionDestroyedError):
            backend.read("k", 1)
        backend.undelete("k", [1])
        with pytest.raises(VersionDestroyedError):
            backend.read("k", 1)
        info = backend.metadata("k").version(1)
        assert info is not None
        assert info.destroyed
        assert backend.read("k").value == b"b"
        assert backend.write("k", b"c").version == 3  # numbers are never reused

    def test_delete_unknown_version(self, backend: SecretBackend) -> None:
        """Naming a version that never existed is an error, not a silent no-op."""
        backend.write("k", b"a")
        with pytest.raises(SecretNotFoundError):
            backend.delete("k", [5])
        with pytest.raises(SecretNotFoundError):
            backend.destroy("k", [5])

    def test_list_by_prefix(self, backend: SecretBackend) -> None:
        """list returns sorted paths with a plain string prefix, including deleted ones."""
        for path in ("b/2", "a/1", "a/2", "ab", "c"):
            backend.write(path, b"x")
        backend.delete("c")
        assert backend.list() == ["a/1", "a/2", "ab", "b/2", "c"]
        assert backend.list("a/") == ["a/1", "a/2"]
        assert backend.list("a") == ["a/1", "a/2", "ab"]
        assert backend.list("zz") == []

    def test_list_prefix_is_literal(self, backend: SecretBackend) -> None:
        """Characters that are wildcards in SQL or globs match only themselves."""
        backend.write("a_b/x", b"1")
        backend.write("aXb/x", b"2")
        assert backend.list("a_") == ["a_b/x"]

    def test_metadata_and_custom(self, backend: SecretBackend) -> None:
        """Metadata lists versions; custom annotations merge and a None value removes a key."""
        backend.write("k", b"a")
        backend.write("k", b"b")
        meta = backend.update_metadata("k", custom={"rotated_at": "2026-01-01T00:00:00+00:00", "x": "1"})
        assert [v.version for v in meta.versions] == [1, 2]
        assert meta.custom["x"] == "1"
        assert meta.rotated is not None
        meta = backend.update_metadata("k", custom={"x": None})
        assert "x" not in meta.custom
        assert meta.created <= meta.updated

    def test_max_versions_prunes_oldest(self, backend: SecretBackend) -> None:
        """With max_versions=2 only the two newest versions remain."""
        backend.write("k", b"1")
        backend.update_metadata("k", max_versions=2)
        backend.write("k", b"2")
        backend.write("k", b"3")
        assert [v.version for v in backend.metadata("k").versions] == [2, 3]
        with pytest.raises(SecretNotFoundError):
            backend.read("k", 1)

    def test_pending_is_invisible_until_promoted(self, backend: SecretBackend) -> None:
        """A staged value is not current; promote makes it the next version and keeps the old one."""
        backend.write("k", b"old")
        backend.stage_pending("k", b"new")
        assert backend.read("k").value == b"old"
        pending = backend.read_pending("k")
        assert pending is not None
        assert pending.value == b"new"
        assert backend.metadata("k").has_pending
        info = backend.promote_pending("k", cas=1)
        assert info.version == 2
        assert backend.read("k").value == b"new"
        assert backend.read("k", 1).value == b"old"
        assert backend.read_pending("k") is None

    def test_pending_discard_and_cas(self, backend: SecretBackend) -> None:
        """discard drops the pending value; promote honours check-and-set."""
        backend.write("k", b"old")
        backend.stage_pending("k", b"new")
        backend.discard_pending("k")
        assert backend.read_pending("k") is None
        with pytest.raises(SecretNotFoundError):
            backend.promote_pending("k")
        backend.stage_pending("k", b"new")
        backend.write("k", b"racer")
        with pytest.raises(CasConflictError):
            backend.promote_pending("k", cas=1)
        assert backend.read("k").value == b"racer"
