"""Each false-positive filter drops what it is for and keeps a real-looking secret next to it.

Candidates come from the real rules through the real engine (only the filters are called one by
one); every secret is generated at test time.
"""

from __future__ import annotations

import base64
import random
import string

import pytest
import regex

from leakvault.patterns.loader import compile_rule, load_builtin_rules, parse_rule
from leakvault.patterns.model import Rule
from leakvault.scanner import filters
from leakvault.scanner.chunk_scanner import ChunkResult, Scanner
from leakvault.scanner.config import ScanConfig
from leakvault.scanner.filters import FilterContext
from leakvault.scanner.model import Chunk

RULES = {rule.id: rule for rule in load_builtin_rules()}
ALNUM = string.ascii_letters + string.digits


def token(rng: random.Random, length: int = 24, alphabet: str = ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def contexts(rule: str | Rule, text: str, path: str = "app.py", **allow: tuple[str, ...]) -> list[FilterContext]:
    """The filter contexts of every candidate ``rule`` finds in ``text`` (before filters)."""
    rule = RULES[rule] if isinstance(rule, str) else rule
    chunk = Chunk(path=path, data=text.encode("utf-8"))
    found = []
    for candidate in Scanner([rule], ScanConfig(), engine="regex").candidates(chunk, ChunkResult()):
        line_start = chunk.data.rfind(b"\n", 0, candidate.start) + 1
        line_end = chunk.data.find(b"\n", candidate.start)
        line = chunk.data[line_start : None if line_end < 0 else line_end].decode()
        found.append(
            FilterContext(
                candidate,
                compile_rule(rule),
                line,
                line,
                tuple(regex.compile(p) for p in allow.get("paths", ())),
                tuple(regex.compile(p) for p in allow.get("values", ())),
                allow.get("stopwords", ()),
            )
        )
    return found


def one(rule: str | Rule, text: str, path: str = "app.py", **allow: tuple[str, ...]) -> FilterContext:
    found = contexts(rule, text, path, **allow)
    assert len(found) == 1, f"expected one candidate in {text!r}, got {len(found)}"
    return found[0]


# ---------------------------------------------------------------- every rule


def test_inline_allow(rng: random.Random) -> None:
    """An inline leakvault:allow / gitleaks:allow / pragma marker drops the line's secret."""
    secret = token(rng, 32)
    assert filters.inline_allow(one("generic-secret-assignment", f'api_key = "{secret}"  # leakvault:allow'))
    assert filters.inline_allow(one("generic-secret-assignment", f'api_key = "{secret}"  # pragma: allowlist secret'))
    assert filters.inline_allow(one("generic-secret-assignment", f'api_key = "{secret}"')) is None


def test_rule_allowlist(rng: random.Random) -> None:
    """A rule's own path, value and stopword allowlists drop matching candidates only."""
    rule = parse_rule(
        {
            "id": "acme-key",
            "regex": r"\b(acme_[a-z0-9]{32})\b",
            "keywords": ["acme_"],
            "allowlist": {"paths": [r"^fixtures/"], "values": ["^acme_0"], "stopwords": ["zzz"]},
        },
        "cfg",
        require_examples=False,
    )
    secret = "acme_" + token(rng, 32, string.ascii_lowercase[:20] + "123456789")
    assert filters.rule_allowlist(one(rule, f"k = {secret}", path="fixtures/a.py"))
    assert filters.rule_allowlist(one(rule, "k = acme_0" + secret[6:]))
    assert filters.rule_allowlist(one(rule, f"k = {secret[:-3]}zzz"))
    assert filters.rule_allowlist(one(rule, f"k = {secret}")) is None


def test_global_allowlist(rng: random.Random) -> None:
    """The config's allowlist paths, values and stopwords drop matching candidates."""
    secret = token(rng, 32)
    text = f'api_key = "{secret}"'
    assert filters.global_allowlist(one("generic-secret-assignment", text, path="docs/a.md", paths=("^docs/",)))
    assert filters.global_allowlist(one("generic-secret-assignment", text, values=(f"^{secret[:5]}",)))
    assert filters.global_allowlist(one("generic-secret-assignment", text)) is None


@pytest.mark.parametrize(
    "value",
    [
        "${DB_PASSWORD}",
        "prefix-${ENV}-suffix",
        "{{ .Values.token }}",
        "<your-token>",
        "%(password)s",
        "$DB_PASSWORD",
        "%DB_PASSWORD%",
        "{api_token}",
        "@DB_PASSWORD@",
        "__DB_PASSWORD__",
        "xxxxxxxxxxxx",
        "************",
        "changeme-now",
        "your-api-key-here",
        "REPLACE_ME_PLEASE",
        "my-secret-password",
        "sk_xxxx...",
        "mysecretpassword",
        "<%= ENV['TOKEN'] %>",
        "#{token_from_env}",
        "[FILTERED]",
        "[masked]",
    ],
)
def test_placeholder_drops_templating_and_fillers(value: str) -> None:
    """Templating, variable references and filler values are placeholders."""
    contexts_found = contexts("generic-secret-assignment", f'api_key = "{value}"')
    assert all(filters.placeholder(context) for context in contexts_found)


def test_placeholder_keeps_random_values(rng: random.Random) -> None:
    """A random value is not a placeholder."""
    assert filters.placeholder(one("generic-secret-assignment", f'api_key = "{token(rng, 32)}"')) is None


def test_documented_example_key() -> None:
    """The test key printed throughout Stripe's API reference is a published example, not a leak."""
    documented = "sk_test_" + "4eC39HqLyjWDarjtT1zdp7dc"
    context = one("stripe-test-secret-key", f"stripe.api_key = '{documented}'")
    assert filters.documented_example(context) == "documented example key"
    other = documented[:-4] + "Qz9x"
    assert filters.documented_example(one("stripe-test-secret-key", f"stripe.api_key = '{other}'")) is None


def test_repeated_or_sequential(rng: random.Random) -> None:
    """Runs of consecutive or repeated characters over half the secret are filler, for built-in
    rules; a random token is not, and a user's own rule is never second-guessed."""
    filler = "sk_live_" + "1234567890abcdefghijklmn"
    assert filters.repeated_or_sequential(one("stripe-secret-key", f"KEY={filler}")) is not None
    assert filters.repeated_or_sequential(one("stripe-secret-key", f"KEY=sk_live_{token(rng, 24)}")) is None
    user_rule = parse_rule(
        {"id": "acme", "regex": r"(acme_[a-z0-9]{16})", "keywords": ["acme_"]}, "cfg", require_examples=False
    )
    assert filters.repeated_or_sequential(one(user_rule, "acme_0123456789abcdef")) is None


def test_filler_fraction() -> None:
    """The filler share counts characters inside runs of 4+ steps of -1, 0 or +1."""
    assert filters._filler_fraction("abcd") == 1.0
    assert filters._filler_fraction("zzzz9876") == 1.0
    assert filters._filler_fraction("aXbYcZdW") == 0.0


# ---------------------------------------------------------------- url rules


def test_default_url_credential(rng: random.Random) -> None:
    """postgres:postgres and a password equal to the user name are development defaults."""
    rule = "postgres-url-password"
    assert filters.default_url_credential(one(rule, "postgres://postgres:postgres@db/app")) == "default credential"
    assert (
        filters.default_url_credential(one(rule, "postgres://deployer:deployer@db/app")) == "password equals user name"
    )
    assert filters.default_url_credential(one(rule, f"postgres://deployer:{token(rng, 16)}@db/app")) is None


def test_default_credential_in_assignment(rng: random.Random) -> None:
    """An image's default password assigned to a secret name is a development setting."""
    rule = "generic-secret-config"
    compose = "services/docker-compose.yml"
    assert filters.default_credential(one(rule, "      POSTGRES_PASSWORD: postgres", compose)) == "default credential"
    assert filters.default_credential(one(rule, "KEYCLOAK_ADMIN_PASSWORD=keycloak", ".env")) == "default credential"
    assert filters.default_credential(one(rule, f"POSTGRES_PASSWORD: {token(rng, 16)}", compose)) is None


@pytest.mark.parametrize("value", ["P@55w0rd!", "s3cr3t-v4lu3", "t0k3n_f0r_ci"])
def test_self_named_value_reads_leetspeak(value: str) -> None:
    """A value that spells password, secret or token in leetspeak names itself."""
    assert filters.self_named_value(one("generic-secret-assignment", f'password = "{value}"')) == "value names itself"


def test_self_named_value_keeps_random_values(rng: random.Random) -> None:
    """Random tokens do not spell those words after the leetspeak mapping."""
    kept = [
        filters.self_named_value(one("generic-secret-assignment", f'password = "{token(rng, 24)}"')) for _ in range(200)
    ]
    assert kept.count(None) >= 198


def test_documentation_host(rng: random.Random) -> None:
    """A short or word-like password at an RFC 2606 example host is a documentation sample; a
    random one there, or any at a real host, is reported."""
    rule = "url-basic-auth"
    assert filters.default_url_credential(one(rule, "http://evil:thing@example.com/")) is not None
    assert filters.default_url_credential(one(rule, f"https://ci:{token(rng, 20)}@git.example.com/r")) is None
    assert filters.default_url_credential(one(rule, "https://ci:thing@git.internal/r")) is None


def test_url_rules_skip_assignment_filters() -> None:
    """A UUID or digest as a URL password is still a password (url-basic-auth is generic but has a format)."""
    uuid = "3f2b8c1e-9a47-4d2b-8e5f-6c1a0b9d7e24"
    context = one("url-basic-auth", f"https://ci:{uuid}@git.internal/repo.git")
    assert filters.uuid_value(context) is None
    assert filters.low_entropy_for_charset(context) is None


# ---------------------------------------------------------------- generic rules


def test_minified_line(rng: random.Random) -> None:
    """Generic matches on very long lines or in .min.js files are skipped; normal lines are not."""
    assignment = f'var password="{token(rng, 20)}";'
    padding = "a=1;" * 300
    assert filters.minified_line(one("generic-secret-assignment", padding + assignment)) is not None
    assert filters.minified_line(one("generic-secret-assignment", assignment, path="dist/app.min.js")) is not None
    assert filters.minified_line(one("generic-secret-assignment", assignment, path="src/app.js")) is None


def test_minified_line_does_not_touch_specific_rules(rng: random.Random) -> None:
    """A provider token in a minified bundle is still reported."""
    context = one("stripe-secret-key", "a=1;" * 300 + f'k="sk_live_{token(rng, 24)}"', path="dist/app.min.js")
    assert filters.minified_line(context) is None


def test_lockfile(rng: random.Random) -> None:
    """Generic matches in lockfiles and sha512- integrity values are dropped."""
    integrity = "sha512-" + token(rng, 86, ALNUM + "+/") + "=="
    assert filters.lockfile(
        one("generic-secret-assignment", f'"token": "{token(rng, 30)}"', path="a/package-lock.json")
    )
    assert filters.lockfile(one("generic-secret-assignment", f'secret_hash = "{integrity}"')) == "integrity hash"
    assert (
        filters.lockfile(one("generic-secret-assignment", f'"token": "{token(rng, 30)}"', path="a/config.json")) is None
    )


def test_encrypted_value(rng: random.Random) -> None:
    """SOPS, Jasypt and Vault Transit ciphertexts are safe to commit."""
    sops = f"ENC[AES256_GCM,data:{token(rng, 24)},iv:{token(rng, 43)}=,type:str]"
    assert filters.encrypted_value(one("generic-secret-config", f"password: {sops}", path="secrets.yaml"))
    assert filters.encrypted_value(one("generic-secret-config", f"password: vault:v1:{token(rng, 40)}", path="a.yaml"))
    assert filters.encrypted_value(one("generic-secret-config", f"password: {token(rng, 20)}", path="a.yaml")) is None


def test_password_hash(rng: random.Random) -> None:
    """A bcrypt or argon2 hash of a password is not the password."""
    bcrypt = "$2b$12$" + token(rng, 53, ALNUM + "./")
    assert filters.encrypted_value(one("generic-secret-assignment", f'"HashedPassword": "{bcrypt}"')) == "password hash"
    assert filters.encrypted_value(one("generic-secret-assignment", f'"AdminPassword": "{token(rng, 20)}"')) is None


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("DB_PASSWORD=$(vault-read-db-password)", "deploy.env"),
        ("password: settings.DATABASE_PASSWORD", "app.yaml"),
        ("API_TOKEN=env(API_TOKEN_FROM_VAULT)", "app.env"),
        ("API_TOKEN=get_token_from_vault()", "app.env"),
        ('const token = "process.env.API_TOKEN_VALUE";', "app.js"),
    ],
)
def test_variable_reference_drops(text: str, path: str) -> None:
    """Shell substitutions, attribute access, environment lookups and calls refer to a secret elsewhere."""
    rule = "generic-secret-config" if path.endswith((".env", ".yaml")) else "generic-secret-assignment"
    assert filters.variable_reference(one(rule, text, path))


