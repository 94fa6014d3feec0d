"""Hard negatives: values that look like secrets, or sit where secrets sit, and are not secrets.

Two shapes: inline values written through the same contexts as real secrets (a placeholder
assigned to ``STRIPE_SECRET_KEY`` in a ``.env`` file), and whole files whose business is
high-entropy non-secrets (lockfiles, notebooks with images, minified JavaScript, colour tables).
Every negative line is recorded so false positives can be reported by cause.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.accuracy import keys
from benchmarks.accuracy.model import Plant
from benchmarks.accuracy.tokens import ALNUM, B64, B64URL, HEX, _uuid, chars


@dataclass(frozen=True)
class NegativeKind:
    id: str
    make: Callable[[random.Random], str]
    names: tuple[str, ...]
    count: int
    multiline: bool = False
    needs_name: bool = True


def _pick(*values: str) -> Callable[[random.Random], str]:
    return lambda rng: rng.choice(values)


def _shaped_placeholder(rng: random.Random) -> str:
    return rng.choice(
        [
            "sk_live_" + "x" * 24,
            "ghp_" + "X" * 36,
            "AKIA" + "X" * 16,
            "xoxb-your-bot-token-here",
            "sk-" + "." * 3,
            "glpat-" + "x" * 20,
            "hf_" + "x" * 34,
            "SG." + "x" * 22 + "." + "x" * 43,
            "sk-proj-...",
            "npm_" + "0" * 36,
            "dop_v1_" + "0" * 64,
            "AIza" + "X" * 35,
            "sk-ant-api03-" + "x" * 20 + "...",
            "pypi-AgEIcHlwaS5vcmc...",
            "xoxp-0000000000-0000000000",
        ]
    )


def _sk_test(rng: random.Random) -> str:
    return rng.choice(["sk_test_", "rk_test_"]) + chars(rng, ALNUM, rng.choice([24, 99]))


def _publishable(rng: random.Random) -> str:
    return rng.choice(["pk_live_", "pk_test_"]) + chars(rng, ALNUM, rng.choice([24, 99]))


def _mapbox_public(rng: random.Random) -> str:
    claims = (
        base64.urlsafe_b64encode(json.dumps({"u": "acme-maps", "a": chars(rng, "abcdef0123456789", 25)}).encode())
        .decode()
        .rstrip("=")
    )
    return f"pk.{claims}.{chars(rng, B64URL, 22)}"


def _git_sha(rng: random.Random) -> str:
    return chars(rng, HEX, 40)


def _content_hash(rng: random.Random) -> str:
    algorithm = rng.choice(["sha256", "md5", "sha1", "sha512"])
    return hashlib.new(algorithm, rng.randbytes(64)).hexdigest()


def _bcrypt(rng: random.Random) -> str:
    alphabet = "./" + string.ascii_uppercase + string.ascii_lowercase + string.digits
    return f"$2b$12${chars(rng, alphabet, 53)}"


def _argon2(rng: random.Random) -> str:
    salt = base64.b64encode(rng.randbytes(16)).decode().rstrip("=")
    digest = base64.b64encode(rng.randbytes(32)).decode().rstrip("=")
    return f"$argon2id$v=19$m=65536,t=3,p=4${salt}${digest}"


def _sops(rng: random.Random) -> str:
    data = base64.b64encode(rng.randbytes(24)).decode()
    return (
        f"ENC[AES256_GCM,data:{data},iv:{base64.b64encode(rng.randbytes(32)).decode()},"
        f"tag:{base64.b64encode(rng.randbytes(16)).decode()},type:str]"
    )


def _arn(rng: random.Random) -> str:
    return (
        f"arn:aws:secretsmanager:eu-west-1:{chars(rng, string.digits, 12)}:secret:prod/"
        f"{rng.choice(['db', 'stripe', 'api'])}-{chars(rng, ALNUM, 6)}"
    )


def _image_digest(rng: random.Random) -> str:
    return f"registry.acme.io/platform/api@sha256:{chars(rng, HEX, 64)}"


def _google_client_id(rng: random.Random) -> str:
    project = chars(rng, string.digits, 12)
    return f"{project}-{chars(rng, string.ascii_lowercase + string.digits, 32)}.apps.googleusercontent.com"


NEGATIVE_KINDS: tuple[NegativeKind, ...] = (
    NegativeKind(
        "placeholder-word",
        _pick(
            "YOUR_API_KEY",
            "changeme",
            "replace-me",
            "your-secret-here",
            "insert-token-here",
            "REPLACE_WITH_REAL_KEY",
            "TODO",
            "<redacted>",
            "REDACTED",
            "********",
            "xxxxxxxxxxxxxxxx",
            "dummy-password",
            "your_password_here",
            "secret-goes-here",
            "fill-me-in",
        ),
        ("API_KEY", "STRIPE_SECRET_KEY", "DB_PASSWORD", "GITHUB_TOKEN", "OPENAI_API_KEY", "client_secret"),
        30,
        needs_name=False,
    ),
    NegativeKind(
        "placeholder-template",
        _pick(
            "${API_TOKEN}",
            "${DB_PASSWORD}",
            "{{ .Values.db.password }}",
            "{{ vault_db_password }}",
            "%(password)s",
            "$DB_PASSWORD",
            "${{ secrets.NPM_TOKEN }}",
            "#{ENV.fetch(:secret)}",
            "{password}",
            "$(cat /run/secrets/api_key)",
            "<%= ENV['API_KEY'] %>",
            "${env:SLACK_TOKEN}",
            "{{SENDGRID_API_KEY}}",
        ),
        ("password", "API_TOKEN", "SLACK_TOKEN", "db_password", "SENDGRID_API_KEY", "secret"),
        28,
        needs_name=False,
    ),
    NegativeKind(
        "placeholder-angle",
        _pick("<token>", "<your-api-key>", "<PASSWORD>", "<access-key-id>", "<secret>", "<YOUR_TOKEN_HERE>"),
        ("API_KEY", "AUTH_TOKEN", "password", "AWS_SECRET_ACCESS_KEY"),
        12,
        needs_name=False,
    ),
    NegativeKind(
        "placeholder-shaped",
        _shaped_placeholder,
        (
            "STRIPE_SECRET_KEY",
            "GITHUB_TOKEN",
            "AWS_ACCESS_KEY_ID",
            "SLACK_BOT_TOKEN",
            "OPENAI_API_KEY",
            "HF_TOKEN",
            "SENDGRID_API_KEY",
        ),
        20,
        needs_name=False,
    ),
    NegativeKind(
        "documented-example",
        _pick(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "AKIAI44QH8DHBEXAMPLE",
            "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        ),
        ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "aws_access_key_id", "EXAMPLE_JWT"),
        14,
        needs_name=False,
    ),
    NegativeKind(
        "stripe-test-key", _sk_test, ("STRIPE_SECRET_KEY", "STRIPE_API_KEY", "stripeKey"), 8, needs_name=False
    ),
    NegativeKind("publishable-key", _publishable, ("STRIPE_PUBLISHABLE_KEY", "NEXT_PUBLIC_STRIPE_KEY"), 5),
    NegativeKind("mapbox-public-token", _mapbox_public, ("MAPBOX_ACCESS_TOKEN", "mapboxToken"), 3),
    NegativeKind(
        "uuid", _uuid, ("request_id", "TENANT_ID", "correlation_id", "workspace_id", "client_id", "subscription_id"), 16
    ),
    NegativeKind("git-sha", _git_sha, ("GIT_COMMIT", "commit_sha", "base_revision", "BUILD_SHA"), 10),
    NegativeKind(
        "content-hash",
        _content_hash,
        ("sha256", "checksum", "file_hash", "etag", "asset_digest", "md5sum", "cache_key"),
        14,
    ),
    NegativeKind(
        "password-hash",
        lambda r: r.choice([_bcrypt, _argon2])(r),
        ("password_hash", "hashed_password", "ADMIN_PASSWORD_HASH"),
        6,
    ),
    NegativeKind("encrypted-value", _sops, ("db_password", "api_key"), 4),
    NegativeKind("image-digest", _image_digest, ("image", "IMAGE"), 4),
    NegativeKind("arn", _arn, ("secret_arn", "DB_SECRET_ARN", "secretArn"), 5),
    NegativeKind("oauth-client-id", _google_client_id, ("GOOGLE_CLIENT_ID", "clientId"), 4),
    NegativeKind(
        "variable-name-value",
        _pick(
            "password_confirmation",
            "X-Api-Key",
            "Bearer",
            "access_token",
            "prod/payments/stripe",
            "emails/password_reset.html",
            "user_profile_cache_v2",
            "refresh_token_expired",
            "https://oauth2.googleapis.com/token",
            "api-key-header",
            "secret_key_field",
            "AUTH_HEADER_NAME",
            "csrfmiddlewaretoken",
        ),
        (
            "PASSWORD_FIELD",
            "API_KEY_HEADER",
            "TOKEN_TYPE",
            "secret_name",
            "token_url",
            "password_template",
            "cache_key",
            "token_error_code",
        ),
        20,
    ),
    NegativeKind(
        "trivial-value",
        _pick("", "password", "secret", "test", "none", "null", "false", "1234", "admin", "guest", "token"),
        ("password", "DB_PASSWORD", "api_key", "secret", "token"),
        14,
    ),
    NegativeKind(
        "public-key",
        lambda r: r.choice([keys.ec_public, keys.pgp_public])(r),
        ("PUBLIC_KEY", "signing_public_key"),
        4,
        multiline=True,
    ),
    NegativeKind("certificate", keys.certificate, ("TLS_CERT", "ca_certificate"), 4, multiline=True),
    NegativeKind(
        "ssh-public-key",
        lambda r: r.choice([keys.ssh_ed25519_public, keys.ssh_rsa_public])(r),
        ("SSH_PUBLIC_KEY", "authorized_key", "deploy_key_pub"),
        6,
    ),
    NegativeKind(
        "random-b64-nonsecret",
        lambda r: "sha384-" + base64.b64encode(r.randbytes(48)).decode(),
        ("integrity", "sri_hash"),
        4,
    ),
    NegativeKind("hex-id", lambda r: chars(r, HEX, 24), ("mongo_object_id", "trace_id", "span_id", "object_id"), 8),
    NegativeKind(
        "semver-build",
        lambda r: f"{r.randint(1, 9)}.{r.randint(0, 30)}.{r.randint(0, 99)}+build.{chars(r, HEX, 12)}",
        ("VERSION", "app_version"),
        3,
    ),
    NegativeKind(
        "b64-nonsecret",
        lambda r: base64.b64encode(
            json.dumps({"theme": "dark", "locale": "en-GB", "seen": r.randint(1, 999)}).encode()
        ).decode(),
        ("default_state", "INITIAL_STATE", "feature_blob"),
        3,
    ),
)


def _name_for(kind: NegativeKind, value: str, rng: random.Random) -> str:
    if kind.id == "documented-example":  # the name must fit the example: a key id is not a secret key
        if value.startswith("AKIA"):
            return rng.choice(["AWS_ACCESS_KEY_ID", "aws_access_key_id"])
        if value.startswith("eyJ"):
            return "EXAMPLE_JWT"
        return rng.choice(["AWS_SECRET_ACCESS_KEY", "aws_secret_access_key"])
    return rng.choice(kind.names)


def negative_plants(rng: random.Random) -> list[Plant]:
    plants: list[Plant] = []
    for kind in NEGATIVE_KINDS:
        for _ in range(kind.count):
            value = kind.make(rng)
            plants.append(
                Plant(
                    kind="neg:" + kind.id,
                    family="negative",
                    value=value,
                    name=_name_for(kind, value, rng),
                    positive=False,
                    needs_name=kind.needs_name,
                    multiline=kind.multiline,
                )
            )
    return plants


# --- whole files of high-entropy non-secrets -------------------------------------------------------

NegativeFile = tuple[str, list[str], list[tuple[int, str]]]  # path, lines, (0-based line, negative kind)


def package_lock(rng: random.Random) -> NegativeFile:
    lines = ["{", '  "name": "web-app",', '  "version": "1.0.0",', '  "lockfileVersion": 3,', '  "packages": {']
    marks: list[tuple[int, str]] = []
    names = [
        "react",
        "react-dom",
        "lodash",
        "axios",
        "zod",
        "date-fns",
        "clsx",
        "scheduler",
        "loose-envify",
        "js-tokens",
        "follow-redirects",
        "form-data",
        "asynckit",
        "combined-stream",
        "mime-types",
    ]
    for index, name in enumerate(names):
        version = f"{rng.randint(0, 18)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
        lines += [
            f'    "node_modules/{name}": {{',
            f'      "version": "{version}",',
            f'      "resolved": "https://registry.npmjs.org/{name}/-/{name}-{version}.tgz",',
        ]
        marks.append((len(lines), "lockfile-integrity"))
        lines.append(f'      "integrity": "sha512-{base64.b64encode(rng.randbytes(64)).decode()}",')
        lines += ['      "license": "MIT"', "    }" + ("," if index < len(names) - 1 else "")]
    lines += ["  }", "}"]
    return "web/storefront/package-lock.json", lines, marks


def yarn_lock(rng: random.Random) -> NegativeFile:
    lines = ["# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.", "# yarn lockfile v1", ""]
    marks: list[tuple[int, str]] = []
    for name in ["@babel/core", "@babel/parser", "chalk", "debug", "ms", "semver", "tslib", "uuid"]:
        version = f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
        lines += [
            f'"{name}@^{version}":',
            f'  version "{version}"',
            f'  resolved "https://registry.yarnpkg.com/{name}/-/{name.split("/")[-1]}-{version}.tgz'
            f'#{chars(rng, HEX, 40)}"',
        ]
        marks.append((len(lines) - 1, "lockfile-integrity"))
        marks.append((len(lines), "lockfile-integrity"))
        lines += [f"  integrity sha512-{base64.b64encode(rng.randbytes(64)).decode()}", ""]
    return "web/admin/yarn.lock", lines, marks


def poetry_lock(rng: random.Random) -> NegativeFile:
    lines: list[str] = []
    marks: list[tuple[int, str]] = []
    for name in ["certifi", "charset-normalizer", "idna", "requests", "urllib3", "pydantic"]:
        version = f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
        lines += [
            "[[package]]",
            f'name = "{name}"',
            f'version = "{version}"',
            "optional = false",
            'python-versions = ">=3.8"',
            "files = [",
        ]
        for tag in ["py3-none-any.whl", "tar.gz"]:
            marks.append((len(lines), "lockfile-integrity"))
            lines.append(f'    {{file = "{name}-{version}-{tag}", hash = "sha256:{chars(rng, HEX, 64)}"}},')
        lines += ["]", ""]
    lines += ["[metadata]", 'lock-version = "2.0"', 'python-versions = "^3.11"']
    marks.append((len(lines), "lockfile-integrity"))
    lines.append(f'content-hash = "{chars(rng, HEX, 64)}"')
    return "services/reports/poetry.lock", lines, marks


def go_sum(rng: random.Random) -> NegativeFile:
    lines: list[str] = []
    marks: list[tuple[int, str]] = []
    for module in ["github.com/go-chi/chi/v5", "github.com/lib/pq", "golang.org/x/sync", "github.com/google/uuid"]:
        version = f"v{rng.randint(0, 5)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
        for suffix in ["", "/go.mod"]:
            marks.append((len(lines), "lockfile-integrity"))
            lines.append(f"{module} {version}{suffix} h1:{base64.b64encode(rng.randbytes(32)).decode()}")
    return "cmd/gateway/go.sum", lines, marks


def requirements_hashes(rng: random.Random) -> NegativeFile:
    lines = ["# pip-compile --generate-hashes requirements.in"]
    marks: list[tuple[int, str]] = []
    for name in ["boto3==1.34.0", "requests==2.32.3", "sqlalchemy==2.0.30"]:
        lines.append(f"{name} \\")
        for index in range(2):
            marks.append((len(lines), "lockfile-integrity"))
            lines.append(f"    --hash=sha256:{chars(rng, HEX, 64)}" + (" \\" if index == 0 else ""))
    return "services/billing/requirements.txt", lines, marks


def cargo_lock(rng: random.Random) -> NegativeFile:
    lines = ["# This file is automatically @generated by Cargo.", "version = 3", ""]
    marks: list[tuple[int, str]] = []
    for name in ["serde", "tokio", "anyhow", "bytes"]:
        lines += [
            "[[package]]",
            f'name = "{name}"',
            f'version = "1.{rng.randint(0, 40)}.{rng.randint(0, 9)}"',
            'source = "registry+https://github.com/rust-lang/crates.io-index"',
        ]
        marks.append((len(lines), "lockfile-integrity"))
        lines += [f'checksum = "{chars(rng, HEX, 64)}"', ""]
    return "crates/Cargo.lock", lines, marks


def _png_base64(rng: random.Random, size: int) -> str:
    return "iVBORw0KGgoAAAANSUhEUgAA" + chars(rng, B64, size) + "AAAAAElFTkSuQmCC"


def notebook_with_images(rng: random.Random) -> NegativeFile:
    lines = [
        "{",
        ' "cells": [',
        "  {",
        '   "cell_type": "code",',
        '   "execution_count": 3,',
        '   "metadata": {},',
        '   "outputs": [',
        "    {",
        '     "data": {',
    ]
    marks = [(len(lines), "base64-image")]
    lines.append(f'      "image/png": "{_png_base64(rng, 3000)}",')
    lines += [
        '      "text/plain": ["<Figure size 640x480 with 1 Axes>"]',
        "     },",
        '     "metadata": {},',
        '     "output_type": "display_data"',
        "    }",
        "   ],",
        '   "source": [',
        '    "df.plot(x=\\"day\\", y=\\"revenue\\")"',
        "   ]",
        "  }",
        " ],",
        ' "nbformat": 4,',
        ' "nbformat_minor": 5',
        "}",
    ]
    return "notebooks/revenue-report.ipynb", lines, marks


def stylesheet(rng: random.Random) -> NegativeFile:
    lines = [":root {"]
    marks: list[tuple[int, str]] = []
    for index in range(24):
        marks.append((len(lines), "hex-colour"))
        lines.append(f"  --palette-{index}: #{chars(rng, HEX, 6)};")
    lines.append("}")
    marks.append((len(lines), "base64-image"))
    lines.append(f".logo {{ background-image: url(data:image/png;base64,{_png_base64(rng, 600)}); }}")
    marks.append((len(lines), "base64-image"))
    lines.append(
        f".icon {{ background: url('data:image/svg+xml;base64,{base64.b64encode(rng.randbytes(300)).decode()}'); }}"
    )
    return "web/storefront/src/styles/theme.css", lines, marks


def colour_table(rng: random.Random) -> NegativeFile:
    lines = ["# Chart palettes, generated from the design tokens.", "PALETTES = {"]
    marks: list[tuple[int, str]] = []
    for name in ["categorical", "sequential", "diverging", "brand"]:
        marks.append((len(lines), "hex-colour"))
        colours = ", ".join(f'"#{chars(rng, HEX, 6)}"' for _ in range(10))
        lines.append(f'    "{name}": [{colours}],')
    lines.append("}")
    marks.append((len(lines), "hex-colour"))
    lines.append("RGBA = [" + ", ".join(f"0x{chars(rng, HEX, 8).upper()}" for _ in range(12)) + "]")
    return "services/reports/app/palettes.py", lines, marks


def minified_js(rng: random.Random) -> NegativeFile:
    def ident() -> str:
        return rng.choice(string.ascii_letters) + chars(rng, ALNUM, rng.randint(0, 2))

    lines: list[str] = ["/*! vendor bundle | MIT licensed */"]
    marks: list[tuple[int, str]] = []
    for _ in range(6):
        parts = []
        for _ in range(60):
            a, b, c = ident(), ident(), ident()
            parts.append(
                rng.choice(
                    [
                        f"function {a}({b},{c}){{return {b}&&{c}.{ident()}({b})}}",
                        f"var {a}={b}.{ident()}||{{}};",
                        f'{a}["{chars(rng, ALNUM, rng.randint(6, 14))}"]={b};',
                        f"{a}.exports={{{b}:{c},{ident()}:{rng.randint(0, 99999)}}};",
                        f'case"{chars(rng, ALNUM, 8)}":return {a};',
                    ]
                )
            )
        marks.append((len(lines), "minified-js"))
        lines.append("".join(parts))
    marks.append((len(lines), "minified-js"))
    source_map = base64.b64encode(json.dumps({"version": 3, "mappings": chars(rng, B64, 400)}).encode()).decode()
    lines.append(f"//# sourceMappingURL=data:application/json;charset=utf-8;base64,{source_map}")
    return "web/storefront/public/vendor.min.js", lines, marks


def i18n(rng: random.Random) -> NegativeFile:
    entries = {
        "auth.password.reset.title": "Reset your password",
        "auth.password.reset.body": "We sent a link to reset your password.",
        "auth.token.expired": "Your session expired. Please sign in again.",
        "settings.api_keys.create": "Create API key",
        "settings.api_keys.revoke_confirm": "Revoke this key? Apps using it will stop working.",
        "errors.secret.missing": "A required secret is missing.",
        "billing.card.cvc_hint": "The three digits on the back of your card",
    }
    lines = ["{"]
    marks: list[tuple[int, str]] = []
    for index, (key, value) in enumerate(entries.items()):
        marks.append((len(lines), "i18n-key"))
        lines.append(f'  "{key}": "{value}"' + ("," if index < len(entries) - 1 else ""))
    lines.append("}")
    return "web/storefront/src/locales/en.json", lines, marks


def asset_manifest(rng: random.Random) -> NegativeFile:
    lines = ["{"]
    marks: list[tuple[int, str]] = []
    assets = ["main.js", "vendor.js", "runtime.js", "main.css", "logo.svg"]
    for index, asset in enumerate(assets):
        stem, ext = asset.rsplit(".", 1)
        marks.append((len(lines), "content-hash"))
        lines.append(
            f'  "{asset}": "/static/{stem}.{chars(rng, HEX, 20)}.{ext}"' + ("," if index < len(assets) - 1 else "")
        )
    lines.append("}")
    return "web/storefront/build/asset-manifest.json", lines, marks


def test_nonces(rng: random.Random) -> NegativeFile:
    lines = ['"""Replay protection: a nonce is accepted once."""', "", "from app.security import NonceStore", ""]
    marks: list[tuple[int, str]] = []
    for name in ["nonce", "second_nonce", "salt", "iv_hex", "idempotency_key"]:
        marks.append((len(lines), "test-nonce"))
        lines.append(f'{name.upper()} = "{chars(rng, rng.choice([HEX, ALNUM]), rng.choice([24, 32]))}"')
    lines += [
        "",
        "",
        "def test_nonce_is_single_use():",
        "    store = NonceStore()",
        "    assert store.accept(NONCE)",
        "    assert not store.accept(NONCE)",
    ]
    return "services/auth/tests/test_nonce.py", lines, marks


def precommit_config(rng: random.Random) -> NegativeFile:
    lines = ["repos:"]
    marks: list[tuple[int, str]] = []
    for repo in ["https://github.com/pre-commit/pre-commit-hooks", "https://github.com/astral-sh/ruff-pre-commit"]:
        lines.append(f"  - repo: {repo}")
        marks.append((len(lines), "git-sha"))
        lines += [f"    rev: {chars(rng, HEX, 40)}  # frozen: v4.6.0", "    hooks:", "      - id: check-yaml"]
    return ".pre-commit-config.yaml", lines, marks


def workflow_with_refs(rng: random.Random) -> NegativeFile:
    lines = [
        "name: release",
        "on: { push: { tags: ['v*'] } }",
        "jobs:",
        "  publish:",
        "    runs-on: ubuntu-latest",
        "    steps:",
    ]
    marks = [(len(lines), "git-sha")]
    lines.append(f"      - uses: actions/checkout@{chars(rng, HEX, 40)} # v4.1.1")
    lines.append("      - run: npm publish")
    lines.append("        env:")
    marks.append((len(lines), "placeholder-template"))
    lines.append("          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}")
    marks.append((len(lines), "placeholder-template"))
    lines.append("          AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}")
    return ".github/workflows/release.yml", lines, marks


def known_hosts(rng: random.Random) -> NegativeFile:
    lines: list[str] = []
    marks: list[tuple[int, str]] = []
    for host in ["github.com", "gitlab.acme.io", "bastion.acme.io"]:
        marks.append((len(lines), "ssh-public-key"))
        lines.append(f"{host} {keys.ssh_ed25519_public(rng).rsplit(' ', 1)[0]}")
    return "ops/ssh/known_hosts", lines, marks


def env_example(rng: random.Random) -> NegativeFile:
    lines = ["# Copy to .env and fill in. Never commit the real values."]
    marks: list[tuple[int, str]] = []
    for name, value, kind in [
        ("STRIPE_SECRET_KEY", "sk_test_" + chars(rng, ALNUM, 24), "stripe-test-key"),
        ("OPENAI_API_KEY", "sk-...", "placeholder-shaped"),
        ("DATABASE_URL", "postgres://postgres:postgres@localhost:5432/app_dev", "local-dev-default"),
        ("REDIS_URL", "redis://localhost:6379/0", "variable-name-value"),
        ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE", "documented-example"),
        ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "documented-example"),
        ("SLACK_BOT_TOKEN", "xoxb-your-token", "placeholder-shaped"),
        ("JWT_SECRET", "change-me-in-production", "placeholder-word"),
        ("SENTRY_DSN", "", "trivial-value"),
    ]:
        marks.append((len(lines), kind))
        lines.append(f"{name}={value}")
    return "services/checkout/.env.example", lines, marks


def docs_placeholders(rng: random.Random) -> NegativeFile:
    lines = ["# Getting started", "", "Create a token in the dashboard, then:", "", "```bash"]
    marks: list[tuple[int, str]] = []
    for text, kind in [
        ("export OPENAI_API_KEY=<your-openai-key>", "placeholder-angle"),
        ("export GITHUB_TOKEN=ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "placeholder-shaped"),
        ('curl -H "Authorization: Bearer $API_TOKEN" https://api.acme.io/v1/me', "placeholder-template"),
        ("psql postgres://user:password@localhost:5432/mydb", "placeholder-word"),
        ("aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE", "documented-example"),
    ]:
        marks.append((len(lines), kind))
        lines.append(text)
    lines += ["```", ""]
    return "docs/getting-started.md", lines, marks


def sri_html(rng: random.Random) -> NegativeFile:
    lines = ["<!doctype html>", "<html>", "<head>"]
    marks = [(len(lines), "random-b64-nonsecret")]
    lines.append(
        f'  <script src="https://cdn.acme.io/lib.js" integrity="sha384-{base64.b64encode(rng.randbytes(48)).decode()}"'
        ' crossorigin="anonymous"></script>'
    )
    marks.append((len(lines), "random-b64-nonsecret"))
    lines.append(
        '  <meta http-equiv="Content-Security-Policy" content="script-src '
        f"'sha256-{base64.b64encode(rng.randbytes(32)).decode()}'\">"
    )
    marks.append((len(lines), "base64-image"))
    lines.append(f'  <link rel="icon" href="data:image/png;base64,{_png_base64(rng, 200)}">')
    lines += ["</head>", '<body><div id="root"></div></body>', "</html>"]
    return "web/storefront/public/index.html", lines, marks


def ansible_vault(rng: random.Random) -> NegativeFile:
    lines = ["db_user: app", "db_password: !vault |", "          $ANSIBLE_VAULT;1.1;AES256"]
    marks: list[tuple[int, str]] = []
    for _ in range(5):
        marks.append((len(lines), "encrypted-value"))
        lines.append("          " + chars(rng, HEX, 80))
    return "ops/ansible/group_vars/prod/vault.yml", lines, marks


NEGATIVE_FILES: tuple[Callable[[random.Random], NegativeFile], ...] = (
    package_lock,
    yarn_lock,
    poetry_lock,
    go_sum,
    requirements_hashes,
    cargo_lock,
    notebook_with_images,
    stylesheet,
    colour_table,
    minified_js,
    i18n,
    asset_manifest,
    test_nonces,
    precommit_config,
    workflow_with_refs,
    known_hosts,
    env_example,
    docs_placeholders,
    sri_html,
    ansible_vault,
)
