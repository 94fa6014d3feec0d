"""Vault settings: ``MAHAVISHNU_SECRETS__*`` environment variables over the user's own config file.

Every vault setting is a *trust setting*: which backend, which server and TLS options, which vault
file and key file, which policy and rotation hooks. They decide where a token is sent, where a
secret is written and which commands run with secrets, so they come only from places the user
controls: the environment, command-line options, or ``$XDG_CONFIG_HOME/leakvault/config.toml``
(default ``~/.config/leakvault/config.toml``, a ``[vault]`` table), which must be owned by the user
and not group- or world-writable. A repository's ``pyproject.toml`` holds *scan settings* only
(``[tool.leakvault]``: rules, excludes, baselines); a ``[tool.leakvault.vault]`` table there is
ignored with a one-line warning naming each setting, so a cloned repository cannot point a token at
its own server (the HashiCorp ``vault`` CLI reads ``VAULT_ADDR`` from the environment for the same
reason).

Nesting uses ``__``: ``MAHAVISHNU_SECRETS__LOCAL__PATH=/x`` is ``{"local": {"path": "/x"}}``, the
same as ``[vault.local] path = "/x"`` in the user config file. Keys are case-insensitive and stored
lower-case. Environment values are strings; the typed accessors convert them.

Backends other than ``local`` read their own section through `VaultSettings.section` (for example
``hashicorp``), so adding one needs no change here beyond documenting its keys.
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from leakvault.errors import ConfigError, LeakvaultError
from leakvault.vault import _crypto

ENV_PREFIX = "MAHAVISHNU_SECRETS__"
DEFAULT_BACKEND = "local"
# Keys that hold key material: allowed from the environment only, never from a file in a repository.
_SECRET_KEYS = {
    ("local", "passphrase"),
    ("local", "master_key"),
    ("local", "new_passphrase"),
    # Remote backend credentials (leakvault.vault.backends): the environment or a credential chain only.
    ("hashicorp", "token"),
    ("hashicorp", "secret_id"),
    ("azure", "token"),
    ("gcp", "token"),
}


_CREDENTIAL_NAMES = frozenset(inner for _outer, inner in _SECRET_KEYS)


def without_credentials(environ: Mapping[str, str]) -> dict[str, str]:
    """A copy of `environ` for a child process or hook: no vault key material, no backend credentials.

    Any ``MAHAVISHNU_SECRETS__...__<NAME>`` whose last segment names a credential (passphrase,
    master_key, token, secret_id, ...) goes, whatever its section, so a backend added later is covered.
    """
    out: dict[str, str] = {}
    for name, value in environ.items():
        upper = name.upper()
        if upper.startswith(ENV_PREFIX) and upper.rsplit("__", 1)[-1].lower() in _CREDENTIAL_NAMES:
            continue
        out[name] = value
    return out


def decode_text(data: bytes, what: str, error: type[LeakvaultError] = ConfigError) -> str:
    """`data` as UTF-8, or `error` saying that `what` is not UTF-8 text."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{what} is not UTF-8 text (invalid byte at offset {exc.start}); save it as UTF-8") from None


def read_text(path: Path, what: str, error: type[LeakvaultError] = ConfigError) -> str:
    """The UTF-8 text of `path`, or `error` with a one-line reason naming `what` and the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    return decode_text(data, f"{what} {path}", error)


def _data_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME")
    return Path(base) if base else Path.home() / ".local" / "share"


def default_vault_path() -> Path:
    return _data_home() / "leakvault" / "vault.db"


def env_tree(environ: Mapping[str, str]) -> dict[str, Any]:
    """Nested settings from every ``MAHAVISHNU_SECRETS__A__B=v`` variable."""
    tree: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.upper().startswith(ENV_PREFIX):
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__")]
        if not all(parts):
            raise ConfigError(f"environment variable {name}: empty segment in name")
        node = tree
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"environment variable {name}: {part} is both a value and a section")
            node = child
        if isinstance(node.get(parts[-1]), dict):
            raise ConfigError(f"environment variable {name}: {parts[-1]} is a section")
        node[parts[-1]] = value
    return tree


def _lower_keys(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k.lower(): _lower_keys(v) if isinstance(v, Mapping) else v for k, v in data.items()}


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: `override` wins; sections merge key by key."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def find_pyproject(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _flat_names(tree: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Dotted names of every leaf setting in `tree` (``hashicorp.url``)."""
    names: list[str] = []
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            names.extend(_flat_names(value, name + "."))
        else:
            names.append(name)
    return names