def test_variable_reference_keeps_a_quoted_dotted_value(rng: random.Random) -> None:
    """A quoted value with dots is a string, not attribute access."""
    value = f"{token(rng, 12)}.{token(rng, 12)}"
    assert filters.variable_reference(one("generic-secret-assignment", f'api_token = "{value}"')) is None


@pytest.mark.parametrize(
    "value",
    [
        "/etc/ssl/private/server.key",
        "./secrets/db_password",
        "run/secrets/app/token",
        "https://auth.internal.corp/oauth/token",
        "C:\\secrets\\token.txt",
        "prod-db-password.json",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
    ],
)
def test_file_path_or_url_drops(value: str) -> None:
    """Paths, file names, URLs and secret-manager names are where a secret lives, not the secret."""
    for context in contexts("generic-secret-assignment", f"secret_file_name = '{value}'"):
        assert filters.file_path_or_url(context)


def test_file_path_or_url_keeps_base64_with_slashes(rng: random.Random) -> None:
    """Base64 secrets contain slashes too; mixed-case random segments are not a path."""
    value = f"{token(rng, 12)}/{token(rng, 10)}/{token(rng, 18)}"
    assert filters.file_path_or_url(one("generic-secret-assignment", f'secret = "{value}"')) is None


def test_test_value(rng: random.Random) -> None:
    """Values that announce themselves as test or fake data are dropped."""
    assert filters.test_value(one("generic-secret-assignment", f'password = "test-{token(rng, 12)}"'))
    assert filters.test_value(one("generic-secret-assignment", f'password = "fake_{token(rng, 12)}"'))
    assert filters.test_value(one("generic-secret-assignment", f'password = "{token(rng, 16)}"')) is None


