"""Planning across files, applying into a real vault, the mapping file, idempotence and history."""

from __future__ import annotations

import dataclasses
import os
import random
import stat
import tomllib
from pathlib import Path
from typing import Any

from leakvault.fix import apply_plan, known_values, plan_fixes
from leakvault.fix.history import first_commits
from leakvault.fix.render import Redactor, render_plan
from tests.fix.conftest import fake_token, finding_for, only_file, plan_for, write
from tests.scanner.gitrepo import GitRepo


def test_same_value_in_many_places_is_one_secret(tmp_path: Path, rng: random.Random) -> None:
    """A value used in three files is stored once and referenced by one name everywhere."""
    token = fake_token(rng)
    plan = plan_for(
        tmp_path,
        {
            "a.py": (f'TOKEN = "{token}"\n', [token]),
            "b.js": (f'const token = "{token}";\n', [token]),
            "c.yaml": (f"token: {token}\n", [token]),
        },
    )
    assert len(plan.secrets) == 1
    assert plan.secrets[0].paths == ("a.py", "b.js", "c.yaml")
    assert {site.name for fix in plan.files for site in fix.sites} == {"TOKEN"}
    assert plan.mapping == (("TOKEN", f"{tmp_path.name}/a/TOKEN"),)


def test_name_clash_between_values_takes_the_file_stem(tmp_path: Path, rng: random.Random) -> None:
    """Two different values under the same key get distinct names."""
    a, b = fake_token(rng), fake_token(rng)
    plan = plan_for(tmp_path, {"prod.py": (f'TOKEN = "{a}"\n', [a]), "staging.py": (f'TOKEN = "{b}"\n', [b])})
    assert sorted(s.name for s in plan.secrets) == ["STAGING_TOKEN", "TOKEN"]


def test_plan_output_is_redacted_unless_revealed(tmp_path: Path, rng: random.Random) -> None:
    """The diff never shows a secret, unless --no-redact asks for it."""
    token = fake_token(rng)
    plan = plan_for(tmp_path, {"app.py": (f'TOKEN = "{token}"\n', [token])})
    shown = render_plan(plan, Redactor([token], reveal=False), applying=False)
    assert token not in shown and '-TOKEN = "ghp_*****"' in shown and '+TOKEN = os.environ["TOKEN"]' in shown
    assert token in render_plan(plan, Redactor([token], reveal=True), applying=False)
    assert token not in repr(plan)


def test_file_changed_since_scan_is_refused(tmp_path: Path, rng: random.Random) -> None:
    """A finding whose text is no longer where the scan saw it is not rewritten."""
    token = fake_token(rng)
    text = f'TOKEN = "{token}"\n'
    finding = finding_for("app.py", text, token)
    write(tmp_path, "app.py", "# edited\n" + text)
    plan = plan_fixes([finding], cwd=tmp_path, root=tmp_path)
    assert plan.files == () and "changed since it was scanned" in plan.refusals[0].reason


def test_no_rewriter_for_markdown(tmp_path: Path, rng: random.Random) -> None:
    """Files of unknown types are listed as left alone."""
    token = fake_token(rng)
    plan = plan_for(tmp_path, {"README.md": (f"use {token}\n", [token])})
    assert plan.files == () and "no rewriter" in plan.refusals[0].reason