def repository_trust_settings(path: Path) -> list[str]:
    """The dotted names of the vault (trust) settings a repository's pyproject.toml tries to set.

    None of them is used; the caller warns. An unreadable file is not our business here: the
    scanner reports it when it reads its own ``[tool.leakvault]`` scan settings.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    tool = data.get("tool")
    leakvault = tool.get("leakvault") if isinstance(tool, dict) else None
    if not isinstance(leakvault, dict) or "vault" not in leakvault:
        return []
    section = leakvault["vault"]
    return sorted(_flat_names(_lower_keys(section))) if isinstance(section, dict) else ["vault"]


def user_config_path(environ: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME/leakvault/config.toml``, default ``~/.config/leakvault/config.toml``.

    `environ` first (it may be a partial mapping, as in tests), then the process environment.
    """
    for source in (environ, os.environ):
        base = source.get("XDG_CONFIG_HOME")
        if base and os.path.isabs(base):
            return Path(base) / "leakvault" / "config.toml"
        home = source.get("HOME")
        if home:
            return Path(home) / ".config" / "leakvault" / "config.toml"
    return Path.home() / ".config" / "leakvault" / "config.toml"


def _check_owned_private(path: Path, info: os.stat_result) -> None:
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        raise ConfigError(
            f"{path}: refusing a config file owned by uid {info.st_uid}, not by you (uid {os.geteuid()}); "
            "trust settings come only from your own files"
        )
    if info.st_mode & 0o022:
        raise ConfigError(
            f"{path}: refusing a config file that others can write (mode {info.st_mode & 0o777:o}); "
            f"run: chmod go-w {path}"
        )


def check_user_file(path: Path, what: str) -> None:
    """ConfigError unless `path` (if it exists) is owned by the user and not group/world-writable:
    for files that name commands or servers (a rotation policy file)."""
    try:
        info = path.stat()
    except OSError:
        return  # reading it reports the problem
    try:
        _check_owned_private(path, info)
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("a config file", f"a {what}")) from None


