"""`leakvault scan` end to end, as a real subprocess: findings, exit codes, sources, bad input."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from tests.scanner.tokens import aws_key_pair, github_pat, pem_private_key

RunCli = Callable[..., CompletedProcess[str]]


def _json(result: CompletedProcess[str]) -> dict[str, object]:
    document = json.loads(result.stdout)
    assert isinstance(document, dict)
    return document


def _rule_ids(result: CompletedProcess[str]) -> list[str]:
    findings = _json(result)["findings"]
    assert isinstance(findings, list)
    return [finding["rule_id"] for finding in findings]


def test_folder_with_three_secrets_reports_all_and_exits_1(tmp_path: Path, run_cli: RunCli, rng: random.Random) -> None:
    """A GitHub token, an AWS key pair and a PEM private key are all reported; exit code 1."""
    key_id, secret_key = aws_key_pair(rng)
    (tmp_path / "app.py").write_text(f'GITHUB_TOKEN = "{github_pat(rng)}"\n')
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "aws.ini").write_text(
        f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret_key}\n"
    )
    (tmp_path / "deploy.pem").write_text(pem_private_key(rng))
    result = run_cli("scan", "--format", "json", ".")
    assert result.returncode == 1, result.stderr
    ids = _rule_ids(result)
    assert {"github-pat", "aws-access-key-id", "private-key-pem"} <= set(ids)
    assert key_id not in result.stdout and secret_key not in result.stdout  # redacted by default


def test_clean_folder_exits_0(tmp_path: Path, run_cli: RunCli) -> None:
    """A folder with no secrets exits 0 and says so."""
    (tmp_path / "main.py").write_text("import os\nTOKEN = os.environ['GITHUB_TOKEN']\n")
    result = run_cli("scan", ".")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no secrets found" in result.stdout


def test_missing_path_exits_2_with_one_line(run_cli: RunCli) -> None:
    """A path that does not exist is a usage error: exit 2, one line on stderr, no traceback."""
    result = run_cli("scan", "no/such/dir")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "no/such/dir" in result.stderr and "Traceback" not in result.stderr


def test_bad_flag_exits_2(run_cli: RunCli) -> None:
    """An unknown option is a usage error with exit code 2."""
    result = run_cli("scan", "--no-such-flag")
    assert result.returncode == 2
    assert result.stderr.startswith("leakvault: error:")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("exclude = 3\n", "'exclude'"),
        ("no_such_key = true\n", "unknown key 'no_such_key'"),
        ("[allowlist]\npaths = ['(unclosed']\n", "paths"),
        ("max_file_size = 'lots'\n", "max_file_size"),
        ("this is not toml\n", "invalid TOML"),
    ],
)
def test_invalid_config_names_file_and_key(tmp_path: Path, run_cli: RunCli, content: str, expected: str) -> None:
    """An invalid config exits 2 with one line naming the file and the offending key."""
    (tmp_path / ".leakvault.toml").write_text(content)
    result = run_cli("scan", ".")
    assert result.returncode == 2
    assert ".leakvault.toml" in result.stderr and expected in result.stderr
    assert result.stderr.count("\n") == 1


def test_explicit_missing_config_exits_2(run_cli: RunCli) -> None:
    """--config naming a file that does not exist is a usage error."""
    result = run_cli("scan", "--config", "nope.toml", ".")
    assert result.returncode == 2 and "nope.toml" in result.stderr


def test_pyproject_config_is_used(tmp_path: Path, run_cli: RunCli, rng: random.Random) -> None:
    """[tool.leakvault] in pyproject.toml configures the scan (here: disabling a rule)."""
    (tmp_path / "pyproject.toml").write_text('[tool.leakvault]\ndisabled_rules = ["github-pat"]\n')
    (tmp_path / "a.py").write_text(f"t = '{github_pat(rng)}'\n")
    assert run_cli("scan", ".").returncode == 0


def test_stdin_is_scanned(run_cli: RunCli, rng: random.Random) -> None:
    """'-' reads standard input and reports it as <stdin>."""
    result = run_cli("scan", "--format", "json", "-", input=f"export GH={github_pat(rng)}\n")
    assert result.returncode == 1
    assert _json(result)["findings"][0]["path"] == "<stdin>"  # type: ignore[index]  # JSON from the CLI is untyped; the test asserts its shape


def test_gitignore_leakvaultignore_and_config_excludes(tmp_path: Path, run_cli: RunCli, rng: random.Random) -> None:
    """Files ignored by .gitignore (at any level), .leakvaultignore or config excludes are not scanned."""
    line = f"token = '{github_pat(rng)}'\n"
    for name in ("ignored_by_git/a.py", "sub/ignored.py", "vendored/lib.py", "generated/x.py", "kept.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(line)
    (tmp_path / ".gitignore").write_text("ignored_by_git/\n")
    (tmp_path / "sub" / ".gitignore").write_text("ignored.py\n")
    (tmp_path / ".leakvaultignore").write_text("vendored/\n")
    (tmp_path / ".leakvault.toml").write_text('exclude = ["generated/"]\n')
    result = run_cli("scan", "--format", "json", ".")
    paths = [finding["path"] for finding in _json(result)["findings"]]  # type: ignore[attr-defined]  # JSON from the CLI is untyped; the test asserts its shape
    assert paths == ["kept.py"]


def test_binary_and_oversized_files_are_skipped_and_counted(
    tmp_path: Path, run_cli: RunCli, rng: random.Random
) -> None:
    """Binary files and files over the size cap are skipped, counted, and the big one is warned about."""
    token = github_pat(rng)
    (tmp_path / "blob.dat2").write_bytes(b"\x00\x01" + token.encode())
    (tmp_path / "minified.js").write_text("var a=1;" * 20000 + token)  # one 160 KB line
    (tmp_path / ".leakvault.toml").write_text('max_file_size = "64KB"\n')
    result = run_cli("scan", "--format", "json", ".")
    document = _json(result)
    assert result.returncode == 0
    assert document["stats"] == {**document["stats"], "skipped_binary": 1, "skipped_too_large": 1}  # type: ignore[dict-item]  # JSON from the CLI is untyped; the test asserts its shape
    assert "minified.js" in result.stderr and "max_file_size" in result.stderr


def test_invalid_utf8_is_scanned_without_error(tmp_path: Path, run_cli: RunCli, rng: random.Random) -> None:
    """Invalid UTF-8 around a secret neither crashes the scan nor hides the secret."""
    (tmp_path / "latin.txt").write_bytes(b"caf\xe9 \xff\xfe\xfa token=" + github_pat(rng).encode() + b" \xc3\x28\n")
    result = run_cli("scan", "--format", "json", ".")
    assert result.returncode == 1
    assert _rule_ids(result) == ["github-pat"]


def test_utf16_file_with_bom_is_decoded(tmp_path: Path, run_cli: RunCli, rng: random.Random) -> None:
    """A UTF-16 file with a BOM is decoded and scanned, not skipped as binary."""
    (tmp_path / "settings.ps1").write_bytes(f'$token = "{github_pat(rng)}"\r\n'.encode("utf-16"))
    result = run_cli("scan", "--format", "json", ".")
    assert _rule_ids(result) == ["github-pat"]


def test_unreadable_file_is_a_warning_and_the_scan_goes_on(tmp_path: Path, run_cli: RunCli, rng: random.Random) -> None:
    """A file that cannot be read (here a dangling symlink named explicitly) is warned about; others are scanned."""
    (tmp_path / "good.py").write_text(f"x = '{github_pat(rng)}'\n")
    os.symlink(tmp_path / "gone.py", tmp_path / "dangling.py")
    result = run_cli("scan", "--format", "json", "dangling.py", "good.py")
    assert result.returncode == 1
    assert "dangling.py" in result.stderr and "cannot be read" in result.stderr
    assert _json(result)["stats"]["skipped_unreadable"] == 1  # type: ignore[index]  # JSON from the CLI is untyped; the test asserts its shape


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_permission_denied_file_is_a_warning(tmp_path: Path, run_cli: RunCli) -> None:
    """A file without read permission is warned about and skipped."""
    secret = tmp_path / "secret.py"
    secret.write_text("x = 1\n")
    secret.chmod(0)
    result = run_cli("scan", ".")
    assert result.returncode == 0 and "cannot be read" in result.stderr


def test_symlinks_out_of_the_root_are_not_followed(tmp_path: Path, run_cli: RunCli, rng: random.Random) -> None:
    """A symlink pointing outside the scanned directory is not followed (files or directories)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "leak.py").write_text(f"x = '{github_pat(rng)}'\n")
    root = tmp_path / "root"
    root.mkdir()
    (root / "link.py").symlink_to(outside / "leak.py")
    (root / "linkdir").symlink_to(outside, target_is_directory=True)
    (root / "inside.py").write_text(f"y = '{github_pat(rng)}'\n")
    (root / "inside_link.py").symlink_to(root / "inside.py")
    result = run_cli("scan", "--format", "json", "root")
    paths = sorted(finding["path"] for finding in _json(result)["findings"])  # type: ignore[attr-defined]  # JSON from the CLI is untyped; the test asserts its shape
    assert paths == ["root/inside.py", "root/inside_link.py"]


