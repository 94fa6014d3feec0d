"""Notebooks by cell and line, UTF-16 files, base64 config values decoded one level, CRLF."""

from __future__ import annotations

import base64
import codecs
import json
import random
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

from tests.scanner.gitrepo import GitRepo, json_findings
from tests.scanner.tokens import github_pat, pem_private_key

RunCli = Callable[..., CompletedProcess[str]]


def _notebook(cells: list[dict[str, Any]]) -> str:
    document = {"cells": cells, "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(document, indent=1)


def _code(source: str, outputs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "execution_count": 1,
        "metadata": {},
        "source": source.splitlines(keepends=True),  # nbformat's list-of-lines form
        "outputs": outputs or [],
    }


def _file_line(text: str, needle: str) -> int:
    """The 1-based line of ``text`` holding ``needle`` (findings report lines of the .ipynb file)."""
    return next(number for number, line in enumerate(text.splitlines(), start=1) if needle in line)


def _scan(run_cli: RunCli, cwd: Path, *args: str) -> list[dict[str, Any]]:
    return json_findings(run_cli("scan", "--format", "json", "--no-redact", *args, cwd=cwd))


def test_notebook_findings_point_at_cell_and_line(tmp_path: Path, run_cli: RunCli, rng: random.Random) -> None:
    """A secret on line 3 of the second cell is reported in cell 2, at its line in the .ipynb file
    (so editors and SARIF viewers open the right place)."""
    token = github_pat(rng)
    cells = [_code("import os\n"), _code(f"a = 1\nb = 2\nTOKEN = '{token}'\n")]
    text = _notebook(cells)
    (tmp_path / "analysis.ipynb").write_text(text)
    file_line = next(number for number, line in enumerate(text.splitlines(), start=1) if token in line)
    assert file_line > 3  # the cell's line 3 is deep inside the JSON
    findings = _scan(run_cli, tmp_path)
    assert [(f["path"], f["location"], f["line"], f["secret"]) for f in findings] == [
        ("analysis.ipynb", "cell 2", file_line, token)
    ]


def test_notebook_text_outputs_scanned_images_skipped(tmp_path: Path, run_cli: RunCli, rng: random.Random) -> None:
    """Stream and text/plain outputs are scanned; image/png payloads are not."""
    printed, shown, in_image = github_pat(rng), github_pat(rng), github_pat(rng)
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": [f"token is {printed}\n"]},
        {
            "output_type": "display_data",
            "metadata": {},
            "data": {"image/png": f"iVBORw0K{in_image}", "text/plain": [f"<Figure {shown}>"]},
        },
    ]
    (tmp_path / "nb.ipynb").write_text(_notebook([_code("print(x)\n", outputs)]))
    findings = _scan(run_cli, tmp_path)
    assert sorted((f["location"], f["secret"]) for f in findings) == sorted(
        [("cell 1 output 1", printed), ("cell 1 output 2", shown)]
    )


def test_private_key_split_across_json_strings_is_found(tmp_path: Path, run_cli: RunCli, rng: random.Random) -> None:
    """A PEM key in a cell (one JSON string per line) is found whole, at its first line."""
    text = _notebook([_code("KEY = '''\n" + pem_private_key(rng) + "'''\n")])
    (tmp_path / "keys.ipynb").write_text(text)
    findings = _scan(run_cli, tmp_path)
    expected = _file_line(text, "BEGIN RSA PRIVATE KEY")
    assert [(f["rule_id"], f["location"], f["line"]) for f in findings] == [("private-key-pem", "cell 1", expected)]


def test_not_a_notebook_is_scanned_as_text(tmp_path: Path, run_cli: RunCli, rng: random.Random) -> None:
    """A broken .ipynb is still scanned, as plain text."""
    token = github_pat(rng)
    (tmp_path / "broken.ipynb").write_text(f'{{"cells": [ TOKEN = "{token}"')
    findings = _scan(run_cli, tmp_path)
    assert [(f["location"], f["secret"]) for f in findings] == [(None, token)]


def test_notebook_counts_as_one_file(tmp_path: Path, run_cli: RunCli, rng: random.Random) -> None:
    """The summary counts a notebook once, however many cells it has."""
    (tmp_path / "nb.ipynb").write_text(_notebook([_code(f"x{i} = {i}\n") for i in range(5)]))
    result = run_cli("scan", "--format", "json", cwd=tmp_path)
    assert json.loads(result.stdout)["stats"]["files_scanned"] == 1


def test_staged_notebook_reports_only_new_secrets(tmp_path: Path, run_cli: RunCli, rng: random.Random) -> None:
    """In a staged notebook, a secret already committed is not reported; one added in a new cell is."""
    repo = GitRepo(tmp_path / "repo")
    old, new = github_pat(rng), github_pat(rng)
    repo.write("nb.ipynb", _notebook([_code(f"OLD = '{old}'\n")]))
    repo.commit("old")
    text = _notebook([_code(f"OLD = '{old}'\n"), _code(f"x = 1\nNEW = '{new}'\n")])
    repo.write("nb.ipynb", text)
    repo.git("add", "nb.ipynb")
    findings = _scan(run_cli, repo.path, "--staged")
    assert [(f["location"], f["line"], f["secret"]) for f in findings] == [("cell 2", _file_line(text, new), new)]
    repo.commit("new")
    history = _scan(run_cli, repo.path, "--git")
    assert sorted(f["secret"] for f in history) == sorted([old, new])


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_files_with_bom_are_decoded(tmp_path: Path, run_cli: RunCli, rng: random.Random, codec: str) -> None:
    """A UTF-16 file with a byte-order mark is decoded and scanned, in either byte order."""
    token = github_pat(rng)
    bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
    (tmp_path / "settings.ini").write_bytes(bom + f"[auth]\r\ntoken = {token}\r\n".encode(codec))
    findings = _scan(run_cli, tmp_path)
    assert [(f["line"], f["secret"]) for f in findings] == [(2, token)]