def user_config_section(path: Path) -> dict[str, Any]:
    """The ``[vault]`` table of the user's config file ({} if there is no file).

    ConfigError (exit 2) if the file is not owned by the user or is group/world-writable: anyone
    who can write it could send the user's token to a server of their choice.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)  # the file actually opened, after any symlink (dotfile managers use them)
        _check_owned_private(path, info)
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read()
    finally:
        os.close(fd)
    try:
        data = tomllib.loads(decode_text(raw, f"config file {path}"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: invalid TOML: {exc}") from None
    section = data.get("vault", {})
    if not isinstance(section, dict):
        raise ConfigError(f"config file {path}: [vault] must be a table")
    section = _lower_keys(section)
    for outer, inner in _SECRET_KEYS:
        if isinstance(section.get(outer), dict) and inner in section[outer]:
            raise ConfigError(
                f"{path}: [vault.{outer}] {inner} must not be stored in a file; "
                f"set {ENV_PREFIX}{outer.upper()}__{inner.upper()} in the environment instead"
            )
    return section


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    # load_settings may run twice in one command (rotate reads policies, then opens the vault).
    if message not in _warned:
        _warned.add(message)
        print(f"leakvault: warning: {message}", file=sys.stderr, flush=True)


def _int(tree: Mapping[str, Any], key: str, default: int, where: str) -> int:
    raw = tree.get(key, default)
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}.{key} must be an integer, got {raw!r}") from None


def _text(tree: Mapping[str, Any], key: str, where: str) -> str | None:
    """A string setting; None when absent or empty. ConfigError for a number, list or table."""
    raw = tree.get(key)
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise ConfigError(f"vault setting {where}{key} must be a string, got {type(raw).__name__}")
    return raw


def _opt_path(tree: Mapping[str, Any], key: str, base: Path, where: str = "") -> Path | None:
    raw = _text(tree, key, where)
    if raw is None:
        return None
    path = Path(os.path.expanduser(raw))
    return path if path.is_absolute() else base / path


@dataclass(frozen=True, slots=True)
class LocalSettings:
    """The local SQLite backend. Key material fields never appear in repr()."""

    path: Path
    master_key: str | None = field(default=None, repr=False)
    passphrase: str | None = field(default=None, repr=False)
    key_file: Path | None = None
    kdf_iterations: int = _crypto.DEFAULT_ITERATIONS
    busy_timeout_ms: int = 10_000


@dataclass(frozen=True, slots=True)
class VaultSettings:
    backend: str = DEFAULT_BACKEND
    identity: str | None = None
    policy_file: Path | None = None
    audit_path: Path | None = None  # audit file for backends without a local vault file
    # The key that chains that audit file, kept apart from it (see leakvault.vault.audit).
    audit_key_file: Path = field(default_factory=lambda: user_config_path(os.environ).parent / "audit.key")
    local: LocalSettings = field(default_factory=lambda: LocalSettings(path=default_vault_path()))
    raw: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), repr=False)
    source: str = "defaults"

    def section(self, name: str) -> Mapping[str, Any]:
        """The raw settings of one section (e.g. ``hashicorp``), lower-case keys, string values."""
        value = self.raw.get(name, {})
        return MappingProxyType(value if isinstance(value, dict) else {})


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    cwd: Path | None = None,
    pyproject: Path | None = None,
    user_config: Path | None = None,
    warn: Callable[[str], None] | None = None,
) -> VaultSettings:
    """Resolve settings: environment over the user's config file over defaults.

    The nearest ``pyproject.toml`` upward from `cwd` (or `pyproject`) is only checked for a
    ``[tool.leakvault.vault]`` table, which is ignored with one warning through `warn` naming each
    setting. `user_config` overrides the location of the user's config file.
    """
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    repository_file = pyproject if pyproject is not None else find_pyproject(cwd)
    if repository_file is not None:
        ignored = repository_trust_settings(repository_file)
        if ignored:
            (warn or _warn_once)(
                f"{repository_file}: ignoring [tool.leakvault.vault] setting(s) {', '.join(ignored)}: vault "
                f"settings come only from {ENV_PREFIX}* variables, options or "
                f"{user_config_path(environ)}, never from a repository"
            )
    file = user_config if user_config is not None else user_config_path(environ)
    base = user_config_section(file)
    tree = merge(base, env_tree(environ))
    # Relative paths in the user's file are relative to that file; in the environment, to the cwd.
    anchor = file.parent if "local" in base else cwd
    local_tree = tree.get("local", {})
    if not isinstance(local_tree, dict):
        raise ConfigError("vault setting 'local' must be a section")
    iterations = _int(local_tree, "kdf_iterations", _crypto.DEFAULT_ITERATIONS, "local")
    if iterations < _crypto.DEFAULT_ITERATIONS:
        raise ConfigError(f"local.kdf_iterations = {iterations} is below the minimum of {_crypto.DEFAULT_ITERATIONS}")
    if iterations > _crypto.MAX_ITERATIONS:
        raise ConfigError(f"local.kdf_iterations = {iterations} is above the maximum of {_crypto.MAX_ITERATIONS}")
    local = LocalSettings(
        path=_opt_path(local_tree, "path", anchor, "local.") or default_vault_path(),
        master_key=local_tree.get("master_key") or None,
        passphrase=local_tree.get("passphrase"),
        key_file=_opt_path(local_tree, "key_file", anchor, "local."),
        kdf_iterations=iterations,
        busy_timeout_ms=_int(local_tree, "busy_timeout_ms", 10_000, "local"),
    )
    backend = (_text(tree, "backend", "") or DEFAULT_BACKEND).lower()
    audit_tree = tree.get("audit", {})
    return VaultSettings(
        backend=backend,
        identity=_text(tree, "identity", ""),
        policy_file=_opt_path(tree, "policy_file", anchor),
        audit_path=_opt_path(audit_tree, "path", anchor, "audit.") if isinstance(audit_tree, dict) else None,
        audit_key_file=(_opt_path(audit_tree, "key_file", anchor, "audit.") if isinstance(audit_tree, dict) else None)
        or file.parent / "audit.key",
        local=local,
        raw=MappingProxyType(tree),
        source=str(file) if base else "environment",
    )
