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

import base64
import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import regex

from leakvault.patterns.loader import CompiledRule
from leakvault.scanner.entropy import shannon_entropy
from leakvault.scanner.model import INLINE_ALLOW_MARKERS, Candidate

GENERIC_TAG = "generic"
URL_TAG = "url"
# Generic rules whose secret has a format of its own (a URL password, a JWT): they yield to specific
# rules like every generic rule, but the heuristics for free-form assigned values do not apply.
FORMAT_TAGS = frozenset({URL_TAG, "jwt"})
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

# Default credentials that appear in every tutorial and docker-compose file: a URL whose password
# is one of these, or equals its user name, or a secret-named setting whose whole value is one of
# these, is a local development setting, not a leak.
DEFAULT_URL_PASSWORDS = frozenset(
    """postgres postgresql mysql mariadb mongo mongodb redis rabbitmq guest admin root user pass
    password secret test testing dev development local changeme sa pwd passwd demo default
    example sample airflow keycloak grafana jenkins minio minioadmin elastic kibana""".split()
)
URL_USER_BEFORE_PASSWORD = regex.compile(r"://([^:@/\s'\"`]*):$")
# Hosts reserved for documentation (RFC 2606, RFC 6761): a short or word-like password at one of
# them is a documentation sample.
DOCUMENTATION_HOST = regex.compile(
    r"(?i)^@(?:[\w-]+\.)*(?:example\.(?:com|net|org)|[\w-]+\.(?:example|invalid|test))\b"
)
DOCUMENTATION_PASSWORD_MAX = 8

# Minified or generated code: lines this long are data, not hand-written assignments.
MINIFIED_LINE_CHARS = 1000
MINIFIED_PATH = regex.compile(r"(?i)(?:[.-]min\.(?:js|mjs|css)|\.bundle\.js|\.chunk\.js|\.map)$")
LOCKFILE_NAMES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lock",
        "poetry.lock",
        "pdm.lock",
        "uv.lock",
        "pipfile.lock",
        "cargo.lock",
        "gemfile.lock",
        "composer.lock",
        "go.sum",
        "packages.lock.json",
        "podfile.lock",
        "mix.lock",
        "pubspec.lock",
        "flake.lock",
        "gradle.lockfile",
        "conda-lock.yml",
    }
)
INTEGRITY_VALUE = regex.compile(r"(?i)^(?:sha(?:1|224|256|384|512)|md5|blake2b?)[-:][A-Za-z0-9+/=_-]{16,}$")

# Values encrypted at rest by a tool (SOPS, Ansible Vault, Jasypt, Spring Cloud Config, Vault
# Transit, sealed secrets): ciphertext is safe to commit, the key is elsewhere.
# Password hashes (bcrypt, argon2, scrypt, crypt(3) SHA-512/SHA-256/MD5, Django's pbkdf2): the hash
# of a password is not the password.
PASSWORD_HASH = regex.compile(
    r"^(?:\$(?:2[abxy]?|argon2(?:id|i|d)|scrypt|[156]|pbkdf2[\w-]*)\$|pbkdf2_sha\d+\$|argon2\$)"
)
ENCRYPTED_VALUE = regex.compile(
    r"(?i)^(?:ENC\[|ENC\(|!vault|\$ANSIBLE_VAULT|\{cipher\}|vault:v\d+:|AgA[A-Za-z0-9+/]{100,}|enc:)"
)

# A value that refers to a secret kept elsewhere rather than being one: shell, Make, batch and
# template variables, environment lookups, function calls, and (unquoted) attribute access.
VARIABLE_REFERENCE = regex.compile(
    r"""(?x)
    ^\$[A-Za-z_]\w*$ | \$\{ | \$\( | ^%[\w.]+%$ | ^\#\{ | \{[A-Za-z_][\w.]*\} | \{\d*\}
    | (?i:process\.env|os\.environ|os\.getenv|getenv\(|System\.getenv|ENV\[|ENV\.fetch|env\(|secrets\.|vars\.)
    | ^[A-Za-z_][\w.]*\(.*\)?$
    """
)
ATTRIBUTE_ACCESS = regex.compile(r"^@?[A-Za-z_]\w{0,39}(?:(?:\.|::|->)[A-Za-z_]\w{0,39})+$")

