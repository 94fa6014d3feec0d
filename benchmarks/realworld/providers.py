"""Credential formats of many providers, each written from the provider's own documentation.

Every `Kind` names the page its format comes from (``ref``). Nothing here reads leakvault's rules,
and nothing is copied from another scanner's rule file: prefixes, lengths, alphabets and framing
are what the providers publish (or, where a provider publishes no grammar, what its documented
example tokens show). Values are random; checksummed formats carry a valid checksum.
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
from benchmarks.accuracy.tokens import chars, crc32_token, human_password, jwt, random_password

ALNUM = string.ascii_letters + string.digits
LOWER = string.ascii_lowercase + string.digits
UPPER = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"
BASE32 = string.ascii_uppercase + "234567"
BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"


@dataclass(frozen=True)
class Kind:
    """One credential format: how to make one, what developers call it, where it is documented."""

    id: str
    family: str
    make: Callable[[random.Random], str]
    names: tuple[str, ...]
    ref: str
    needs_name: bool = False  # only a name beside it says it is a secret
    count: int = 2
    multiline: bool = False
    url: bool = False  # the value is a whole URL


def _p(prefix: str, alphabet: str, n: int, suffix: str = "") -> Callable[[random.Random], str]:
    return lambda rng: prefix + chars(rng, alphabet, n) + suffix


def _uuid(rng: random.Random) -> str:
    h = chars(rng, HEX, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{rng.choice('89ab')}{h[17:20]}-{h[20:]}"


def _b64(n_bytes: int) -> Callable[[random.Random], str]:
    return lambda rng: base64.b64encode(rng.randbytes(n_bytes)).decode()


def _url_password(rng: random.Random) -> str:
    return random_password(rng).replace("+", "-").replace("=", "_")


def _openai(rng: random.Random) -> str:
    # Project keys: "sk-proj-", then two random halves around the "T3BlbkFJ" marker.
    return "sk-proj-" + chars(rng, URLSAFE, 74) + "T3BlbkFJ" + chars(rng, URLSAFE, 74)


def _openai_svcacct(rng: random.Random) -> str:
    return "sk-svcacct-" + chars(rng, URLSAFE, 74) + "T3BlbkFJ" + chars(rng, URLSAFE, 74)


def _anthropic(rng: random.Random) -> str:
    return "sk-ant-api03-" + chars(rng, URLSAFE, 93) + "AA"


def _slack_bot(rng: random.Random) -> str:
    return f"xoxb-{rng.randint(10**10, 10**13)}-{rng.randint(10**10, 10**13)}-{chars(rng, ALNUM, 24)}"


def _slack_user(rng: random.Random) -> str:
    ids = "-".join(str(rng.randint(10**10, 10**13)) for _ in range(3))
    return f"xoxp-{ids}-{chars(rng, HEX, 32)}"


def _slack_app(rng: random.Random) -> str:
    return f"xapp-1-A{chars(rng, UPPER, 10)}-{rng.randint(10**12, 10**13)}-{chars(rng, HEX, 64)}"


def _slack_webhook(rng: random.Random) -> str:
    return f"https://hooks.slack.com/services/T{chars(rng, UPPER, 10)}/B{chars(rng, UPPER, 10)}/{chars(rng, ALNUM, 24)}"


def _discord_webhook(rng: random.Random) -> str:
    return f"https://discord.com/api/webhooks/{rng.randint(10**17, 10**19)}/{chars(rng, URLSAFE, 68)}"


def _discord_bot(rng: random.Random) -> str:
    first = base64.urlsafe_b64encode(str(rng.randint(10**17, 13 * 10**17)).encode()).decode().rstrip("=")
    return f"{first}.{chars(rng, URLSAFE, 6)}.{chars(rng, URLSAFE, 38)}"


def _telegram(rng: random.Random) -> str:
    return f"{rng.randint(10**8, 8 * 10**9)}:AA{chars(rng, URLSAFE, 33)}"


def _stripe_live(rng: random.Random) -> str:
    return "sk_live_" + chars(rng, ALNUM, rng.choice([24, 99]))


def _stripe_restricted(rng: random.Random) -> str:
    return "rk_live_" + chars(rng, ALNUM, rng.choice([24, 99]))


def _azure_storage(rng: random.Random) -> str:
    account = "st" + chars(rng, string.ascii_lowercase + string.digits, 10)
    key = base64.b64encode(rng.randbytes(64)).decode()
    return f"DefaultEndpointsProtocol=https;AccountName={account};AccountKey={key};EndpointSuffix=core.windows.net"


def _azure_ad_secret(rng: random.Random) -> str:
    return chars(rng, ALNUM, 3) + rng.choice("78") + "Q~" + chars(rng, ALNUM + "_.~-", 34)


def _azure_app_config(rng: random.Random) -> str:
    store = "appcs-" + chars(rng, string.ascii_lowercase, 8)
    ident = f"{chars(rng, ALNUM, 4)}-l0-s0:{chars(rng, ALNUM, 20)}"
    return f"Endpoint=https://{store}.azconfig.io;Id={ident};Secret={base64.b64encode(rng.randbytes(32)).decode()}"


def _pypi(rng: random.Random) -> str:
    # A macaroon: "pypi-" + base64url of a binary blob that starts with the pypi.org location.
    blob = b"\x02\x01\x08pypi.org\x02" + rng.randbytes(1) + b"\x00\x01\x02\x06identifier" + rng.randbytes(120)
    return "pypi-AgEIcHlwaS5vcmc" + base64.urlsafe_b64encode(blob[12:]).decode().rstrip("=")


def _atlassian(rng: random.Random) -> str:
    body = "ATATT3xFfGF0" + chars(rng, URLSAFE, 170)
    return body + "=" + format(zlib.crc32(body.encode()), "08X")


def _github_fine_grained(rng: random.Random) -> str:
    return "github_pat_11" + chars(rng, UPPER, 20) + "_" + chars(rng, ALNUM, 59)


def _terraform(rng: random.Random) -> str:
    return f"{chars(rng, ALNUM, 14)}.atlasv1.{chars(rng, ALNUM, 67)}"


def _dynatrace(rng: random.Random) -> str:
    return f"dt0c01.{chars(rng, UPPER, 24)}.{chars(rng, UPPER, 64)}"


def _airtable(rng: random.Random) -> str:
    return f"pat{chars(rng, ALNUM, 14)}.{chars(rng, HEX, 64)}"


def _postman(rng: random.Random) -> str:
    return f"PMAK-{chars(rng, HEX, 24)}-{chars(rng, HEX, 34)}"


def _asana(rng: random.Random) -> str:
    return f"2/{rng.randint(10**15, 10**16 - 1)}/{rng.randint(10**15, 10**16 - 1)}:{chars(rng, HEX, 32)}"


def _mailgun(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return "key-" + chars(rng, HEX, 32)
    return f"{chars(rng, HEX, 32)}-{chars(rng, HEX, 8)}-{chars(rng, HEX, 8)}"


def _mailchimp(rng: random.Random) -> str:
    return chars(rng, HEX, 32) + f"-us{rng.randint(1, 21)}"


def _twitter_bearer(rng: random.Random) -> str:
    return "A" * 22 + chars(rng, ALNUM, 19) + "%2F" + chars(rng, ALNUM, 14) + "%3D" + chars(rng, ALNUM, 50)


def _intercom(rng: random.Random) -> str:
    return base64.b64encode(f"tok:{_uuid(rng)}:1:0".encode()).decode()


def _one_password(rng: random.Random) -> str:
    claims = {"signInAddress": "acme.1password.com", "userAuth": {"method": "SRPg-4096"}, "email": "svc@acme.io"}
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return "ops_" + body + chars(rng, URLSAFE, 120)


def _sourcegraph(rng: random.Random) -> str:
    return f"sgp_{chars(rng, HEX, 16)}_{chars(rng, HEX, 40)}"


def _grafana_sa(rng: random.Random) -> str:
    return f"glsa_{chars(rng, ALNUM, 32)}_{chars(rng, HEX, 8)}"


def _langsmith(rng: random.Random) -> str:
    return f"lsv2_{rng.choice(['pt', 'sk'])}_{chars(rng, HEX, 32)}_{chars(rng, HEX, 10)}"


def _brevo(rng: random.Random) -> str:
    return f"xkeysib-{chars(rng, HEX, 64)}-{chars(rng, ALNUM, 16)}"


def _circleci(rng: random.Random) -> str:
    return f"CCIPAT_{chars(rng, ALNUM, 22)}_{chars(rng, HEX, 40)}"


def _bitbucket(rng: random.Random) -> str:
    return "ATBB" + chars(rng, ALNUM, 32) + chars(rng, HEX.upper(), 8)


def _clickup(rng: random.Random) -> str:
    return f"pk_{rng.randint(10**6, 10**9)}_{chars(rng, UPPER, 32)}"


def _tailscale(rng: random.Random) -> str:
    return f"tskey-auth-k{chars(rng, ALNUM, 11)}CNTRL-{chars(rng, ALNUM, 33)}"


def _age(rng: random.Random) -> str:
    return "AGE-SECRET-KEY-1" + chars(rng, BECH32, 58)


def _k8s_bootstrap(rng: random.Random) -> str:
    return f"{chars(rng, LOWER, 6)}.{chars(rng, LOWER, 16)}"


def _k8s_sa(rng: random.Random) -> str:
    claims: dict[str, object] = {
        "iss": "kubernetes/serviceaccount",
        "kubernetes.io/serviceaccount/namespace": "ci",
        "kubernetes.io/serviceaccount/service-account.name": "deployer",
        "sub": "system:serviceaccount:ci:deployer",
    }
    return jwt(rng, claims, alg="RS256")


def _supabase_secret(rng: random.Random) -> str:
    return f"sb_secret_{chars(rng, URLSAFE, 22)}_{chars(rng, HEX, 8)}"


def _pinecone(rng: random.Random) -> str:
    return f"pcsk_{chars(rng, ALNUM, 6)}_{chars(rng, ALNUM, 63)}"


def _plaid_access(rng: random.Random) -> str:
    return f"access-{rng.choice(['production', 'development'])}-{_uuid(rng)}"


def _hubspot(rng: random.Random) -> str:
    return f"pat-{rng.choice(['na1', 'eu1'])}-{_uuid(rng)}"


def _facebook(rng: random.Random) -> str:
    return "EAA" + rng.choice(["B", "G", "J", "Q"]) + chars(rng, ALNUM, rng.randint(150, 200))


def _jfrog_identity(rng: random.Random) -> str:
    body = f"reftkn:01:{rng.randint(1_700_000_000, 1_900_000_000)}:{chars(rng, ALNUM, 27)}"
    return base64.b64encode(body.encode()).decode().rstrip("=")


def _yandex(rng: random.Random) -> str:
    return "AQVN" + chars(rng, URLSAFE, 36)


def _dropbox(rng: random.Random) -> str:
    return "sl." + chars(rng, URLSAFE, 138)


def _db_url(scheme: str, port: int, path: str) -> Callable[[random.Random], str]:
    def make(rng: random.Random) -> str:
        user = rng.choice(["app", "orders_rw", "reporting", "etl", "admin"])
        host = rng.choice(["db.prod.internal", "10.0.12.7", "orders.cluster-c1x2.eu-west-1.rds.amazonaws.com"])
        return f"{scheme}://{user}:{_url_password(rng)}@{host}:{port}{path}"

    return make


def _mongo(rng: random.Random) -> str:
    return f"mongodb+srv://api:{_url_password(rng)}@cluster0.{chars(rng, LOWER, 5)}.mongodb.net/app?retryWrites=true"


def _snowflake_url(rng: random.Random) -> str:
    return f"snowflake://loader:{_url_password(rng)}@ab{rng.randint(10000, 99999)}.eu-west-1/analytics/public"


def _password(rng: random.Random) -> str:
    return random_password(rng) if rng.random() < 0.7 else human_password(rng)


K = Kind
KINDS: tuple[Kind, ...] = (
    # --- cloud ---
    K(
        "aws-access-key-id",
        "aws",
        _p("AKIA", BASE32, 16),
        ("AWS_ACCESS_KEY_ID",),
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html",
        count=3,
    ),
    K(
        "aws-secret-access-key",
        "aws",
        _p("", B64, 40),
        ("AWS_SECRET_ACCESS_KEY", "aws_secret_access_key"),
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html",
        needs_name=True,
        count=3,
    ),
    K(
        "aws-temp-access-key-id",
        "aws",
        _p("ASIA", BASE32, 16),
        ("AWS_ACCESS_KEY_ID",),
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_use-resources.html",
    ),
    K(
        "gcp-api-key",
        "gcp",
        _p("AIza", URLSAFE, 35),
        ("GOOGLE_API_KEY", "MAPS_API_KEY"),
        "https://cloud.google.com/docs/authentication/api-keys",
        count=3,
    ),
    K(
        "gcp-oauth-client-secret",
        "gcp",
        _p("GOCSPX-", URLSAFE, 28),
        ("GOOGLE_CLIENT_SECRET",),
        "https://developers.google.com/identity/protocols/oauth2/web-server",
    ),
    K(
        "azure-storage-connection-string",
        "azure",
        _azure_storage,
        ("AZURE_STORAGE_CONNECTION_STRING",),
        "https://learn.microsoft.com/en-us/azure/storage/common/storage-configure-connection-string",
    ),
    K(
        "azure-ad-client-secret",
        "azure",
        _azure_ad_secret,
        ("AZURE_CLIENT_SECRET",),
        "https://learn.microsoft.com/en-us/purview/sit-defn-azure-ad-client-secret",
    ),
    K(
        "azure-app-configuration",
        "azure",
        _azure_app_config,
        ("APP_CONFIG_CONNECTION_STRING",),
        "https://learn.microsoft.com/en-us/azure/azure-app-configuration/howto-disable-access-key-authentication",
    ),
    K(
        "azure-devops-pat",
        "azure",
        _p("", "abcdefghijklmnopqrstuvwxyz234567", 52),
        ("AZURE_DEVOPS_PAT", "AZDO_TOKEN"),
        "https://learn.microsoft.com/en-us/azure/devops/organizations/accounts/use-personal-access-tokens-to-authenticate",
        needs_name=True,
    ),
    K(
        "alibaba-access-key-id",
        "alibaba",
        _p("LTAI", ALNUM, 20),
        ("ALIBABA_CLOUD_ACCESS_KEY_ID",),
        "https://www.alibabacloud.com/help/en/ram/user-guide/create-an-accesskey-pair",
    ),
    K(
        "alibaba-access-key-secret",
        "alibaba",
        _p("", ALNUM, 30),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET",),
        "https://www.alibabacloud.com/help/en/ram/user-guide/create-an-accesskey-pair",
        needs_name=True,
    ),
    K(
        "digitalocean-token",
        "digitalocean",
        _p("dop_v1_", HEX, 64),
        ("DIGITALOCEAN_TOKEN",),
        "https://docs.digitalocean.com/reference/api/create-personal-access-token/",
    ),
    K(
        "heroku-api-key",
        "heroku",
        _p("HRKU-AA", URLSAFE, 58),
        ("HEROKU_API_KEY",),
        "https://devcenter.heroku.com/articles/authentication",
    ),
    K(
        "yandex-api-key",
        "yandex",
        _yandex,
        ("YC_API_KEY",),
        "https://yandex.cloud/en/docs/iam/concepts/authorization/api-key",
    ),
    K(
        "databricks-token",
        "databricks",
        lambda r: "dapi" + chars(r, HEX, 32) + r.choice(["", "-2", "-3"]),
        ("DATABRICKS_TOKEN",),
        "https://docs.databricks.com/en/dev-tools/auth/pat.html",
    ),
    K(
        "snowflake-url",
        "snowflake",
        _snowflake_url,
        ("SNOWFLAKE_URL",),
        "https://docs.snowflake.com/en/developer-guide/python-connector/sqlalchemy",
        url=True,
    ),
    K(
        "vault-service-token",
        "hashicorp",
        _p("hvs.", URLSAFE, 90),
        ("VAULT_TOKEN",),
        "https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes",
    ),
    K(
        "vault-batch-token",
        "hashicorp",
        _p("hvb.", URLSAFE, 138),
        ("VAULT_TOKEN",),
        "https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes",
    ),
    K(
        "terraform-cloud-token",
        "hashicorp",
        _terraform,
        ("TFE_TOKEN", "TF_TOKEN_app_terraform_io"),
        "https://developer.hashicorp.com/terraform/cloud-docs/users-teams-organizations/api-tokens",
    ),
    K("tailscale-auth-key", "tailscale", _tailscale, ("TS_AUTHKEY",), "https://tailscale.com/kb/1085/auth-keys"),
    K(
        "render-api-key",
        "render",
        _p("rnd_", ALNUM, 32),
        ("RENDER_API_KEY",),
        "https://render.com/docs/api#1-create-an-api-key",
    ),
    K(
        "supabase-secret-key",
        "supabase",
        _supabase_secret,
        ("SUPABASE_SECRET_KEY",),
        "https://supabase.com/docs/guides/api/api-keys",
    ),
    K(
        "supabase-pat",
        "supabase",
        _p("sbp_", HEX, 40),
        ("SUPABASE_ACCESS_TOKEN",),
        "https://supabase.com/docs/reference/cli/supabase-login",
    ),
    K(
        "planetscale-token",
        "planetscale",
        _p("pscale_tkn_", URLSAFE, 43),
        ("PLANETSCALE_SERVICE_TOKEN",),
        "https://planetscale.com/docs/concepts/service-tokens",
    ),
    K(
        "kubernetes-bootstrap-token",
        "kubernetes",
        _k8s_bootstrap,
        ("bootstrap_token", "KUBEADM_TOKEN"),
        "https://kubernetes.io/docs/reference/access-authn-authz/bootstrap-tokens/",
        needs_name=True,
    ),
    K(
        "kubernetes-sa-token",
        "kubernetes",
        _k8s_sa,
        ("KUBE_TOKEN",),
        "https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/",
    ),
    # --- code hosting, registries, CI ---
    K(
        "github-pat",
        "github",
        lambda r: crc32_token("ghp_", r),
        ("GITHUB_TOKEN", "GH_TOKEN"),
        "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/about-authentication-to-github#githubs-token-formats",
        count=3,
    ),
    K(
        "github-fine-grained-pat",
        "github",
        _github_fine_grained,
        ("GITHUB_TOKEN",),
        "https://github.blog/security/application-security/introducing-fine-grained-personal-access-tokens-for-github/",
    ),
    K(
        "github-app-token",
        "github",
        lambda r: crc32_token("ghs_", r),
        ("GITHUB_APP_TOKEN",),
        "https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/",
    ),
    K(
        "gitlab-pat",
        "gitlab",
        _p("glpat-", URLSAFE, 20),
        ("GITLAB_TOKEN",),
        "https://docs.gitlab.com/security/tokens/#token-prefixes",
        count=3,
    ),
    K(
        "gitlab-runner-token",
        "gitlab",
        _p("glrt-", URLSAFE, 20),
        ("RUNNER_TOKEN",),
        "https://docs.gitlab.com/security/tokens/#token-prefixes",
    ),
    K(
        "bitbucket-app-password",
        "bitbucket",
        _bitbucket,
        ("BITBUCKET_APP_PASSWORD",),
        "https://support.atlassian.com/bitbucket-cloud/docs/app-passwords/",
    ),
    K(
        "npm-token",
        "npm",
        lambda r: crc32_token("npm_", r),
        ("NPM_TOKEN",),
        "https://docs.npmjs.com/about-access-tokens",
        count=3,
    ),
    K("pypi-token", "pypi", _pypi, ("PYPI_TOKEN", "TWINE_PASSWORD"), "https://pypi.org/help/#apitoken"),
    K(
        "rubygems-api-key",
        "rubygems",
        _p("rubygems_", HEX, 48),
        ("GEM_HOST_API_KEY",),
        "https://guides.rubygems.org/api-key-scopes/",
    ),
    K(
        "crates-io-token",
        "crates.io",
        _p("cio", ALNUM, 32),
        ("CARGO_REGISTRY_TOKEN",),
        "https://doc.rust-lang.org/cargo/reference/registry-authentication.html",
    ),
    K(
        "dockerhub-pat",
        "docker",
        _p("dckr_pat_", URLSAFE, 27),
        ("DOCKERHUB_TOKEN",),
        "https://docs.docker.com/security/for-developers/access-tokens/",
    ),
    K(
        "jfrog-identity-token",
        "jfrog",
        _jfrog_identity,
        ("ARTIFACTORY_ACCESS_TOKEN",),
        "https://jfrog.com/help/r/jfrog-platform-administration-documentation/access-tokens",
    ),
    K("circleci-pat", "circleci", _circleci, ("CIRCLECI_TOKEN",), "https://circleci.com/docs/managing-api-tokens/"),
    K(
        "buildkite-token",
        "buildkite",
        _p("bkua_", HEX, 40),
        ("BUILDKITE_API_TOKEN",),
        "https://buildkite.com/docs/apis/managing-api-tokens",
    ),
    K(
        "sonarqube-token",
        "sonarqube",
        lambda r: r.choice(["squ_", "sqp_", "sqa_"]) + chars(r, HEX, 40),
        ("SONAR_TOKEN",),
        "https://docs.sonarsource.com/sonarqube-server/latest/user-guide/managing-tokens/",
    ),
    K(
        "sourcegraph-token",
        "sourcegraph",
        _sourcegraph,
        ("SRC_ACCESS_TOKEN",),
        "https://sourcegraph.com/docs/cli/how-tos/revoking_an_access_token",
    ),
    K(
        "postman-api-key",
        "postman",
        _postman,
        ("POSTMAN_API_KEY",),
        "https://learning.postman.com/docs/developer/postman-api/authentication/",
    ),
    K(
        "prefect-api-key",
        "prefect",
        _p("pnu_", ALNUM, 36),
        ("PREFECT_API_KEY",),
        "https://docs.prefect.io/v3/manage/cloud/manage-users/api-keys",
    ),
    K(
        "doppler-service-token",
        "doppler",
        lambda r: "dp.st.prd." + chars(r, ALNUM, 43),
        ("DOPPLER_TOKEN",),
        "https://docs.doppler.com/docs/auth-token-formats",
    ),
    K(
        "pulumi-token",
        "pulumi",
        _p("pul-", HEX, 40),
        ("PULUMI_ACCESS_TOKEN",),
        "https://www.pulumi.com/docs/pulumi-cloud/access-management/access-tokens/",
    ),
    K(
        "onepassword-service-account",
        "1password",
        _one_password,
        ("OP_SERVICE_ACCOUNT_TOKEN",),
        "https://developer.1password.com/docs/service-accounts/",
    ),
    # --- communication ---
    K("slack-bot-token", "slack", _slack_bot, ("SLACK_BOT_TOKEN",), "https://api.slack.com/concepts/token-types"),
    K("slack-user-token", "slack", _slack_user, ("SLACK_USER_TOKEN",), "https://api.slack.com/concepts/token-types"),
    K("slack-app-token", "slack", _slack_app, ("SLACK_APP_TOKEN",), "https://api.slack.com/concepts/token-types"),
    K(
        "slack-webhook",
        "slack",
        _slack_webhook,
        ("SLACK_WEBHOOK_URL",),
        "https://api.slack.com/messaging/webhooks",
        url=True,
    ),
    K(
        "discord-bot-token",
        "discord",
        _discord_bot,
        ("DISCORD_TOKEN",),
        "https://discord.com/developers/docs/reference#authentication",
    ),
    K(
        "discord-webhook",
        "discord",
        _discord_webhook,
        ("DISCORD_WEBHOOK_URL",),
        "https://discord.com/developers/docs/resources/webhook",
        url=True,
    ),
    K(
        "telegram-bot-token",
        "telegram",
        _telegram,
        ("TELEGRAM_BOT_TOKEN",),
        "https://core.telegram.org/bots/api#authorizing-your-bot",
    ),
    K("twilio-api-key", "twilio", _p("SK", HEX, 32), ("TWILIO_API_KEY",), "https://www.twilio.com/docs/iam/api-keys"),
    K(
        "twilio-auth-token",
        "twilio",
        _p("", HEX, 32),
        ("TWILIO_AUTH_TOKEN",),
        "https://www.twilio.com/docs/iam/credentials/api",
        needs_name=True,
    ),
    K(
        "sendgrid-api-key",
        "sendgrid",
        lambda r: f"SG.{chars(r, URLSAFE, 22)}.{chars(r, URLSAFE, 43)}",
        ("SENDGRID_API_KEY",),
        "https://www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys",
    ),
    K(
        "mailgun-api-key",
        "mailgun",
        _mailgun,
        ("MAILGUN_API_KEY",),
        "https://documentation.mailgun.com/docs/mailgun/api-reference/authentication/",
    ),
    K(
        "mailchimp-api-key",
        "mailchimp",
        _mailchimp,
        ("MAILCHIMP_API_KEY",),
        "https://mailchimp.com/developer/marketing/guides/quick-start/",
    ),
    K("brevo-api-key", "brevo", _brevo, ("BREVO_API_KEY",), "https://developers.brevo.com/docs/getting-started"),
    K(
        "intercom-access-token",
        "intercom",
        _intercom,
        ("INTERCOM_ACCESS_TOKEN",),
        "https://developers.intercom.com/docs/build-an-integration/learn-more/authentication",
    ),
    K(
        "twitter-bearer-token",
        "twitter",
        _twitter_bearer,
        ("TWITTER_BEARER_TOKEN", "X_BEARER_TOKEN"),
        "https://developer.x.com/en/docs/authentication/oauth-2-0/bearer-tokens",
    ),
    K(
        "facebook-access-token",
        "facebook",
        _facebook,
        ("FACEBOOK_ACCESS_TOKEN",),
        "https://developers.facebook.com/docs/facebook-login/guides/access-tokens",
    ),
    K(
        "twitch-client-secret",
        "twitch",
        _p("", LOWER, 30),
        ("TWITCH_CLIENT_SECRET",),
        "https://dev.twitch.tv/docs/authentication/register-app/",
        needs_name=True,
    ),
    # --- payments and commerce ---
    K("stripe-secret-key", "stripe", _stripe_live, ("STRIPE_SECRET_KEY",), "https://docs.stripe.com/keys", count=3),
    K(
        "stripe-restricted-key",
        "stripe",
        _stripe_restricted,
        ("STRIPE_RESTRICTED_KEY",),
        "https://docs.stripe.com/keys#limit-access",
    ),
    K(
        "stripe-webhook-secret",
        "stripe",
        _p("whsec_", ALNUM, 32),
        ("STRIPE_WEBHOOK_SECRET",),
        "https://docs.stripe.com/webhooks#verify-events",
    ),
    K(
        "shopify-access-token",
        "shopify",
        _p("shpat_", HEX, 32),
        ("SHOPIFY_ACCESS_TOKEN",),
        "https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/generate-app-access-tokens-admin",
    ),
    K(
        "shopify-shared-secret",
        "shopify",
        _p("shpss_", HEX, 32),
        ("SHOPIFY_API_SECRET",),
        "https://shopify.dev/docs/apps/build/authentication-authorization",
    ),
    K("plaid-access-token", "plaid", _plaid_access, ("PLAID_ACCESS_TOKEN",), "https://plaid.com/docs/api/tokens/"),
    K(
        "plaid-secret",
        "plaid",
        _p("", HEX, 30),
        ("PLAID_SECRET",),
        "https://plaid.com/docs/api/#api-access",
        needs_name=True,
    ),
    K(
        "shippo-api-token",
        "shippo",
        _p("shippo_live_", HEX, 40),
        ("SHIPPO_API_TOKEN",),
        "https://docs.goshippo.com/docs/guides_general/authentication/",
    ),
    K(
        "easypost-api-key",
        "easypost",
        _p("EZAK", ALNUM, 54),
        ("EASYPOST_API_KEY",),
        "https://docs.easypost.com/docs/authentication",
    ),
    K(
        "paystack-secret-key",
        "paystack",
        _p("sk_live_", HEX, 40),
        ("PAYSTACK_SECRET_KEY",),
        "https://paystack.com/docs/api/authentication/",
    ),
    K(
        "mollie-api-key",
        "mollie",
        _p("live_", ALNUM, 30),
        ("MOLLIE_API_KEY",),
        "https://docs.mollie.com/reference/authentication",
    ),
    K(
        "square-access-token",
        "square",
        _p("EAAA", URLSAFE, 60),
        ("SQUARE_ACCESS_TOKEN",),
        "https://developer.squareup.com/docs/build-basics/access-tokens",
    ),
    # --- AI ---
    K(
        "openai-project-key",
        "openai",
        _openai,
        ("OPENAI_API_KEY",),
        "https://platform.openai.com/docs/api-reference/authentication",
        count=3,
    ),
    K(
        "openai-service-account-key",
        "openai",
        _openai_svcacct,
        ("OPENAI_API_KEY",),
        "https://platform.openai.com/docs/api-reference/authentication",
    ),
    K(
        "anthropic-api-key",
        "anthropic",
        _anthropic,
        ("ANTHROPIC_API_KEY",),
        "https://docs.anthropic.com/en/api/overview#authentication",
        count=3,
    ),
    K(
        "huggingface-token",
        "huggingface",
        _p("hf_", string.ascii_letters, 34),
        ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"),
        "https://huggingface.co/docs/hub/security-tokens",
        count=3,
    ),
    K("groq-api-key", "groq", _p("gsk_", ALNUM, 52), ("GROQ_API_KEY",), "https://console.groq.com/docs/quickstart"),
    K(
        "replicate-token",
        "replicate",
        _p("r8_", ALNUM, 37),
        ("REPLICATE_API_TOKEN",),
        "https://replicate.com/docs/reference/http#authentication",
    ),
    K(
        "perplexity-api-key",
        "perplexity",
        _p("pplx-", ALNUM, 48),
        ("PERPLEXITY_API_KEY",),
        "https://docs.perplexity.ai/guides/getting-started",
    ),
    K("xai-api-key", "xai", _p("xai-", ALNUM, 80), ("XAI_API_KEY",), "https://docs.x.ai/docs/overview"),
    K(
        "langsmith-api-key",
        "langsmith",
        _langsmith,
        ("LANGSMITH_API_KEY", "LANGCHAIN_API_KEY"),
        "https://docs.smith.langchain.com/administration/how_to_guides/organization_management/create_account_api_key",
    ),
    K(
        "pinecone-api-key",
        "pinecone",
        _pinecone,
        ("PINECONE_API_KEY",),
        "https://docs.pinecone.io/guides/projects/manage-api-keys",
    ),
    K(
        "tavily-api-key",
        "tavily",
        _p("tvly-", ALNUM, 32),
        ("TAVILY_API_KEY",),
        "https://docs.tavily.com/documentation/quickstart",
    ),
    K(
        "cohere-api-key",
        "cohere",
        _p("", ALNUM, 40),
        ("COHERE_API_KEY", "CO_API_KEY"),
        "https://docs.cohere.com/reference/about",
        needs_name=True,
    ),
    K(
        "mistral-api-key",
        "mistral",
        _p("", ALNUM, 32),
        ("MISTRAL_API_KEY",),
        "https://docs.mistral.ai/getting-started/quickstart/",
        needs_name=True,
    ),
    # --- observability, productivity, SaaS ---
    K(
        "datadog-api-key",
        "datadog",
        _p("", HEX, 32),
        ("DD_API_KEY", "DATADOG_API_KEY"),
        "https://docs.datadoghq.com/account_management/api-app-keys/",
        needs_name=True,
    ),
    K(
        "datadog-app-key",
        "datadog",
        _p("", HEX, 40),
        ("DD_APP_KEY",),
        "https://docs.datadoghq.com/account_management/api-app-keys/",
        needs_name=True,
    ),
    K(
        "newrelic-user-key",
        "newrelic",
        _p("NRAK-", UPPER, 27),
        ("NEW_RELIC_API_KEY",),
        "https://docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys/",
    ),
    K(
        "newrelic-license-key",
        "newrelic",
        lambda r: chars(r, HEX, 36) + "NRAL",
        ("NEW_RELIC_LICENSE_KEY",),
        "https://docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys/#license-key",
    ),
    K(
        "sentry-user-token",
        "sentry",
        _p("sntryu_", HEX, 64),
        ("SENTRY_AUTH_TOKEN",),
        "https://docs.sentry.io/account/auth-tokens/",
    ),
    K(
        "dynatrace-token",
        "dynatrace",
        _dynatrace,
        ("DT_API_TOKEN",),
        "https://docs.dynatrace.com/docs/dynatrace-api/basics/dynatrace-api-authentication",
    ),
    K(
        "grafana-service-account-token",
        "grafana",
        _grafana_sa,
        ("GRAFANA_TOKEN",),
        "https://grafana.com/docs/grafana/latest/administration/service-accounts/",
    ),
    K(
        "atlassian-api-token",
        "atlassian",
        _atlassian,
        ("JIRA_API_TOKEN", "CONFLUENCE_API_TOKEN"),
        "https://support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account/",
    ),
    K(
        "airtable-pat",
        "airtable",
        _airtable,
        ("AIRTABLE_API_KEY", "AIRTABLE_TOKEN"),
        "https://airtable.com/developers/web/guides/personal-access-tokens",
    ),
    K("asana-pat", "asana", _asana, ("ASANA_ACCESS_TOKEN",), "https://developers.asana.com/docs/personal-access-token"),
    K(
        "hubspot-private-app-token",
        "hubspot",
        _hubspot,
        ("HUBSPOT_ACCESS_TOKEN",),
        "https://developers.hubspot.com/docs/api/private-apps",
    ),
    K(
        "linear-api-key",
        "linear",
        _p("lin_api_", ALNUM, 40),
        ("LINEAR_API_KEY",),
        "https://linear.app/developers/graphql#personal-api-keys",
    ),
    K(
        "notion-token",
        "notion",
        lambda r: "ntn_" + chars(r, string.digits, 11) + chars(r, ALNUM, 35),
        ("NOTION_TOKEN",),
        "https://developers.notion.com/docs/authorization",
    ),
    K(
        "clickup-token",
        "clickup",
        _clickup,
        ("CLICKUP_API_TOKEN",),
        "https://developer.clickup.com/docs/authentication",
    ),
    K(
        "contentful-pat",
        "contentful",
        _p("CFPAT-", URLSAFE, 43),
        ("CONTENTFUL_MANAGEMENT_TOKEN",),
        "https://www.contentful.com/developers/docs/references/authentication/",
    ),
    K(
        "figma-pat",
        "figma",
        _p("figd_", URLSAFE, 40),
        ("FIGMA_TOKEN",),
        "https://www.figma.com/developers/api#access-tokens",
    ),
    K(
        "okta-api-token",
        "okta",
        _p("00", URLSAFE, 40),
        ("OKTA_API_TOKEN",),
        "https://developer.okta.com/docs/guides/create-an-api-token/main/",
        needs_name=True,
    ),
    K(
        "launchdarkly-api-key",
        "launchdarkly",
        lambda r: "api-" + _uuid(r),
        ("LD_API_KEY",),
        "https://docs.launchdarkly.com/home/account/api",
    ),
    K(
        "adafruit-io-key",
        "adafruit",
        _p("aio_", ALNUM, 28),
        ("ADAFRUIT_IO_KEY",),
        "https://io.adafruit.com/api/docs/#authentication",
    ),
    K(
        "dropbox-access-token",
        "dropbox",
        _dropbox,
        ("DROPBOX_ACCESS_TOKEN",),
        "https://developers.dropbox.com/oauth-guide",
    ),
    K(
        "cloudflare-api-token",
        "cloudflare",
        _p("", URLSAFE, 40),
        ("CLOUDFLARE_API_TOKEN",),
        "https://developers.cloudflare.com/fundamentals/api/get-started/create-token/",
        needs_name=True,
    ),
    K(
        "algolia-admin-key",
        "algolia",
        _p("", HEX, 32),
        ("ALGOLIA_ADMIN_KEY",),
        "https://www.algolia.com/doc/guides/security/api-keys/",
        needs_name=True,
    ),
    K(
        "confluent-api-secret",
        "confluent",
        _p("", B64, 64),
        ("CONFLUENT_API_SECRET", "KAFKA_SASL_PASSWORD"),
        "https://docs.confluent.io/cloud/current/security/authenticate/workload-identities/service-accounts/api-keys/overview.html",
        needs_name=True,
    ),
    # --- keys ---
    K("age-secret-key", "age", _age, ("AGE_SECRET_KEY", "SOPS_AGE_KEY"), "https://age-encryption.org/v1"),
    K(
        "wireguard-private-key",
        "wireguard",
        _b64(32),
        ("PrivateKey", "WG_PRIVATE_KEY"),
        "https://www.wireguard.com/quickstart/",
        needs_name=True,
    ),
    K(
        "private-key-rsa",
        "private-key",
        keys.rsa_pkcs1,
        ("PRIVATE_KEY",),
        "https://datatracker.ietf.org/doc/html/rfc7468#section-11",
        multiline=True,
    ),
    K(
        "private-key-openssh",
        "private-key",
        keys.openssh_ed25519,
        ("SSH_PRIVATE_KEY",),
        "https://github.com/openssh/openssh-portable/blob/master/PROTOCOL.key",
        multiline=True,
    ),
    K(
        "private-key-ec",
        "private-key",
        keys.ec_sec1,
        ("TLS_KEY",),
        "https://datatracker.ietf.org/doc/html/rfc5915",
        multiline=True,
    ),
    # --- URLs and passwords ---
    K(
        "postgres-url",
        "database",
        _db_url("postgresql", 5432, "/orders"),
        ("DATABASE_URL",),
        "https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS",
        url=True,
        count=3,
    ),
    K(
        "mysql-url",
        "database",
        _db_url("mysql", 3306, "/shop"),
        ("MYSQL_URL",),
        "https://dev.mysql.com/doc/refman/8.0/en/connecting-using-uri-or-key-value-pairs.html",
        url=True,
    ),
    K(
        "mongodb-url",
        "database",
        _mongo,
        ("MONGODB_URI",),
        "https://www.mongodb.com/docs/manual/reference/connection-string/",
        url=True,
    ),
    K(
        "amqp-url",
        "database",
        _db_url("amqps", 5671, "/prod"),
        ("BROKER_URL",),
        "https://www.rabbitmq.com/docs/uri-spec",
        url=True,
    ),
    K(
        "generic-password",
        "password",
        _password,
        ("DB_PASSWORD", "password", "SMTP_PASSWORD", "admin_password", "LDAP_BIND_PASSWORD", "redis_password"),
        "https://owasp.org/www-community/vulnerabilities/Use_of_hard-coded_password",
        needs_name=True,
        count=40,
    ),
)
KINDS_BY_ID = {kind.id: kind for kind in KINDS}
