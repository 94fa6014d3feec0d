"""Places where secrets leak that a ``NAME = value`` line does not cover (issue 14's list of
contexts): YAML block scalars, commented-out lines, SQL, connection strings, credential files
(``.pgpass``, ``.netrc``, ``.npmrc``, ``.pypirc``, Maven ``settings.xml``, ``gradle.properties``,
kubeconfig), ``Authorization`` headers in nginx, Apache, curl and ``.http`` files, PowerShell,
``psexec`` and ``net use``, WordPress salts, PHPMailer, frontend env files, and Jupyter cell outputs.

Each idiom writes whole files in the layout the owning tool uses, with the secrets and the hard
negatives that file type really holds (a kubeconfig's certificate data, the WordPress sample's
"put your unique phrase here", ``NEXT_PUBLIC_`` publishable keys). Values come from the same
format-based makers as the rest of the corpus (``tokens``, ``keys``); nothing here reads a rule.
The idioms draw from their own random stream, so adding them left the rest of the corpus as it was.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable

from benchmarks.accuracy import keys, tokens
from benchmarks.accuracy.model import Plant, Rendered

Part = Rendered | str | list[str]
IdiomFile = tuple[str, list[Part], list[Plant]]  # path, lines and rendered plants, plants in order
Idiom = Callable[[random.Random, int], IdiomFile]

# Provider tokens that identify themselves (no name needed), one line, not a URL: what the idioms
# below put where a bare token goes.
SELF_EVIDENT = (
    "github-pat",
    "gitlab-pat",
    "slack-bot-token",
    "stripe-secret-key",
    "openai-project-key",
    "anthropic-api-key",
    "huggingface-token",
    "sendgrid-api-key",
    "npm-token",
    "digitalocean-token",
    "shopify-access-token",
    "linear-api-key",
    "groq-api-key",
    "dockerhub-pat",
    "databricks-token",
    "vault-service-token",
)
USERS = ("app", "svc_orders", "deploy", "reporting", "etl_loader", "backup", "ci-bot", "admin")
HOSTS = ("db.internal.acme.io", "10.20.3.14", "sql-prod-01.corp.acme.local", "pg.acme-prod.net")


class Builder:
    """Parts of one file plus the plants they carry, in order."""

    def __init__(self) -> None:
        self.parts: list[Part] = []
        self.plants: list[Plant] = []

    def text(self, *lines: str) -> None:
        self.parts.append(list(lines))

    def put(self, plant: Plant, lines: list[str], start: int, end: int | None = None) -> None:
        self.parts.append(Rendered(lines, start, start if end is None else end))
        self.plants.append(plant)

    def done(self, path: str) -> IdiomFile:
        return path, self.parts, self.plants


def _positive(kind: str, family: str, value: str, name: str = "") -> Plant:
    return Plant(kind=kind, family=family, value=value, name=name or kind, positive=True)


def _negative(kind: str, value: str, name: str = "") -> Plant:
    return Plant(kind="neg:" + kind, family="negative", value=value, name=name or kind, positive=False)


def _token(rng: random.Random) -> Plant:
    kind = tokens.KINDS_BY_ID[rng.choice(SELF_EVIDENT)]
    return _positive(kind.id, kind.family, kind.make(rng), kind.names[0])


def _password(rng: random.Random, kind: str) -> Plant:
    value = tokens.random_password(rng) if rng.random() < 0.7 else tokens.human_password(rng)
    return _positive(kind, "password", value)


def _opaque(rng: random.Random, count: int = 40) -> str:
    return tokens.chars(rng, tokens.ALNUM, count)


# --- YAML block scalars ---------------------------------------------------------------------------


def yaml_block_scalar(rng: random.Random, n: int) -> IdiomFile:
    """``key: |`` and ``key: >-`` with the value alone on the next line."""
    out = Builder()
    out.text("# rendered by ops/render-config", "service:", "  name: billing", "  replicas: 3", "integrations:")
    for index in range(2):
        plant = _token(rng)
        style = rng.choice(["|", ">-", "|-", ">"])
        key = rng.choice(["api_key", "token", "secret", "access_token", "credentials"])
        out.put(plant, [f"  provider_{index}:", f"    {key}: {style}", f"      {plant.value}"], 2)
    if rng.random() < 0.5:
        out.text("  webhook:", "    description: >-", "      Posts a summary of failed payments", "      every hour.")
    password = _password(rng, "password-yaml-block")
    out.put(password, ["database:", "  user: app", "  password: >-", f"    {password.value}"], 3)
    return out.done(f"deploy/helm/block{n}/values-prod.yaml")


# --- commented-out lines ----------------------------------------------------------------------------


def commented_out(rng: random.Random, n: int) -> IdiomFile:
    """The secret survives in a comment after the code moved to an environment variable."""
    variant = n % 5
    out = Builder()
    plant = _token(rng)
    name = plant.name
    if variant == 0:
        out.text('"""Payment client."""', "import os", "")
        out.put(plant, [f'# {name} = "{plant.value}"', f'{name} = os.environ["{name}"]'], 0)
        secret = _positive("secret-key-base-commented", "generic", tokens.chars(rng, tokens.HEX, 128))
        out.text("", "# Old value, before we moved to the vault:")
        out.put(secret, [f"# secret_key_base: {secret.value}"], 0)
        return out.done(f"services/comment{n}/app/payments.py")
    if variant == 1:
        out.text("import { createClient } from './client';", "")
        out.put(plant, [f"// const apiKey = '{plant.value}';", "const apiKey = process.env.API_KEY;"], 0)
        password = _password(rng, "password-commented")
        out.put(password, ["/*", "  dbConfig.password = " + json.dumps(password.value) + ";", "*/"], 1)
        return out.done(f"web/comment{n}/src/config.ts")
    if variant == 2:
        password = _password(rng, "password-commented")
        out.text("-- migrations/0042_reporting_role.sql", "BEGIN;")
        out.put(password, [f"-- ALTER ROLE reporting WITH LOGIN PASSWORD '{password.value}';"], 0)
        out.text("ALTER ROLE reporting WITH LOGIN;", "COMMIT;")
        return out.done(f"db/comment{n}/0042_reporting_role.sql")
    if variant == 3:
        out.text('<?xml version="1.0" encoding="utf-8"?>', "<configuration>", "  <appSettings>")
        out.put(plant, [f'    <!-- <add key="ApiKey" value="{plant.value}" /> -->'], 0)
        out.text('    <add key="ApiKey" value="%API_KEY%" />', "  </appSettings>", "</configuration>")
        return out.done(f"src/Comment{n}/App.config")
    password = _password(rng, "password-commented")
    out.text("@echo off", "setlocal")
    out.put(password, [f"REM set DEPLOY_PASSWORD={password.value}"], 0)
    out.put(plant, [f"rem set API_TOKEN={plant.value}"], 0)
    out.text('set "DEPLOY_PASSWORD=%1"', 'call deploy.cmd "%DEPLOY_PASSWORD%"')
    return out.done(f"tools/comment{n}/deploy.bat")


# --- SQL ------------------------------------------------------------------------------------------


def sql_credentials(rng: random.Random, n: int) -> IdiomFile:
    """Roles and users created with their password in a migration or a seed script."""
    out = Builder()
    out.text("-- roles for the reporting stack", "")
    statements: list[Callable[[str, str], str]] = [
        lambda user, pw: f"CREATE ROLE {user} WITH LOGIN PASSWORD '{pw}';",
        lambda user, pw: f"CREATE USER '{user}'@'%' IDENTIFIED BY '{pw}';",
        lambda user, pw: f'ALTER USER {user} IDENTIFIED BY "{pw}";',
        lambda user, pw: f"ALTER ROLE {user} WITH ENCRYPTED PASSWORD '{pw}' VALID UNTIL 'infinity';",
        lambda user, pw: f"CREATE LOGIN {user} WITH PASSWORD = '{pw}', CHECK_POLICY = OFF;",
        lambda user, pw: f"CREATE USER {user} PASSWORD '{pw}';",
    ]
    for make in rng.sample(statements, 3):
        plant = _password(rng, "password-sql")
        out.put(plant, [make(rng.choice(USERS).replace("-", "_"), plant.value)], 0)
        out.text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {rng.choice(USERS).replace('-', '_')};", "")
    negative = _negative("placeholder-template", ":'reporting_password'")
    out.put(negative, [f"ALTER ROLE reporting WITH PASSWORD {negative.value};"], 0)
    return out.done(f"db/migrations/{n:04d}_create_roles.sql")


# --- connection strings -----------------------------------------------------------------------------


def connection_strings(rng: random.Random, n: int) -> IdiomFile:
    """ODBC, ADO.NET and JDBC strings with the password inside."""
    host, user = rng.choice(HOSTS), rng.choice(USERS)
    forms: list[Callable[[str], str]] = [
        lambda pw: f"Driver={{ODBC Driver 18 for SQL Server}};Server=tcp:{host},1433;Uid={user};Pwd={pw};Encrypt=yes;",
        lambda pw: f"Server={host};Database=Orders;User Id={user};Password={pw};TrustServerCertificate=True;",
        lambda pw: f"Data Source={host};Initial Catalog=Billing;User ID={user};Password={pw}",
        lambda pw: f"jdbc:sqlserver://{host}:1433;databaseName=orders;user={user};password={pw}",
        lambda pw: f"jdbc:oracle:thin:{user}/{pw}@{host}:1521/ORCLPDB1",
        lambda pw: f"jdbc:mysql://{host}:3306/shop?user={user}&password={pw}&useSSL=true",
    ]
    out = Builder()
    first, second = rng.sample(forms, 2)
    if n % 2 == 0:
        out.text("{", '  "Logging": { "LogLevel": { "Default": "Information" } },', '  "ConnectionStrings": {')
        plant = _password(rng, "password-connection-string")
        out.put(plant, [f'    "Default": {json.dumps(first(plant.value))},'], 0)
        other = _password(rng, "password-connection-string")
        out.put(other, [f'    "Reporting": {json.dumps(second(other.value))}'], 0)
        out.text("  }", "}")
        return out.done(f"src/Conn{n}/appsettings.Production.json")
    out.text('<?xml version="1.0" encoding="utf-8"?>', "<configuration>", "  <connectionStrings>")
    plant = _password(rng, "password-connection-string")
    value = first(plant.value).replace("&", "&amp;")
    out.put(plant, [f'    <add name="Default" connectionString="{value}" providerName="System.Data.SqlClient" />'], 0)
    out.text("  </connectionStrings>", "</configuration>")
    return out.done(f"web/Conn{n}/Web.config")


# --- credential files ----------------------------------------------------------------------------------


def pgpass(rng: random.Random, n: int) -> IdiomFile:
    """``hostname:port:database:username:password``, one per line."""
    out = Builder()
    for _ in range(2):
        plant = _password(rng, "password-pgpass")
        out.put(plant, [f"{rng.choice(HOSTS)}:5432:{rng.choice(['orders', 'billing', '*'])}:app:{plant.value}"], 0)
    return out.done(f"ops/home{n}/.pgpass")


def netrc_multiline(rng: random.Random, n: int) -> IdiomFile:
    """The multi-line ``.netrc`` layout (``_netrc`` on Windows)."""
    out = Builder()
    plant = _password(rng, "password-netrc")
    out.put(plant, ["machine artifacts.acme.io", "  login deploy", f"  password {plant.value}"], 2)
    token = _positive("netrc-token", "url-credentials", _opaque(rng))
    out.put(token, ["", "machine api.acme.io", "login ci@acme.io", f"password {token.value}"], 3)
    return out.done(f"ops/win{n}/_netrc" if n % 2 else f"ops/user{n}/.netrc")


def git_credentials_password(rng: random.Random, n: int) -> IdiomFile:
    out = Builder()
    plant = _password(rng, "password-git-credentials")
    value = plant.value.replace("%", "%25")
    out.put(plant, [f"https://deploy:{value}@bitbucket.org"], 0)
    return out.done(f"ops/user{n}/.git-credentials")


def npmrc_legacy(rng: random.Random, n: int) -> IdiomFile:
    """``_auth`` (base64 of user:password) and ``_password`` (base64 of the password)."""
    out = Builder()
    out.text("registry=https://nexus.acme.io/repository/npm-group/", "always-auth=true")
    password = tokens.random_password(rng)
    both = _positive("npm-legacy-auth", "npm", base64.b64encode(f"deploy:{password}".encode()).decode())
    out.put(both, [f"_auth={both.value}"], 0)
    only = _positive("npm-legacy-auth", "npm", base64.b64encode(tokens.random_password(rng).encode()).decode())
    out.put(
        only,
        [
            "//nexus.acme.io/repository/npm-private/:username=deploy",
            f"//nexus.acme.io/repository/npm-private/:_password={only.value}",
        ],
        1,
    )
    negative = _negative("placeholder-template", "${NPM_TOKEN}")
    out.put(negative, [f"//registry.npmjs.org/:_authToken={negative.value}"], 0)
    return out.done(f"web/legacy{n}/.npmrc")


def pypirc_password(rng: random.Random, n: int) -> IdiomFile:
    out = Builder()
    out.text("[distutils]", "index-servers =", "    internal", "", "[internal]", "repository = https://pypi.acme.io/")
    plant = _password(rng, "password-pypirc")
    out.put(plant, ["username = deploy", f"password = {plant.value}"], 1)
    return out.done(f"release/internal{n}/.pypirc")


def maven_settings(rng: random.Random, n: int) -> IdiomFile:
    out = Builder()
    out.text('<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">', "  <servers>")
    for server in ("nexus-releases", "nexus-snapshots"):
        plant = _password(rng, "password-maven")
        lines = ["    <server>", f"      <id>{server}</id>", "      <username>deploy</username>"]
        out.put(plant, [*lines, f"      <password>{plant.value}</password>", "    </server>"], 3)
    negative = _negative("placeholder-template", "${env.MAVEN_PASSWORD}")
    out.put(
        negative,
        [
            "    <server><id>central</id><username>ci</username>",
            f"      <password>{negative.value}</password></server>",
        ],
        1,
    )
    out.text("  </servers>", "</settings>")
    return out.done(f"ci/maven{n}/settings.xml")


def gradle_properties(rng: random.Random, n: int) -> IdiomFile:
    out = Builder()
    out.text("org.gradle.jvmargs=-Xmx2g", "android.useAndroidX=true")
    for key in rng.sample(["nexusPassword", "ossrhPassword", "signing.password", "artifactoryPassword"], 2):
        plant = _password(rng, "password-gradle")
        out.put(plant, [f"{key}={plant.value}"], 0)
    return out.done(f"android/gradle{n}/gradle.properties")


def kubeconfig(rng: random.Random, n: int) -> IdiomFile:
    """A service-account ``token`` or a ``client-key-data`` blob; the certificates are public."""
    out = Builder()
    ca = _negative("certificate", base64.b64encode(keys.certificate(rng).encode()).decode())
    out.text("apiVersion: v1", "kind: Config", "clusters:", "- cluster:")
    out.put(ca, [f"    certificate-authority-data: {ca.value}"], 0)
    out.text("    server: https://k8s.prod.acme.io:6443", "  name: prod", "users:", "- name: deployer", "  user:")
    if n % 2 == 0:
        claims: dict[str, object] = {
            "iss": "kubernetes/serviceaccount",
            "kubernetes.io/serviceaccount/namespace": "ci",
            "kubernetes.io/serviceaccount/secret.name": "deployer-token-"
            + tokens.chars(rng, "bcdfghjklmnpqrstvwxz2456789", 5),
            "kubernetes.io/serviceaccount/service-account.name": "deployer",
            "sub": "system:serviceaccount:ci:deployer",
        }
        token = _positive("kubernetes-sa-token", "kubernetes", tokens.jwt(rng, claims, alg="RS256"))
        out.put(token, [f"    token: {token.value}"], 0)
    else:
        cert = _negative("certificate", base64.b64encode(keys.certificate(rng).encode()).decode())
        out.put(cert, [f"    client-certificate-data: {cert.value}"], 0)
        key = _positive("kubeconfig-client-key", "kubernetes", base64.b64encode(keys.ec_sec1(rng).encode()).decode())
        out.put(key, [f"    client-key-data: {key.value}"], 0)
    out.text("contexts:", "- context: {cluster: prod, user: deployer}", "  name: prod", "current-context: prod")
    return out.done(f"ops/kube{n}/config" if n % 3 else f"deploy/kube{n}/kubeconfig.yaml")


# --- Authorization headers ----------------------------------------------------------------------------


def _basic(rng: random.Random) -> Plant:
    user = rng.choice(USERS)
    return _positive(
        "basic-auth-header", "http-auth", base64.b64encode(f"{user}:{tokens.random_password(rng)}".encode()).decode()
    )


def _bearer(rng: random.Random) -> Plant:
    if rng.random() < 0.5:
        return _token(rng)
    return _positive("bearer-token", "http-auth", _opaque(rng, rng.choice([32, 40, 48])))


def auth_headers(rng: random.Random, n: int) -> IdiomFile:
    variant = n % 4
    out = Builder()
    if variant == 0:
        basic, bearer = _basic(rng), _bearer(rng)
        out.text(
            "server {", "    listen 443 ssl;", "    location /upstream/ {", "        proxy_pass https://legacy.acme.io;"
        )
        out.put(basic, [f'        proxy_set_header Authorization "Basic {basic.value}";'], 0)
        out.text("    }", "    location /metrics/ {", "        proxy_pass https://metrics.acme.io;")
        out.put(bearer, [f'        proxy_set_header Authorization "Bearer {bearer.value}";'], 0)
        out.text("    }", "}")
        return out.done(f"deploy/nginx{n}/conf.d/upstream.conf")
    if variant == 1:
        bearer = _bearer(rng)
        out.text("<VirtualHost *:443>", "    ServerName api.acme.io", "    ProxyPass /v1/ https://backend.acme.io/v1/")
        out.put(bearer, [f'    RequestHeader set Authorization "Bearer {bearer.value}"'], 0)
        out.text("</VirtualHost>")
        return out.done(f"deploy/apache{n}/sites-enabled/api.conf")
    if variant == 2:
        basic, user = _basic(rng), rng.choice(USERS)
        password = _password(rng, "password-curl")
        out.text("#!/bin/sh", "set -e")
        out.put(
            basic,
            [f"curl -fsS -H 'Authorization: Basic {basic.value}' https://nexus.acme.io/service/rest/v1/status"],
            0,
        )
        out.put(password, [f"curl -fsS -u {user}:{password.value} https://jenkins.acme.io/job/deploy/build"], 0)
        return out.done(f"scripts/curl{n}/trigger.sh")
    bearer = _bearer(rng)
    out.text("### List deployments", "GET https://api.acme.io/v1/deployments")
    out.put(bearer, [f"Authorization: Bearer {bearer.value}"], 0)
    out.text("Accept: application/json", "", "### Health", "GET https://api.acme.io/health")
    negative = _negative("placeholder-template", "{{token}}")
    out.put(negative, [f"Authorization: Bearer {negative.value}"], 0)
    return out.done(f"http/requests{n}/deployments.http")


# --- Windows administration ----------------------------------------------------------------------------


def powershell(rng: random.Random, n: int) -> IdiomFile:
    out = Builder()
    plant = _password(rng, "password-powershell")
    out.text("param([string]$Server = 'sql-prod-01')", "")
    out.put(plant, [f'$secure = ConvertTo-SecureString "{plant.value}" -AsPlainText -Force'], 0)
    out.text("$cred = New-Object System.Management.Automation.PSCredential ('CORP\\svc_deploy', $secure)")
    negative = _negative("placeholder-template", "$env:DEPLOY_PASSWORD")
    out.put(negative, [f"$fromEnv = ConvertTo-SecureString {negative.value} -AsPlainText -Force"], 0)
    out.text("Invoke-Command -ComputerName $Server -Credential $cred -ScriptBlock { Restart-Service W3SVC }")
    return out.done(f"ops/windows{n}/Restart-Web.ps1")


def remote_admin(rng: random.Random, n: int) -> IdiomFile:
    """``psexec -u -p`` and ``net use ... /user:`` in a batch file."""
    out = Builder()
    out.text("@echo off")
    psexec = _password(rng, "password-psexec")
    out.put(
        psexec,
        [f"psexec \\\\app-0{n % 9 + 1} -u CORP\\svc_deploy -p {psexec.value} -h cmd /c C:\\deploy\\install.cmd"],
        0,
    )
    net_use = _password(rng, "password-net-use")
    out.put(net_use, [f"net use Z: \\\\fs01\\releases {net_use.value} /user:CORP\\svc_deploy /persistent:no"], 0)
    negative = _negative("placeholder-word", "*")
    out.put(negative, [f"net use Y: \\\\fs01\\logs {negative.value} /user:CORP\\%USERNAME%"], 0)
    return out.done(f"ops/windows{n}/deploy.cmd")


# --- PHP ------------------------------------------------------------------------------------------------

WP_KEYS = (
    "AUTH_KEY",
    "SECURE_AUTH_KEY",
    "LOGGED_IN_KEY",
    "NONCE_KEY",
    "AUTH_SALT",
    "SECURE_AUTH_SALT",
    "LOGGED_IN_SALT",
    "NONCE_SALT",
)
# https://api.wordpress.org/secret-key/1.1/salt/ returns 64 printable characters per key; quotes
# and backslashes are left out here so the PHP stays valid without escaping.
WP_ALPHABET = string.ascii_letters + string.digits + "!#$%&()*+,-./:;<=>?@[]^_`{|}~ "


def wordpress(rng: random.Random, n: int) -> IdiomFile:
    out = Builder()
    out.text("<?php", "define( 'DB_NAME', 'wordpress' );", "define( 'DB_USER', 'wp' );")
    password = _password(rng, "password-wordpress")
    out.put(password, [f"define( 'DB_PASSWORD', '{password.value}' );"], 0)
    out.text("define( 'DB_HOST', 'localhost' );", "")
    if n % 2 == 0:
        for key in rng.sample(WP_KEYS, 4):
            salt = _positive("wordpress-salt", "wordpress", tokens.chars(rng, WP_ALPHABET, 64))
            out.put(salt, [f"define('{key}', {' ' * (17 - len(key))}'{salt.value}');"], 0)
    else:
        for key in WP_KEYS[:3]:
            negative = _negative("placeholder-word", "put your unique phrase here")
            out.put(negative, [f"define( '{key}', '{negative.value}' );"], 0)
    out.text("$table_prefix = 'wp_';", "require_once ABSPATH . 'wp-settings.php';")
    return out.done(f"web/blog{n}/wp-config.php")


def phpmailer(rng: random.Random, n: int) -> IdiomFile:
    out = Builder()
    out.text("<?php", "use PHPMailer\\PHPMailer\\PHPMailer;", "$mail = new PHPMailer(true);", "$mail->isSMTP();")
    out.text("$mail->Host = 'smtp.acme.io';", "$mail->SMTPAuth = true;", "$mail->Username = 'noreply@acme.io';")
    plant = _password(rng, "password-phpmailer")
    out.put(plant, [f"$mail->Password = '{plant.value}';"], 0)
    out.text("$mail->SMTPSecure = PHPMailer::ENCRYPTION_STARTTLS;", "$mail->Port = 587;")
    return out.done(f"web/contact{n}/send.php")


# --- frontend env files -----------------------------------------------------------------------------------

FRONTEND_SECRETS = (
    ("STRIPE_SECRET_KEY", "stripe-secret-key"),
    ("OPENAI_API_KEY", "openai-project-key"),
    ("SUPABASE_SERVICE_ROLE_KEY", "supabase-service-role-key"),
    ("GITHUB_TOKEN", "github-pat"),
    ("SENDGRID_API_KEY", "sendgrid-api-key"),
    ("ANTHROPIC_API_KEY", "anthropic-api-key"),
)


def frontend_env(rng: random.Random, n: int) -> IdiomFile:
    """Server secrets in variables a bundler ships to every browser."""
    out = Builder()
    prefix = ("REACT_APP_", "VITE_", "NEXT_PUBLIC_")[n % 3]
    out.text(f"{prefix}API_URL=https://api.acme.io", f"{prefix}SENTRY_ENVIRONMENT=production")
    for name, kind_id in rng.sample(FRONTEND_SECRETS, 2):
        kind = tokens.KINDS_BY_ID[kind_id]
        plant = _positive(kind.id, kind.family, kind.make(rng), prefix + name)
        out.put(plant, [f"{prefix}{name}={plant.value}"], 0)
    password = _password(rng, "password-frontend-env")
    out.put(password, [f"{prefix}ADMIN_PASSWORD={password.value}"], 0)
    publishable = _negative("publishable-key", "pk_live_" + _opaque(rng, 24))
    out.put(publishable, [f"{prefix}STRIPE_PUBLISHABLE_KEY={publishable.value}"], 0)
    return out.done(f"web/front{n}/.env.production" if n % 2 else f"web/front{n}/.env.local")


# --- notebook outputs ---------------------------------------------------------------------------------------


def _cell(source: list[str], outputs: list[dict[str, object]]) -> dict[str, object]:
    return {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": outputs, "source": source}


def notebook_outputs(rng: random.Random, n: int) -> IdiomFile:
    """Secrets printed by a cell: a stream, an ``execute_result``'s ``text/plain``, a traceback."""
    token = _token(rng)
    variant = n % 3
    if variant == 0:
        output: dict[str, object] = {
            "name": "stdout",
            "output_type": "stream",
            "text": ["loaded settings\n", f"{token.name}={token.value}\n", "ready\n"],
        }
        cell = _cell(["from app.settings import dump\n", "dump()"], [output])
    elif variant == 1:
        output = {
            "data": {"text/plain": [f"'{token.value}'"]},
            "execution_count": 1,
            "metadata": {},
            "output_type": "execute_result",
        }
        cell = _cell(["client.session.headers['Authorization'].split()[-1]"], [output])
    else:
        password = tokens.random_password(rng)
        url = f"postgresql://analytics:{password}@{rng.choice(HOSTS)}:5432/warehouse"
        token = _positive("postgres-url", "database", url, "DATABASE_URL")
        output = {
            "ename": "OperationalError",
            "evalue": f'could not connect to server: "{url}"',
            "output_type": "error",
            "traceback": ["Traceback (most recent call last)", f"OperationalError: could not connect: {url}"],
        }
        cell = _cell(["engine.connect()"], [output])
    document = {
        "cells": [_cell(["import os\n"], []), cell],
        "metadata": {"kernelspec": {"name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    lines = json.dumps(document, indent=1).split("\n")
    marker = json.dumps(token.value)[1:-1]
    hits = [i for i, line in enumerate(lines) if marker in line]
    out = Builder()
    out.put(token, lines, hits[0], hits[-1])
    return out.done(f"notebooks/outputs{n}/exploration.ipynb")


IDIOMS: tuple[tuple[Idiom, int], ...] = (  # builder, how many files
    (yaml_block_scalar, 3),
    (commented_out, 5),
    (sql_credentials, 2),
    (connection_strings, 3),
    (pgpass, 2),
    (netrc_multiline, 2),
    (git_credentials_password, 1),
    (npmrc_legacy, 1),
    (pypirc_password, 1),
    (maven_settings, 1),
    (gradle_properties, 2),
    (kubeconfig, 3),
    (auth_headers, 4),
    (powershell, 2),
    (remote_admin, 2),
    (wordpress, 2),
    (phpmailer, 2),
    (frontend_env, 3),
    (notebook_outputs, 3),
)

# Where each idiom's file layout is documented (the token formats inside come from `tokens`).
REFERENCES: dict[str, tuple[str, ...]] = {
    "yaml_block_scalar": ("https://yaml.org/spec/1.2.2/#81-block-scalar-styles",),
    "commented_out": ("https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/rem",),
    "sql_credentials": (
        "https://www.postgresql.org/docs/current/sql-createrole.html",
        "https://dev.mysql.com/doc/refman/8.0/en/create-user.html",
        "https://docs.oracle.com/en/database/oracle/oracle-database/19/sqlrf/ALTER-USER.html",
        "https://learn.microsoft.com/en-us/sql/t-sql/statements/create-login-transact-sql",
    ),
    "connection_strings": (
        "https://learn.microsoft.com/en-us/sql/connect/odbc/dsn-connection-string-attribute",
        "https://learn.microsoft.com/en-us/dotnet/framework/data/adonet/connection-string-syntax",
        "https://learn.microsoft.com/en-us/sql/connect/jdbc/building-the-connection-url",
        "https://docs.oracle.com/en/database/oracle/oracle-database/19/jjdbc/data-sources-and-URLs.html",
    ),
    "pgpass": ("https://www.postgresql.org/docs/current/libpq-pgpass.html",),
    "netrc_multiline": ("https://www.gnu.org/software/inetutils/manual/html_node/The-_002enetrc-file.html",),
    "git_credentials_password": ("https://git-scm.com/docs/git-credential-store#_storage_format",),
    "npmrc_legacy": ("https://docs.npmjs.com/cli/v10/configuring-npm/npmrc#auth-related-configuration",),
    "pypirc_password": ("https://packaging.python.org/en/latest/specifications/pypirc/",),
    "maven_settings": ("https://maven.apache.org/settings.html#servers",),
    "gradle_properties": ("https://docs.gradle.org/current/userguide/build_environment.html",),
    "kubeconfig": ("https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/",),
    "auth_headers": (
        "https://datatracker.ietf.org/doc/html/rfc7617",
        "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_set_header",
        "https://httpd.apache.org/docs/current/mod/mod_headers.html#requestheader",
        "https://www.jetbrains.com/help/idea/exploring-http-syntax.html",
    ),
    "powershell": (
        "https://learn.microsoft.com/en-us/powershell/module/microsoft.powershell.security/convertto-securestring",
    ),
    "remote_admin": (
        "https://learn.microsoft.com/en-us/sysinternals/downloads/psexec",
        "https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-server-2012-r2-and-2012/gg651155(v=ws.11)",
    ),
    "wordpress": ("https://developer.wordpress.org/apis/wp-config-php/#security-keys",),
    "phpmailer": ("https://github.com/PHPMailer/PHPMailer#a-simple-example",),
    "frontend_env": (
        "https://create-react-app.dev/docs/adding-custom-environment-variables/",
        "https://vite.dev/guide/env-and-mode",
        "https://nextjs.org/docs/app/guides/environment-variables#bundling-environment-variables-for-the-browser",
    ),
    "notebook_outputs": ("https://nbformat.readthedocs.io/en/latest/format_description.html#code-cell-outputs",),
}
