"""File types and the ways each one carries a value: assignments, calls, headers, URLs, blocks.

A `Context` knows where such files live in a repository, what surrounds the values (header,
footer, filler) and how to render one plant in that language's idiom. Rendering returns the
lines and which of them hold the value, so the truth file can point at exact lines.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.accuracy import fillers, naming
from benchmarks.accuracy.background import python_slice
from benchmarks.accuracy.model import Plant, Rendered

Form = Callable[[Plant, random.Random], Rendered]


def _plain(value: str) -> bool:
    return all(c.isalnum() or c in "-_./+=" for c in value)


def yaml_scalar(value: str) -> str:
    return value if _plain(value) and not value[:1].isdigit() else json.dumps(value)


def _escaped_one_line(value: str) -> str:
    return value.replace("\n", "\\n")


def _block_lines(value: str, indent: str) -> list[str]:
    return [indent + line if line else "" for line in value.split("\n")]


# --- Python ---------------------------------------------------------------------------------


def py_render(plant: Plant, rng: random.Random) -> Rendered:
    v, name = plant.value, plant.name
    if plant.block:
        lines = [f"{naming.upper(name)}_INFO = " + plant.block[0], *plant.block[1:]]
        return Rendered(lines, 0, len(lines) - 1)
    if plant.multiline:
        body = v.split("\n")
        lines = [f'{naming.upper(name)} = """' + body[0], *body[1:-1], body[-1] + '"""']
        return Rendered(lines, 0, len(lines) - 1)
    forms: list[Callable[[], Rendered]] = [
        lambda: Rendered.at([f'{naming.upper(name)} = "{v}"'], 0),
        lambda: Rendered.at([f"{naming.snake(name)} = '{v}'"], 0),
        lambda: Rendered.at([f'os.environ.setdefault("{naming.upper(name)}", "{v}")'], 0),
        lambda: Rendered.at([f'{naming.snake(name)} = os.getenv("{naming.upper(name)}", "{v}")'], 0),
        lambda: Rendered.at([f"    {naming.snake(name)} = os.environ.get(\"{naming.upper(name)}\", '{v}')"], 0),
        lambda: Rendered.at(["DEFAULTS = {", '    "timeout": 30,', f'    "{naming.snake(name)}": "{v}",', "}"], 2),
        lambda: Rendered.at(["def make_client():", f'    return Client({naming.snake(name)}="{v}", timeout=10)'], 1),
    ]
    if plant.url:
        forms += [
            lambda: Rendered.at([f'engine = create_engine("{v}", pool_pre_ping=True)'], 0),
            lambda: Rendered.at([f'    resp = requests.post("{v}", json=payload, timeout=5)'], 0),
        ]
    elif not plant.needs_name:
        forms += [
            lambda: Rendered.at([f'HEADERS = {{"Authorization": "Bearer {v}"}}'], 0),
            lambda: Rendered.at([f'client = Client("{v}")'], 0),
        ]
    return rng.choice(forms)()


def py_header(rng: random.Random) -> list[str]:
    return [
        rng.choice(['"""Service settings."""', '"""Client helpers."""', '"""Background jobs."""']),
        "",
        "import os",
        "import logging",
        "",
        "log = logging.getLogger(__name__)",
        "",
    ]


# --- JavaScript / TypeScript ----------------------------------------------------------------


def js_render(plant: Plant, rng: random.Random) -> Rendered:
    v, name = plant.value, plant.name
    if plant.multiline:
        body = v.split("\n")
        lines = [f"const {naming.camel(name)} = `" + body[0], *body[1:-1], body[-1] + "`;"]
        return Rendered(lines, 0, len(lines) - 1)
    forms: list[Callable[[], Rendered]] = [
        lambda: Rendered.at([f'const {naming.upper(name)} = "{v}";'], 0),
        lambda: Rendered.at(
            ["export const config = {", "  region: 'eu-west-1',", f"  {naming.camel(name)}: '{v}',", "};"], 2
        ),
        lambda: Rendered.at([f'const {naming.camel(name)} = process.env.{naming.upper(name)} || "{v}";'], 0),
        lambda: Rendered.at([f"  {naming.camel(name)}: process.env.{naming.upper(name)} ?? '{v}',"], 0),
    ]
    if plant.url:
        forms.append(lambda: Rendered.at([f"  await fetch('{v}', {{ method: 'POST', body }});"], 0))
    elif not plant.needs_name:
        forms += [
            lambda: Rendered.at(["const headers = {", f"  Authorization: `Bearer {v}`,", "};"], 1),
            lambda: Rendered.at([f"const client = new Client('{v}');"], 0),
        ]
    return rng.choice(forms)()


# --- Go, Java, Ruby, PHP, C#, Rust, Kotlin ----------------------------------------------------------


def go_render(plant: Plant, rng: random.Random) -> Rendered:
    v, name = plant.value, plant.name
    if plant.multiline:
        body = v.split("\n")
        lines = [f"const {naming.camel(name)} = `" + body[0], *body[1:-1], body[-1] + "`"]
        return Rendered(lines, 0, len(lines) - 1)
    forms: list[Callable[[], Rendered]] = [
        lambda: Rendered.at([f'const {naming.camel(name)} = "{v}"'], 0),
        lambda: Rendered.at([f'\tos.Setenv("{naming.upper(name)}", "{v}")'], 0),
        lambda: Rendered.at(["\tcfg := Config{", f'\t\t{naming.pascal(name)}: "{v}",', "\t}"], 1),
    ]
    if plant.url:
        forms.append(lambda: Rendered.at([f'\tdb, err := sql.Open("postgres", "{v}")'], 0))
    return rng.choice(forms)()


def java_render(plant: Plant, rng: random.Random) -> Rendered:
    v, name = plant.value, plant.name
    return rng.choice(
        [
            lambda: Rendered.at([f'    private static final String {naming.upper(name)} = "{v}";'], 0),
            lambda: Rendered.at(
                ["    static {", f'        PROPS.setProperty("{naming.dotted(name)}", "{v}");', "    }"], 1
            ),
            lambda: Rendered.at(
                [
                    "    Client client() {",
                    f'        return Client.builder().{naming.camel(name)}("{v}").build();',
                    "    }",
                ],
                1,
            ),
        ]
    )()


def ruby_render(plant: Plant, rng: random.Random) -> Rendered:
    v, name = plant.value, plant.name
    return rng.choice(
        [
            lambda: Rendered.at([f"  {naming.upper(name)} = '{v}'"], 0),
            lambda: Rendered.at([f'  config.{naming.snake(name)} = "{v}"'], 0),
            lambda: Rendered.at([f"ENV['{naming.upper(name)}'] ||= '{v}'"], 0),
        ]
    )()


def php_render(plant: Plant, rng: random.Random) -> Rendered:
    v, name = plant.value, plant.name
    return rng.choice(
        [
            lambda: Rendered.at([f"define('{naming.upper(name)}', '{v}');"], 0),
            lambda: Rendered.at([f'${naming.camel(name)} = "{v}";'], 0),
            lambda: Rendered.at([f"    '{naming.snake(name)}' => '{v}',"], 0),
        ]
    )()


def csharp_render(plant: Plant, rng: random.Random) -> Rendered:
    v, name = plant.value, plant.name
    return rng.choice(
        [
            lambda: Rendered.at([f'        private const string {naming.pascal(name)} = "{v}";'], 0),
            lambda: Rendered.at([f'            options.{naming.pascal(name)} = "{v}";'], 0),
        ]
    )()


def rust_render(plant: Plant, rng: random.Random) -> Rendered:
    return Rendered.at([f'const {naming.upper(plant.name)}: &str = "{plant.value}";'], 0)


def gradle_render(plant: Plant, rng: random.Random) -> Rendered:
    v, name = plant.value, plant.name
    return rng.choice(
        [
            lambda: Rendered.at([f'            {naming.camel(name)} = "{v}"'], 0),
            lambda: Rendered.at([f'        buildConfigField("String", "{naming.upper(name)}", "\\"{v}\\"")'], 0),
        ]
    )()


# --- configuration formats ---------------------------------------------------------------------


def yaml_render(plant: Plant, rng: random.Random) -> Rendered:
    v, name = plant.value, plant.name
    key = rng.choice([naming.snake, naming.camel])(name)
    if plant.multiline:
        lines = [f"  {key}: |", *_block_lines(v, "    ")]
        return Rendered(["tls:", *lines], 2, len(lines))
    section = rng.choice(["credentials", "integrations", "database", "providers", "auth"])
    return rng.choice(
        [
            lambda: Rendered.at([f"{key}: {yaml_scalar(v)}"], 0),
            lambda: Rendered.at([f"{section}:", f"  {key}: {json.dumps(v)}"], 1),
            lambda: Rendered.at([f"{section}:", "  enabled: true", f"  {key}: {yaml_scalar(v)}"], 2),
        ]
    )()


def json_render(plant: Plant, rng: random.Random) -> Rendered:
    key = rng.choice([naming.camel, naming.snake, naming.pascal, naming.upper])(plant.name)
    return Rendered.at([f'  "{key}": {json.dumps(plant.value)},'], 0)


def toml_render(plant: Plant, rng: random.Random) -> Rendered:
    v, key = plant.value, naming.snake(plant.name)
    if plant.multiline:
        body = v.split("\n")
        lines = [f"{key} = '''", *body, "'''"]
        return Rendered(lines, 1, len(body))
    return Rendered.at([f'{key} = "{v}"'], 0)


def env_render(plant: Plant, rng: random.Random) -> Rendered:
    v, key = plant.value, naming.upper(plant.name)
    if plant.multiline:
        return Rendered.at([f'{key}="{_escaped_one_line(v)}"'], 0)
    return rng.choice(
        [
            lambda: Rendered.at([f"{key}={v}"], 0),
            lambda: Rendered.at([f'{key}="{v}"'], 0),
            lambda: Rendered.at([f"export {key}='{v}'"], 0),
        ]
    )()


def ini_render(plant: Plant, rng: random.Random) -> Rendered:
    return Rendered.at([f"{naming.snake(plant.name)} = {plant.value}"], 0)


def properties_render(plant: Plant, rng: random.Random) -> Rendered:
    key = naming.dotted(plant.name)
    if "." not in plant.name:
        key = rng.choice(["app.", "service.", ""]) + key
    return Rendered.at([f"{key}={plant.value}"], 0)


def xml_render(plant: Plant, rng: random.Random) -> Rendered:
    v, name = plant.value, plant.name
    v = v.replace("&", "&amp;")
    return rng.choice(
        [
            lambda: Rendered.at([f'    <add key="{naming.pascal(name)}" value="{v}" />'], 0),
            lambda: Rendered.at([f"    <{naming.camel(name)}>{v}</{naming.camel(name)}>"], 0),
            lambda: Rendered.at([f'    <property name="{naming.dotted(name)}" value="{v}"/>'], 0),
        ]
    )()


# --- containers, infrastructure, CI -------------------------------------------------------------


def dockerfile_render(plant: Plant, rng: random.Random) -> Rendered:
    v, key = plant.value, naming.upper(plant.name)
    forms: list[Callable[[], Rendered]] = [
        lambda: Rendered.at([f"ENV {key}={v}"], 0),
        lambda: Rendered.at([f"ARG {key}={v}"], 0),
        lambda: Rendered.at([f'ENV {key}="{v}"'], 0),
    ]
    if not plant.needs_name and not plant.url:
        forms.append(
            lambda: Rendered.at(
                [f'RUN curl -fsSL -H "Authorization: Bearer {v}" https://artifacts.acme.io/install.sh | sh'], 0
            )
        )
    return rng.choice(forms)()


def compose_render(plant: Plant, rng: random.Random) -> Rendered:
    v, key = plant.value, naming.upper(plant.name)
    return rng.choice(
        [
            lambda: Rendered.at([f"      - {key}={v}"], 0),
            lambda: Rendered.at([f"      {key}: {yaml_scalar(v)}"], 0),
        ]
    )()


def terraform_render(plant: Plant, rng: random.Random) -> Rendered:
    v, key = plant.value, naming.snake(plant.name)
    if plant.block:
        lines = [f"  {key}_json = <<-EOT", *("    " + line for line in plant.block), "  EOT"]
        return Rendered(['resource "kubernetes_secret" "gcp" {', *lines, "}"], 1, len(lines))
    if plant.multiline:
        body = v.split("\n")
        lines = ['resource "tls_private_key_import" "this" {', f"  {key} = <<EOF", *body, "EOF", "}"]
        return Rendered(lines, 2, 1 + len(body))
    return rng.choice(
        [
            lambda: Rendered.at(['provider "acme" {', f'  {key} = "{v}"', "}"], 1),
            lambda: Rendered.at([f'variable "{key}" {{', "  type    = string", f'  default = "{v}"', "}"], 2),
            lambda: Rendered.at(["locals {", f'  {key} = "{v}"', "}"], 1),
        ]
    )()


def tfvars_render(plant: Plant, rng: random.Random) -> Rendered:
    return Rendered.at([f'{naming.snake(plant.name)} = "{plant.value}"'], 0)


def k8s_render(plant: Plant, rng: random.Random) -> Rendered:
    v, name = plant.value, plant.name
    key = naming.kebab(name)
    if plant.block:
        lines = ["  key.json: |", *("    " + line for line in plant.block)]
        return Rendered(lines, 1, len(lines) - 1)
    if plant.multiline:
        lines = ["  tls.key: |", *_block_lines(v, "    ")]
        return Rendered(lines, 1, len(lines) - 1)
    return Rendered.at([f"  {key}: {yaml_scalar(v)}"], 0)


def k8s_data_render(plant: Plant, rng: random.Random) -> Rendered:
    """A Secret's ``data:`` map holds base64 of the value: a leak all the same."""
    encoded = base64.b64encode(plant.value.encode()).decode()
    return Rendered.at([f"  {naming.kebab(plant.name)}: {encoded}"], 0)


