"""Leaks as people write them: provider tokens and passwords in the files real repositories have.

Each builder returns a Snippet whose ``secret`` is the exact planted text (its line is the truth).
"""

# ruff: noqa: E501  # one snippet per line: the templates read as the files they imitate

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable

from .fake import Fake
from .model import Snippet

# kind, generator, UPPER_SNAKE name, camelCase name
Provider = tuple[str, Callable[[Fake], str], str, str]
PROVIDERS: list[Provider] = [
    ("aws-access-key-id", lambda f: f.aws_akid(), "AWS_ACCESS_KEY_ID", "accessKeyId"),
    ("aws-secret", lambda f: f.aws_secret(), "AWS_SECRET_ACCESS_KEY", "secretAccessKey"),
    ("gcp-api-key", lambda f: f.gcp_api_key(), "GOOGLE_API_KEY", "googleMapsApiKey"),
    ("github-pat", lambda f: f.github("ghp_"), "GITHUB_TOKEN", "githubToken"),
    ("github-oauth", lambda f: f.github("gho_"), "GH_OAUTH_TOKEN", "ghToken"),
    ("github-fine-grained", lambda f: f.github_fine(), "GH_PAT", "githubPat"),
    ("gitlab-pat", lambda f: f.gitlab(), "GITLAB_TOKEN", "gitlabToken"),
    ("npm", lambda f: f.npm(), "NPM_TOKEN", "npmToken"),
    ("dockerhub", lambda f: f.dockerhub(), "DOCKERHUB_TOKEN", "dockerToken"),
    ("slack-bot", lambda f: f.slack_bot(), "SLACK_BOT_TOKEN", "slackToken"),
    ("slack-user", lambda f: f.slack_user(), "SLACK_TOKEN", "slackUserToken"),
    ("slack-webhook", lambda f: f.slack_webhook(), "SLACK_WEBHOOK_URL", "slackWebhook"),
    ("discord-webhook", lambda f: f.discord_webhook(), "DISCORD_WEBHOOK", "discordWebhookUrl"),
    ("discord-bot", lambda f: f.discord_bot(), "DISCORD_TOKEN", "botToken"),
    ("telegram", lambda f: f.telegram(), "TELEGRAM_BOT_TOKEN", "telegramToken"),
    ("stripe", lambda f: f.stripe(), "STRIPE_SECRET_KEY", "stripeSecretKey"),
    ("stripe-restricted", lambda f: f.stripe("rk_live_"), "STRIPE_API_KEY", "stripeKey"),
    ("openai", lambda f: f.openai(), "OPENAI_API_KEY", "openaiApiKey"),
    ("anthropic", lambda f: f.anthropic(), "ANTHROPIC_API_KEY", "anthropicKey"),
    ("huggingface", lambda f: f.huggingface(), "HF_TOKEN", "hfToken"),
    ("sendgrid", lambda f: f.sendgrid(), "SENDGRID_API_KEY", "sendgridApiKey"),
    ("twilio-auth", lambda f: f.hex32(), "TWILIO_AUTH_TOKEN", "twilioAuthToken"),
    ("mailgun", lambda f: f.mailgun(), "MAILGUN_API_KEY", "mailgunKey"),
    ("mailchimp", lambda f: f.mailchimp(), "MAILCHIMP_API_KEY", "mailchimpKey"),
    ("shopify", lambda f: f.shopify(), "SHOPIFY_ACCESS_TOKEN", "shopifyToken"),
    ("square", lambda f: f.square(), "SQUARE_ACCESS_TOKEN", "squareAccessToken"),
    ("datadog-api", lambda f: f.hex32(), "DD_API_KEY", "datadogApiKey"),
    ("newrelic", lambda f: f.newrelic(), "NEW_RELIC_API_KEY", "newRelicKey"),
    ("sentry-token", lambda f: f.sentry_token(), "SENTRY_AUTH_TOKEN", "sentryAuthToken"),
    ("digitalocean", lambda f: f.do_token(), "DIGITALOCEAN_TOKEN", "doToken"),
    ("heroku", lambda f: f.heroku_key(), "HEROKU_API_KEY", "herokuApiKey"),
    ("cloudflare", lambda f: f.cloudflare_token(), "CLOUDFLARE_API_TOKEN", "cloudflareApiToken"),
    ("supabase", lambda f: f.supabase(), "SUPABASE_ACCESS_TOKEN", "supabaseToken"),
    ("databricks", lambda f: f.databricks(), "DATABRICKS_TOKEN", "databricksToken"),
    ("terraform-cloud", lambda f: f.tfc(), "TFE_TOKEN", "tfeToken"),
    ("vault", lambda f: f.vault(), "VAULT_TOKEN", "vaultToken"),
    ("doppler", lambda f: f.doppler(), "DOPPLER_TOKEN", "dopplerToken"),
    ("pulumi", lambda f: f.pulumi(), "PULUMI_ACCESS_TOKEN", "pulumiToken"),
    ("postman", lambda f: f.postman(), "POSTMAN_API_KEY", "postmanApiKey"),
    ("linear", lambda f: f.linear(), "LINEAR_API_KEY", "linearApiKey"),
    ("notion", lambda f: f.notion(), "NOTION_TOKEN", "notionToken"),
    ("groq", lambda f: f.groq(), "GROQ_API_KEY", "groqApiKey"),
    ("replicate", lambda f: f.replicate(), "REPLICATE_API_TOKEN", "replicateToken"),
    ("mapbox", lambda f: f.mapbox_secret(), "MAPBOX_SECRET_TOKEN", "mapboxToken"),
    ("okta", lambda f: f.okta(), "OKTA_API_TOKEN", "oktaToken"),
    ("atlassian", lambda f: f.atlassian(), "JIRA_API_TOKEN", "jiraToken"),
    ("azure-client-secret", lambda f: f.azure_client_secret(), "AZURE_CLIENT_SECRET", "clientSecret"),
    ("jwt", lambda f: f.jwt(), "AUTH_TOKEN", "accessToken"),
    ("password-random", lambda f: f.password("random"), "DB_PASSWORD", "dbPassword"),
    ("password-human", lambda f: f.password("human"), "ADMIN_PASSWORD", "adminPassword"),
    ("generic-secret", lambda f: f.s("abcdefghijklmnopqrstuvwxyz0123456789", 32), "APP_SECRET", "appSecret"),
    (
        "generic-api-key",
        lambda f: f.s("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 40),
        "API_KEY",
        "apiKey",
    ),
]


def _kebab(name: str) -> str:
    return name.lower().replace("_", "-")


def _dotted(name: str) -> str:
    return name.lower().replace("_", ".")


# Context renderers: (style, file name, render(NAME, camel, value) -> text)
Context = tuple[str, str, Callable[[str, str, str], str]]
CONTEXTS: list[Context] = [
    (
        "python-settings",
        "settings.py",
        lambda n, c, v: f'import os\n\nDEBUG = False\nALLOWED_HOSTS = ["*"]\n{n} = "{v}"\nTIME_ZONE = "UTC"\n',
    ),
    (
        "python-call",
        "client.py",
        lambda n, c, v: (
            f'import requests\n\n\ndef fetch(path):\n    headers = {{"Authorization": "Bearer {v}"}}\n    return requests.get("https://api.internal.io" + path, headers=headers)\n'
        ),
    ),
    (
        "python-kwarg",
        "bot.py",
        lambda n, c, v: f'from sdk import Client\n\nclient = Client(\n    api_key="{v}",\n    timeout=30,\n)\n',
    ),
    ("python-environ-default", "config.py", lambda n, c, v: f'import os\n\n{n} = os.environ.get("{n}", "{v}")\n'),
    (
        "flask-config",
        "app.py",
        lambda n, c, v: f"from flask import Flask\n\napp = Flask(__name__)\napp.config[\"{n}\"] = '{v}'\n",
    ),
    ("dotenv", ".env", lambda n, c, v: f"NODE_ENV=production\nPORT=3000\n{n}={v}\nLOG_LEVEL=info\n"),
    ("dotenv-quoted", ".env.production", lambda n, c, v: f'# production\n{n}="{v}"\n'),
    (
        "node-config",
        "config.js",
        lambda n, c, v: f"module.exports = {{\n  port: 8080,\n  {c}: '{v}',\n  debug: false,\n}};\n",
    ),
    (
        "node-const",
        "index.js",
        lambda n, c, v: f"const express = require('express');\nconst {c} = \"{v}\";\nconst app = express();\n",
    ),
    (
        "typescript",
        "env.ts",
        lambda n, c, v: f"export const environment = {{\n  production: true,\n  {c}: '{v}',\n}};\n",
    ),
    (
        "go-struct",
        "main.go",
        lambda n, c, v: (
            f'package main\n\nvar cfg = Config{{\n\tEndpoint: "https://api.example.io",\n\t{c[0].upper() + c[1:]}: "{v}",\n}}\n'
        ),
    ),
    ("go-const", "consts.go", lambda n, c, v: f'package config\n\nconst {c} = "{v}"\n'),
    (
        "java-constant",
        "Constants.java",
        lambda n, c, v: (
            f'package com.acme.app;\n\npublic final class Constants {{\n    public static final String {n} = "{v}";\n}}\n'
        ),
    ),
    ("kotlin", "Config.kt", lambda n, c, v: f'object Config {{\n    const val {n} = "{v}"\n}}\n'),
    (
        "csharp",
        "Program.cs",
        lambda n, c, v: (
            f'namespace Acme\n{{\n    static class Keys\n    {{\n        private const string {c[0].upper() + c[1:]} = "{v}";\n    }}\n}}\n'
        ),
    ),
    (
        "appsettings-json",
        "appsettings.json",
        lambda n, c, v: (
            json.dumps(
                {"Logging": {"LogLevel": {"Default": "Information"}}, "Api": {c[0].upper() + c[1:]: v}}, indent=2
            )
            + "\n"
        ),
    ),
    ("php-define", "config.php", lambda n, c, v: f"<?php\ndefine('{n}', '{v}');\n"),
    (
        "php-array",
        "config/services.php",
        lambda n, c, v: f"<?php\n\nreturn [\n    'service' => [\n        '{n.lower()}' => '{v}',\n    ],\n];\n",
    ),
    (
        "ruby",
        "config/initializers/client.rb",
        lambda n, c, v: f"Client.configure do |config|\n  config.{n.lower()} = '{v}'\nend\n",
    ),
    ("rust", "src/main.rs", lambda n, c, v: f'const {n}: &str = "{v}";\n\nfn main() {{}}\n'),
    (
        "spring-yaml",
        "src/main/resources/application.yml",
        lambda n, c, v: f"spring:\n  application:\n    name: orders\nclient:\n  {_kebab(n)}: {v}\n",
    ),
    (
        "spring-properties",
        "src/main/resources/application.properties",
        lambda n, c, v: f"server.port=8080\napp.{_dotted(n)}={v}\n",
    ),
    ("helm-values", "values.yaml", lambda n, c, v: f'replicaCount: 2\nenv:\n  {n}: "{v}"\n'),
    (
        "k8s-stringdata",
        "secret.yaml",
        lambda n, c, v: (
            f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\nstringData:\n  {n}: {v}\n"
        ),
    ),
    (
        "k8s-deployment-env",
        "deployment.yaml",
        lambda n, c, v: (
            f'      containers:\n        - name: app\n          env:\n            - name: {n}\n              value: "{v}"\n'
        ),
    ),
    (
        "github-actions",
        ".github/workflows/deploy.yml",
        lambda n, c, v: (
            f"jobs:\n  deploy:\n    runs-on: ubuntu-latest\n    env:\n      {n}: {v}\n    steps:\n      - run: ./deploy.sh\n"
        ),
    ),
    ("gitlab-ci", ".gitlab-ci.yml", lambda n, c, v: f'variables:\n  {n}: "{v}"\n\ndeploy:\n  script: make deploy\n'),
    (
        "docker-compose",
        "docker-compose.yml",
        lambda n, c, v: f"services:\n  api:\n    image: acme/api:1.4\n    environment:\n      - {n}={v}\n",
    ),
    ("dockerfile", "Dockerfile", lambda n, c, v: f'FROM python:3.11-slim\nENV {n}={v}\nCMD ["python", "app.py"]\n'),
    ("terraform", "main.tf", lambda n, c, v: f'variable "{n.lower()}" {{\n  type    = string\n  default = "{v}"\n}}\n'),
    ("tfvars", "terraform.tfvars", lambda n, c, v: f'region = "eu-west-1"\n{n.lower()} = "{v}"\n'),
    ("ansible-vars", "group_vars/all.yml", lambda n, c, v: f'---\napp_user: deploy\n{n.lower()}: "{v}"\n'),
    ("shell-export", "deploy.sh", lambda n, c, v: f"#!/bin/bash\nset -e\nexport {n}={v}\n./run.sh\n"),
    (
        "shell-curl",
        "scripts/call.sh",
        lambda n, c, v: f'#!/bin/sh\ncurl -s -H "Authorization: Bearer {v}" https://api.acme.io/v1/items\n',
    ),
    (
        "notebook",
        "analysis.ipynb",
        lambda n, c, v: (
            json.dumps(
                {
                    "cells": [
                        {
                            "cell_type": "code",
                            "execution_count": 1,
                            "metadata": {},
                            "outputs": [],
                            "source": ["import os\n", f'os.environ["{n}"] = "{v}"\n'],
                        }
                    ],
                    "metadata": {},
                    "nbformat": 4,
                    "nbformat_minor": 5,
                },
                indent=1,
            )
            + "\n"
        ),
    ),
    (
        "readme",
        "README.md",
        lambda n, c, v: f"# Quickstart\n\nSet your key and run:\n\n```bash\nexport {n}={v}\npython main.py\n```\n",
    ),
    (
        "log",
        "logs/app.log",
        lambda n, c, v: f"2024-03-01 12:00:01 INFO starting worker\n2024-03-01 12:00:02 DEBUG using {_dotted(n)}={v}\n",
    ),
    (
        "xml-appsettings",
        "App.config",
        lambda n, c, v: (
            f'<?xml version="1.0"?>\n<configuration>\n  <appSettings>\n    <add key="{c[0].upper() + c[1:]}" value="{v}" />\n  </appSettings>\n</configuration>\n'
        ),
    ),
    (
        "xml-element",
        "pom.xml",
        lambda n, c, v: (
            f"<project>\n  <properties>\n    <{_dotted(n)}>{v}</{_dotted(n)}>\n  </properties>\n</project>\n"
        ),
    ),
    ("toml", "config.toml", lambda n, c, v: f'[api]\nurl = "https://api.acme.io"\n{n.lower()} = "{v}"\n'),
    ("ini", "setup.cfg", lambda n, c, v: f"[service]\nhost = api.acme.io\n{n.lower()} = {v}\n"),
]


def provider_snippets(fake: Fake, rng: random.Random, count: int) -> list[Snippet]:
    """Each provider in rotation, each in a randomly drawn context."""
    out = []
    for i in range(count):
        kind, make, name, camel = PROVIDERS[i % len(PROVIDERS)]
        style, filename, render = rng.choice(CONTEXTS)
        value = make(fake)
        out.append(Snippet(f"{style}-{i:03d}/{filename}", render(name, camel, value), style, kind, value))
    return out


def _file(style: str, kind: str, filename: str, text: str, secret: str, also: tuple[str, ...] = ()) -> Snippet:
    return Snippet(f"{style}/{filename}", text, style.rsplit("-", 1)[0], kind, secret, also)


def credential_files(fake: Fake, rng: random.Random, rounds: int) -> list[Snippet]:
    """Credential files and connection strings with their own syntax."""
    out: list[Snippet] = []
    for r in range(rounds):
        host = rng.choice(["db.internal", "10.0.3.15", "prod-db.cluster-c1x2.eu-west-1.rds.amazonaws.com", "localhost"])
        user = rng.choice(["admin", "app", "root", "postgres", "svc_orders"])
        pw = fake.password()
        tag = f"{r:02d}"
        npm = fake.npm()
        out.append(
            _file(
                f"npmrc-{tag}",
                "npm",
                ".npmrc",
                f"registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={npm}\n",
                npm,
            )
        )
        pypi = fake.pypi()
        out.append(
            _file(
                f"pypirc-{tag}",
                "pypi",
                ".pypirc",
                f"[distutils]\nindex-servers =\n    pypi\n\n[pypi]\nusername = __token__\npassword = {pypi}\n",
                pypi,
            )
        )
        out.append(
            _file(
                f"netrc-{tag}",
                "password",
                ".netrc",
                f"machine api.heroku.com\n  login {user}@acme.io\n  password {pw}\n",
                pw,
            )
        )
        sec, akid = fake.aws_secret(), fake.aws_akid()
        out.append(
            _file(
                f"aws-credentials-{tag}",
                "aws-secret",
                "credentials",
                f"[default]\naws_access_key_id = {akid}\naws_secret_access_key = {sec}\nregion = us-east-1\n",
                sec,
                (akid,),
            )
        )
        auth = base64.b64encode(f"{user}:{pw}".encode()).decode()
        out.append(
            _file(
                f"docker-config-{tag}",
                "docker-auth",
                "config.json",
                json.dumps({"auths": {"https://index.docker.io/v1/": {"auth": auth}}}, indent="\t") + "\n",
                auth,
            )
        )
        pem = fake.pem("PRIVATE KEY")
        sa = {
            "type": "service_account",
            "project_id": f"acme-{fake.s('abcdefghij', 6)}",
            "private_key_id": fake.s("0123456789abcdef", 40),
            "private_key": pem + "\n",
            "client_email": "deployer@acme.iam.gserviceaccount.com",
            "client_id": fake.digits(21),
        }
        sa_text = json.dumps(sa, indent=2) + "\n"
        out.append(
            Snippet(
                f"gcp-sa-{tag}/service-account.json",
                sa_text,
                "gcp-service-account",
                "gcp-sa",
                "-----BEGIN PRIVATE KEY-----",
                (str(sa["private_key_id"]),),
            )
        )
        key = fake.pem("RSA PRIVATE KEY")
        out.append(_file(f"id-rsa-{tag}", "private-key", "id_rsa", key + "\n", key))
        ossh = fake.openssh_key()
        out.append(_file(f"openssh-{tag}", "private-key", "deploy_key", ossh + "\n", ossh))
        ec = fake.pem("EC PRIVATE KEY")
        out.append(_file(f"pem-{tag}", "private-key", "certs/server.key", ec + "\n", ec))
        ykey = fake.openssh_key()
        yaml_block = "\n".join("    " + line for line in ykey.split("\n"))
        out.append(
            _file(
                f"yaml-ssh-key-{tag}",
                "private-key",
                "group_vars/deploy.yml",
                f"deploy_user: git\ndeploy_ssh_key: |\n{yaml_block}\n",
                yaml_block.strip(),
            )
        )
        out.append(
            _file(
                f"wp-config-{tag}",
                "password",
                "wp-config.php",
                f"<?php\ndefine( 'DB_NAME', 'wordpress' );\ndefine( 'DB_USER', '{user}' );\ndefine( 'DB_PASSWORD', '{pw}' );\ndefine( 'DB_HOST', '{host}' );\n",
                pw,
            )
        )
        kb = fake.s("0123456789abcdef", 128)
        out.append(
            _file(
                f"rails-secrets-{tag}",
                "rails-secret",
                "config/secrets.yml",
                f"production:\n  secret_key_base: {kb}\n",
                kb,
            )
        )
        out.append(
            _file(
                f"rails-database-{tag}",
                "password",
                "config/database.yml",
                f"production:\n  adapter: postgresql\n  database: app_production\n  username: {user}\n  password: {pw}\n  host: {host}\n",
                pw,
            )
        )
        out.append(
            _file(
                f"web-config-{tag}",
                "connection-string",
                "Web.config",
                f'<configuration>\n  <connectionStrings>\n    <add name="Default" connectionString="Server={host};Database=Orders;User Id={user};Password={pw};" providerName="System.Data.SqlClient" />\n  </connectionStrings>\n</configuration>\n',
                pw,
            )
        )
        out.append(
            _file(
                f"appsettings-conn-{tag}",
                "connection-string",
                "appsettings.Production.json",
                json.dumps(
                    {
                        "ConnectionStrings": {
                            "DefaultConnection": f"Server={host};Database=Shop;User Id={user};Password={pw};TrustServerCertificate=True"
                        }
                    },
                    indent=2,
                )
                + "\n",
                pw,
            )
        )
        out.append(
            _file(
                f"spring-datasource-{tag}",
                "password",
                "application.properties",
                f"spring.datasource.url=jdbc:postgresql://{host}:5432/orders\nspring.datasource.username={user}\nspring.datasource.password={pw}\n",
                pw,
            )
        )
        out.append(
            _file(
                f"spring-yaml-ds-{tag}",
                "password",
                "application-prod.yml",
                f"spring:\n  datasource:\n    url: jdbc:mysql://{host}:3306/shop\n    username: {user}\n    password: {pw}\n",
                pw,
            )
        )
        out.append(
            _file(
                f"jdbc-url-{tag}",
                "db-url",
                "db.properties",
                f"jdbc.url=jdbc:mysql://{host}:3306/shop?user={user}&password={pw}\n",
                pw,
            )
        )
        out.append(
            _file(
                f"mysql-cli-{tag}",
                "password",
                "backup.sh",
                f"#!/bin/bash\nmysqldump -u {user} -p{pw} shop > /backup/shop.sql\n",
                pw,
            )
        )
        out.append(
            _file(
                f"psql-url-{tag}",
                "db-url",
                "migrate.sh",
                f"#!/bin/sh\npsql postgresql://{user}:{pw}@{host}:5432/app -f schema.sql\n",
                pw,
            )
        )
        out.append(
            _file(
                f"django-db-{tag}",
                "password",
                "settings.py",
                f"DATABASES = {{\n    'default': {{\n        'ENGINE': 'django.db.backends.postgresql',\n        'NAME': 'app',\n        'USER': '{user}',\n        'PASSWORD': '{pw}',\n        'HOST': '{host}',\n    }}\n}}\n",
                pw,
            )
        )
        dj = "django-insecure-" + fake.s("abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)", 50)
        out.append(
            _file(
                f"django-secret-{tag}",
                "django-secret",
                "settings.py",
                f"# SECURITY WARNING: keep the secret key used in production secret!\nSECRET_KEY = '{dj}'\n",
                dj,
            )
        )
        mongo = f"mongodb+srv://{user}:{pw}@cluster0.{fake.s('abcdefghijklmnopqrstuvwxyz0123456789', 5)}.mongodb.net/app?retryWrites=true&w=majority"
        out.append(
            _file(
                f"mongo-url-{tag}",
                "db-url",
                "db.js",
                f"const mongoose = require('mongoose');\nmongoose.connect('{mongo}');\n",
                mongo,
            )
        )
        redis = f"redis://:{fake.password('random')}@{host}:6379/0"
        out.append(_file(f"redis-url-{tag}", "db-url", "celeryconfig.py", f"broker_url = '{redis}'\n", redis))
        amqp = f"amqp://{user}:{pw}@rabbitmq.internal:5672/vhost"
        out.append(_file(f"amqp-url-{tag}", "db-url", ".env", f"CELERY_BROKER_URL={amqp}\n", amqp))
        basic = f"https://{user}:{pw}@git.acme.io/team/repo.git"
        out.append(_file(f"basic-auth-url-{tag}", "url-auth", "sync.py", f'REMOTE = "{basic}"\n', basic))
        k8s_val = base64.b64encode(pw.encode()).decode()
        out.append(
            _file(
                f"k8s-secret-b64-{tag}",
                "k8s-b64",
                "db-secret.yaml",
                f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  username: {base64.b64encode(user.encode()).decode()}\n  password: {k8s_val}\n",
                k8s_val,
            )
        )
        jwt = fake.jwt()
        out.append(
            _file(
                f"jwt-test-{tag}",
                "jwt",
                "tests/test_api.py",
                f'def test_me(client):\n    resp = client.get("/me", headers={{"Authorization": "Bearer {jwt}"}})\n    assert resp.status_code == 200\n',
                jwt,
            )
        )
        openai = fake.openai()
        out.append(
            _file(
                f"notebook-openai-{tag}",
                "openai",
                "chat.ipynb",
                json.dumps(
                    {
                        "cells": [
                            {
                                "cell_type": "code",
                                "metadata": {},
                                "source": ["import openai\n", f'openai.api_key = "{openai}"\n'],
                                "outputs": [],
                                "execution_count": 3,
                            }
                        ],
                        "metadata": {},
                        "nbformat": 4,
                        "nbformat_minor": 5,
                    },
                    indent=1,
                )
                + "\n",
                openai,
            )
        )
        basic_hdr = base64.b64encode(f"{user}:{pw}".encode()).decode()
        out.append(
            _file(
                f"curl-basic-{tag}",
                "basic-auth-header",
                "api.sh",
                f'curl -H "Authorization: Basic {basic_hdr}" https://jenkins.acme.io/job/build/api/json\n',
                basic_hdr,
            )
        )
        conn = f"DefaultEndpointsProtocol=https;AccountName=acme{fake.s('abcdefghijklmnopqrstuvwxyz', 6)};AccountKey={fake.azure_storage_key()};EndpointSuffix=core.windows.net"
        out.append(
            _file(
                f"azure-storage-{tag}",
                "azure-storage",
                "local.settings.json",
                json.dumps({"IsEncrypted": False, "Values": {"AzureWebJobsStorage": conn}}, indent=2) + "\n",
                conn,
            )
        )
        sas = f"https://acme.blob.core.windows.net/backups?sv=2022-11-02&ss=b&srt=sco&sp=rwdlac&se=2026-01-01T00:00:00Z&st=2024-01-01T00:00:00Z&spr=https&sig={fake.azure_sas_sig()}"
        out.append(
            _file(
                f"azure-sas-{tag}",
                "azure-sas",
                "upload.ps1",
                f'$uri = "{sas}"\nInvoke-WebRequest -Uri $uri -Method Put -InFile backup.zip\n',
                sas,
            )
        )
        hook = fake.slack_webhook()
        out.append(
            _file(
                f"slack-hook-code-{tag}",
                "slack-webhook",
                "notify.py",
                f'import requests\n\nrequests.post("{hook}", json={{"text": "deploy done"}})\n',
                hook,
            )
        )
        tok = fake.github("ghp_")
        out.append(
            _file(
                f"git-remote-{tag}",
                "github-pat",
                "git-config",
                f'[remote "origin"]\n\turl = https://{tok}@github.com/acme/app.git\n',
                tok,
            )
        )
        logtok = fake.slack_bot() if r % 2 else fake.jwt()
        out.append(
            _file(
                f"log-token-{tag}",
                "log-token",
                "server.log",
                f"2024-05-02T10:11:12Z INFO request GET /api/v1/items\n2024-05-02T10:11:12Z DEBUG headers={{'Authorization': 'Bearer {logtok}'}}\n",
                logtok,
            )
        )
    return out


def all_leaks(rng: random.Random) -> list[Snippet]:
    fake = Fake(rng)
    return provider_snippets(fake, rng, 165) + credential_files(fake, rng, 4)
