"""False-positive filters: each a small predicate that says why a candidate is not a finding.

A filter returns a short reason string when it drops the candidate and None when it lets it
through; the reasons are there for debugging and tests, never shown with the secret.

Three scopes, cheapest filters first within each:

- every rule: inline allow markers, rule and config allowlists, placeholders, documented example
  keys, and (for built-in rules) repeated or sequential filler;
- rules tagged ``url`` (database URLs, basic auth): a password equal to the user name, a
  well-known default (postgres:postgres, guest:guest), a sample at a documentation host
  (example.com), or one that names itself ("mysecretpassword");
- rules tagged ``generic`` (a value assigned to a secret-looking name): minified lines, lockfiles,
  encrypted values, variable references and templating, paths and URLs, test values, values that
  name themselves, identifiers and words, UUIDs, digests, public keys and certificates, names that
  hold no secret (or quoted labels such as AWS::IAM::AccessKey), and the per-charset
  entropy thresholds measured in docs/entropy-calibration.md. A specific rule never sees these:
  a Heroku API key is a UUID and is still a secret. Generic rules whose secret has a format of its
  own (tagged ``url`` or ``jwt``) get only minified-line and variable-reference checks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from leakvault.scanner.entropy import shannon_entropy
from leakvault.scanner.filters.allowlists import global_allowlist, inline_allow, rule_allowlist
from leakvault.scanner.filters.context import (
    DEFAULT_URL_PASSWORDS,
    FORMAT_TAGS,
    GENERIC_TAG,
    NAME_LOOKBACK_LINES,
    NAME_TOKEN,
    NAME_WORDS,
    SECRET_WORD,
    URL_TAG,
    FilterContext,
    assigned_name,
    is_assignment,
    is_generic,
    is_quoted,
    name_words,
    text_before,
)
from leakvault.scanner.filters.generic_values import (
    ACRONYMS,
    ATTRIBUTE_ACCESS,
    CHARSET_SIZES,
    CONSTANT_NAME,
    CREDENTIAL_TOKEN_KINDS,
    ENCRYPTED_VALUE,
    ENTROPY_RULES,
    FILE_PATH_OR_URL,
    HASH_CONTEXT,
    HEX_DIGEST,
    INTEGRITY_VALUE,
    LABEL_KEY,
    LOCKFILE_NAMES,
    MINIFIED_LINE_CHARS,
    MINIFIED_PATH,
    NAME_SEPARATORS,
    NON_CREDENTIAL_TOKEN_KINDS,
    NON_SECRET_ANY_WORDS,
    NON_SECRET_LAST_WORDS,
    PASSWORD_HASH,
    PATH_SEGMENT,
    PUBLIC_MATERIAL,
    TEST_VALUE,
    UUID_VALUE,
    VARIABLE_REFERENCE,
    VOWELS,
    WORD,
    WORD_VOWEL_SHARE,
    _is_word,
    charset_of,
    default_credential,
    encrypted_value,
    entropy_threshold,
    expected_random_entropy,
    file_path_or_url,
    hash_value,
    identifier_value,
    lockfile,
    looks_like_path,
    low_entropy_for_charset,
    minified_line,
    non_secret_name,
    public_key_or_certificate,
    reads_as_words,
    test_value,
    uuid_value,
    variable_reference,
)
from leakvault.scanner.filters.placeholders import (
    BASE64_TAG,
    BUILTIN_SOURCE,
    DOCUMENTED_EXAMPLE_DIGESTS,
    FILLER_FRACTION,
    LEET,
    PLACEHOLDER,
    RUN_LENGTH,
    SELF_NAMED,
    _filler_fraction,
    decoded_placeholder,
    documented_example,
    placeholder,
    repeated_or_sequential,
    self_named_value,
)
from leakvault.scanner.filters.urls import (
    DOCUMENTATION_HOST,
    DOCUMENTATION_PASSWORD_MAX,
    URL_USER_BEFORE_PASSWORD,
    default_url_credential,
    text_after,
)

# Every filter and constant, as before the split into families (tests and benchmarks use them).
__all__ = [
    "ACRONYMS",
    "ATTRIBUTE_ACCESS",
    "BASE64_TAG",
    "BUILTIN_SOURCE",
    "CHARSET_SIZES",
    "CONSTANT_NAME",
    "CREDENTIAL_TOKEN_KINDS",
    "DEFAULT_FILTERS",
    "DEFAULT_URL_PASSWORDS",
    "DOCUMENTATION_HOST",
    "DOCUMENTATION_PASSWORD_MAX",
    "DOCUMENTED_EXAMPLE_DIGESTS",
    "ENCRYPTED_VALUE",
    "ENTROPY_RULES",
    "FILE_PATH_OR_URL",
    "FILLER_FRACTION",
    "FORMAT_TAGS",
    "GENERIC_TAG",
    "HASH_CONTEXT",
    "HEX_DIGEST",
    "INTEGRITY_VALUE",
    "LABEL_KEY",
    "LEET",
    "LOCKFILE_NAMES",
    "MINIFIED_LINE_CHARS",
    "MINIFIED_PATH",
    "NAME_LOOKBACK_LINES",
    "NAME_SEPARATORS",
    "NAME_TOKEN",
    "NAME_WORDS",
    "NON_CREDENTIAL_TOKEN_KINDS",
    "NON_SECRET_ANY_WORDS",
    "NON_SECRET_LAST_WORDS",
    "PASSWORD_HASH",
    "PATH_SEGMENT",
    "PLACEHOLDER",
    "PUBLIC_MATERIAL",
    "RUN_LENGTH",
    "SECRET_WORD",
    "SELF_NAMED",
    "TEST_VALUE",
    "URL_TAG",
    "URL_USER_BEFORE_PASSWORD",
    "UUID_VALUE",
    "VARIABLE_REFERENCE",
    "VOWELS",
    "WORD",
    "WORD_VOWEL_SHARE",
    "Filter",
    "FilterContext",
    "_filler_fraction",
    "_is_word",
    "assigned_name",
    "charset_of",
    "decoded_placeholder",
    "default_credential",
    "default_url_credential",
    "documented_example",
    "drop_reason",
    "encrypted_value",
    "entropy_threshold",
    "expected_random_entropy",
    "file_path_or_url",
    "global_allowlist",
    "hash_value",
    "identifier_value",
    "inline_allow",
    "is_assignment",
    "is_generic",
    "is_quoted",
    "lockfile",
    "looks_like_path",
    "low_entropy_for_charset",
    "minified_line",
    "name_words",
    "non_secret_name",
    "placeholder",
    "public_key_or_certificate",
    "reads_as_words",
    "repeated_or_sequential",
    "rule_allowlist",
    "self_named_value",
    "shannon_entropy",
    "test_value",
    "text_after",
    "text_before",
    "uuid_value",
    "variable_reference",
]

Filter = Callable[[FilterContext], "str | None"]
# Cheapest and most decisive first; scoped filters return None at once outside their scope.
DEFAULT_FILTERS: tuple[Filter, ...] = (
    inline_allow,
    rule_allowlist,
    global_allowlist,
    placeholder,
    self_named_value,
    documented_example,
    decoded_placeholder,
    minified_line,
    lockfile,
    encrypted_value,
    variable_reference,
    file_path_or_url,
    test_value,
    uuid_value,
    hash_value,
    public_key_or_certificate,
    identifier_value,
    repeated_or_sequential,
    default_url_credential,
    default_credential,
    non_secret_name,
    low_entropy_for_charset,
)


def drop_reason(context: FilterContext, filters: Sequence[Filter] = DEFAULT_FILTERS) -> str | None:
    """The first reason to drop the candidate, or None to keep it."""
    for check in filters:
        reason = check(context)
        if reason is not None:
            return reason
    return None