def test_apply_stores_verifies_writes_and_is_idempotent(tmp_path: Path, rng: random.Random, vault: Any) -> None:
    """Apply stores each value, rewrites atomically with the mode kept, writes the mapping; again is a no-op."""
    token = fake_token(rng)
    files = {"app.py": (f'TOKEN = "{token}"\n', [token]), ".env": (f"TOKEN={token}\nDEBUG=1\n", [token])}
    plan = plan_for(tmp_path, files)
    os.chmod(tmp_path / "app.py", 0o640)
    report = apply_plan(plan, vault)
    assert report.failures == []
    assert sorted(report.rewritten) == [".env", "app.py"]
    path = f"{tmp_path.name}/env/TOKEN"
    assert vault.get(path).text() == token
    assert stat.S_IMODE((tmp_path / "app.py").stat().st_mode) == 0o640
    assert (tmp_path / "app.py").read_text(encoding="utf-8") == 'import os\n\nTOKEN = os.environ["TOKEN"]\n'
    assert (tmp_path / ".env").read_text(encoding="utf-8") == "DEBUG=1\n"
    mapping = tomllib.loads((tmp_path / ".leakvault" / "env.toml").read_text(encoding="utf-8"))
    assert mapping == {"TOKEN": path}
    assert not list(tmp_path.glob(".*.leakvault-tmp"))
    versions_before = vault.metadata(path).current_version
    # The same plan again (an interrupted run repeated) and a fresh plan both change nothing.
    again = apply_plan(plan, vault)
    assert again.failures == [] and [s.status for s in again.stored] == ["already in the vault"]
    assert vault.metadata(path).current_version == versions_before
    fresh = plan_fixes([], cwd=tmp_path, root=tmp_path, known=known_values(vault, tmp_path / ".leakvault" / "env.toml"))
    assert fresh.is_empty


def test_vault_path_holding_another_value_leaves_the_file(tmp_path: Path, rng: random.Random, vault: Any) -> None:
    """If the planned vault path already holds something else, nothing is overwritten and the file stays."""
    token, other = fake_token(rng), fake_token(rng)
    text = f'TOKEN = "{token}"\n'
    plan = plan_for(tmp_path, {"app.py": (text, [token])})
    vault.set(plan.secrets[0].vault_path, other)
    report = apply_plan(plan, vault)
    assert report.rewritten == []
    assert "different value" in report.failures[0].reason
    assert (tmp_path / "app.py").read_text(encoding="utf-8") == text
    assert vault.get(plan.secrets[0].vault_path).text() == other
    assert not (tmp_path / ".leakvault" / "env.toml").exists()


def test_known_value_is_reused_from_the_vault(tmp_path: Path, rng: random.Random, vault: Any) -> None:
    """A value already stored by an earlier run keeps its name and path when it turns up in a new file."""
    token = fake_token(rng)
    first = plan_for(tmp_path, {"one.py": (f'API_KEY = "{token}"\n', [token])})
    apply_plan(first, vault)
    text = f"token: {token}\n"
    write(tmp_path, "two.yaml", text)
    known = known_values(vault, tmp_path / ".leakvault" / "env.toml")
    second = plan_fixes([finding_for("two.yaml", text, token)], cwd=tmp_path, root=tmp_path, known=known)
    fix = only_file(second)
    assert fix.rewritten == "token: ${API_KEY}\n"
    assert second.secrets[0].reused and second.mapping == ()


def test_dotenv_name_taken_by_another_value_is_refused(tmp_path: Path, rng: random.Random) -> None:
    """A .env key already mapped to a different vault path is not silently repointed."""
    token = fake_token(rng)
    write(tmp_path, ".leakvault/env.toml", 'GH_TOKEN = "elsewhere/app/GH_TOKEN"\n')
    plan = plan_for(tmp_path, {".env": (f"GH_TOKEN={token}\n", [token])})
    assert plan.files == () and "leakvault vault set elsewhere/app/GH_TOKEN" in plan.refusals[0].reason


def test_first_commits_finds_the_introducing_commit(tmp_path: Path, rng: random.Random) -> None:
    """History lookup names the oldest commit that added each value, and nothing for values never committed."""
    token, fresh = fake_token(rng), fake_token(rng)
    repo = GitRepo(tmp_path / "repo")
    repo.write("a.txt", "nothing yet\n")
    repo.commit("start")
    repo.write("config.py", f'TOKEN = "{token}"\n')
    introduced = repo.commit("add config")
    repo.write("other.py", f'T = "{token}"\n')
    repo.commit("copy it")
    found = first_commits(repo.path, [token, fresh])
    assert set(found) == {token}
    assert found[token].sha == introduced and found[token].path == "config.py"
    assert found[token].author == "Test Author"


