"""Credentials in URLs (rules tagged ``url``): defaults, a password equal to the user name, samples
at documentation hosts."""

from __future__ import annotations

import regex

from leakvault.scanner.filters.context import DEFAULT_URL_PASSWORDS, URL_TAG, FilterContext, text_before
from leakvault.scanner.filters.generic_values import reads_as_words

URL_USER_BEFORE_PASSWORD = regex.compile(r"://([^:@/\s'\"`]*):$")
# Hosts reserved for documentation (RFC 2606, RFC 6761): a short or word-like password at one of
# them is a documentation sample.
DOCUMENTATION_HOST = regex.compile(
    r"(?i)^@(?:[\w-]+\.)*(?:example\.(?:com|net|org)|[\w-]+\.(?:example|invalid|test))\b"
)
DOCUMENTATION_PASSWORD_MAX = 8


def text_after(context: FilterContext, limit: int = 200) -> str:
    """Up to ``limit`` characters after the secret, on its line."""
    data, end = context.candidate.chunk.data, context.candidate.end
    line_end = data.find(b"\n", end)
    return data[end : min(end + limit, len(data) if line_end < 0 else line_end)].decode("utf-8", "replace")


def default_url_credential(context: FilterContext) -> str | None:
    if URL_TAG not in context.rule.rule.tags:
        return None
    password = context.candidate.secret
    if password.lower() in DEFAULT_URL_PASSWORDS:
        return "default credential"
    user = URL_USER_BEFORE_PASSWORD.search(text_before(context))
    if user is not None and user[1] == password:
        return "password equals user name"
    if DOCUMENTATION_HOST.match(text_after(context)) and (
        len(password) < DOCUMENTATION_PASSWORD_MAX or reads_as_words(password)
    ):
        return "sample credential at a documentation host"
    return None
