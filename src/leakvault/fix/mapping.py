"""The mapping file ``.leakvault/env.toml``: ``NAME = "vault/path"``, read by ``leakvault run --map``.

New entries go into the existing text (before the first table, so an ``[env]`` or ``[files]``
table a user added keeps its own keys) so comments and order survive; the result is parsed again
before it is written (atomically, like every file ``scan --fix`` writes). Each line we write
carries ``# leakvault:allow``: a vault path assigned to a name like ``API_TOKEN`` looks like a
secret to the generic rules, and a scan after the fix should report nothing here.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from pathlib import Path

from leakvault.errors import ConfigError

MAPPING_RELATIVE = Path(".leakvault") / "env.toml"
ALLOW_MARKER = "  # leakvault:allow (a vault path, not a secret)"
HEADER = (
    "# Environment variable -> vault path, written by `leakvault scan --fix --apply`.\n"
    "# Run a program with these secrets: leakvault run --map .leakvault/env.toml -- COMMAND\n"
)
_TABLE_HEADER = re.compile(r"^[ \t]*\[", re.MULTILINE)


def _entries(data: dict[str, object], source: Path) -> dict[str, str]:
    """Environment entries: top-level strings and the ``[env]`` table (``[files]`` is for mounts)."""
    entries: dict[str, str] = {}
    for key, value in data.items():
        if key == "env" and isinstance(value, dict):
            entries.update({str(k): str(v) for k, v in value.items() if isinstance(v, str)})
        elif isinstance(value, str):
            entries[key] = value
        elif not (key == "files" and isinstance(value, dict)):
            raise ConfigError(f"{source}: {key} must be a string (a vault path)")
    return entries


def read_mapping(path: Path) -> dict[str, str]:
    """The mapping's environment entries; an absent file is an empty mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text (invalid byte at offset {exc.start}); fix or remove it") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix or remove it") from None
    return _entries(data, path)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def updated_mapping_text(
    existing: str | None, entries: Iterable[tuple[str, str]], source: Path = MAPPING_RELATIVE
) -> str:
    """The mapping file's text with ``entries`` added (entries already present are skipped)."""
    text = existing if existing is not None else HEADER
    current = _entries(tomllib.loads(text), source) if text.strip() else {}
    additions = [(name, path) for name, path in entries if current.get(name) != path]
    for name, _ in additions:
        if name in current:
            raise ConfigError(f"{source}: {name} already maps to {current[name]!r}; refusing to change it")
    if not additions:
        return text
    lines = "".join(f"{name} = {_quote(path)}{ALLOW_MARKER}\n" for name, path in additions)
    table = _TABLE_HEADER.search(text)
    if table is not None:
        head = text[: table.start()].rstrip("\n")
        updated = (head + "\n" if head else "") + lines + "\n" + text[table.start() :]
    else:
        updated = (text if not text or text.endswith("\n") else text + "\n") + lines
    if _entries(tomllib.loads(updated), source) != {**current, **dict(additions)}:
        raise ConfigError(f"{source}: could not add entries without changing existing ones; edit it by hand")
    return updated
