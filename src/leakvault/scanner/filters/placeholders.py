"""Values that stand for a secret rather than being one, for every rule: templating and fillers,
values that name themselves, keys published in documentation, repeated or sequential runs."""

from __future__ import annotations

import base64
import hashlib

import regex

from leakvault.scanner.filters.context import URL_TAG, FilterContext, is_assignment, is_generic

BASE64_TAG = "base64"  # the rule's secret is base64 of the real value
BUILTIN_SOURCE = "rules/"  # Rule.source of the rules shipped in leakvault/patterns/rules
# Values that stand for a secret rather than being one: templating, variable references,
# obvious fillers and stock passwords. Anchored where a partial hit would drop real secrets;
# the unanchored parts cannot occur in a random token.
PLACEHOLDER = regex.compile(
    r"""(?ix)
    \$\{[^}]*\} | ^\$\([^)]*\)$ | \{\{[^}]*\}\} | \{%[^%]*%\} | <%=? | \#\{[^}]*\}
    | ^<[^<>]*>$ | <[a-z][\w .-]*> | ^%\(?[a-z_]+\)?s$ | %\([a-z_]+\)[sdr] | ^%[sdrv]$
    | ^\$[a-z_][a-z0-9_]*$ | ^%[a-z_][a-z0-9_]*%$ | ^\{[a-z_][a-z0-9_.]*\}$ | ^@[\w.]+@$ | ^__[\w]+__$
    | ^[x*.#_\-]{4,}$ | x{6,} | \*{4,} | \.{3} | …
    | ^\[[a-z][a-z_-]*\]$
    | changeme | change[_-]me | replace[_-]?me | your[_-]?(?:own[_-]?)?(?:api[_-]?)?(?:key|token|secret|pass)
    | ^your[_-] | placeholder | redacted | dummy | insert[_-]?(?:your|key|token|here) | example | sample | anonymous
    | ^(?:[a-z]+[_-])*(?:secret|password|passwd|token|key|apikey|pass|pwd|credential)s?(?:[_-][a-z]+)*$
    | ^(?:password|passwd|secret|token|none|null|nil|undefined|true|false|empty|default|string|value
         |pass|pwd|test|testing|admin|root|guest|foo|bar|foobar|baz|qwerty|letmein|hunter2
         |123456|12345678|123456789|1234567890|abc123|abcdef|secret123|password1|password123
         |p@ssw0rd|passw0rd|p@ssword|mysecret|mypassword|mysecretpassword|s3cr3t|topsecret|supersecret)$
    """
)
# A value that names what it stands for ("mynewpassword", "SomeKindOfPassword123!", "token123",
# "ABCSECRETKEY", "bandpass") is a sample or a label; random secrets do not spell these words.
SELF_NAMED = regex.compile(r"(?i)pass|secret|token|api[_-]?key|credential")
# Leetspeak spellings of those words (P@55w0rd!, s3cr3t) name themselves just the same.
LEET = str.maketrans("0134579@$!|", "oieastgasil")
# SHA-256 digests of keys published in providers' documentation and tutorials, so they are
# recognised without this repository holding them (push protection would rightly object).
# Each entry names where the key is published.
DOCUMENTED_EXAMPLE_DIGESTS = frozenset(
    {
        "2cafc0970149a84f3b9e62eaf169f36f59907a3b3e31f7b82e68c69cd27f7326",  # Stripe API reference test key
        "f2d6ca16515033e5dce14eba840b979d27b5cbae24bb3e5bf484339667f86397",  # Stripe docs test key (older)
        "7e8de44ea9ecf6d53415c90f5b249a8591f7abafbf7d65a2c0d855afeca3ec09",  # Stripe docs test key (older)
        "78a08441f4314f0a2833cfe58c62e555a162264206982cda39f6804f5048f570",  # Stripe docs key, live-prefixed copy
        "0011cc25eb4320717494d2703e8cba85743e71b500283c21c8b88147992f9059",  # Azurite / storage emulator key
        "7f75367e7881255134e1375e723d1dea8ad5f6a4fdb79d938df1f1754a830606",  # jwt.io debugger sample token
        "2ddc147f3a3b5a1722b8ed6be3c45c49a7156b17fca5d11410137a6d04def6eb",  # Slack API docs bot token
        "9c846fdf0fa8955c377d0301542ee20ecd4585c5f359aa0a4cf15d44424f573d",  # Mailgun docs API key
        "1a5d44a2dca19669d72edf4c4f1c27c4c1ca4b4408fbb17f6ce4ad452d78ddb3",  # AWS IAM docs access key id
        "78314b11be2e581549ac1c4f616563fad3fdf0c3b71678f6e2299182080e0598",  # AWS IAM docs secret key
        "3543c50b0cb9cea8e55eb1f529b79f043cb250d485fde7b66cabbb5183add7da",  # GitHub docs sample PAT
        "ac9265e56c79b234607ec72c53753cfea9f88c99eb713790ddf9be5593bb4465",  # Google Maps docs sample API key
        "0b5dd075ccdd03c42f4edda8e299e6838e2a75d3486a2a8d86940ed1541e9178",  # Telegram Bot API docs token
    }
)
# Repeated or sequential filler: "aaaa", "1234", "abcd", "dcba" runs of this length or more.
RUN_LENGTH = 4
FILLER_FRACTION = 0.5