@pytest.mark.parametrize(
    "value",
    [
        "client_credentials",
        "refreshToken",
        "RefreshTokenExpired",
        "API_KEY_HEADER",
        "session.cookie.name",
        "IAmSensitive",
    ],
)
def test_identifier_value_drops(value: str) -> None:
    """A value that is itself a name (snake, camel, Pascal, CONSTANT or dotted words) is no secret."""
    assert filters.identifier_value(one("generic-secret-assignment", f'auth_token = "{value}"'))


def test_identifier_value_keeps_random_letters(rng: random.Random) -> None:
    """Random letters do not read as words (no vowels in some 'word')."""
    value = "qXzvBrtKmpLwVnx"
    assert filters.identifier_value(one("generic-secret-assignment", f'auth_token = "{value}"')) is None
    assert filters.identifier_value(one("generic-secret-assignment", f'auth_token = "{token(rng, 20)}1"')) is None


def test_uuid_value_generic_only() -> None:
    """A UUID assigned to a secret name is dropped for generic rules, but a specific rule whose
    keys are UUIDs (Pinecone's older keys) keeps it."""
    uuid = "3f2b8c1e-9a47-4d2b-8e5f-6c1a0b9d7e24"
    assert filters.uuid_value(one("generic-secret-assignment", f'session_token = "{uuid}"')) == "UUID"
    assert filters.uuid_value(one("pinecone-api-key", f'pc = Pinecone(api_key="{uuid}")')) is None


