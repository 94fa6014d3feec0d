"""Credential kinds planted in the corpus, each built from the provider's public format description.

Written from format knowledge (prefixes, lengths, alphabets, checksums), never from leakvault's
rule regexes: the benchmark must measure how well the rules match real formats, not how well they
match themselves. Every kind names its family (for per-family tables), the variable names a
developer would give it, and whether it is only recognisable beside such a name (``needs_name``).
"""

from __future__ import annotations

import base64
import json
import random
import string
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.accuracy import keys

from leakvault.patterns.validators import base62_encode

ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
BASE32 = string.ascii_uppercase + "234567"
PASSWORD_SPECIALS = "!*-._~^+="


def chars(rng: random.Random, alphabet: str, count: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(count))


def b64url_nopad(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def crc32_token(prefix: str, rng: random.Random) -> str:
    """GitHub / npm style: 30 random base62 characters, then their CRC32 in base62 (6 chars)."""
    body = chars(rng, ALNUM, 30)
    return prefix + body + base62_encode(zlib.crc32(body.encode()), 6)


def random_password(rng: random.Random, length: int | None = None) -> str:
    """A generated password: mixed classes, no quotes, backslashes, '$', '#', '@', ':' or '/'."""
    length = length or rng.randint(14, 28)
    while True:
        value = chars(rng, ALNUM + PASSWORD_SPECIALS, length)
        if any(c.isdigit() for c in value) and any(c.isupper() for c in value) and any(c.islower() for c in value):
            return value


WORDS = (
    "falcon",
    "harbor",
    "copper",
    "winter",
    "maple",
    "orbit",
    "granite",
    "velvet",
    "summit",
    "cobalt",
    "meadow",
    "ember",
    "tundra",
    "lantern",
    "quartz",
    "saffron",
    "willow",
    "zephyr",
    "basalt",
    "juniper",
)


def human_password(rng: random.Random) -> str:
    """A password a person chose: words, a year or digits, a symbol. Low entropy, still a leak."""
    word = rng.choice(WORDS).capitalize() + rng.choice(["", rng.choice(WORDS)])
    return word + rng.choice(["2023", "2024", "2025", str(rng.randint(10, 999))]) + rng.choice("!*.#?-_")


def jwt(rng: random.Random, claims: dict[str, object] | None = None, alg: str = "HS256") -> str:
    header = {"alg": alg, "typ": "JWT"}
    iat = rng.randint(1_650_000_000, 1_760_000_000)
    payload = claims or {
        "sub": str(rng.randint(10_000, 99_999_999)),
        "name": rng.choice(["svc-billing", "ci-deployer", "alice", "report-worker"]),
        "iat": iat,
        "exp": iat + rng.choice([3600, 86400, 31_536_000]),
    }
    signature_bytes = 32 if alg.startswith("HS") else 256
    parts = [
        b64url_nopad(json.dumps(header, separators=(",", ":")).encode()),
        b64url_nopad(json.dumps(payload, separators=(",", ":")).encode()),
        b64url_nopad(rng.randbytes(signature_bytes)),
    ]
    return ".".join(parts)


def _discord_bot(rng: random.Random) -> str:
    user_id = str(rng.randint(10**17, 13 * 10**17))
    first = b64url_nopad(user_id.encode())
    return f"{first}.{chars(rng, B64URL, 6)}.{chars(rng, B64URL, 38)}"


def _sentry_org(rng: random.Random) -> str:
    claims = {
        "iat": rng.randint(1_700_000_000, 1_760_000_000) + rng.random(),
        "url": "https://sentry.io",
        "region_url": "https://us.sentry.io",
        "org": rng.choice(["acme", "globex", "initech"]),
    }
    return "sntrys_" + b64url_nopad(json.dumps(claims).encode()) + "_" + chars(rng, B64, 43)


def _grafana_cloud(rng: random.Random) -> str:
    claims = {
        "o": str(rng.randint(100000, 999999)),
        "n": "stack-" + chars(rng, LOWER_ALNUM, 6) + "-token",
        "k": chars(rng, ALNUM, 24),
        "m": {"r": "prod-us-east-0"},
    }
    return "glc_" + base64.b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode()


def _mapbox_secret(rng: random.Random) -> str:
    claims = {"u": rng.choice(["acme-maps", "geoteam", "fleetops"]), "a": chars(rng, LOWER_ALNUM, 25)}
    return "sk." + b64url_nopad(json.dumps(claims, separators=(",", ":")).encode()) + "." + chars(rng, B64URL, 22)


def _azure_sas(rng: random.Random) -> str:
    signature = base64.b64encode(rng.randbytes(32)).decode()
    encoded = signature.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    return (
        "sv=2022-11-02&ss=bfqt&srt=sco&sp=rwdlacupiytfx&se=2026-12-31T23:59:59Z"
        f"&st=2024-01-01T00:00:00Z&spr=https&sig={encoded}"
    )


def _atlassian(rng: random.Random) -> str:
    body = "ATATT3xFfGF0" + chars(rng, B64URL, 170)
    return body + "=" + format(zlib.crc32(body.encode()), "08X")


def _supabase_service_jwt(rng: random.Random) -> str:
    iat = rng.randint(1_650_000_000, 1_720_000_000)
    claims = {
        "iss": "supabase",
        "ref": chars(rng, string.ascii_lowercase, 20),
        "role": "service_role",
        "iat": iat,
        "exp": iat + 315_360_000,
    }
    return jwt(rng, claims)


def _aws_session(rng: random.Random) -> str:
    return "IQoJb3JpZ2luX2VjE" + chars(rng, B64, rng.choice([340, 380, 420])) + rng.choice(["", "=", "=="])


@dataclass(frozen=True)
class Kind:
    """One kind of credential: how to make one and how developers name it."""

    id: str
    family: str
    make: Callable[[random.Random], str]
    names: tuple[str, ...]
    needs_name: bool = False  # only a name beside it says it's a secret
    count: int = 4  # how many to plant
    multiline: bool = False
    url: bool = False  # the value is a whole URL (connection string, webhook)


def _k(id: str, family: str, make: Callable[[random.Random], str], *names: str, **options: object) -> Kind:
    return Kind(id, family, make, names, **options)  # type: ignore[arg-type]  # options and truth are loose dicts in this script


def _db_url(scheme: str, port: int, path: str) -> Callable[[random.Random], str]:
    def make(rng: random.Random) -> str:
        user = rng.choice(["app", "svc_orders", "analytics", "admin", "reporting", "root"])
        host = rng.choice(
            [
                "db.internal.acme.io",
                "10.12.4.7",
                "prod-cluster.c8x.eu-west-1.rds.amazonaws.com",
                "mq.acme-prod.net",
                "cache-01.acme.local",
            ]
        )
        password = random_password(rng, rng.randint(12, 24)) if rng.random() < 0.75 else human_password(rng)
        password = password.replace("+", "-").replace("=", "_")
        return f"{scheme}://{user}:{password}@{host}:{port}{path}"

    return make


def _redis_url(rng: random.Random) -> str:
    return f"redis://:{chars(rng, ALNUM, 32)}@cache-01.acme.local:6379/0"


def _mongo_srv(rng: random.Random) -> str:
    return (
        f"mongodb+srv://svc_api:{random_password(rng).replace('+', '-').replace('=', '_')}"
        f"@cluster0.{chars(rng, LOWER_ALNUM, 5)}.mongodb.net/prod?retryWrites=true&w=majority"
    )


def _jdbc(rng: random.Random) -> str:
    return f"jdbc:postgresql://db.internal.acme.io:5432/orders?user=orders_rw&password={random_password(rng)}"


def _basic_auth_url(rng: random.Random) -> str:
    host = rng.choice(
        [
            "nexus.acme.io/repository/pypi/simple",
            "git.acme.io/platform/infra.git",
            "registry.acme.io/v2/",
            "jenkins.acme.io/job/deploy/build",
        ]
    )
    user = rng.choice(["deploy", "ci-bot", "jenkins", "release"])
    return f"https://{user}:{random_password(rng, 20).replace('+', '-').replace('=', '_')}@{host}"


def _snowflake_url(rng: random.Random) -> str:
    return (
        f"snowflake://etl_user:{random_password(rng).replace('+', '-').replace('=', '_')}"
        f"@xy{rng.randint(10000, 99999)}.eu-central-1/analytics/public?warehouse=COMPUTE_WH"
    )


def _azure_conn(rng: random.Random) -> str:
    account = "acme" + chars(rng, string.ascii_lowercase + string.digits, 8)
    key = base64.b64encode(rng.randbytes(64)).decode()
    return f"DefaultEndpointsProtocol=https;AccountName={account};AccountKey={key};EndpointSuffix=core.windows.net"


def _docker_auth(rng: random.Random) -> str:
    return base64.b64encode(f"ci-bot:{random_password(rng)}".encode()).decode()


def _hex(n: int) -> Callable[[random.Random], str]:
    return lambda rng: chars(rng, HEX, n)


def _alnum(n: int) -> Callable[[random.Random], str]:
    return lambda rng: chars(rng, ALNUM, n)


def _prefixed(prefix: str, alphabet: str, n: int, suffix: str = "") -> Callable[[random.Random], str]:
    return lambda rng: prefix + chars(rng, alphabet, n) + suffix


KINDS: tuple[Kind, ...] = (
    # --- cloud ---
    _k(
        "aws-access-key-id",
        "aws",
        lambda r: "AKIA" + chars(r, BASE32, 16),
        "AWS_ACCESS_KEY_ID",
        "aws_access_key_id",
        "accessKeyId",
        count=8,
    ),
    _k(
        "aws-secret-access-key",
        "aws",
        lambda r: chars(r, B64, 40),
        "AWS_SECRET_ACCESS_KEY",
        "aws_secret_access_key",
        "secretAccessKey",
        needs_name=True,
        count=8,
    ),
    _k("aws-session-token", "aws", _aws_session, "AWS_SESSION_TOKEN", "aws_session_token", count=3),
    _k("aws-temp-access-key-id", "aws", lambda r: "ASIA" + chars(r, BASE32, 16), "AWS_ACCESS_KEY_ID", count=2),
    _k(
        "gcp-api-key",
        "gcp",
        _prefixed("AIza", B64URL, 35),
        "GOOGLE_API_KEY",
        "GOOGLE_MAPS_API_KEY",
        "FIREBASE_API_KEY",
        "GEMINI_API_KEY",
        count=6,
    ),
    _k("gcp-oauth-client-secret", "gcp", _prefixed("GOCSPX-", B64URL, 28), "GOOGLE_CLIENT_SECRET", count=3),
    _k(
        "azure-storage-key",
        "azure",
        lambda r: base64.b64encode(r.randbytes(64)).decode(),
        "AZURE_STORAGE_KEY",
        "AZURE_STORAGE_ACCOUNT_KEY",
        "storageAccountKey",
        needs_name=True,
        count=3,
    ),
    _k(
        "azure-storage-connection-string",
        "azure",
        _azure_conn,
        "AZURE_STORAGE_CONNECTION_STRING",
        "AzureWebJobsStorage",
        count=4,
    ),
    _k(
        "azure-ad-client-secret",
        "azure",
        lambda r: chars(r, ALNUM + "_~.-", 3) + r.choice("78") + "Q~" + chars(r, ALNUM + "_~.-", 34),
        "AZURE_CLIENT_SECRET",
        "ClientSecret",
        count=4,
    ),
    _k("azure-sas-token", "azure", _azure_sas, "AZURE_SAS_TOKEN", "SAS_TOKEN", count=3),
    _k(
        "azure-devops-pat",
        "azure",
        lambda r: chars(r, "abcdefghijklmnopqrstuvwxyz234567", 52),
        "AZURE_DEVOPS_PAT",
        "AZURE_DEVOPS_EXT_PAT",
        needs_name=True,
        count=2,
    ),
    _k("digitalocean-token", "digitalocean", _prefixed("dop_v1_", HEX, 64), "DIGITALOCEAN_TOKEN", "DO_TOKEN", count=3),
    _k("digitalocean-oauth", "digitalocean", _prefixed("doo_v1_", HEX, 64), "DIGITALOCEAN_ACCESS_TOKEN", count=1),
    _k("heroku-api-key-v2", "heroku", _prefixed("HRKU-AA", B64URL, 58), "HEROKU_API_KEY", count=2),
    _k("heroku-api-key-legacy", "heroku", lambda r: _uuid(r), "HEROKU_API_KEY", needs_name=True, count=2),
    _k(
        "cloudflare-api-token",
        "cloudflare",
        _prefixed("", B64URL, 40),
        "CLOUDFLARE_API_TOKEN",
        "CF_API_TOKEN",
        needs_name=True,
        count=3,
    ),
    _k(
        "cloudflare-global-api-key",
        "cloudflare",
        _hex(37),
        "CLOUDFLARE_API_KEY",
        "CF_API_KEY",
        needs_name=True,
        count=2,
    ),
    _k(
        "cloudflare-origin-ca-key",
        "cloudflare",
        lambda r: "v1.0-" + chars(r, HEX, 24) + "-" + chars(r, HEX, 146),
        "CF_ORIGIN_CA_KEY",
        count=1,
    ),
    _k("vercel-token", "vercel", _alnum(24), "VERCEL_TOKEN", needs_name=True, count=3),
    _k("netlify-token", "netlify", _prefixed("nfp_", ALNUM, 36), "NETLIFY_AUTH_TOKEN", count=2),
    _k("supabase-pat", "supabase", _prefixed("sbp_", HEX, 40), "SUPABASE_ACCESS_TOKEN", count=2),
    _k("supabase-service-role-key", "supabase", _supabase_service_jwt, "SUPABASE_SERVICE_ROLE_KEY", count=2),
    _k("databricks-token", "databricks", _prefixed("dapi", HEX, 32), "DATABRICKS_TOKEN", count=3),
    _k("snowflake-url", "snowflake", _snowflake_url, "SNOWFLAKE_URL", url=True, count=2),
    _k("vault-service-token", "hashicorp", lambda r: "hvs.CAESI" + chars(r, B64URL, 86), "VAULT_TOKEN", count=3),
    _k("vault-batch-token", "hashicorp", lambda r: "hvb.AAAAAQ" + chars(r, B64URL, 130), "VAULT_TOKEN", count=1),
    _k("vault-legacy-token", "hashicorp", _prefixed("s.", ALNUM, 24), "VAULT_TOKEN", needs_name=True, count=2),
    _k(
        "terraform-cloud-token",
        "hashicorp",
        lambda r: chars(r, ALNUM, 14) + ".atlasv1." + chars(r, ALNUM, 67),
        "TFE_TOKEN",
        "TF_API_TOKEN",
        count=3,
    ),
    _k("doppler-token", "doppler", _prefixed("dp.st.prd.", ALNUM, 40), "DOPPLER_TOKEN", count=2),
    _k("doppler-personal-token", "doppler", _prefixed("dp.pt.", ALNUM, 43), "DOPPLER_TOKEN", count=1),
    _k("pulumi-token", "pulumi", _prefixed("pul-", HEX, 40), "PULUMI_ACCESS_TOKEN", count=2),
    # --- source control and package registries ---
    _k("github-pat", "github", lambda r: crc32_token("ghp_", r), "GITHUB_TOKEN", "GH_TOKEN", count=6),
    _k("github-oauth", "github", lambda r: crc32_token("gho_", r), "GITHUB_OAUTH_TOKEN", count=2),
    _k("github-app-token", "github", lambda r: crc32_token(r.choice(["ghs_", "ghu_"]), r), "GITHUB_APP_TOKEN", count=2),
    _k("github-refresh-token", "github", lambda r: crc32_token("ghr_", r), "GITHUB_REFRESH_TOKEN", count=1),
    _k(
        "github-fine-grained-pat",
        "github",
        lambda r: "github_pat_" + chars(r, UPPER_ALNUM, 22) + "_" + chars(r, ALNUM, 59),
        "GITHUB_TOKEN",
        count=4,
    ),
    _k("gitlab-pat", "gitlab", _prefixed("glpat-", B64URL, 20), "GITLAB_TOKEN", "CI_JOB_TOKEN_OVERRIDE", count=4),
    _k("gitlab-runner-token", "gitlab", _prefixed("glrt-", B64URL, 20), "RUNNER_TOKEN", count=2),
    _k("gitlab-deploy-token", "gitlab", _prefixed("gldt-", B64URL, 20), "GITLAB_DEPLOY_TOKEN", count=1),
    _k("gitlab-pipeline-trigger", "gitlab", _prefixed("glptt-", HEX, 40), "TRIGGER_TOKEN", count=1),
    _k("gitlab-runner-registration", "gitlab", _prefixed("GR1348941", B64URL, 20), "REGISTRATION_TOKEN", count=1),
    _k(
        "bitbucket-app-password",
        "bitbucket",
        lambda r: "ATBB" + chars(r, ALNUM, 24) + chars(r, "0123456789ABCDEF", 8),
        "BITBUCKET_APP_PASSWORD",
        count=2,
    ),
    _k("npm-token", "npm", lambda r: crc32_token("npm_", r), "NPM_TOKEN", count=4),
    _k(
        "pypi-token",
        "pypi",
        lambda r: "pypi-AgEIcHlwaS5vcmcCJ" + chars(r, B64URL, 150),
        "PYPI_TOKEN",
        "TWINE_PASSWORD",
        count=3,
    ),
    _k("dockerhub-pat", "docker", _prefixed("dckr_pat_", B64URL, 27), "DOCKERHUB_TOKEN", "DOCKER_PASSWORD", count=3),
    _k("docker-config-auth", "docker", _docker_auth, "auth", needs_name=True, count=2),
    # --- chat ---
    _k(
        "slack-bot-token",
        "slack",
        lambda r: f"xoxb-{chars(r, string.digits, 12)}-{chars(r, string.digits, 13)}-{chars(r, ALNUM, 24)}",
        "SLACK_BOT_TOKEN",
        count=4,
    ),
    _k(
        "slack-user-token",
        "slack",
        lambda r: (
            f"xoxp-{chars(r, string.digits, 12)}-{chars(r, string.digits, 12)}-{chars(r, string.digits, 13)}"
            f"-{chars(r, HEX, 32)}"
        ),
        "SLACK_USER_TOKEN",
        count=2,
    ),
    _k(
        "slack-app-token",
        "slack",
        lambda r: f"xapp-1-A{chars(r, UPPER_ALNUM, 10)}-{chars(r, string.digits, 13)}-{chars(r, HEX, 64)}",
        "SLACK_APP_TOKEN",
        count=2,
    ),
    _k(
        "slack-webhook",
        "slack",
        lambda r: (
            f"https://hooks.slack.com/services/T{chars(r, UPPER_ALNUM, 8)}/B{chars(r, UPPER_ALNUM, 10)}"
            f"/{chars(r, ALNUM, 24)}"
        ),
        "SLACK_WEBHOOK_URL",
        url=True,
        count=4,
    ),
    _k("discord-bot-token", "discord", _discord_bot, "DISCORD_BOT_TOKEN", "DISCORD_TOKEN", count=3),
    _k(
        "discord-webhook",
        "discord",
        lambda r: f"https://discord.com/api/webhooks/{r.randint(10**17, 10**19)}/{chars(r, B64URL, 68)}",
        "DISCORD_WEBHOOK_URL",
        url=True,
        count=3,
    ),
    _k(
        "telegram-bot-token",
        "telegram",
        lambda r: f"{r.randint(10**8, 8 * 10**9)}:AA{chars(r, B64URL, 33)}",
        "TELEGRAM_BOT_TOKEN",
        count=4,
    ),
    _k(
        "teams-webhook",
        "microsoft",
        lambda r: (
            f"https://acme.webhook.office.com/webhookb2/{_uuid(r)}@{_uuid(r)}/IncomingWebhook/"
            f"{chars(r, HEX, 32)}/{_uuid(r)}"
        ),
        "TEAMS_WEBHOOK_URL",
        url=True,
        count=2,
    ),
    # --- email and messaging ---
    _k(
        "sendgrid-api-key",
        "sendgrid",
        lambda r: f"SG.{chars(r, B64URL, 22)}.{chars(r, B64URL, 43)}",
        "SENDGRID_API_KEY",
        count=4,
    ),
    _k("mailgun-api-key", "mailgun", _prefixed("key-", HEX, 32), "MAILGUN_API_KEY", count=2),
    _k(
        "mailgun-private-key",
        "mailgun",
        lambda r: f"{chars(r, HEX, 32)}-{chars(r, HEX, 8)}-{chars(r, HEX, 8)}",
        "MAILGUN_API_KEY",
        needs_name=True,
        count=2,
    ),
    _k(
        "mailchimp-api-key",
        "mailchimp",
        lambda r: f"{chars(r, HEX, 32)}-us{r.randint(1, 21)}",
        "MAILCHIMP_API_KEY",
        count=3,
    ),
    _k(
        "brevo-api-key",
        "brevo",
        lambda r: f"xkeysib-{chars(r, HEX, 64)}-{chars(r, ALNUM, 16)}",
        "BREVO_API_KEY",
        count=2,
    ),
    _k("postmark-server-token", "postmark", lambda r: _uuid(r), "POSTMARK_SERVER_TOKEN", needs_name=True, count=2),
    _k("twilio-api-key", "twilio", _prefixed("SK", HEX, 32), "TWILIO_API_KEY", count=2),
    _k("twilio-auth-token", "twilio", _hex(32), "TWILIO_AUTH_TOKEN", needs_name=True, count=3),
    # --- payments and commerce ---
    _k(
        "stripe-secret-key",
        "stripe",
        lambda r: "sk_live_" + chars(r, ALNUM, r.choice([24, 99])),
        "STRIPE_SECRET_KEY",
        "STRIPE_API_KEY",
        count=5,
    ),
    _k(
        "stripe-restricted-key",
        "stripe",
        lambda r: "rk_live_" + chars(r, ALNUM, r.choice([24, 99])),
        "STRIPE_RESTRICTED_KEY",
        count=2,
    ),
    _k("stripe-webhook-secret", "stripe", _prefixed("whsec_", ALNUM, 32), "STRIPE_WEBHOOK_SECRET", count=3),
    _k("square-access-token", "square", _prefixed("EAAA", B64URL, 60), "SQUARE_ACCESS_TOKEN", count=2),
    _k("square-legacy-token", "square", _prefixed("sq0atp-", B64URL, 22), "SQUARE_ACCESS_TOKEN", count=1),
    _k("square-oauth-secret", "square", _prefixed("sq0csp-", B64URL, 43), "SQUARE_APPLICATION_SECRET", count=1),
    _k(
        "braintree-access-token",
        "paypal",
        lambda r: f"access_token$production${chars(r, LOWER_ALNUM, 16)}${chars(r, HEX, 32)}",
        "BRAINTREE_ACCESS_TOKEN",
        count=2,
    ),
    _k("paypal-client-secret", "paypal", _prefixed("E", B64URL, 79), "PAYPAL_CLIENT_SECRET", needs_name=True, count=2),
    _k("shopify-access-token", "shopify", _prefixed("shpat_", HEX, 32), "SHOPIFY_ACCESS_TOKEN", count=3),
    _k("shopify-shared-secret", "shopify", _prefixed("shpss_", HEX, 32), "SHOPIFY_API_SECRET", count=2),
    _k("flutterwave-secret-key", "flutterwave", _prefixed("FLWSECK-", HEX, 32, "-X"), "FLW_SECRET_KEY", count=1),
    # --- AI providers ---
    _k(
        "openai-project-key",
        "openai",
        lambda r: "sk-proj-" + chars(r, B64URL, 74) + "T3BlbkFJ" + chars(r, B64URL, 74),
        "OPENAI_API_KEY",
        count=6,
    ),
    _k(
        "openai-legacy-key",
        "openai",
        lambda r: "sk-" + chars(r, ALNUM, 20) + "T3BlbkFJ" + chars(r, ALNUM, 20),
        "OPENAI_API_KEY",
        count=3,
    ),
    _k(
        "openai-service-account-key",
        "openai",
        lambda r: "sk-svcacct-" + chars(r, B64URL, 74) + "T3BlbkFJ" + chars(r, B64URL, 74),
        "OPENAI_API_KEY",
        count=2,
    ),
    _k(
        "anthropic-api-key",
        "anthropic",
        lambda r: "sk-ant-api03-" + chars(r, B64URL, 93) + "AA",
        "ANTHROPIC_API_KEY",
        count=5,
    ),
    _k(
        "anthropic-admin-key",
        "anthropic",
        lambda r: "sk-ant-admin01-" + chars(r, B64URL, 93) + "AA",
        "ANTHROPIC_ADMIN_KEY",
        count=1,
    ),
    _k(
        "huggingface-token",
        "huggingface",
        _prefixed("hf_", string.ascii_letters, 34),
        "HF_TOKEN",
        "HUGGINGFACEHUB_API_TOKEN",
        count=5,
    ),
    _k("cohere-api-key", "cohere", _alnum(40), "COHERE_API_KEY", "CO_API_KEY", needs_name=True, count=3),
    _k("groq-api-key", "groq", _prefixed("gsk_", ALNUM, 52), "GROQ_API_KEY", count=2),
    _k("replicate-token", "replicate", _prefixed("r8_", ALNUM, 37), "REPLICATE_API_TOKEN", count=2),
    _k("perplexity-api-key", "perplexity", _prefixed("pplx-", ALNUM, 48), "PERPLEXITY_API_KEY", count=2),
    _k("openrouter-api-key", "openrouter", _prefixed("sk-or-v1-", HEX, 64), "OPENROUTER_API_KEY", count=2),
    _k(
        "langsmith-api-key",
        "langchain",
        lambda r: f"lsv2_pt_{chars(r, HEX, 32)}_{chars(r, HEX, 10)}",
        "LANGCHAIN_API_KEY",
        "LANGSMITH_API_KEY",
        count=2,
    ),
    _k("xai-api-key", "xai", _prefixed("xai-", ALNUM, 80), "XAI_API_KEY", count=1),
    _k("mistral-api-key", "mistral", _alnum(32), "MISTRAL_API_KEY", needs_name=True, count=2),
    _k("deepseek-api-key", "deepseek", _prefixed("sk-", HEX, 32), "DEEPSEEK_API_KEY", count=2),
    _k("wandb-api-key", "wandb", _hex(40), "WANDB_API_KEY", needs_name=True, count=2),
    # --- monitoring and ops ---
    _k("datadog-api-key", "datadog", _hex(32), "DD_API_KEY", "DATADOG_API_KEY", needs_name=True, count=3),
    _k("datadog-app-key", "datadog", _hex(40), "DD_APP_KEY", "DATADOG_APP_KEY", needs_name=True, count=2),
    _k("newrelic-user-key", "newrelic", _prefixed("NRAK-", UPPER_ALNUM, 27), "NEW_RELIC_API_KEY", count=2),
    _k("newrelic-license-key", "newrelic", lambda r: chars(r, HEX, 36) + "NRAL", "NEW_RELIC_LICENSE_KEY", count=2),
    _k("sentry-user-token", "sentry", _prefixed("sntryu_", HEX, 64), "SENTRY_AUTH_TOKEN", count=2),
    _k("sentry-org-token", "sentry", _sentry_org, "SENTRY_AUTH_TOKEN", count=2),
    _k(
        "pagerduty-api-key",
        "pagerduty",
        lambda r: "u+" + chars(r, B64URL, 18),
        "PAGERDUTY_API_TOKEN",
        needs_name=True,
        count=2,
    ),
    _k(
        "grafana-service-account-token",
        "grafana",
        lambda r: f"glsa_{chars(r, ALNUM, 32)}_{chars(r, HEX, 8)}",
        "GRAFANA_TOKEN",
        count=2,
    ),
    _k("grafana-cloud-token", "grafana", _grafana_cloud, "GRAFANA_CLOUD_TOKEN", count=1),
    # --- developer platforms ---
    _k(
        "postman-api-key",
        "postman",
        lambda r: f"PMAK-{chars(r, HEX, 24)}-{chars(r, HEX, 34)}",
        "POSTMAN_API_KEY",
        count=2,
    ),
    _k("atlassian-api-token", "atlassian", _atlassian, "JIRA_API_TOKEN", "CONFLUENCE_API_TOKEN", count=3),
    _k("linear-api-key", "linear", _prefixed("lin_api_", ALNUM, 40), "LINEAR_API_KEY", count=2),
    _k(
        "notion-token",
        "notion",
        lambda r: "ntn_" + chars(r, string.digits, 11) + chars(r, ALNUM, 35),
        "NOTION_TOKEN",
        count=2,
    ),
    _k("notion-legacy-token", "notion", _prefixed("secret_", ALNUM, 43), "NOTION_API_KEY", count=1),
    _k("okta-api-token", "okta", _prefixed("00", B64URL, 40), "OKTA_API_TOKEN", needs_name=True, count=2),
    _k("auth0-client-secret", "auth0", _prefixed("", B64URL, 64), "AUTH0_CLIENT_SECRET", needs_name=True, count=2),
    _k(
        "firebase-fcm-server-key",
        "firebase",
        lambda r: f"AAAA{chars(r, B64URL, 7)}:APA91b{chars(r, B64URL, 134)}",
        "FCM_SERVER_KEY",
        count=2,
    ),
    _k("algolia-admin-key", "algolia", _hex(32), "ALGOLIA_ADMIN_API_KEY", "ALGOLIA_API_KEY", needs_name=True, count=2),
    _k("mapbox-secret-token", "mapbox", _mapbox_secret, "MAPBOX_SECRET_TOKEN", count=2),
    # --- tokens and keys that are not tied to one provider ---
    _k("jwt", "jwt", jwt, "ACCESS_TOKEN", "AUTH_TOKEN", "API_JWT", count=6),
    *(
        Kind(
            kind_id,
            "private-key",
            make,
            ("PRIVATE_KEY", "private_key", "SSH_KEY", "TLS_KEY"),
            multiline=True,
            count=3 if kind_id in ("private-key-rsa", "private-key-openssh", "private-key-pkcs8") else 2,
        )
        for kind_id, make in keys.PRIVATE_KEY_MAKERS.items()
    ),
    _k("gcp-service-account", "gcp", lambda r: "", "GOOGLE_APPLICATION_CREDENTIALS", multiline=True, count=3),
    # --- databases and URLs with credentials ---
    _k("postgres-url", "database", _db_url("postgresql", 5432, "/orders"), "DATABASE_URL", url=True, count=5),
    _k("mysql-url", "database", _db_url("mysql", 3306, "/shop"), "MYSQL_URL", url=True, count=3),
    _k("mongodb-url", "database", _mongo_srv, "MONGODB_URI", url=True, count=3),
    _k("redis-url", "database", _redis_url, "REDIS_URL", url=True, count=3),
    _k("amqp-url", "database", _db_url("amqp", 5672, "/prod"), "CELERY_BROKER_URL", url=True, count=3),
    _k("jdbc-url", "database", _jdbc, "spring.datasource.url", url=True, count=2),
    _k("basic-auth-url", "url-credentials", _basic_auth_url, "INDEX_URL", url=True, count=4),
    # --- generic assignments (only the name says what they are) ---
    _k(
        "generic-password",
        "generic",
        random_password,
        "DB_PASSWORD",
        "password",
        "POSTGRES_PASSWORD",
        "adminPassword",
        "SMTP_PASSWORD",
        "MYSQL_ROOT_PASSWORD",
        "redis_password",
        needs_name=True,
        count=24,
    ),
    _k(
        "generic-password-human",
        "generic",
        human_password,
        "DB_PASSWORD",
        "password",
        "admin_password",
        "SMTP_PASS",
        needs_name=True,
        count=8,
    ),
    _k(
        "generic-secret",
        "generic",
        lambda r: chars(r, r.choice([ALNUM, HEX, B64URL]), r.choice([32, 40, 48, 64])),
        "CLIENT_SECRET",
        "APP_SECRET",
        "JWT_SECRET",
        "SESSION_SECRET",
        "webhook_secret",
        "SECRET_KEY",
        needs_name=True,
        count=18,
    ),
    _k(
        "generic-api-key",
        "generic",
        lambda r: chars(r, r.choice([ALNUM, HEX]), r.choice([32, 40])),
        "API_KEY",
        "apiKey",
        "X_API_KEY",
        "PARTNER_API_KEY",
        "INTERNAL_API_KEY",
        needs_name=True,
        count=16,
    ),
    _k(
        "generic-token",
        "generic",
        lambda r: chars(r, r.choice([ALNUM, B64URL]), r.choice([32, 40, 64])),
        "AUTH_TOKEN",
        "access_token",
        "BEARER_TOKEN",
        "REFRESH_TOKEN",
        "SERVICE_TOKEN",
        needs_name=True,
        count=14,
    ),
    _k(
        "django-secret-key",
        "generic",
        lambda r: (
            "django-insecure-" + chars(r, string.ascii_lowercase + string.digits + "!@%^&*(-_=+)", 50)
            if r.random() < 0.3
            else chars(r, string.ascii_lowercase + string.digits + "!@%^&*(-_=+)", 50)
        ),
        "SECRET_KEY",
        needs_name=True,
        count=3,
    ),
    _k("rails-secret-key-base", "generic", _hex(128), "SECRET_KEY_BASE", "secret_key_base", needs_name=True, count=2),
    _k(
        "laravel-app-key",
        "generic",
        lambda r: "base64:" + base64.b64encode(r.randbytes(32)).decode(),
        "APP_KEY",
        needs_name=True,
        count=2,
    ),
    _k(
        "encryption-key",
        "generic",
        _hex(64),
        "ENCRYPTION_KEY",
        "DATA_ENCRYPTION_KEY",
        "AES_KEY",
        needs_name=True,
        count=4,
    ),
    _k(
        "keystore-password",
        "generic",
        random_password,
        "storePassword",
        "keystore.password",
        "server.ssl.key-store-password",
        "KEYSTORE_PASSWORD",
        needs_name=True,
        count=5,
    ),
)


def _uuid(rng: random.Random) -> str:
    hexes = chars(rng, HEX, 32)
    return f"{hexes[:8]}-{hexes[8:12]}-4{hexes[13:16]}-{rng.choice('89ab')}{hexes[17:20]}-{hexes[20:]}"


def gcp_service_account(rng: random.Random) -> list[str]:
    """The JSON key file Google hands out for a service account (the private key is the secret)."""
    project = rng.choice(["acme-prod", "billing-382115", "data-platform-prd"])
    name = rng.choice(["ci-deployer", "bq-loader", "terraform"])
    private_key = keys.rsa_pkcs8(rng).replace("\n", "\\n") + "\\n"
    return [
        "{",
        '  "type": "service_account",',
        f'  "project_id": "{project}",',
        f'  "private_key_id": "{chars(rng, HEX, 40)}",',
        f'  "private_key": "{private_key}",',
        f'  "client_email": "{name}@{project}.iam.gserviceaccount.com",',
        f'  "client_id": "{chars(rng, string.digits, 21)}",',
        '  "auth_uri": "https://accounts.google.com/o/oauth2/auth",',
        '  "token_uri": "https://oauth2.googleapis.com/token",',
        '  "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",',
        f'  "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/{name}%40{project}.iam.gserviceaccount.com",',
        '  "universe_domain": "googleapis.com"',
        "}",
    ]


KINDS_BY_ID = {kind.id: kind for kind in KINDS}
