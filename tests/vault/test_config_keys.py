"""Settings from MAHAVISHNU_SECRETS__* over pyproject.toml, and the key sources."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from leakvault.errors import ConfigError
from leakvault.vault import _crypto
from leakvault.vault.config import env_tree, load_settings
from leakvault.vault.errors import KeySourceError, UnlockError
from leakvault.vault.factory import init_local_vault, open_vault
from leakvault.vault.keys import KeyMaterial, read_key_file, resolve_key, write_key_file

from .helpers import PASSPHRASE, make_vault, settings_for


def test_env_tree_nests_on_double_underscore() -> None:
    """MAHAVISHNU_SECRETS__A__B=v becomes {'a': {'b': 'v'}}; other variables are ignored."""
    tree = env_tree(
        {
            "MAHAVISHNU_SECRETS__BACKEND": "local",
            "MAHAVISHNU_SECRETS__LOCAL__PATH": "/x",
            "MAHAVISHNU_SECRETS__HASHICORP__URL": "https://vault:8200",
            "OTHER": "y",
        }
    )
    assert tree == {"backend": "local", "local": {"path": "/x"}, "hashicorp": {"url": "https://vault:8200"}}


def test_env_tree_rejects_conflicts() -> None:
    """A name used both as a value and as a section is an error."""
    with pytest.raises(ConfigError):
        env_tree({"MAHAVISHNU_SECRETS__LOCAL": "x", "MAHAVISHNU_SECRETS__LOCAL__PATH": "/y"})


def test_defaults(tmp_path: Path) -> None:
    """With nothing configured: local backend, vault under XDG data home, 600k iterations."""
    settings = load_settings({}, cwd=tmp_path)
    assert settings.backend == "local"
    assert settings.local.path.name == "vault.db"
    assert settings.local.kdf_iterations >= 600_000


def test_env_over_user_config(tmp_path: Path) -> None:
    """The user's config file applies, relative to the file, and the environment overrides it."""
    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir()
    config.write_text(
        '[vault]\nidentity = "ci"\n[vault.local]\npath = "secrets/v.db"\n'
        '[vault.hashicorp]\nurl = "https://a"\nmount = "kv"\n'
    )
    sub = tmp_path / "src"
    sub.mkdir()
    settings = load_settings({}, cwd=sub, user_config=config)
    assert settings.local.path == config.parent / "secrets" / "v.db"
    assert settings.identity == "ci"
    settings = load_settings(
        {"MAHAVISHNU_SECRETS__HASHICORP__URL": "https://b", "MAHAVISHNU_SECRETS__IDENTITY": "me"},
        cwd=sub,
        user_config=config,
    )
    assert settings.section("hashicorp") == {"url": "https://b", "mount": "kv"}
    assert settings.identity == "me"


