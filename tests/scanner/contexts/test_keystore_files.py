"""Binary keystores are reported by their path, in a directory scan, in the index and in
history, with a fingerprint that follows their content."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

from leakvault.scanner.contexts.keystore_files import keystore_text
from tests.scanner.gitrepo import GitRepo, json_findings

RunCli = Callable[..., CompletedProcess[str]]


def _pkcs12(rng: random.Random) -> bytes:
    """DER-shaped bytes (a SEQUENCE, version 3, then noise): binary, as a real .p12 is."""
    return b"\x30\x82\x0a\x00\x02\x01\x03\x00" + rng.randbytes(600)


def _jks(rng: random.Random) -> bytes:
    return b"\xfe\xed\xfe\xed\x00\x00\x00\x02" + rng.randbytes(400)


def test_keystores_in_a_directory_are_reported_once_each(tmp_path: Path, run_cli: RunCli) -> None:
    """A .p12 and a .jks are reported (format, digest); other binaries and Android's debug
    keystore are not, and no key byte reaches the report."""
    rng = random.Random(1407)
    p12, jks = _pkcs12(rng), _jks(rng)
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "client.p12").write_bytes(p12)
    (tmp_path / "app.jks").write_bytes(jks)
    (tmp_path / "debug.keystore").write_bytes(_jks(rng))
    (tmp_path / "blob.dat2").write_bytes(b"\x00" + rng.randbytes(100))
    result = run_cli("scan", ".", "--format", "json", cwd=tmp_path)
    findings = json_findings(result)
    assert sorted((f["rule_id"], f["path"], f["line"]) for f in findings) == [
        ("keystore-file", "app.jks", 1),
        ("keystore-file", "certs/client.p12", 1),
    ]
    assert hashlib.sha256(p12).hexdigest() not in result.stdout  # redacted by default
    text = keystore_text("certs/client.p12", p12)
    assert text is not None and text.startswith(b"binary keystore file (PKCS#12) sha256:")


def test_a_staged_keystore_is_reported_by_the_pre_commit_scan(tmp_path: Path, run_cli: RunCli) -> None:
    """`scan --staged` reports a keystore about to be committed, and `--git` one in history."""
    rng = random.Random(1408)
    repo = GitRepo(tmp_path / "repo")
    repo.write("README.md", "service\n")
    repo.commit("init")
    repo.write("deploy/server.pfx", _pkcs12(rng))
    repo.git("add", "deploy/server.pfx")
    staged = json_findings(run_cli("scan", "--staged", "--format", "json", cwd=repo.path))
    assert [(f["rule_id"], f["path"]) for f in staged] == [("keystore-file", "deploy/server.pfx")]
    repo.commit("add the server keystore")
    history = json_findings(run_cli("scan", "--git", "--format", "json", cwd=repo.path))
    assert [(f["rule_id"], f["path"]) for f in history] == [("keystore-file", "deploy/server.pfx")]