@pytest.mark.parametrize("marker", ["leakvault:allow", "gitleaks:allow", "pragma: allowlist secret"])
def test_inline_allow_markers(tmp_path: Path, run_cli: RunCli, rng: random.Random, marker: str) -> None:
    """An inline allow comment of leakvault, gitleaks or detect-secrets suppresses the finding on its line."""
    (tmp_path / "a.py").write_text(f"t = '{github_pat(rng)}'  # {marker}\nu = '{github_pat(rng)}'\n")
    result = run_cli("scan", "--format", "json", ".")
    assert [f["line"] for f in _json(result)["findings"]] == [2]  # type: ignore[attr-defined]  # JSON from the CLI is untyped; the test asserts its shape


def test_no_redact_shows_the_secret_and_default_does_not(tmp_path: Path, run_cli: RunCli, rng: random.Random) -> None:
    """Secrets are redacted in every format by default; --no-redact prints them."""
    token = github_pat(rng)
    (tmp_path / "a.py").write_text(f"t = '{token}'\n")
    for format_name in ("text", "json", "sarif", "gitleaks"):
        assert token not in run_cli("scan", "--format", format_name, ".").stdout
    assert token in run_cli("scan", "--no-redact", ".").stdout


def test_exit_zero_and_output_file(tmp_path: Path, run_cli: RunCli, rng: random.Random) -> None:
    """--exit-zero reports but exits 0; -o writes the report to a file."""
    (tmp_path / "a.py").write_text(f"t = '{github_pat(rng)}'\n")
    result = run_cli("scan", "--exit-zero", "--format", "json", "-o", "out/report.json", ".", cwd=tmp_path)
    assert result.returncode == 2 and "out" in result.stderr  # the directory does not exist
    (tmp_path / "out").mkdir()
    result = run_cli("scan", "--exit-zero", "--format", "json", "-o", "out/report.json", ".")
    assert result.returncode == 0 and result.stdout == ""
    assert json.loads((tmp_path / "out" / "report.json").read_text())["findings"][0]["rule_id"] == "github-pat"