def test_vault_settings_in_pyproject_ignored(tmp_path: Path) -> None:
    """[tool.leakvault.vault] in a repository is ignored, with one warning naming every setting."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.leakvault.vault]\nidentity = "ci"\n[tool.leakvault.vault.local]\npath = "secrets/v.db"\n'
        'passphrase = "oops-value"\n'
    )
    sub = tmp_path / "src"
    sub.mkdir()
    warnings: list[str] = []
    settings = load_settings({"HOME": str(tmp_path / "home")}, cwd=sub, warn=warnings.append)
    assert settings.identity is None
    assert settings.local.path != tmp_path / "secrets" / "v.db"
    assert settings.local.passphrase is None
    assert len(warnings) == 1
    assert "identity, local.passphrase, local.path" in warnings[0]
    assert "oops-value" not in warnings[0]


def test_settings_repr_hides_key_material(tmp_path: Path) -> None:
    """repr of the settings shows no passphrase or master key."""
    settings = load_settings(
        {"MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": "hunter2-pass", "MAHAVISHNU_SECRETS__LOCAL__MASTER_KEY": "AAAA"},
        cwd=tmp_path,
    )
    assert "hunter2-pass" not in repr(settings)
    assert "AAAA" not in repr(settings)


def test_master_key_source(tmp_path: Path, master_key_b64: str) -> None:
    """A vault created for a master key opens with it and with no passphrase at all."""
    path = tmp_path / "v.db"
    settings = settings_for(path, MAHAVISHNU_SECRETS__LOCAL__MASTER_KEY=master_key_b64)
    init_local_vault(settings, resolve_key(settings.local))
    with open_vault(settings) as sv:
        sv.set("k", "v")
    other = base64.b64encode(bytes(32)).decode()
    with pytest.raises(UnlockError, match="wrong master key"):
        open_vault(settings_for(path, MAHAVISHNU_SECRETS__LOCAL__MASTER_KEY=other))
    with pytest.raises(UnlockError, match="no passphrase"):
        open_vault(settings_for(path, MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE="x"))


def test_key_file_source(tmp_path: Path) -> None:
    """A 0600 key file works; a key file readable by others is refused."""
    key_file = tmp_path / "vault.key"
    key = _crypto.new_master_key()
    write_key_file(key_file, key)
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert read_key_file(key_file).material == key.material
    path = tmp_path / "v.db"
    settings = settings_for(path, MAHAVISHNU_SECRETS__LOCAL__KEY_FILE=str(key_file))
    init_local_vault(settings, resolve_key(settings.local))
    with open_vault(settings) as sv:
        sv.set("k", "v")
    key_file.chmod(0o644)
    with pytest.raises(KeySourceError, match="chmod 600"):
        open_vault(settings)
    with pytest.raises(Exception, match="already exists"):
        write_key_file(key_file, key)


def test_master_key_wins_over_passphrase(tmp_path: Path, master_key_b64: str) -> None:
    """Precedence: master key, key file, passphrase, prompt."""
    settings = settings_for(
        tmp_path / "v.db",
        MAHAVISHNU_SECRETS__LOCAL__MASTER_KEY=master_key_b64,
        MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE="pw",
    )
    assert resolve_key(settings.local).source.endswith("MASTER_KEY")
    only_prompt = settings_for(tmp_path / "v.db")
    assert resolve_key(only_prompt.local, prompt=lambda label: "typed").passphrase == "typed"
    with pytest.raises(KeySourceError, match="no vault key"):
        resolve_key(only_prompt.local)


@pytest.mark.parametrize("bad", ["not base64 at all!", base64.b64encode(b"short").decode(), ""])
def test_malformed_master_key(tmp_path: Path, bad: str) -> None:
    """A malformed master key is a KeySourceError that does not echo the value."""
    settings = settings_for(tmp_path / "v.db", MAHAVISHNU_SECRETS__LOCAL__MASTER_KEY=bad)
    if not bad:  # an empty variable counts as unset
        with pytest.raises(KeySourceError, match="no vault key"):
            resolve_key(settings.local)
        return
    with pytest.raises(KeySourceError) as info:
        resolve_key(settings.local)
    assert bad not in str(info.value)


def test_passphrase_vault_also_opens_with_prompt(tmp_path: Path) -> None:
    """The interactive prompt is the last resort and unlocks a passphrase vault."""
    path = tmp_path / "v.db"
    make_vault(path)
    _crypto.clear_kek_cache()
    asked: list[str] = []

    def prompt(label: str) -> str:
        asked.append(label)
        return PASSPHRASE

    with open_vault(settings_for(path), prompt=prompt) as sv:
        assert sv.list() == []
    assert asked == ["Vault passphrase"]


def test_init_creates_private_parent(tmp_path: Path) -> None:
    """init creates missing parent directories with mode 0700 and the file with 0600."""
    path = tmp_path / "a" / "b" / "vault.db"
    settings = settings_for(path)
    init_local_vault(settings, KeyMaterial("t", master_key=_crypto.new_master_key()))
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "a" / "b").stat().st_mode & 0o777 == 0o700
    assert oct(os.stat(path).st_mode)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[vault]\nidentity = ["ci"]', "identity must be a string, got list"),
        ("[vault]\nbackend = 5", "backend must be a string, got int"),
        ("[vault.local]\npath = 5", "local.path must be a string, got int"),
        ("[vault]\npolicy_file = true", "policy_file must be a string, got bool"),
        ("[vault.audit]\npath = {a = 1}", "audit.path must be a string, got dict"),
    ],
    ids=["identity", "backend", "local-path", "policy-file", "audit-path"],
)
def test_settings_of_the_wrong_type(tmp_path: Path, toml: str, message: str) -> None:
    """A setting given as a number, list or table where a string belongs is a ConfigError naming it."""
    config = tmp_path / "config.toml"
    config.write_text(toml + "\n")
    with pytest.raises(ConfigError, match=message):
        load_settings({}, cwd=tmp_path, user_config=config)
