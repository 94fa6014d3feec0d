"""What every filter sees (`FilterContext`) and the helpers several families share: the rule's
scope (generic, assignment), the name a value is assigned to, the text around it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import regex

from leakvault.patterns.loader import CompiledRule
from leakvault.scanner.model import Candidate

GENERIC_TAG = "generic"
URL_TAG = "url"
# Generic rules whose secret has a format of its own (a URL password, a JWT): they yield to specific
# rules like every generic rule, but the heuristics for free-form assigned values do not apply.
FORMAT_TAGS = frozenset({URL_TAG, "jwt"})
# Default credentials that appear in every tutorial and docker-compose file: a URL whose password
# is one of these, or equals its user name, or a secret-named setting whose whole value is one of
# these, is a local development setting, not a leak.
DEFAULT_URL_PASSWORDS = frozenset(
    """postgres postgresql mysql mariadb mongo mongodb redis rabbitmq guest admin root user pass
    password secret test testing dev development local changeme sa pwd passwd demo default
    example sample airflow keycloak grafana jenkins minio minioadmin elastic kibana""".split()
)
# The name a generic rule keyed on: the last identifier before the value that contains one of
# the generic rules' keywords.
NAME_TOKEN = regex.compile(r"[A-Za-z_$@][\w.$@-]*")
SECRET_WORD = regex.compile(r"(?i)pass|pwd|secret|token|key|auth|cred")
NAME_WORDS = regex.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
NAME_LOOKBACK_LINES = 3


@dataclass(frozen=True, slots=True)
class FilterContext:
    """What a filter may look at: the candidate, its rule, the line it is on, the global allowlist."""

    candidate: Candidate
    rule: CompiledRule
    line_text: str  # the line the secret starts on (no line terminator)
    end_line_text: str  # the line the whole match ends on (differs for multi-line secrets)
    allow_paths: Sequence[regex.Pattern[str]]
    allow_values: Sequence[regex.Pattern[str]]
    stopwords: Sequence[str]


def is_generic(context: FilterContext) -> bool:
    return GENERIC_TAG in context.rule.rule.tags


def is_assignment(context: FilterContext) -> bool:
    """A generic rule whose secret is a free-form value assigned to a name (not a URL password or a JWT)."""
    tags = context.rule.rule.tags
    return GENERIC_TAG in tags and FORMAT_TAGS.isdisjoint(tags)


def text_before(context: FilterContext) -> str:
    """The text on the secret's line before the secret."""
    data, start = context.candidate.chunk.data, context.candidate.start
    line_start = data.rfind(b"\n", 0, start) + 1
    return data[line_start:start].decode("utf-8", "replace")


def is_quoted(context: FilterContext) -> bool:
    """Whether the value sits right after a quote (a string literal, not an expression)."""
    before = text_before(context)
    return before.endswith(("'", '"', "`"))


def assigned_name(context: FilterContext) -> str | None:
    """The secret-looking name the value is assigned to: on the same line before the value, else
    on one of the few lines above (Kubernetes name/value pairs, Terraform variable blocks)."""
    data, start = context.candidate.chunk.data, context.candidate.start
    end = start
    for _ in range(NAME_LOOKBACK_LINES + 1):
        line_start = data.rfind(b"\n", 0, end) + 1
        text = data[line_start:end].decode("utf-8", "replace")
        names = [name for name in NAME_TOKEN.findall(text) if SECRET_WORD.search(name)]
        if names:
            return str(names[-1]).strip(".-$@")
        if line_start == 0:
            return None
        end = line_start - 1
    return None


def name_words(name: str) -> list[str]:
    """``dbPassword_hash`` -> ["db", "password", "hash"]."""
    return [word.lower() for word in NAME_WORDS.findall(name)]
