"""Fingerprints: rule id + repository path + keyed hash; no line number, no secret."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from leakvault.scanner.findings import fingerprint as fp
from tests.scanner.gitrepo import GitRepo
from tests.scanner.tokens import github_pat


def test_fingerprint_never_contains_the_secret(rng: random.Random) -> None:
    """The hash part is 20 hex characters and no piece of the secret appears."""
    token = github_pat(rng)
    value = fp.fingerprint("github-pat", "src/app.py", token)
    rule, path, digest = value.split(":")
    assert (rule, path) == ("github-pat", "src/app.py")
    assert len(digest) == fp.HASH_HEX_CHARS
    assert token[4:12] not in value


def test_paths_are_relative_to_the_repository_root(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same file named from the root, a sub-directory, absolutely or with backslashes agrees."""
    repo = GitRepo(tmp_path / "repo")
    (repo.path / "pkg" / "sub").mkdir(parents=True)
    token = github_pat(rng)
    monkeypatch.chdir(repo.path)
    from_root = fp.fingerprint("r", "./pkg/sub/m.py", token)
    assert fp.fingerprint("r", "pkg\\sub\\m.py", token) == from_root
    assert fp.fingerprint("r", str(repo.path / "pkg/sub/m.py"), token) == from_root
    monkeypatch.chdir(repo.path / "pkg")
    assert fp.fingerprint("r", "sub/m.py", token) == from_root
    assert from_root.split(":")[1] == "pkg/sub/m.py"


def test_outside_a_repository_the_path_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a repository the given (normalised) path is used, and stdin stays <stdin>."""
    monkeypatch.chdir(tmp_path)
    assert fp.fingerprint("r", "./a/b.txt", "s").split(":")[1] == "a/b.txt"
    assert fp.fingerprint("r", "<stdin>", "s").split(":")[1] == "<stdin>"


def test_key_is_versioned_and_overridable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default key has id v1; a private key gives other hashes and an id that does not reveal it."""
    monkeypatch.delenv(fp.KEY_ENVIRONMENT_VARIABLE, raising=False)
    default_hash = fp.secret_hash("value")
    assert fp.fingerprint_key()[1] == "v1"
    monkeypatch.setenv(fp.KEY_ENVIRONMENT_VARIABLE, "private")
    key_id = fp.fingerprint_key()[1]
    assert key_id.startswith("custom-")
    assert "private" not in key_id
    assert fp.secret_hash("value") != default_hash