def _filler_fraction(value: str) -> float:
    """The share of characters in runs of RUN_LENGTH+ repeated or consecutive characters (ignoring
    case: "abCDeF" is a run)."""
    value = value.lower()
    if len(value) < RUN_LENGTH:
        return 0.0
    covered = [False] * len(value)
    run_start, step = 0, None
    for index in range(1, len(value) + 1):
        delta = ord(value[index]) - ord(value[index - 1]) if index < len(value) else None
        if delta is not None and delta in (-1, 0, 1) and (step is None or delta == step):
            step = delta
            continue
        if index - run_start >= RUN_LENGTH:
            covered[run_start:index] = [True] * (index - run_start)
        run_start = index - 1 if delta in (-1, 0, 1) else index
        step = delta if delta in (-1, 0, 1) else None
    return sum(covered) / len(value)


def placeholder(context: FilterContext) -> str | None:
    return "placeholder" if PLACEHOLDER.search(context.candidate.secret) else None


def decoded_placeholder(context: FilterContext) -> str | None:
    """Base64 of a placeholder (``cGFzc3dvcmQ=``) is a placeholder: for rules whose secret is base64
    of the value (Kubernetes Secret data) and for generic values that happen to be base64 text
    (the same Secret line also matches the generic config rule)."""
    if BASE64_TAG not in context.rule.rule.tags and not is_assignment(context):
        return None
    try:
        decoded = base64.b64decode(context.candidate.secret, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    if PLACEHOLDER.search(decoded.strip()) or SELF_NAMED.search(decoded):
        return "base64 of a placeholder"
    return None


def self_named_value(context: FilterContext) -> str | None:
    # Not for provider formats: some spell these words themselves (AGE-SECRET-KEY-1, sb_secret_,
    # access_token$production$).
    if not (is_assignment(context) or URL_TAG in context.rule.rule.tags):
        return None
    secret = context.candidate.secret
    return "value names itself" if SELF_NAMED.search(secret) or SELF_NAMED.search(secret.translate(LEET)) else None


def documented_example(context: FilterContext) -> str | None:
    digest = hashlib.sha256(context.candidate.secret.encode("utf-8")).hexdigest()
    return "documented example key" if digest in DOCUMENTED_EXAMPLE_DIGESTS else None


def repeated_or_sequential(context: FilterContext) -> str | None:
    # Not for rules from a user's config: they say exactly what the user wants found.
    if not (is_generic(context) or context.rule.rule.source.startswith(BUILTIN_SOURCE)):
        return None
    return "repeated or sequential filler" if _filler_fraction(context.candidate.secret) >= FILLER_FRACTION else None
