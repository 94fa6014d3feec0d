"""Non-leaks as real code has them: placeholders, references, example keys, hashes, ids, public
material and names that only sound secret. Every file here should produce no finding."""

# ruff: noqa: E501  # one snippet per line: the templates read as the files they imitate

from __future__ import annotations

import base64
import hashlib
import json
import random
import uuid

from .fake import ALNUM, B64, HEX, Fake
from .model import Snippet

PLACEHOLDERS = [
    "<YOUR_API_KEY>",
    "<your-token-here>",
    "your-api-key-here",
    "YOUR_SECRET_KEY",
    "your_password",
    "sk-...",
    "xxxxxxxxxxxxxxxxxxxxxxxx",
    "XXXXXXXXXXXXXXXX",
    "********",
    "changeme",
    "change-me",
    "REPLACE_ME",
    "<password>",
    "[YOUR_TOKEN]",
    "{{API_KEY}}",
    "TODO",
    "secret",
    "password",
    "example-token",
    "dummy",
    "test-token",
    "fake-secret-for-tests",
    "<redacted>",
    "REDACTED",
    "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
    "AKIAXXXXXXXXXXXXXXXX",
    "xoxb-your-bot-token",
    "insert-key-here",
    "paste_your_token_here",
    "...",
    "null",
    "none",
]

REFERENCES = [
    'os.getenv("{n}")',
    'os.environ["{n}"]',
    "process.env.{n}",
    "ENV['{n}']",
    'System.getenv("{n}")',
    "${{{{ secrets.{n} }}}}",
    "{{{{ .Values.{c} }}}}",
    "${{{n}}}",
    "$({n})",
    "%({c})s",
    "{{{{ {c} }}}}",
    "vault:secret/data/app#{c}",
    "!vault |",
    'env("{n}")',
    "var.{c}",
    "Secrets.{c}",
    '@Value("${{{c}}}")',
]