def test_hash_value(rng: random.Random) -> None:
    """A hex digest on a line that talks about hashes is dropped; a hex secret alone is kept
    (secrets.token_hex() keys look exactly like digests)."""
    digest = token(rng, 64, "0123456789abcdef")
    assert filters.hash_value(one("generic-secret-assignment", f'token = "{digest}"  # sha256 of the payload'))
    assert filters.hash_value(one("generic-secret-assignment", f'token = "{digest}"')) is None


def test_public_key_or_certificate(rng: random.Random) -> None:
    """SSH public keys and SubjectPublicKeyInfo blobs are public."""
    ssh_public = "AAAAC3NzaC1lZDI1NTE5AAAAI" + token(rng, 43, ALNUM + "+/")
    assert filters.public_key_or_certificate(one("generic-secret-assignment", f'deploy_key = "{ssh_public}"'))
    spki = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE" + token(rng, 86, ALNUM + "+/")
    assert filters.public_key_or_certificate(one("generic-secret-assignment", f'signing_key = "{spki}"'))
    assert (
        filters.public_key_or_certificate(
            one("generic-secret-assignment", f'signing_key = "{token(rng, 44, ALNUM + "+/")}"')
        )
        is None
    )


@pytest.mark.parametrize(
    "name",
    [
        "SECRET_NAME",
        "tokenUrl",
        "password_field",
        "api_key_header",
        "PUBLIC_API_KEY",
        "secret_arn",
        "PASSWORD_FILE",
        "NEXT_PUBLIC_AUTH_TOKEN",
        "NextPageToken",
    ],
)
def test_non_secret_name_drops(name: str, rng: random.Random) -> None:
    """Names that hold metadata about a secret (its name, URL, field, file) or public keys."""
    assert filters.non_secret_name(one("generic-secret-assignment", f'{name} = "{token(rng, 20)}"'))