def test_text_report_has_no_colour_when_not_a_tty(tmp_path: Path, run_cli: RunCli, rng: random.Random) -> None:
    """Colour codes appear only on a terminal; piped output is plain."""
    (tmp_path / "a.py").write_text(f"t = '{github_pat(rng)}'\n")
    result = run_cli("scan", ".")
    assert "\x1b[" not in result.stdout
    assert "a.py" in result.stdout and "1:6" in result.stdout and "github-pat" in result.stdout


def test_rules_list_and_show(run_cli: RunCli) -> None:
    """`rules list --format json` lists rules; `rules show` explains one; an unknown id exits 2."""
    listed = json.loads(run_cli("rules", "list", "--format", "json").stdout)
    assert any(rule["id"] == "github-pat" for rule in listed)
    shown = run_cli("rules", "show", "github-pat")
    assert shown.returncode == 0 and "remediation:" in shown.stdout
    assert run_cli("rules", "show", "no-such-rule").returncode == 2
    gated = run_cli("rules", "show", "twilio-api-key").stdout
    assert "gate:" in gated and "sk[0-9a-f]{32}" in gated
    assert next(rule for rule in listed if rule["id"] == "twilio-api-key")["gate"] == "sk[0-9a-f]{32}"
    text = run_cli("rules", "list").stdout
    generic = next(line for line in text.splitlines() if line.startswith("generic-secret-assignment "))
    assert "more]" in generic and len(generic) < 250  # a hundred keywords summed up, not printed


def test_one_gigabyte_single_line_file_is_skipped_quickly(tmp_path: Path, run_cli: RunCli) -> None:
    """A 1 GB file with no newline (sparse, so the test is cheap) is skipped by the default size cap,
    counted and warned about; the rest of the scan goes on."""
    with (tmp_path / "bundle.min.js").open("wb") as handle:
        handle.truncate(1024**3)
    (tmp_path / "ok.py").write_text("x = 1\n")
    result = run_cli("scan", "--format", "json", ".", timeout=60)
    assert result.returncode == 0
    document = _json(result)
    assert document["stats"]["skipped_too_large"] == 1  # type: ignore[index]  # JSON from the CLI is untyped; the test asserts its shape
    assert document["stats"]["files_scanned"] == 1  # type: ignore[index]  # JSON from the CLI is untyped; the test asserts its shape
    assert "bundle.min.js" in result.stderr and "size cap" in result.stderr