def test_mapping_keeps_user_tables_and_comments(tmp_path: Path) -> None:
    """New names go before the user's [files] table, and everything already there stays."""
    from leakvault.fix.mapping import read_mapping, updated_mapping_text

    existing = '# mine\nOLD = "a/b/OLD"\n\n[files]\nCERT = "a/b/cert"\n'
    text = updated_mapping_text(existing, [("NEW", "a/b/NEW"), ("OLD", "a/b/OLD")])
    assert text.startswith('# mine\nOLD = "a/b/OLD"\nNEW = "a/b/NEW"  # leakvault:allow')
    assert tomllib.loads(text)["files"] == {"CERT": "a/b/cert"}
    write(tmp_path, "env.toml", text)
    assert read_mapping(tmp_path / "env.toml") == {"OLD": "a/b/OLD", "NEW": "a/b/NEW"}


def test_file_edited_between_plan_and_apply_is_left_alone(tmp_path: Path, rng: random.Random, vault: Any) -> None:
    """Apply rewrites a file only if it still holds the text the plan was made from."""
    token = fake_token(rng)
    plan = plan_for(tmp_path, {"app.py": (f'TOKEN = "{token}"\n', [token])})
    edited = f'TOKEN = "{token}"\nEXTRA = 1\n'
    write(tmp_path, "app.py", edited)
    report = apply_plan(plan, vault)
    assert report.rewritten == [] and "changed after the plan" in report.failures[0].reason
    assert (tmp_path / "app.py").read_text(encoding="utf-8") == edited


def test_history_findings_and_bom_files(tmp_path: Path, rng: random.Random) -> None:
    """Findings from git history are refused (rotate them); a UTF-8 BOM survives a rewrite."""
    from leakvault.scanner.model import CommitInfo

    token, old = fake_token(rng), fake_token(rng)
    text = f'\ufeffTOKEN = "{token}"\n'
    write(tmp_path, "bom.py", text)
    finding = finding_for("bom.py", text, token)
    # The scanner counts the BOM as a character of line 1, as finding_for does here.
    historic = finding_for("gone.py", f'X = "{old}"\n', old)
    historic = dataclasses.replace(historic, commit=CommitInfo("a" * 40, "A", "a@x", "2024-01-01"))
    plan = plan_fixes([finding, historic], cwd=tmp_path, root=tmp_path)
    assert only_file(plan).rewritten == '\ufeffimport os\n\nTOKEN = os.environ["TOKEN"]\n'
    assert "git history" in plan.refusals[0].reason


def test_plan_redacts_the_whole_value_it_would_store(tmp_path: Path, rng: random.Random) -> None:
    """Without --apply the diff redacts the whole value that would go to the vault (a .env line's
    value around the finding), exactly as --apply does."""
    from leakvault.cli.fix import run_fix
    from leakvault.scanner.model import ScanResult

    token = fake_token(rng)
    value = f"prefix-{token}-suffix"
    text = f"API_TOKEN={value}\n"
    write(tmp_path, ".env", text)
    shown, code = run_fix(
        ScanResult(findings=[finding_for(".env", text, token)]),
        apply=False,
        reveal=False,
        exit_zero=False,
        cwd=tmp_path,
    )
    assert code == 1
    assert "-API_TOKEN=" in shown
    assert "prefix-" not in shown and "-suffix" not in shown and token not in shown


def test_parser_checks_get_no_vault_key(tmp_path: Path, monkeypatch: Any) -> None:
    """The external parsers that check a rewrite (node, bash, gofmt from PATH) run without the
    vault's passphrase or credentials in their environment."""
    from leakvault.fix.rewriter import external_check

    monkeypatch.setenv("MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE", "passphrase-probe")
    monkeypatch.setenv("MAHAVISHNU_SECRETS__HASHICORP__TOKEN", "token-probe")
    seen = tmp_path / "env"
    result = external_check(["sh", "-c", f"env >> {seen}"], "a\n", "b\n", "sh")
    assert result.parser == "sh" and result.error is None
    recorded = seen.read_text()
    assert "PATH=" in recorded
    assert "passphrase-probe" not in recorded and "token-probe" not in recorded
