"""Which rewriter handles a file, chosen by its name (and a shebang for extension-less scripts)."""

from __future__ import annotations

import os
import re

from leakvault.fix.languages.datafile import DataFileRewriter
from leakvault.fix.languages.docker import DockerfileRewriter
from leakvault.fix.languages.dotenv import DotenvRewriter
from leakvault.fix.languages.golang import GoRewriter
from leakvault.fix.languages.javascript import JavaScriptRewriter
from leakvault.fix.languages.python import PythonRewriter
from leakvault.fix.languages.shell import ShellRewriter
from leakvault.fix.rewriter import Rewriter

_EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "javascript",
    ".tsx": "javascript",
    ".mts": "javascript",
    ".cts": "javascript",
    ".go": "go",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".json": "json",
    ".ini": "ini",
    ".cfg": "ini",
    ".npmrc": "ini",
    ".pypirc": "ini",
    ".properties": "properties",
    ".sh": "shell",
    ".bash": "shell",
    ".zsh": "shell",
    ".ksh": "shell",
    ".env": "dotenv",
}
_DOTENV = re.compile(r"^\.env(\.[\w.-]+)?$|\.env$")
_DOCKERFILE = re.compile(r"^(Dockerfile|Containerfile)([.-][\w.-]+)?$|\.(dockerfile|containerfile)$", re.IGNORECASE)
_SHEBANG = re.compile(r"^#!\s*\S*?(?:/env\s+)?(?P<interpreter>[\w.-]+)")


def language_for(path: str, text: str) -> str | None:
    """The language family of a file, or None when leakvault has no rewriter for it."""
    name = os.path.basename(path)
    if _DOTENV.search(name):
        return "dotenv"
    if _DOCKERFILE.search(name):
        return "dockerfile"
    language = _EXTENSIONS.get(os.path.splitext(name)[1].lower()) or _EXTENSIONS.get(name.lower())
    if language is not None:
        return language
    shebang = _SHEBANG.match(text)
    if shebang is not None:
        interpreter = shebang["interpreter"]
        if interpreter.startswith("python"):
            return "python"
        if interpreter in ("sh", "bash", "zsh", "ksh", "dash"):
            return "shell"
        if interpreter == "node":
            return "javascript"
    return None


def rewriter_for(language: str, path: str, text: str) -> Rewriter:
    if language == "python":
        return PythonRewriter(text)
    if language == "javascript":
        return JavaScriptRewriter(text, path)
    if language == "go":
        return GoRewriter(text)
    if language == "dotenv":
        return DotenvRewriter(text)
    if language == "shell":
        return ShellRewriter(text)
    if language == "dockerfile":
        return DockerfileRewriter(text)
    return DataFileRewriter(text, language, path)
