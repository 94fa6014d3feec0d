"""Context handling as a stage: constructs that hide an assignment from the rules are presented
to them again as ordinary one-line assignments, in a view of the chunk.

Families, one module each: commented-out assignments (`comments`), YAML block scalars
(`yaml_blocks`), concatenated string literals (`concat`), credential files parsed by their
structure (`credential_files`). Each decides from the path and a cheap
search whether it has anything to do, so a file without such constructs costs a few searches and
no view. The scanner runs the same rules over the view, places each finding back in the chunk
(`view.View.source_span`) and merges it with the chunk's own findings (`merge_view_findings`).
See docs/contexts.md.
"""

from __future__ import annotations

from collections.abc import Callable

from leakvault.scanner.contexts.comments import add_comments
from leakvault.scanner.contexts.concat import add_concatenations, run_database
from leakvault.scanner.contexts.credential_files import add_pgpass_entries
from leakvault.scanner.contexts.merge import merge_view_findings
from leakvault.scanner.contexts.view import View, ViewBuilder
from leakvault.scanner.contexts.yaml_blocks import add_block_scalars
from leakvault.scanner.model import Chunk

__all__ = ["FAMILIES", "View", "build_view", "merge_view_findings", "prepare"]

FAMILIES: tuple[Callable[[ViewBuilder], None], ...] = (
    add_comments,
    add_block_scalars,
    add_concatenations,
    add_pgpass_entries,
)


def build_view(chunk: Chunk) -> View | None:
    """The normalised view of ``chunk``, or None when no family found a construct in it."""
    if not chunk.data:
        return None
    builder = ViewBuilder(chunk)
    for family in FAMILIES:
        family(builder)
    return builder.view()


def prepare() -> None:
    """Build what the families load lazily (the concatenation test's Hyperscan database) before a
    scan forks its workers, so they inherit it instead of each compiling it."""
    run_database()
