"""The built-in rule set, loaded once and then reused from the on-disk cache.

Parsing and linting the rule files compiles every regex (about half a millisecond each), which is
most of a pre-commit run's budget. The linted result is pickled under a key made of the rule
files' and the loader's bytes, so editing a rule or upgrading leakvault rebuilds it.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from leakvault.patterns import loader
from leakvault.patterns.model import Rule
from leakvault.scanner.engine.disk_cache import content_key, read_entry, write_entry
from leakvault.version import __version__

# The modules whose code decides what a loaded Rule holds.
_SOURCES = ("loader.py", "model.py", "validators.py")


def _key(package_dir: Path) -> str | None:
    parts: list[bytes | str] = [__version__]
    try:
        for name in _SOURCES:
            parts.append((package_dir / name).read_bytes())
        for path in sorted((package_dir / "rules").glob("*.toml")):
            parts.extend((path.name, path.read_bytes()))
    except OSError:
        return None
    return content_key(parts)


def builtin_rules() -> tuple[Rule, ...]:
    """Every built-in rule, linted, as `leakvault.patterns.loader.load_builtin_rules` returns them."""
    package_dir = Path(loader.__file__).parent
    key = _key(package_dir)
    name = f"rules-{key}.pickle"
    if key is not None:
        cached = read_entry(name)
        if cached is not None:
            try:
                rules = pickle.loads(cached)  # noqa: S301 - our own entry, owner-checked, keyed by content
            except Exception:  # a stale or damaged entry is rebuilt, whatever broke it
                rules = None
            if isinstance(rules, tuple) and all(isinstance(rule, Rule) for rule in rules):
                return rules
    rules = loader.load_builtin_rules()
    if key is not None:
        write_entry(name, pickle.dumps(rules, protocol=pickle.HIGHEST_PROTOCOL))
    return rules