def shell_render(plant: Plant, rng: random.Random) -> Rendered:
    v, key = plant.value, naming.upper(plant.name)
    if plant.multiline:
        body = v.split("\n")
        lines = ["cat > \"$HOME/.ssh/deploy_key\" <<'EOF'", *body, "EOF", 'chmod 600 "$HOME/.ssh/deploy_key"']
        return Rendered(lines, 1, len(body))
    forms: list[Callable[[], Rendered]] = [
        lambda: Rendered.at([f'export {key}="{v}"'], 0),
        lambda: Rendered.at([f"{key}='{v}' ./bin/run --env production"], 0),
    ]
    if plant.url:
        forms.append(lambda: Rendered.at([f"curl -fsS -X POST -d @payload.json '{v}'"], 0))
    elif not plant.needs_name:
        forms.append(
            lambda: Rendered.at([f'curl -fsS -H "Authorization: Bearer {v}" https://api.acme.io/v1/deployments'], 0)
        )
    elif "password" in naming.words(plant.name) or "pass" in naming.words(plant.name):
        forms.append(lambda: Rendered.at([f"docker login --username ci-bot --password '{v}' registry.acme.io"], 0))
    return rng.choice(forms)()


def notebook_render(plant: Plant, rng: random.Random) -> Rendered:
    v, key = plant.value, naming.upper(plant.name)
    line = rng.choice([f'os.environ["{key}"] = "{v}"', f'{naming.snake(plant.name)} = "{v}"'])
    return Rendered.at([f"    {json.dumps(line + chr(10))},"], 0)