# URLs without credentials, Windows paths, cloud secret-manager names, file names, URNs, host
# names, timestamps, colours, version numbers and values without a letter or digit. Unix-style
# paths are judged by `looks_like_path`: base64 has slashes too.
FILE_PATH_OR_URL = regex.compile(
    r"""(?ix)
    ^[a-z][a-z0-9+.-]*://[^@\s]*$
    | ^[a-z]:\\ | ^\\\\
    | \.(?:pem|key|crt|cer|der|p12|pfx|jks|keystore|json|ya?ml|txt|env|cfg|conf|ini|gpg|asc|pub|kdbx|properties)$
    | ^arn:aws[\w-]*: | ^projects/[\w-]+/secrets/ | ^(?:kv|secret|secrets)/[\w/.-]+$ | ^urn:
    | ^(?:localhost|(?:[a-z0-9-]+\.)+[a-z]{2,12}|\d{1,3}(?:\.\d{1,3}){3})(?::\d{1,5})?$
    | ^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$
    | ^\#(?:[0-9a-f]{3,8}|ansi\w+)$ | ^[^a-z0-9]+$ | ^v?\d+(?:\.\d+){1,3}(?:[-+][\w.]+)?$
    """
)
PATH_SEGMENT = regex.compile(r"^(?:\.?[a-z0-9_-]+(?:\.[a-z0-9_-]+)*|[A-Z][a-z]+|\.{1,2}|~|)$")

CONSTANT_NAME = regex.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
# Words inside a name: acronyms (HTTP in HTTPHeader), Capitalised and lowercase words, numbers.
# A lone capital before a Capitalised word is a word of its own (the I of IAmSensitive).
WORD = regex.compile(r"[A-Z]{2,}(?=[A-Z][a-z]|[^A-Za-z]|$)|[A-Z]?[a-z]+|[A-Z](?=[A-Z][a-z])|[A-Z]+|[0-9]+")
NAME_SEPARATORS = regex.compile(r"[_.\-/:]+")
VOWELS = frozenset("aeiouAEIOU")
# Acronyms that appear inside identifiers (AWSAccessKeyId, HTTPHeaderName); any other run of capitals
# without a vowel is more likely random.
ACRONYMS = frozenset(
    """A I X WWW AD AAD AES API ARN AWS CA CBC CLI CSR CSRF CSV DB DER DNS DSA EC ECDSA FTP GCM GCP GRPC HMAC
    HTML HTTP HTTPS IAM ID IO IP IMAP ISO JSON JWT KMS LDAP MD MFA MS OIDC OS OTP PDF PEM PGP RPC RSA SAML
    SDK SFTP SHA SMTP SQL SSH SSL SSO TCP TFS TLS TOTP UDP UI URI URL UTC UUID WS XML XSRF""".split()
)
# A single word (no digits or symbols) with this share of vowels or more reads as a word; random
# letters have about 0.23.
WORD_VOWEL_SHARE = 0.3

TEST_VALUE = regex.compile(
    r"(?i)^(?:test|testing|fake|mock|dummy|demo|sample|example|foo|bar|not[-_]?(?:a[-_]?)?(?:real|secret|valid))"
)