def test_quoted_label_is_not_a_name(rng: random.Random) -> None:
    """A JSON key holding a type name (AWS::IAM::AccessKey) labels data; it is not a variable."""
    context = one("generic-secret-assignment", f'"AWS::IAM::AccessKey": "{token(rng, 16, "0123456789abcdef")}",')
    assert filters.non_secret_name(context) == "name is a label"


def test_non_secret_name_keeps_secret_names(rng: random.Random) -> None:
    """password, client_secret, apiToken hold the secret itself."""
    for name in ("password", "client_secret", "apiToken", "DB_PASSWORD_PROD"):
        assert filters.non_secret_name(one("generic-secret-assignment", f'{name} = "{token(rng, 20)}"')) is None


def test_non_secret_name_looks_at_the_line_above(rng: random.Random) -> None:
    """In a name/value pair the name is on the line before the value."""
    text = f"- name: TOKEN_ENDPOINT\n  value: {token(rng, 20)}"
    assert filters.non_secret_name(one("generic-name-value-pair", text, path="deploy.yaml"))


def test_low_entropy_for_charset(rng: random.Random) -> None:
    """A hex value with few distinct digits is below the hex threshold; a random one is above."""
    digits = list("abcdef" * 5 + "ab")
    rng.shuffle(digits)
    low = "".join(digits)  # 6 of 16 hex digits, evenly used: about 2.6 bits per character
    assert filters.low_entropy_for_charset(one("generic-secret-assignment", f'api_key = "{low}"'))
    high = token(rng, 32, "0123456789abcdef")
    assert filters.low_entropy_for_charset(one("generic-secret-assignment", f'api_key = "{high}"')) is None


def test_decoded_placeholder(rng: random.Random) -> None:
    """Base64 of a placeholder in a Kubernetes Secret is a placeholder."""
    encoded = base64.b64encode(b"changeme-please").decode()
    text = f"kind: Secret\ndata:\n  password: {encoded}\n"
    assert filters.decoded_placeholder(one("generic-kubernetes-secret-data", text, path="secret.yaml"))
    real = base64.b64encode(token(rng, 18).encode()).decode()
    text = f"kind: Secret\ndata:\n  password: {real}\n"
    assert filters.decoded_placeholder(one("generic-kubernetes-secret-data", text, path="secret.yaml")) is None


# ---------------------------------------------------------------- entropy model


def test_expected_random_entropy_grows_with_length_and_alphabet() -> None:
    """The expected entropy of random strings rises with length towards log2(alphabet)."""
    assert filters.expected_random_entropy(8, 16) < filters.expected_random_entropy(32, 16) < 4.0
    assert filters.expected_random_entropy(32, 16) < filters.expected_random_entropy(32, 62)


def test_charset_of() -> None:
    """Values are classed hex, alnum, base64 or other."""
    assert filters.charset_of("deadbeef01") == "hex"
    assert filters.charset_of("deadbeefXY") == "alnum"
    assert filters.charset_of("dead+beef/XY==") == "base64"
    assert filters.charset_of("dead!beef") == "other"


def test_random_secrets_pass_the_thresholds(rng: random.Random) -> None:
    """Random secrets of 16+ characters of every charset pass their threshold (>= 99%)."""
    for alphabet in ("0123456789abcdef", ALNUM, ALNUM + "+/", ALNUM + "!#%&*-.:=?@_~"):
        values = [token(rng, rng.randrange(16, 65), alphabet) for _ in range(500)]
        kept = sum(filters.shannon_entropy(v) >= filters.entropy_threshold(v) for v in values)
        assert kept >= 495, (alphabet, kept)