def markdown_render(plant: Plant, rng: random.Random) -> Rendered:
    v, key = plant.value, naming.upper(plant.name)
    if plant.multiline:
        body = v.split("\n")
        return Rendered(["The deploy key for the staging bastion:", "", "```", *body, "```", ""], 3, 2 + len(body))
    forms: list[Callable[[], Rendered]] = [
        lambda: Rendered.at(["```bash", f"export {key}={v}", "```", ""], 1),
        lambda: Rendered.at([f"Set `{key}` to `{v}` in your shell before running the tests.", ""], 0),
    ]
    if not plant.needs_name:
        forms.append(lambda: Rendered.at([f"The staging credential is `{v}` (ask #platform before rotating).", ""], 0))
    return rng.choice(forms)()


def gha_render(plant: Plant, rng: random.Random) -> Rendered:
    return Rendered.at([f"      {naming.upper(plant.name)}: {yaml_scalar(plant.value)}"], 0)


def jenkins_render(plant: Plant, rng: random.Random) -> Rendered:
    v, key = plant.value, naming.upper(plant.name)
    return rng.choice(
        [
            lambda: Rendered.at([f"        {key} = '{v}'"], 0),
            lambda: Rendered.at([f'        sh "deploy --{naming.kebab(plant.name)} {v}"'], 0),
        ]
    )()


