"""Commented-out assignments: ``# secret_key_base: ...``, ``; password = ...``, ``REM set PW=...``,
``<!-- password: ... -->``, ``-- password = ...``, ``// apiKey = ...``.

A value someone commented out is as leaked as a live one, but rules written for configuration
lines start at the line's beginning (``^[ \\t]*NAME=``) and do not see past a comment marker. In
the files those rules read (configuration, environment, shell, SQL and batch files), each comment
line whose text names a secret is presented again without its marker (and without an XML
comment's closing ``-->``). Code files are left out: the rules for quoted literals in code match
inside comments already.
"""

from __future__ import annotations

import re

from leakvault.scanner.contexts.view import ViewBuilder

# The configuration files line-anchored rules read, and scripts whose comments hold assignments.
COMMENT_SUFFIXES = (
    ".env", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".cnf", ".properties", ".props",
    ".tfvars", ".config", ".xml", ".sql", ".sh", ".bash", ".zsh", ".ksh", ".bat", ".cmd", ".ps1",
    ".envrc", ".npmrc", ".pypirc", ".yarnrc", ".gemrc", ".s3cfg", ".boto",
)  # fmt: skip
COMMENT_NAMES = frozenset({".env", "credentials", "config", "dockerfile", "containerfile", "procfile", "makefile"})

# A comment line: indentation, a marker, the commented text (up to an XML comment's end).
COMMENT_LINE = re.compile(
    rb"^[ \t]*(?:\#+|//+|--+|;+|<!--|(?i:rem|::)(?=[ \t]))[ \t]*([^\n]*?)[ \t]*(?:-->[ \t]*)?\r?$",
    re.MULTILINE,
)
# Cheap test of the commented text: it names a secret and assigns something.
SECRET_NAMED = re.compile(rb"(?i)(?:pass|pwd|secret|token|key|auth|cred)[^\n]*?[:=]")


def is_comment_path(path: str) -> bool:
    name = path.rpartition("/")[2].lower()
    return name in COMMENT_NAMES or name.startswith(".env") or name.endswith(COMMENT_SUFFIXES)


def add_comments(builder: ViewBuilder) -> None:
    """A view line per commented-out line that names and assigns a secret."""
    if not is_comment_path(builder.source.path):
        return
    data = builder.source.data
    for match in COMMENT_LINE.finditer(data):
        start, end = match.span(1)
        if end > start and SECRET_NAMED.search(data, start, end):
            builder.copy(start, end)
            builder.end_line()
