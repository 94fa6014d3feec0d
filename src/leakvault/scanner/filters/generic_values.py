"""Free-form values assigned to secret-looking names (rules tagged ``generic``): code that is
data, references to secrets kept elsewhere, identifiers and words, digests, public material,
names that hold no secret, and the per-charset entropy thresholds."""

from __future__ import annotations

import math

import regex

from leakvault.scanner.entropy import shannon_entropy
from leakvault.scanner.filters.context import (
    DEFAULT_URL_PASSWORDS,
    FilterContext,
    assigned_name,
    is_assignment,
    is_generic,
    is_quoted,
    name_words,
    text_before,
)

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
