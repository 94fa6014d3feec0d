"""A file name each rule's ``path`` restriction accepts, for tests that run a rule on a snippet."""

from __future__ import annotations

import regex

from leakvault.patterns.model import Rule

CANDIDATE_PATHS = (
    "config/.env",
    "settings.py",
    "main.tf",
    "deploy.yaml",
    "Dockerfile",
    "app.properties",
    "config.json",
    "docker-compose.yml",
    "settings.toml",
    "app.js",
    "web.config",
    "pom.xml",
    "notebook.ipynb",
    # Credential files named by the file itself (contexts rules).
    "home/.pgpass",
    "home/.kube/config",
    "deploy/.htpasswd",
    "home/.npmrc",
    "build.gradle",
    "certs/client.p12",
)


def path_for(rule: Rule, default: str = "example.env") -> str | None:
    """``default`` for a rule with no path restriction, else the first candidate its ``path``
    regex accepts (None if none does)."""
    if rule.path is None:
        return default
    return next((candidate for candidate in CANDIDATE_PATHS if regex.search(rule.path, candidate)), None)
