"""Run a composite action's steps locally, the way the GitHub runner does, minus the network.

`run:` steps execute in bash with ``${{ }}`` expressions in their ``env`` (and script) evaluated
first, ``GITHUB_OUTPUT``/``GITHUB_STEP_SUMMARY`` files collected, and ``if:`` conditions honoured;
`uses:` steps are not run (they need GitHub) but are recorded with their evaluated inputs.
The expression language covered is what action files use: contexts (inputs, github, steps,
runner, env), string literals, ``==``, ``!=``, ``!``, ``&&``, ``||``, parentheses, and the status
functions ``always()``, ``success()``, ``failure()``.
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOKEN = re.compile(r"\|\||&&|==|!=|!|\(|\)|'(?:[^']|'')*'|[A-Za-z_][A-Za-z0-9_.\-]*(?:\(\))?|-?\d+(?:\.\d+)?")
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}")


@dataclass
class StepRecord:
    name: str
    ran: bool
    kind: str  # "run" or "uses"
    exit_code: int = 0
    stdout: str = ""
    stderr: str = ""
    with_: dict[str, str] = field(default_factory=dict)


class Evaluator:
    """Evaluates one GitHub Actions expression against a context dictionary."""

    def __init__(self, context: dict[str, Any], failed: bool) -> None:
        self.context = context
        self.failed = failed

    def evaluate(self, text: str) -> Any:
        self.tokens = _tokenize(text)
        self.position = 0
        value = self._or()
        if self.position != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.position]!r} in {text!r}")
        return value

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> str:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def _or(self) -> Any:
        value = self._and()
        while self._peek() == "||":
            self._take()
            other = self._and()
            value = value if _truthy(value) else other
        return value

    def _and(self) -> Any:
        value = self._compare()
        while self._peek() == "&&":
            self._take()
            other = self._compare()
            value = other if _truthy(value) else value
        return value

    def _compare(self) -> Any:
        value = self._unary()
        if self._peek() in ("==", "!="):
            operator = self._take()
            other = self._unary()
            equal = _loose(value) == _loose(other)
            return equal if operator == "==" else not equal
        return value

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not _truthy(self._unary())
        return self._primary()

    def _primary(self) -> Any:
        token = self._take()
        if token == "(":
            value = self._or()
            if self._take() != ")":
                raise ValueError("missing ')'")
            return value
        if token.startswith("'"):
            return token[1:-1].replace("''", "'")
        if token in ("always()",):
            return True
        if token == "success()":
            return not self.failed
        if token == "failure()":
            return self.failed
        if token in ("true", "false"):
            return token == "true"
        if token == "null":
            return None
        if re.fullmatch(r"-?\d+(?:\.\d+)?", token):
            return float(token)
        value: Any = self.context
        for part in token.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        match = TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"cannot parse {text[position:]!r}")
        tokens.append(match.group(0))
        position = match.end()
    return tokens


def _truthy(value: Any) -> bool:
    return value not in (None, "", False, 0, 0.0)


def _loose(value: Any) -> Any:
    """GitHub compares strings case-insensitively and null as ''... close enough for action files."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, bool):
        return str(value).lower()
    return value


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def interpolate(text: str, context: dict[str, Any], failed: bool = False) -> str:
    return EXPRESSION.sub(lambda match: _as_text(Evaluator(context, failed).evaluate(match.group(1))), text)


def read_outputs(path: Path) -> dict[str, str]:
    """Parse a GITHUB_OUTPUT file: ``name=value`` lines and ``name<<DELIM`` blocks."""
    outputs: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            index += 1
            while lines[index] != delimiter:
                block.append(lines[index])
                index += 1
            outputs[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
        index += 1
    return outputs


@dataclass
class ActionRun:
    steps: list[StepRecord]
    outputs: dict[str, str]
    summary: str
    failed: bool


def run_composite(
    action: dict[str, Any],
    inputs: dict[str, str],
    *,
    action_path: Path,
    workspace: Path,
    temp: Path,
    environ: dict[str, str],
    github: dict[str, Any] | None = None,
    skip: frozenset[str] = frozenset(),
) -> ActionRun:
    """Run ``action`` (the parsed action.yml) with ``inputs`` over its defaults; steps named in
    ``skip`` are treated as already done (a second use of the action in one job)."""
    resolved = {name: str(spec.get("default", "")) for name, spec in action.get("inputs", {}).items()}
    unknown = set(inputs) - set(resolved)
    if unknown:
        raise ValueError(f"inputs not declared by the action: {sorted(unknown)}")
    resolved.update(inputs)
    context: dict[str, Any] = {
        "inputs": resolved,
        "github": {"action_path": str(action_path), "workspace": str(workspace), "event": {}, **(github or {})},
        "runner": {"temp": str(temp), "os": "Linux"},
        "steps": {},
        "env": {},
    }
    summary_file = temp / "step-summary.md"
    summary_file.write_text("")
    records: list[StepRecord] = []
    failed = False
    for index, step in enumerate(action["runs"]["steps"]):
        name = step.get("name", f"step {index}")
        condition = str(step.get("if", "success()")).strip()
        if condition.startswith("${{"):
            condition = EXPRESSION.sub(lambda match: match.group(1), condition)
        if name in skip or not _truthy(Evaluator(context, failed).evaluate(condition)):
            records.append(StepRecord(name, ran=False, kind="run" if "run" in step else "uses"))
            continue
        if "uses" in step:
            with_ = {key: interpolate(str(value), context, failed) for key, value in step.get("with", {}).items()}
            records.append(StepRecord(name, ran=True, kind="uses", with_=with_))
            continue
        output_file = temp / f"output-{index}"
        output_file.write_text("")
        env = dict(environ)
        env.update({key: interpolate(str(value), context, failed) for key, value in step.get("env", {}).items()})
        env.update(
            {
                "GITHUB_OUTPUT": str(output_file),
                "GITHUB_STEP_SUMMARY": str(summary_file),
                "GITHUB_ACTION_PATH": str(action_path),
                "GITHUB_WORKSPACE": str(workspace),
                "RUNNER_TEMP": str(temp),
                "GITHUB_ACTIONS": "true",
                "CI": "true",
            }
        )
        script = temp / f"step-{index}.sh"
        script.write_text(interpolate(step["run"], context, failed))
        completed = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        records.append(StepRecord(name, True, "run", completed.returncode, completed.stdout, completed.stderr))
        if "id" in step:
            context["steps"][step["id"]] = {"outputs": read_outputs(output_file)}
        if completed.returncode != 0:
            failed = True
    outputs = {
        name: interpolate(str(spec["value"]), context, failed) for name, spec in action.get("outputs", {}).items()
    }
    return ActionRun(records, outputs, summary_file.read_text(), failed)


def venv_environment(venv: Path) -> dict[str, str]:
    """The environment of a step whose ``python`` is the given virtual environment's."""
    env = dict(os.environ)
    env.pop("LEAKVAULT_DEBUG", None)
    env.pop("PYTHONPATH", None)
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def once_per_session(basetemp: Path, name: str, build: Callable[[Path], None]) -> Path:
    """``name`` under the session's temporary root, built by ``build`` once per test session even
    when several xdist workers ask for it (a file lock in the directory the workers share)."""
    # Under xdist each worker's basetemp is <session>/popen-gwN; without it, basetemp is the session's.
    root = basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp
    target = root / name
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / f"{name}.done").exists():
            build(target)
            (root / f"{name}.done").write_text("")
    return target