def test_base64_config_values_are_decoded_one_level(tmp_path: Path, run_cli: RunCli, rng: random.Random) -> None:
    """A Kubernetes Secret's base64 value is decoded and its token found at the value's line;
    base64 of base64 is not unwrapped; the same value in Python source is not decoded."""
    token, twice = github_pat(rng), github_pat(rng)
    once = base64.b64encode(f"{token}\n".encode()).decode()
    double = base64.b64encode(base64.b64encode(twice.encode())).decode()
    manifest = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: gh\ntype: Opaque\ndata:\n"
        f"  token: {once}\n  nested: {double}\n"
    )
    (tmp_path / "secret.yaml").write_text(manifest)
    (tmp_path / "code.py").write_text(f"blob = {once}\n")
    # Generic rules may also flag the encoded values themselves; what matters here is the token.
    findings = [f for f in _scan(run_cli, tmp_path) if f["rule_id"] == "github-pat"]
    assert [(f["path"], f["line"], f["location"], f["secret"]) for f in findings] == [
        ("secret.yaml", 7, "base64 value on line 7", token)
    ]


def test_base64_values_in_env_and_json_and_allow_marker(tmp_path: Path, run_cli: RunCli, rng: random.Random) -> None:
    """.env and JSON values are decoded too (URL-safe alphabet included); an allow marker on the
    line suppresses the decoded finding; random base64 that is not text is ignored."""
    env_token, json_token, allowed = github_pat(rng), github_pat(rng), github_pat(rng)
    encoded = base64.urlsafe_b64encode(f"token={env_token}".encode()).decode()
    allowed_value = base64.b64encode(allowed.encode()).decode()
    noise = base64.b64encode(bytes(rng.randrange(256) for _ in range(48))).decode()
    (tmp_path / ".env").write_text(f"CONFIG={encoded}\nALLOWED={allowed_value}  # leakvault:allow\nNOISE={noise}\n")
    (tmp_path / "conf.json").write_text(json.dumps({"auth": base64.b64encode(json_token.encode()).decode()}))
    findings = [f for f in _scan(run_cli, tmp_path) if f["rule_id"] == "github-pat"]
    assert sorted((f["path"], f["secret"]) for f in findings) == sorted(
        [(".env", env_token), ("conf.json", json_token)]
    )


def test_a_base64_secret_is_reported_once_by_the_rule_that_names_it(
    tmp_path: Path, run_cli: RunCli, rng: random.Random
) -> None:
    """A token stored base64-encoded in config is one finding, the provider's (decoded), not also a
    generic one on the encoded text; a base64 value that decodes to no token keeps its generic
    finding; history scans agree."""
    token = github_pat(rng)
    encoded = base64.b64encode(token.encode()).decode()
    plain = base64.b64encode(f"hunter-{github_pat(rng)[4:]}".encode()).decode()  # text, but no token in it
    repo = GitRepo(tmp_path / "repo")
    repo.write("config.yaml", f"github:\n  token: {encoded}\ndb:\n  password: {plain}\n")
    findings = _scan(run_cli, repo.path)
    assert [(f["rule_id"], f["line"], f["location"]) for f in findings if f["line"] == 2] == [
        ("github-pat", 2, "base64 value on line 2")
    ]
    assert any(f["line"] == 4 and f["location"] is None for f in findings)  # the generic one stays
    repo.commit("config")
    history = json_findings(run_cli("scan", "--git", "--format", "json", cwd=repo.path))
    assert [(f["rule_id"], f["line"]) for f in history if f["line"] == 2] == [("github-pat", 2)]


def test_crlf_files_never_put_a_carriage_return_in_a_secret(
    tmp_path: Path, run_cli: RunCli, rng: random.Random
) -> None:
    """With CRLF line ends, a rule whose group runs to the end of the line still stops before '\\r'."""
    rule = (
        '[[rule]]\nid = "eol-secret"\nname = "Secret to end of line"\ndescription = "test rule"\n'
        "severity = \"high\"\nkeywords = [\"eol_secret\"]\nregex = '''eol_secret=(.+)'''\n"
    )
    (tmp_path / ".leakvault.toml").write_text(rule)
    value = github_pat(rng)[4:]
    (tmp_path / "app.cfg").write_bytes(f"eol_secret={value}\r\nnext=1\r\n".encode())
    findings = _scan(run_cli, tmp_path, "app.cfg")
    assert [f["secret"] for f in findings if f["rule_id"] == "eol-secret"] == [value]