def log_render(plant: Plant, rng: random.Random) -> Rendered:
    v, key = plant.value, naming.upper(plant.name)
    clock = f"{rng.randint(10, 23)}:{rng.randint(10, 59)}:{rng.randint(10, 59)}.{rng.randint(100, 999)}"
    ts = f"2024-05-{rng.randint(10, 28)}T{clock}Z"
    forms: list[Callable[[], Rendered]] = [
        lambda: Rendered.at([f"{ts} DEBUG config loaded {key}={v}"], 0),
    ]
    if plant.url:
        forms.append(lambda: Rendered.at([f"{ts} INFO  connecting to {v}"], 0))
    elif not plant.needs_name:
        forms.append(
            lambda: Rendered.at(
                [f"{ts} DEBUG http request headers={{'Authorization': 'Bearer {v}', 'Accept': 'application/json'}}"], 0
            )
        )
    return rng.choice(forms)()


def pem_render(plant: Plant, rng: random.Random) -> Rendered:
    lines = plant.value.split("\n")
    return Rendered(lines, 0, len(lines) - 1)


def json_file_render(plant: Plant, rng: random.Random) -> Rendered:
    lines = list(plant.block)
    return Rendered(lines, 0, len(lines) - 1)


# --- the registry ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """A file type: where its files go, their frame, and how a plant is written in it."""

    id: str
    paths: tuple[str, ...]  # templates with {svc} and {n}
    render: Form
    header: Callable[[random.Random], list[str]] = lambda rng: []
    footer: Callable[[random.Random], list[str]] = lambda rng: []
    filler: Callable[[random.Random], list[str]] = lambda rng: []
    per_file: int = 3  # plants per file, at most
    multiline: bool = False  # accepts PEM blocks
    block: bool = False  # accepts pre-rendered JSON key files
    nameless_only: bool = False  # values appear without a helpful name: only self-identifying kinds
    only: tuple[str, ...] = ()  # if set, only these kinds
    # Hard negatives this file type may hold (None: any). Whatever sits in a Kubernetes Secret was
    # declared secret by its author, so only obvious stand-ins go there.
    negatives: tuple[str, ...] | None = None


