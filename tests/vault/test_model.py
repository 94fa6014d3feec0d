"""SecretVault against a plain in-memory model, driven by Hypothesis with random operation sequences."""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from leakvault.vault.errors import (
    CasConflictError,
    SecretNotFoundError,
    VersionDeletedError,
    VersionDestroyedError,
)
from leakvault.vault.factory import open_vault
from leakvault.vault.rotation import RotationFailedError

from .helpers import fast_tempdir, make_vault

PATHS = st.sampled_from(["a", "a/b", "c/d/e"])
VALUES = st.binary(max_size=64)


class VaultModel(RuleBasedStateMachine):
    """Each path is a list of versions: (value, state) with state live, deleted or destroyed."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = fast_tempdir()
        self.vault = open_vault(make_vault(self.tmp / "v.db"))
        self.model: dict[str, list[list[object]]] = {}

    def teardown(self) -> None:
        self.vault.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _versions(self, path: str) -> list[list[object]]:
        return self.model.setdefault(path, [])

    @rule(path=PATHS, value=VALUES)
    def set(self, path: str, value: bytes) -> None:
        info = self.vault.set(path, value)
        self._versions(path).append([value, "live"])
        assert info.version == len(self.model[path])

    @rule(path=PATHS, value=VALUES, stale=st.booleans())
    def set_cas(self, path: str, value: bytes, stale: bool) -> None:
        current = len(self._versions(path))
        cas = current + 1 if stale else current
        if stale:
            try:
                self.vault.set(path, value, cas=cas)
            except CasConflictError:
                return
            raise AssertionError("a stale cas was accepted")
        self.vault.set(path, value, cas=cas)
        self.model[path].append([value, "live"])

    @rule(path=PATHS, data=st.data())
    def get(self, path: str, data: st.DataObject) -> None:
        versions = self._versions(path)
        number = data.draw(st.one_of(st.none(), st.integers(1, len(versions) + 1)))
        expected_index = (len(versions) if number is None else number) - 1
        try:
            got = self.vault.get(path, number)
        except VersionDestroyedError:
            assert versions[expected_index][1] == "destroyed"
        except VersionDeletedError:
            assert versions[expected_index][1] == "deleted"
        except SecretNotFoundError:
            assert expected_index < 0 or expected_index >= len(versions)
        else:
            assert versions[expected_index] == [got.value, "live"]

    @rule(path=PATHS)
    def delete_current(self, path: str) -> None:
        versions = self._versions(path)
        if not versions:
            return
        self.vault.delete(path)
        if versions[-1][1] == "live":
            versions[-1][1] = "deleted"

    @rule(path=PATHS)
    def undelete_current(self, path: str) -> None:
        versions = self._versions(path)
        if not versions:
            return
        self.vault.undelete(path)
        if versions[-1][1] == "deleted":
            versions[-1][1] = "live"

    @rule(path=PATHS, data=st.data())
    def destroy(self, path: str, data: st.DataObject) -> None:
        versions = self._versions(path)
        if not versions:
            return
        number = data.draw(st.integers(1, len(versions)))
        self.vault.destroy(path, [number])
        versions[number - 1][1] = "destroyed"

    @rule(path=PATHS, data=st.data())
    def rollback(self, path: str, data: st.DataObject) -> None:
        versions = self._versions(path)
        if not versions:
            return
        number = data.draw(st.integers(1, len(versions)))
        try:
            self.vault.rollback(path, number)
        except SecretNotFoundError:
            assert versions[number - 1][1] != "live"
            return
        versions.append([versions[number - 1][0], "live"])

    @rule(path=PATHS, value=VALUES.filter(bool), accept=st.booleans())
    def rotate(self, path: str, value: bytes, accept: bool) -> None:
        try:
            self.vault.rotate(path, generator=lambda: value, verify=lambda v: accept)
        except RotationFailedError:
            assert not accept
            return
        assert accept
        self._versions(path).append([value, "live"])

    @invariant()
    def history_matches(self) -> None:
        for path, versions in self.model.items():
            if not versions:
                continue
            meta = self.vault.metadata(path)
            assert meta.current_version == len(versions)
            states = [("destroyed" if v.destroyed else "deleted" if v.deleted else "live") for v in meta.versions]
            assert states == [v[1] for v in versions]
            assert not meta.has_pending


TestVaultModel = VaultModel.TestCase
TestVaultModel.settings = settings(max_examples=25, stateful_step_count=25, deadline=None)


def test_audit_chain_after_random_operations(tmp_path: Path) -> None:
    """A vault used by the state machine above still verifies its audit chain (smoke check)."""
    with open_vault(make_vault(tmp_path / "v.db")) as vault:
        for i in range(20):
            vault.set(f"p{i % 3}", bytes([i]))
        assert vault.verify_audit().ok
