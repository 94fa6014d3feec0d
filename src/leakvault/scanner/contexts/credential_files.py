"""Credential files whose structure, not a name, says which field is the secret.

A ``.pgpass`` line is ``hostname:port:database:username:password`` with ``\\:`` and ``\\\\``
escapes. Nothing on the line names the password, and its only constant, the colon, occurs
everywhere in code, which would make a poor prefilter keyword. The file is parsed here instead:
each entry's password field is presented as ``pgpass password: <value>``, which the
``pgpass-password`` rule reads (the view maps the value back to its place on the line).
"""

from __future__ import annotations

import re

from leakvault.scanner.contexts.view import ViewBuilder

PGPASS_NAMES = (".pgpass", "pgpass.conf")
PGPASS_PREFIX = b"pgpass password: "
# One entry: four fields, each ending in an unescaped colon, then the password to the line's end.
PGPASS_ENTRY = re.compile(
    rb"^[ \t]*(?!\#)(?:[^:\n\\]|\\.)+:(?:\d{1,5}|\*):(?:(?:[^:\n\\]|\\.)+:){2}((?:[^\n\\]|\\.)+?)[ \t]*\r?$",
    re.MULTILINE,
)


def add_pgpass_entries(builder: ViewBuilder) -> None:
    """A view line per .pgpass entry: its password field."""
    if builder.source.path.rpartition("/")[2].lower() not in PGPASS_NAMES:
        return
    for match in PGPASS_ENTRY.finditer(builder.source.data):
        builder.insert(PGPASS_PREFIX)
        builder.copy(*match.span(1))
        builder.end_line()
