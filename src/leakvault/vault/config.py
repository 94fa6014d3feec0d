"""Vault settings: ``MAHAVISHNU_SECRETS__*`` environment variables over ``[tool.leakvault.vault]``.

Nesting uses ``__``: ``MAHAVISHNU_SECRETS__LOCAL__PATH=/x`` is ``{"local": {"path": "/x"}}``, the
same as ``[tool.leakvault.vault.local] path = "/x"`` in pyproject.toml. Keys are case-insensitive
and stored lower-case. Environment values are strings; the typed accessors convert them.

Backends other than ``local`` read their own section through `VaultSettings.section` (for example
``hashicorp``), so adding one needs no change here beyond documenting its keys.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
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


def pyproject_section(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read [tool.leakvault.vault]: {exc}") from None
    section = data.get("tool", {}).get("leakvault", {}).get("vault", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [tool.leakvault.vault] must be a table")
    section = _lower_keys(section)
    for outer, inner in _SECRET_KEYS:
        if isinstance(section.get(outer), dict) and inner in section[outer]:
            raise ConfigError(
                f"{path}: [tool.leakvault.vault.{outer}] {inner} must not be stored in a file; "
                f"set {ENV_PREFIX}{outer.upper()}__{inner.upper()} in the environment instead"
            )
    return section


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
) -> VaultSettings:
    """Resolve settings: environment over pyproject.toml (found upward from `cwd`) over defaults."""
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    file = pyproject if pyproject is not None else find_pyproject(cwd)
    base = pyproject_section(file) if file is not None else {}
    tree = merge(base, env_tree(environ))
    # Relative paths in pyproject are relative to that file; in the environment, to the cwd.
    anchor = file.parent if file is not None and "local" in base else cwd
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
        local=local,
        raw=MappingProxyType(tree),
        source=str(file) if file is not None else "environment",
    )