UUID_VALUE = regex.compile(r"(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
HEX_DIGEST = regex.compile(r"(?i)^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{56}|[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})$")
HASH_CONTEXT = regex.compile(
    r"(?i)hash|digest|checksum|sha\d*\b|sha\d+|md5|fingerprint|etag|integrity|commit|revision|\brev\b|crc"
)

# Public material: SSH public keys, PEM public keys and certificates, and the DER (base64) starts
# of RSA/EC/Ed25519 SubjectPublicKeyInfo and X.509 certificates.
PUBLIC_MATERIAL = regex.compile(
    r"""(?x)
    ^(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-|sk-ssh-|sk-ecdsa-) | ^AAAA[BC]3NzaC1
    | -----BEGIN[ ](?:CERTIFICATE|PUBLIC[ ]KEY|RSA[ ]PUBLIC[ ]KEY|PGP[ ]PUBLIC|X509|TRUSTED)
    | ^MII[A-Za-z0-9+/]IjANBgkqhkiG9w0BAQEFAAOC | ^MIGfMA0GCSqGSIb3DQEBAQUAA4GN
    | ^MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE | ^MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE | ^MCowBQYDK2VwAyEA
    | ^MII[A-Za-z0-9+/]{2,3}CCA[A-Za-z0-9+/]{2,3}gAwIBAgI
    """
)

# The name a generic rule keyed on: the last identifier before the value that contains one of
# the generic rules' keywords.
NAME_TOKEN = regex.compile(r"[A-Za-z_$@][\w.$@-]*")
SECRET_WORD = regex.compile(r"(?i)pass|pwd|secret|token|key|auth|cred")
NAME_WORDS = regex.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
NAME_LOOKBACK_LINES = 3
# Names whose last word says the value is about a secret, not the secret itself.
NON_SECRET_LAST_WORDS = frozenset(
    """name names id ids ref refs arn url uri urls endpoint endpoints path paths file files filename
    dir directory folder type types kind format field fields label prompt placeholder policy length len
    size count max min limit limits regex pattern header headers expiry expires expiration ttl timeout
    version mode provider strategy env var variable class method scope scopes location template hint
    description desc title message msg help text error errors prefix suffix param parameter params
    store manager enabled required valid validator validation schema index column attribute attr option
    options flag setting property hash hashed digest checksum fingerprint sha sha1 sha256 md5 salt
    algorithm algo alg cipher encoding charset mask masked hidden visible reset created updated at date
    time key_name keyname selector input output regexp secretref issuer audience source sources
    namespace lifetime age period interval rotation used last changed rotated redirect spec specs
    requirement requirements policies""".split()
)
# "<kind>_token" names whose tokens are not credentials: paging cursors, idempotency and
# verification tokens, lexer tokens.
NON_CREDENTIAL_TOKEN_KINDS = frozenset(
    """next page pagination continuation sync client creation idempotency verification starting start
    input output cancel request change resume cursor continue marker lexer parser eof csrf update
    last first end sequence copy""".split()
)
# In a name of three or more words ending in "token" (nextSequenceToken, SubjectFromWebIdentityToken),
# only these words before it make the token a credential.
CREDENTIAL_TOKEN_KINDS = frozenset(
    """access auth api bearer refresh id session bot secret private personal deploy oauth app user service
    admin master root security sas pat integration registry github gitlab slack vault npm pypi docker
    cloudflare vercel netlify heroku sentry datadog""".split()
)
# A quoted key with these in it is a label or a type name, not a variable (AWS::IAM::AccessKey).
LABEL_KEY = regex.compile(
    r"""["'][^"'\n]*(?:::|\s|/)[^"'\n]*["'][ \t]*(?:=>|[:=,])[ \t]*(?:[rbuf]{1,2}|@)?\\?["'`]?$"""
)
NON_SECRET_ANY_WORDS = frozenset(
    {"public", "publishable", "pub", "pubkey", "cert", "certificate", "certs", "type", "types", "metric", "metrics"}
)

# Entropy thresholds (bits per character) per character set and length, measured on secret-free
# code (stdlib + site-packages) against random tokens; see docs/entropy-calibration.md and
# benchmarks/calibrate_entropy.py. A value passes when its Shannon entropy is at least
# `ratio * expected entropy of a random string of that charset and length`, and at least `floor`.
ENTROPY_RULES: dict[str, tuple[float, float]] = {
    # charset: (ratio, floor). The ratio is the highest before recall on random values of 16+
    # characters falls more than half a percent below its plateau; the floor is the generic
    # rules' own entropy floor.
    "hex": (0.80, 2.5),
    "alnum": (0.85, 2.5),
    "base64": (0.85, 2.5),
    "other": (0.90, 2.5),
}
CHARSET_SIZES = {"hex": 16, "alnum": 62, "base64": 64, "other": 94}


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


# ---------------------------------------------------------------- helpers


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


def charset_of(value: str) -> str:
    """hex, alnum, base64 (alphanumerics with + / = - _), or other."""
    if all(char in "0123456789abcdefABCDEF" for char in value):
        return "hex"
    if value.isascii() and value.isalnum():
        return "alnum"
    if value.isascii() and all(char.isalnum() or char in "+/=-_" for char in value):
        return "base64"
    return "other"


def expected_random_entropy(length: int, alphabet: int) -> float:
    """The mean Shannon entropy (bits/char) of a uniformly random string of ``length`` characters
    over ``alphabet`` symbols: log2 of the alphabet, less the small-sample bias, and never more than
    log2(length) (a short string cannot show more distinct symbols than it has characters).

    Uses the Miller-Madow bias (k-1)/(2n ln 2), with k the expected number of distinct symbols."""
    distinct = alphabet * (1 - (1 - 1 / alphabet) ** length)
    return min(math.log2(alphabet), math.log2(length)) - (distinct - 1) / (2 * length * math.log(2))


def entropy_threshold(value: str) -> float:
    """The entropy a generic value of this charset and length must reach to be reported."""
    charset = charset_of(value)
    ratio, floor = ENTROPY_RULES[charset]
    return max(floor, ratio * expected_random_entropy(len(value), CHARSET_SIZES[charset]))


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


# ---------------------------------------------------------------- every rule


def inline_allow(context: FilterContext) -> str | None:
    for text in (context.line_text, context.end_line_text):
        if any(marker in text for marker in INLINE_ALLOW_MARKERS):
            return "inline allow comment"
    return None


def rule_allowlist(context: FilterContext) -> str | None:
    rule, secret, path = context.rule, context.candidate.secret, context.candidate.chunk.path
    if any(pattern.search(path) for pattern in rule.allow_paths):
        return "rule path allowlist"
    if any(pattern.search(secret) for pattern in rule.allow_values):
        return "rule value allowlist"
    lowered = secret.lower()
    if any(word in lowered for word in rule.rule.allowlist.stopwords):
        return "rule stopword"
    return None


def global_allowlist(context: FilterContext) -> str | None:
    secret, path = context.candidate.secret, context.candidate.chunk.path
    if any(pattern.search(path) for pattern in context.allow_paths):
        return "config path allowlist"
    if any(pattern.search(secret) for pattern in context.allow_values):
        return "config value allowlist"
    lowered = secret.lower()
    if any(word in lowered for word in context.stopwords):
        return "config stopword"
    return None


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


# ---------------------------------------------------------------- url rules


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


# ---------------------------------------------------------------- generic rules


def default_credential(context: FilterContext) -> str | None:
    """``POSTGRES_PASSWORD: postgres``, ``RABBITMQ_DEFAULT_PASS=guest``: a container image's
    documented default in a local docker-compose or .env file, not a leaked password."""
    if not is_assignment(context):
        return None
    return "default credential" if context.candidate.secret.lower() in DEFAULT_URL_PASSWORDS else None


def minified_line(context: FilterContext) -> str | None:
    if not is_generic(context):
        return None
    if len(context.line_text) > MINIFIED_LINE_CHARS or MINIFIED_PATH.search(context.candidate.chunk.path):
        return "minified or generated line"
    return None


def lockfile(context: FilterContext) -> str | None:
    if not is_assignment(context):
        return None
    if context.candidate.chunk.path.rpartition("/")[2].lower() in LOCKFILE_NAMES:
        return "lockfile"
    return "integrity hash" if INTEGRITY_VALUE.match(context.candidate.secret) else None


def encrypted_value(context: FilterContext) -> str | None:
    if not is_assignment(context):
        return None
    secret = context.candidate.secret
    if PASSWORD_HASH.match(secret):
        return "password hash"
    return "encrypted value" if ENCRYPTED_VALUE.match(secret) else None


def variable_reference(context: FilterContext) -> str | None:
    if not is_generic(context):
        return None
    secret = context.candidate.secret
    if VARIABLE_REFERENCE.search(secret):
        return "variable reference"
    if is_assignment(context) and ATTRIBUTE_ACCESS.match(secret) and not is_quoted(context):
        return "attribute access"
    return None


def looks_like_path(value: str) -> bool:
    """/etc/ssl/private/app.key, ./secrets/db_password, run/secrets/token: two or more slashes
    between segments that read as words. Random base64 has slashes too, but its segments mix
    cases and digits."""
    if value.count("/") < 2 or any(char in value for char in "+="):
        return False
    return all(PATH_SEGMENT.match(segment) for segment in value.split("/"))


def file_path_or_url(context: FilterContext) -> str | None:
    if not is_assignment(context):
        return None
    secret = context.candidate.secret
    return "file path or URL" if FILE_PATH_OR_URL.search(secret) or looks_like_path(secret) else None


def test_value(context: FilterContext) -> str | None:
    if not is_assignment(context):
        return None
    return "test value" if TEST_VALUE.match(context.candidate.secret) else None


def _is_word(word: str) -> bool:
    if word.upper() in ACRONYMS:
        return True
    if word.isupper():
        return len(word) >= 3 and bool(VOWELS & set(word))
    return len(word) >= 2 and (bool(VOWELS & set(word)) or (len(word) >= 4 and "y" in word.lower()))


def reads_as_words(value: str) -> bool:
    """Whether ``value`` is a name made of words: client_credentials, InvalidationList.NextMarker,
    cred-type/jwt, AWSAccessKeyId, HMAC_384 (two or more words, each with a vowel unless it is a
    known acronym, digits only at the end of a part), or a single dictionary-like word
    (doesnotexist). Random tokens fail: their letters and digits interleave into one-letter,
    vowel-less or digit-split "words"."""
    if CONSTANT_NAME.match(value):
        return True
    alpha: list[str] = []
    pieces_seen = 0
    for part in NAME_SEPARATORS.split(value):
        pieces = WORD.findall(part)
        if "".join(pieces) != part:
            return False  # a symbol no name has
        if any(piece.isdigit() for piece in pieces[:-1]) or (pieces and pieces[-1].isdigit() and len(pieces[-1]) > 4):
            return False  # digits inside a part, or a long number
        alpha.extend(piece for piece in pieces if piece.isalpha())
        pieces_seen += len(pieces)
    if len(alpha) == 1:
        word = alpha[0]
        vowel_share = sum(char in VOWELS for char in word) / len(word)
        return pieces_seen == 1 and len(word) >= 6 and vowel_share >= WORD_VOWEL_SHARE
    return len(alpha) >= 2 and all(_is_word(word) for word in alpha)


def identifier_value(context: FilterContext) -> str | None:
    """A value that is itself a name or a word (grant_type = "client_credentials",
    key = "refreshToken", output_token = "DistributionList.NextMarker")."""
    if not is_assignment(context):
        return None
    secret = context.candidate.secret
    # "Description=" is the key of a shorthand argument (--auth Description="..."), not its value.
    if reads_as_words(secret) or (secret.endswith(("=", ":")) and reads_as_words(secret[:-1])):
        return "identifier or word"
    return None


def uuid_value(context: FilterContext) -> str | None:
    if not is_assignment(context):
        return None
    return "UUID" if UUID_VALUE.match(context.candidate.secret) else None


def hash_value(context: FilterContext) -> str | None:
    if not is_assignment(context):
        return None
    if HEX_DIGEST.match(context.candidate.secret) and HASH_CONTEXT.search(context.line_text):
        return "hex digest"
    return None


def public_key_or_certificate(context: FilterContext) -> str | None:
    if not is_assignment(context):
        return None
    return "public key or certificate" if PUBLIC_MATERIAL.search(context.candidate.secret) else None


def non_secret_name(context: FilterContext) -> str | None:
    if not is_assignment(context):
        return None
    if LABEL_KEY.search(text_before(context)):
        return "name is a label"
    name = assigned_name(context)
    if name is None:
        return None
    words = name_words(name)
    if not words:
        return None
    if words[-1] in NON_SECRET_LAST_WORDS or any(word in NON_SECRET_ANY_WORDS for word in words):
        return "name holds no secret"
    if (
        words[-1] in ("token", "tokens")
        and len(words) > 1
        and (words[-2] in NON_CREDENTIAL_TOKEN_KINDS or (len(words) >= 3 and words[-2] not in CREDENTIAL_TOKEN_KINDS))
    ):
        return "token that is no credential"
    return None


def low_entropy_for_charset(context: FilterContext) -> str | None:
    if not is_assignment(context):
        return None
    secret = context.candidate.secret
    return "low entropy for its charset" if shannon_entropy(secret) < entropy_threshold(secret) else None


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