STAND_INS = ("placeholder-word", "placeholder-template", "placeholder-angle", "placeholder-shaped", "trivial-value")


def _py_filler(rng: random.Random) -> list[str]:
    return ["", *python_slice(rng), ""]


def _json_header(rng: random.Random) -> list[str]:
    return ["{", f'  "service": "{rng.choice(fillers.SERVICES)}",', '  "region": "eu-west-1",']


CONTEXTS: tuple[Context, ...] = (
    Context(
        "python",
        (
            "services/{svc}/app/settings.py",
            "services/{svc}/app/clients.py",
            "scripts/{svc}_sync.py",
            "services/{svc}/app/tasks.py",
        ),
        py_render,
        py_header,
        filler=_py_filler,
        multiline=True,
        block=True,
    ),
    Context(
        "javascript",
        ("web/{svc}/src/config.js", "web/{svc}/src/api/client.js", "functions/{svc}/index.js"),
        js_render,
        lambda r: ["'use strict';", "", "const axios = require('axios');", ""],
        filler=fillers.js,
        multiline=True,
    ),
    Context(
        "typescript",
        ("web/{svc}/src/env.ts", "web/{svc}/src/lib/integrations.ts"),
        js_render,
        lambda r: ["import { Client } from './client';", ""],
        filler=fillers.js,
        multiline=True,
    ),
    Context(
        "go",
        ("cmd/{svc}/main.go", "internal/{svc}/config.go"),
        go_render,
        lambda r: ["package main", "", "import (", '\t"database/sql"', '\t"os"', ")", ""],
        filler=fillers.go,
        multiline=True,
    ),
    Context(
        "java",
        ("src/main/java/io/acme/{svc}/Config.java",),
        java_render,
        lambda r: ["package io.acme.app;", "", "public class Config {"],
        lambda r: ["}"],
        fillers.java,
    ),
    Context(
        "ruby",
        ("app/{svc}/config/initializers/services.rb", "lib/{svc}/client.rb"),
        ruby_render,
        lambda r: ["# frozen_string_literal: true", "", "Rails.application.configure do |config|"],
        lambda r: ["end"],
        fillers.ruby,
    ),
    Context(
        "php",
        ("web/{svc}/wp-config.php", "web/{svc}/config/services.php"),
        php_render,
        lambda r: ["<?php", "", "return ["],
        lambda r: ["];"],
    ),
    Context(
        "csharp",
        ("src/{svc}/Settings.cs",),
        csharp_render,
        lambda r: ["namespace Acme.Services", "{", "    public static class Settings", "    {"],
        lambda r: ["    }", "}"],
    ),
    Context("rust", ("crates/{svc}/src/config.rs",), rust_render, lambda r: ["use std::env;", ""]),
    Context(
        "gradle",
        ("android/{svc}/build.gradle.kts",),
        gradle_render,
        lambda r: ["android {", "    signingConfigs {", '        create("release") {'],
        lambda r: ["        }", "    }", "}"],
    ),
    Context(
        "yaml",
        ("services/{svc}/config/production.yaml", "config/{svc}.yml", "helm/{svc}/values.yaml"),
        yaml_render,
        lambda r: [f"service: {r.choice(fillers.SERVICES)}", ""],
        filler=fillers.yaml,
        multiline=True,
    ),
    Context(
        "json",
        ("services/{svc}/config/default.json", "web/{svc}/appsettings.json", "config/{svc}.json"),
        json_render,
        _json_header,
        lambda r: ['  "version": 1', "}"],
    ),
    Context(
        "toml",
        ("services/{svc}/config.toml", "services/{svc}/.streamlit/secrets.toml"),
        toml_render,
        lambda r: ["[app]", f'name = "{r.choice(fillers.SERVICES)}"', "", "[secrets]"],
        multiline=True,
    ),
    Context(
        "dotenv",
        ("services/{svc}/.env", "services/{svc}/.env.production", "deploy/{svc}.env"),
        env_render,
        lambda r: ["# runtime configuration", "NODE_ENV=production", "LOG_LEVEL=info"],
        multiline=True,
    ),
    Context(
        "ini",
        ("services/{svc}/setup.cfg", "deploy/{svc}/app.ini"),
        ini_render,
        lambda r: ["[service]", "workers = 4", ""],
    ),
    Context(
        "properties", ("src/main/resources/application-{svc}.properties",), properties_render, filler=fillers.properties
    ),
    Context(
        "xml",
        ("web/{svc}/Web.config", "src/{svc}/app.config"),
        xml_render,
        lambda r: ['<?xml version="1.0" encoding="utf-8"?>', "<configuration>", "  <appSettings>"],
        lambda r: ["  </appSettings>", "</configuration>"],
        fillers.xml,
    ),
    Context(
        "dockerfile",
        ("services/{svc}/Dockerfile", "docker/{svc}.Dockerfile"),
        dockerfile_render,
        lambda r: ["FROM python:3.12-slim", "WORKDIR /app", "COPY requirements.txt ."],
        lambda r: ["COPY . .", 'CMD ["gunicorn", "app:create_app()"]'],
    ),
    Context(
        "compose",
        ("deploy/{svc}/docker-compose.yml", "docker-compose.{svc}.yml"),
        compose_render,
        lambda r: ["services:", f"  {r.choice(fillers.SERVICES)}:", "    image: acme/app:1.4.2", "    environment:"],
    ),
    Context(
        "terraform",
        ("infra/terraform/{svc}/main.tf", "infra/modules/{svc}/variables.tf"),
        terraform_render,
        lambda r: ["terraform {", '  required_version = ">= 1.6"', "}", ""],
        filler=fillers.terraform,
        multiline=True,
        block=True,
    ),
    Context(
        "tfvars",
        ("infra/terraform/{svc}/prod.tfvars", "infra/envs/{svc}/terraform.tfvars"),
        tfvars_render,
        lambda r: ['region = "eu-west-1"', 'environment = "prod"'],
    ),
    Context(
        "kubernetes",
        ("deploy/k8s/{svc}/secret.yaml", "deploy/k8s/{svc}/credentials.yaml"),
        k8s_render,
        lambda r: [
            "apiVersion: v1",
            "kind: Secret",
            "metadata:",
            f"  name: {r.choice(fillers.SERVICES)}-creds",
            "  namespace: prod",
            "type: Opaque",
            "stringData:",
        ],
        multiline=True,
        block=True,
        negatives=STAND_INS,
    ),
    Context(
        "kubernetes-data",
        ("deploy/k8s/{svc}/opaque-secret.yaml",),
        k8s_data_render,
        lambda r: [
            "apiVersion: v1",
            "kind: Secret",
            "metadata:",
            f"  name: {r.choice(fillers.SERVICES)}-env",
            "type: Opaque",
            "data:",
        ],
        per_file=2,
        negatives=(),
    ),
    Context(
        "shell",
        ("scripts/deploy-{svc}.sh", "bin/{svc}-bootstrap.sh"),
        shell_render,
        lambda r: ["#!/usr/bin/env bash", "set -euo pipefail", ""],
        filler=fillers.shell,
        multiline=True,
    ),
    Context(
        "notebook",
        ("notebooks/{svc}-exploration.ipynb",),
        notebook_render,
        lambda r: [
            "{",
            ' "cells": [',
            "  {",
            '   "cell_type": "code",',
            '   "execution_count": 1,',
            '   "metadata": {},',
            '   "outputs": [],',
            '   "source": [',
            '    "import os\\n",',
        ],
        lambda r: [
            '    "print(\\"ready\\")"',
            "   ]",
            "  }",
            " ],",
            ' "metadata": {"kernelspec": {"name": "python3"}},',
            ' "nbformat": 4,',
            ' "nbformat_minor": 5',
            "}",
        ],
    ),
    Context(
        "markdown",
        ("docs/{svc}/setup.md", "services/{svc}/README.md", "docs/runbooks/{svc}.md"),
        markdown_render,
        lambda r: [f"# {r.choice(fillers.SERVICES).capitalize()} service", ""],
        filler=fillers.markdown,
        multiline=True,
    ),
    Context(
        "github-actions",
        (".github/workflows/{svc}.yml",),
        gha_render,
        lambda r: [
            "name: deploy",
            "on:",
            "  push:",
            "    branches: [main]",
            "jobs:",
            "  deploy:",
            "    runs-on: ubuntu-latest",
            "    steps:",
            "      - uses: actions/checkout@v4",
            "      - run: make deploy",
            "        env:",
        ],
    ),
    Context(
        "gitlab-ci",
        ("ci/{svc}.gitlab-ci.yml",),
        gha_render,
        lambda r: [
            "stages: [test, deploy]",
            "",
            "deploy:",
            "  stage: deploy",
            "  script:",
            "    - make deploy",
            "  variables:",
        ],
    ),
    Context(
        "jenkinsfile",
        ("ci/{svc}/Jenkinsfile",),
        jenkins_render,
        lambda r: ["pipeline {", "    agent any", "    environment {"],
        lambda r: ["    }", "    stages {", "        stage('Deploy') { steps { sh 'make deploy' } }", "    }", "}"],
    ),
    Context("log", ("logs/{svc}-2024-05.log", "var/log/{svc}/app.log"), log_render, filler=fillers.log),
    Context(
        "pem",
        ("deploy/keys/{svc}.pem", "certs/{svc}/server.key", "ops/ssh/{svc}_id"),
        pem_render,
        per_file=1,
        multiline=True,
        only=(
            "private-key-rsa",
            "private-key-pkcs8",
            "private-key-ec",
            "private-key-ec-pkcs8",
            "private-key-openssh",
            "private-key-openssh-rsa",
            "private-key-pgp",
            "private-key-putty",
            "private-key-encrypted",
        ),
    ),
    Context(
        "cert-file",
        ("certs/{svc}/ca.crt", "deploy/keys/{svc}.pub.pem"),
        pem_render,
        per_file=1,
        multiline=True,
        only=("neg:public-key", "neg:certificate"),
    ),
    Context(
        "service-account-json",
        ("credentials/{svc}-service-account.json", "infra/gcp/{svc}-sa-key.json"),
        json_file_render,
        per_file=1,
        block=True,
        only=("gcp-service-account",),
    ),
)

CONTEXTS_BY_ID = {context.id: context for context in CONTEXTS}


def accepts(context: Context, plant: Plant) -> bool:
    """Whether ``plant`` can be written in ``context`` in a way real projects do."""
    if context.only:
        return plant.kind in context.only
    if (
        not plant.positive
        and context.negatives is not None
        and plant.kind.removeprefix("neg:") not in context.negatives
    ):
        return False
    if plant.block:
        return context.block
    if plant.multiline:
        return context.multiline
    return True
