"""The mapping file ``.leakvault/env.toml``: ``NAME = "vault/path"``, read by ``leakvault run --map``.

New entries are appended to the existing text so a user's comments and order survive; the result
is parsed again before it is written (atomically, like every file ``scan --fix`` writes).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path

from leakvault.errors import ConfigError

MAPPING_RELATIVE = Path(".leakvault") / "env.toml"
HEADER = (
    "# Environment variable -> vault path, written by `leakvault scan --fix --apply`.\n"
    "# Run a program with these secrets: leakvault run --map .leakvault/env.toml -- COMMAND\n"
)


def read_mapping(path: Path) -> dict[str, str]:
    """The mapping's entries; an absent file is an empty mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix or remove it") from None
    bad = [key for key, value in data.items() if not isinstance(value, str)]
    if bad:
        raise ConfigError(f"{path}: {bad[0]} must be a string (a vault path)")
    return {key: str(value) for key, value in data.items()}


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def updated_mapping_text(existing: str | None, entries: Iterable[tuple[str, str]]) -> str:
    """The mapping file's text with ``entries`` added (entries already present are skipped)."""
    text = existing if existing is not None else HEADER
    current = tomllib.loads(text) if text.strip() else {}
    additions = [(name, path) for name, path in entries if current.get(name) != path]
    for name, _ in additions:
        if name in current:
            raise ConfigError(f"{MAPPING_RELATIVE}: {name} already maps to {current[name]!r}; refusing to change it")
    if not additions:
        return text
    if text and not text.endswith("\n"):
        text += "\n"
    text += "".join(f"{name} = {_quote(path)}\n" for name, path in additions)
    tomllib.loads(text)  # must still parse
    return text
