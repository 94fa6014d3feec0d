"""The plain data of a fix: where a literal sits, what replaces it, and the plan as a whole.

finding -> `Target` (a rewriter located the literal) -> `SiteFix` (named, placed in the vault) ->
`FileFix` (a whole rewritten file that parsed again) -> `FixPlan`. Every field that holds a secret,
or file text that may hold one, is left out of ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Target:
    """Where a rewriter will put a reference: replace ``text[start:end]`` with ``render(name)``.

    ``form`` tells the rewriter which reference to render (for example a whole Python literal
    becomes ``os.environ["NAME"]``, part of one a concatenation); ``head`` and ``tail`` are source
    text kept around the reference. ``key`` is the variable or key the literal is assigned to, the
    source of the environment variable's name; ``name_required`` means that name is already the
    variable's name at run time (a ``.env`` key, a Dockerfile ``ENV``) and may not be changed.
    """

    start: int
    end: int
    form: str
    key: str | None
    value: str = field(repr=False)  # what the vault stores (usually the secret itself)
    head: str = field(default="", repr=False)
    tail: str = field(default="", repr=False)
    name_required: bool = False
    note: str = ""  # shown in the plan, e.g. "pass it at run time: docker run -e NAME"


@dataclass(frozen=True, slots=True)
class SiteFix:
    """One finding the plan fixes."""

    path: str
    line: int
    rule_id: str
    name: str  # environment variable
    vault_path: str
    language: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Refusal:
    """A finding (or a whole file, ``line == 0``) the plan leaves alone, and why."""

    path: str
    line: int
    rule_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class FileFix:
    """A file to rewrite: its text before and after, both checked by the language's parser."""

    path: str  # as reported
    absolute: Path
    language: str
    original: str = field(repr=False)
    rewritten: str = field(repr=False)
    sites: tuple[SiteFix, ...] = ()
    checked_by: str = ""  # which parser confirmed the result ("" when none exists)


@dataclass(frozen=True, slots=True)
class PlannedSecret:
    """A value to store once, however many sites use it."""

    name: str
    vault_path: str
    value: str = field(repr=False)
    paths: tuple[str, ...] = ()  # the files that reference it
    reused: bool = False  # already in the vault and the mapping from an earlier run


@dataclass(frozen=True, slots=True)
class FixPlan:
    """Everything ``scan --fix`` would do; ``--apply`` carries it out."""

    root: Path  # where the mapping file lives (the repository top level)
    mapping_file: Path
    files: tuple[FileFix, ...]
    secrets: tuple[PlannedSecret, ...]
    refusals: tuple[Refusal, ...]
    mapping: tuple[tuple[str, str], ...]  # (NAME, vault path) entries the mapping file gains

    @property
    def is_empty(self) -> bool:
        return not self.files and not self.mapping

    def all_secret_values(self) -> list[str]:
        """Every value the plan handles, for redacting output."""
        return [secret.value for secret in self.secrets]