# Example values published in provider documentation.
DOC_EXAMPLES = [
    ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
    ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("aws_secret_access_key", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"),
    ("STRIPE_SECRET_KEY", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"),
    ("STRIPE_PUBLISHABLE_KEY", "pk_test_TYooMQauvdEDq54NiTphI7jx"),
    ("TWILIO_ACCOUNT_SID", "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"),
    ("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"),
    (
        "JWT_EXAMPLE",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    ),
]


def _s(path: str, style: str, text: str) -> Snippet:
    return Snippet(path, text, style, "none")


def placeholders(fake: Fake, rng: random.Random) -> list[Snippet]:
    from .leaks import CONTEXTS, PROVIDERS

    out = []
    for i, value in enumerate(PLACEHOLDERS * 2):
        _, _, name, camel = PROVIDERS[(i * 7) % len(PROVIDERS)]
        _style, filename, render = CONTEXTS[(i * 5) % len(CONTEXTS)]
        out.append(_s(f"placeholder-{i:03d}/{filename}", "placeholder", render(name, camel, value)))
    return out


def references(fake: Fake, rng: random.Random) -> list[Snippet]:
    from .leaks import CONTEXTS, PROVIDERS

    out = []
    for i, template in enumerate(REFERENCES * 3):
        _, _, name, camel = PROVIDERS[(i * 3) % len(PROVIDERS)]
        value = template.format(n=name, c=camel)
        _style, filename, render = CONTEXTS[(i * 11) % len(CONTEXTS)]
        out.append(_s(f"reference-{i:03d}/{filename}", "reference", render(name, camel, value)))
    # References written the idiomatic way, not quoted as a string.
    out.append(
        _s(
            "ref-py/settings.py",
            "reference",
            'import os\nSECRET_KEY = os.environ["DJANGO_SECRET_KEY"]\nDB_PASSWORD = os.getenv("DB_PASSWORD", "")\n',
        )
    )
    out.append(
        _s(
            "ref-js/config.js",
            "reference",
            "module.exports = {\n  apiKey: process.env.API_KEY,\n  dbPassword: process.env.DB_PASSWORD || '',\n};\n",
        )
    )
    out.append(_s("ref-rb/secrets.yml", "reference", 'production:\n  secret_key_base: <%= ENV["SECRET_KEY_BASE"] %>\n'))
    out.append(
        _s(
            "ref-java/AppConfig.java",
            "reference",
            'class AppConfig {\n    private final String apiKey = System.getenv("API_KEY");\n    @Value("${db.password}")\n    private String password;\n}\n',
        )
    )
    out.append(
        _s(
            "ref-gha/ci.yml",
            "reference",
            "env:\n  NPM_TOKEN: ${{ secrets.NPM_TOKEN }}\n  AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}\n",
        )
    )
    out.append(
        _s(
            "ref-helm/secret.yaml",
            "reference",
            'stringData:\n  password: {{ .Values.postgresql.auth.password | quote }}\n  token: {{ required "token" .Values.token }}\n',
        )
    )
    out.append(
        _s(
            "ref-tf/main.tf",
            "reference",
            'provider "aws" {\n  access_key = var.aws_access_key\n  secret_key = var.aws_secret_key\n}\n',
        )
    )
    out.append(
        _s(
            "ref-compose/docker-compose.yml",
            "reference",
            "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?err}\n      MYSQL_ROOT_PASSWORD_FILE: /run/secrets/db_root\n",
        )
    )
    out.append(
        _s(
            "ref-py-format/db.py",
            "reference",
            'DSN = "postgresql://%(user)s:%(password)s@%(host)s/%(db)s"\nURL = f"postgres://{user}:{password}@{host}:5432/{name}"\n',
        )
    )
    out.append(
        _s(
            "ref-ansible/vars.yml",
            "reference",
            "db_password: \"{{ vault_db_password }}\"\napi_token: \"{{ lookup('env', 'API_TOKEN') }}\"\n",
        )
    )
    out.append(
        _s(
            "ref-cs/appsettings.json",
            "reference",
            json.dumps(
                {
                    "ConnectionStrings": {
                        "Default": "Server=(localdb)\\mssqllocaldb;Database=App;Trusted_Connection=True;"
                    }
                },
                indent=2,
            )
            + "\n",
        )
    )
    out.append(
        _s(
            "ref-shell/deploy.sh",
            "reference",
            '#!/bin/bash\ncurl -H "Authorization: Bearer $GITHUB_TOKEN" https://api.github.com/user\nmysql -u root -p"$MYSQL_PASSWORD" app < dump.sql\n',
        )
    )
    out.append(
        _s(
            "ref-k8s/deploy.yaml",
            "reference",
            "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef:\n        name: db\n        key: password\n",
        )
    )
    return out


def doc_examples(fake: Fake, rng: random.Random) -> list[Snippet]:
    out = []
    for i, (name, value) in enumerate(DOC_EXAMPLES):
        out.append(
            _s(
                f"docexample-{i:02d}/README.md",
                "doc-example",
                f"## Configuration\n\nFor example:\n\n```\n{name}={value}\n```\n",
            )
        )
        out.append(
            _s(
                f"docexample-py-{i:02d}/example.py",
                "doc-example",
                f'# from the provider docs\n{name.lower()} = "{value}"\n',
            )
        )
    return out


def hashes_and_ids(fake: Fake, rng: random.Random) -> list[Snippet]:
    out = []
    for i in range(6):
        data = rng.randbytes(32)
        sha1 = hashlib.sha1(data, usedforsecurity=False).hexdigest()
        sha256 = hashlib.sha256(data).hexdigest()
        sha512_b64 = base64.b64encode(hashlib.sha512(data).digest()).decode()
        uid = str(uuid.UUID(bytes=rng.randbytes(16), version=4))
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        out += [
            _s(
                f"lock-{i}/package-lock.json",
                "lockfile",
                json.dumps(
                    {
                        "name": "app",
                        "lockfileVersion": 3,
                        "packages": {
                            "node_modules/left-pad": {
                                "version": "1.3.0",
                                "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",
                                "integrity": f"sha512-{sha512_b64}",
                            }
                        },
                    },
                    indent=2,
                )
                + "\n",
            ),
            _s(
                f"yarnlock-{i}/yarn.lock",
                "lockfile",
                f'"lodash@^4.17.21":\n  version "4.17.21"\n  resolved "https://registry.yarnpkg.com/lodash/-/lodash-4.17.21.tgz#{sha1}"\n  integrity sha512-{sha512_b64}\n',
            ),
            _s(
                f"poetry-{i}/poetry.lock",
                "lockfile",
                f'[[package]]\nname = "requests"\nversion = "2.31.0"\nfiles = [\n    {{file = "requests-2.31.0.tar.gz", hash = "sha256:{sha256}"}},\n]\n',
            ),
            _s(
                f"gosum-{i}/go.sum",
                "lockfile",
                f"github.com/pkg/errors v0.9.1 h1:{base64.b64encode(hashlib.sha256(data + b'x').digest()).decode()}\n",
            ),
            _s(
                f"commit-{i}/CHANGELOG.md",
                "hash",
                f"## 2.1.0\n\n* Fix race in pool ({sha1[:7]})\n* Merge commit {sha1}\n",
            ),
            _s(
                f"checksum-{i}/Dockerfile",
                "hash",
                f'FROM alpine:3.19@sha256:{sha256}\nRUN echo "{sha256}  tool.tar.gz" | sha256sum -c -\n',
            ),
            _s(
                f"uuid-{i}/fixtures.py",
                "uuid",
                f'ORDER_ID = "{uid}"\nrequest_id = "{uuid.UUID(bytes=rng.randbytes(16), version=4)}"\ntenant_id = "{uuid.UUID(bytes=rng.randbytes(16), version=4)}"\n',
            ),
            _s(f"etag-{i}/cache.py", "hash", f'ETAG = "{md5}"\ncache_key = "user:{md5}"\nfile_md5 = "{md5}"\n'),
            _s(
                f"nonce-{i}/test_crypto.py",
                "random-id",
                f'def test_nonce_roundtrip():\n    nonce = bytes.fromhex("{fake.s(HEX, 24)}")\n    request_id = "{fake.s(HEX, 32)}"\n    trace_id = "{fake.s(HEX, 32)}"\n',
            ),
            _s(
                f"sri-{i}/index.html",
                "hash",
                f'<script src="https://cdn.jsdelivr.net/npm/bootstrap@5.3.2/dist/js/bootstrap.bundle.min.js" integrity="sha384-{base64.b64encode(hashlib.sha384(data).digest()).decode()}" crossorigin="anonymous"></script>\n',
            ),
            _s(
                f"ids-{i}/analytics.js",
                "random-id",
                f"const GA_MEASUREMENT_ID = 'G-{fake.s('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 10)}';\nconst sessionId = '{fake.s(ALNUM, 24)}';\nconst correlationId = '{fake.s(HEX, 32)}';\n",
            ),
        ]
    return out


def public_material(fake: Fake, rng: random.Random) -> list[Snippet]:
    out = []
    for i in range(4):
        body = "\n".join(fake.private_key_body(800))
        out.append(
            _s(f"cert-{i}/ca.crt", "public-key", f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")
        )
        out.append(
            _s(
                f"pubkey-{i}/key.pub",
                "public-key",
                f"-----BEGIN PUBLIC KEY-----\n{body[:400]}\n-----END PUBLIC KEY-----\n",
            )
        )
        ssh = base64.b64encode(b"\x00\x00\x00\x07ssh-rsa" + rng.randbytes(270)).decode()
        out.append(_s(f"authkeys-{i}/authorized_keys", "public-key", f"ssh-rsa {ssh} deploy@ci\n"))
        out.append(
            _s(
                f"knownhosts-{i}/known_hosts",
                "public-key",
                f"github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{fake.s(B64, 43)}\n",
            )
        )
        out.append(_s(f"pk-{i}/stripe.js", "public-key", f"const stripe = Stripe('pk_live_{fake.s(ALNUM, 24)}');\n"))
        out.append(
            _s(
                f"firebase-{i}/firebase.js",
                "public-key",
                f'const firebaseConfig = {{\n  authDomain: "acme-{i}.firebaseapp.com",\n  projectId: "acme-{i}",\n  storageBucket: "acme-{i}.appspot.com",\n  messagingSenderId: "{fake.digits(12)}",\n  appId: "1:{fake.digits(12)}:web:{fake.s(HEX, 22)}",\n}};\n',
            )
        )
        out.append(
            _s(
                f"sentry-dsn-{i}/sentry.js",
                "public-key",
                f'Sentry.init({{ dsn: "https://{fake.s(HEX, 32)}@o{fake.digits(6)}.ingest.sentry.io/{fake.digits(7)}" }});\n',
            )
        )
        out.append(
            _s(
                f"mapbox-pk-{i}/map.js",
                "public-key",
                f"mapboxgl.accessToken = 'pk.{base64.urlsafe_b64encode(json.dumps({'u': 'acme', 'a': fake.s(ALNUM, 25)}).encode()).decode().rstrip('=')}.{fake.s(ALNUM, 22)}';\n",
            )
        )
    return out


def code_shapes(fake: Fake, rng: random.Random) -> list[Snippet]:
    """Names that sound secret with values that are not, and text that looks random."""
    out = []
    for i in range(3):
        img = base64.b64encode(b"\x89PNG\r\n\x1a\n" + rng.randbytes(300)).decode()
        out += [
            _s(
                f"names-{i}/auth.py",
                "secret-name",
                'token_type = "Bearer"\nsecret_name = "prod/db"\npassword_field = "password"\nTOKEN_URL = "https://oauth2.googleapis.com/token"\nauth_header = "Authorization"\nkey_id = "primary"\nSECRET_KEY_NAME = "DJANGO_SECRET_KEY"\n',
            ),
            _s(
                f"policy-{i}/validators.py",
                "password-policy",
                'MIN_PASSWORD_LENGTH = 12\nmin_password_length = 8\nPASSWORD_REGEX = r"^(?=.*[A-Z])(?=.*\\d).{8,}$"\npassword_hash_algorithm = "argon2id"\nPASSWORD_RESET_TIMEOUT = 3600\n',
            ),
            _s(
                f"form-{i}/LoginForm.tsx",
                "secret-name",
                '<input type="password" name="password" placeholder="Password" autoComplete="current-password" />\nconst passwordLabel = t("auth.password");\nconst tokenKey = "access_token";\n',
            ),
            _s(
                f"i18n-{i}/en.json",
                "i18n",
                json.dumps(
                    {
                        "auth": {
                            "password": "Password",
                            "forgot_password": "Forgot your password?",
                            "token_expired": "Your session token has expired. Please sign in again.",
                            "api_key_help": "Paste your API key from the dashboard",
                        }
                    },
                    indent=2,
                )
                + "\n",
            ),
            _s(
                f"css-{i}/styles.css",
                "css",
                ".btn-primary{background:#1a73e8;border-color:#1765cc}\n.token-input{font-family:monospace;letter-spacing:.08em}\n.password-strength-meter{height:4px;background:linear-gradient(90deg,#e53935 0,#fdd835 50%,#43a047 100%)}\n",
            ),
            _s(
                f"min-{i}/vendor.min.js",
                "minified",
                '!function(e,t){"object"==typeof exports?module.exports=t():e.lib=t()}(this,function(){var n={apiKey:null,token:"",secret:void 0};function r(e){return n.token=e,n}'
                + fake.s(ALNUM, 200)
                + "return{setToken:r}});\n",
            ),
            _s(f"img-{i}/logo.html", "base64-image", f'<img alt="logo" src="data:image/png;base64,{img}" />\n'),
            _s(
                f"svg-{i}/icon.svg",
                "minified",
                '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M12 17a2 2 0 0 0 2-2 2 2 0 0 0-2-2 2 2 0 0 0-2 2 2 2 0 0 0 2 2m6-9a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V10a2 2 0 0 1 2-2h1V6a5 5 0 0 1 5-5 5 5 0 0 1 5 5v2h1"/></svg>\n',
            ),
            _s(
                f"testfix-{i}/test_login.py",
                "test-fixture",
                'def test_login(client):\n    resp = client.post("/login", data={"username": "alice", "password": "test-password"})\n    api_key = "test-api-key"\n    token = "dummy-token"\n    assert resp.status_code == 302\n',
            ),
            _s(
                f"testfix-js-{i}/auth.test.js",
                "test-fixture",
                "it('rejects a bad token', async () => {\n  const token = 'invalid-token';\n  const password = 'wrong-password';\n  await expect(login('bob', password)).rejects.toThrow();\n});\n",
            ),
            _s(
                f"sql-{i}/schema.sql",
                "secret-name",
                "CREATE TABLE users (\n  id SERIAL PRIMARY KEY,\n  password_hash VARCHAR(255) NOT NULL,\n  api_token CHAR(64) UNIQUE,\n  reset_token_expires_at TIMESTAMP\n);\n",
            ),
            _s(
                f"k8s-cm-{i}/configmap.yaml",
                "config",
                'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  LOG_LEVEL: info\n  TOKEN_AUDIENCE: api://default\n  SECRET_STORE: aws-secrets-manager\n  PASSWORD_MIN_LENGTH: "12"\n',
            ),
            _s(
                f"gha-{i}/ci.yml",
                "config",
                "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    permissions:\n      id-token: write\n    steps:\n      - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11\n      - uses: actions/setup-node@v4\n        with:\n          token: ${{ github.token }}\n",
            ),
            _s(
                f"enum-{i}/types.go",
                "secret-name",
                'package auth\n\nconst (\n\tTokenTypeAccess  = "access_token"\n\tTokenTypeRefresh = "refresh_token"\n\tHeaderAPIKey     = "X-API-Key"\n\tSecretKeyEnv     = "APP_SECRET_KEY"\n)\n',
            ),
            _s(
                f"hashpw-{i}/users.py",
                "hash",
                f'# bcrypt hash of the fixture user\nPASSWORD_HASH = "$2b$12${fake.s(ALNUM + "./", 53)}"\n',
            ),
            _s(
                f"tfstate-{i}/outputs.tf",
                "config",
                'output "db_password" {\n  value     = aws_db_instance.main.password\n  sensitive = true\n}\nresource "random_password" "db" {\n  length  = 24\n  special = true\n}\n',
            ),
            _s(
                f"docs-{i}/usage.md",
                "doc-prose",
                "Set `OPENAI_API_KEY` in your environment. The token must start with `sk-` and is\nshown once on the API keys page. Never commit your password or secret key.\n",
            ),
            _s(
                f"envexample-{i}/.env.example",
                "placeholder",
                "DATABASE_URL=postgres://user:password@localhost:5432/app\nSECRET_KEY=\nSTRIPE_SECRET_KEY=sk_test_...\nOPENAI_API_KEY=sk-your-key\nREDIS_URL=redis://localhost:6379/0\n",
            ),
            _s(
                f"localdb-{i}/docker-compose.yml",
                "placeholder",
                "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_USER: postgres\n      POSTGRES_PASSWORD: postgres\n",
            ),
            _s(
                f"masked-{i}/log.txt",
                "placeholder",
                "2024-05-02 INFO token=ghp_****************************abcd\n2024-05-02 INFO api_key=sk-...XyZ9 (masked)\n",
            ),
        ]
    return out


def all_clean(rng: random.Random) -> list[Snippet]:
    fake = Fake(rng)
    return (
        placeholders(fake, rng)
        + references(fake, rng)
        + doc_examples(fake, rng)
        + hashes_and_ids(fake, rng)
        + public_material(fake, rng)
        + code_shapes(fake, rng)
    )
