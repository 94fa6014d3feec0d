"""The scan step of the GitHub Action (action.yml): inputs from ``INPUT_*`` variables, a SARIF file
within code scanning's limits, a job summary, step outputs, and a pass/fail decision.

The step itself always exits 0 when the scan ran (so the SARIF upload step after it still runs)
and reports ``failed=true`` as an output; the action's last step turns that into a red job.
It exits 2 on a usage or configuration error, with a workflow ``::error::`` line.

GitHub code scanning accepts at most 25,000 results per run and SARIF files up to 10 MB gzipped,
and stores only 5,000 results per upload; which 5,000 it keeps is its choice. So we keep at
most 5,000 ourselves, the most severe first, and say in the SARIF (a tool notification), the log
and the job summary how many were left out.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leakvault.errors import LeakvaultError, UsageError
from leakvault.scanner.config import load_config
from leakvault.scanner.findings.baseline import resolve_baseline_path, use_baseline
from leakvault.scanner.model import Finding, ScanResult
from leakvault.scanner.pipeline import build_scanner
from leakvault.scanner.report import render
from leakvault.scanner.report.sarif import build_sarif
from leakvault.scanner.scan_target import ScanTarget, run_target

MAX_RESULTS = 5_000  # what code scanning stores per upload (it accepts up to 25,000)
MAX_GZIP_BYTES = 10 * 1024 * 1024
MAX_TAGS_PER_RULE = 10  # stored per rule (20 accepted)
MAX_SUMMARY_ROWS = 50
MAX_ANNOTATIONS = 10  # GitHub shows at most 10 error annotations per step
LEVEL_RANK = {"error": 0, "warning": 1, "note": 2, "none": 3}
SEVERITY_RANK = {"high": 3, "medium": 2, "low": 1}
FAIL_ON = ("low", "medium", "high", "never")
MODES = ("files", "staged", "history")


@dataclass(frozen=True, slots=True)
class ActionInputs:
    """The action's inputs, as the runner passes them (``INPUT_<NAME>``, see action.yml)."""

    paths: tuple[str, ...]
    mode: str
    base_ref: str
    config: str | None
    baseline: str | None
    fail_on: str
    sarif_file: str
    max_results: int

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> ActionInputs:
        def value(name: str, default: str = "") -> str:
            return environ.get(f"INPUT_{name}", default).strip() or default

        mode = value("MODE", "files")
        if mode not in MODES:
            raise UsageError(f"input 'mode' must be one of {', '.join(MODES)}, not {mode!r}")
        fail_on = value("FAIL_ON", "low")
        if fail_on not in FAIL_ON:
            raise UsageError(f"input 'fail-on' must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
        try:
            max_results = int(value("MAX_SARIF_RESULTS", str(MAX_RESULTS)))
        except ValueError:
            raise UsageError("input 'max-sarif-results' must be a whole number") from None
        if not 1 <= max_results <= 25_000:
            raise UsageError("input 'max-sarif-results' must be between 1 and 25000 (GitHub's limit)")
        return cls(
            paths=tuple(value("PATHS", ".").split()),
            mode=mode,
            base_ref=value("BASE_REF"),
            config=value("CONFIG") or None,
            baseline=value("BASELINE") or None,
            fail_on=fail_on,
            sarif_file=value("SARIF_FILE", "leakvault.sarif"),
            max_results=max_results,
        )


def cap_sarif(document: dict[str, Any], max_results: int = MAX_RESULTS, max_gzip_bytes: int = MAX_GZIP_BYTES) -> int:
    """Trim ``document`` (in place) to code scanning's limits, keeping the most severe results;
    returns how many results were left out (also recorded in the SARIF)."""
    run = document["runs"][0]
    results: list[dict[str, Any]] = run.get("results", [])
    ordered = sorted(results, key=lambda result: LEVEL_RANK.get(result.get("level", "warning"), 1))
    keep = min(len(ordered), max_results)
    while True:
        run["results"] = ordered[:keep]
        size = len(gzip.compress(json.dumps(document).encode("utf-8")))
        if size <= max_gzip_bytes or keep == 0:
            break
        keep //= 2
    for rule in run.get("tool", {}).get("driver", {}).get("rules", []):
        tags = rule.get("properties", {}).get("tags")
        if isinstance(tags, list):
            rule["properties"]["tags"] = tags[:MAX_TAGS_PER_RULE]
    omitted = len(results) - keep
    if omitted:
        note = (
            f"{omitted} of {len(results)} results left out to stay within GitHub code scanning limits; "
            f"the {keep} most severe are kept. Run leakvault locally for the full report."
        )
        invocation = run.setdefault("invocations", [{"executionSuccessful": True}])[0]
        invocation.setdefault("toolExecutionNotifications", []).append({"message": {"text": note}, "level": "warning"})
        run.setdefault("properties", {})["leakvault/omittedResults"] = omitted
    return omitted


def is_failing(findings: list[Finding], fail_on: str) -> bool:
    """Whether any finding is at or above the ``fail_on`` severity."""
    if fail_on == "never":
        return False
    floor = SEVERITY_RANK[fail_on]
    return any(SEVERITY_RANK.get(finding.severity, 3) >= floor for finding in findings)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary_markdown(result: ScanResult, inputs: ActionInputs, omitted: int, failed: bool) -> str:
    """The job summary: verdict, counts by severity, and a table of findings (no secrets)."""
    findings = result.findings
    counts = {severity: sum(1 for f in findings if f.severity == severity) for severity in ("high", "medium", "low")}
    verdict = "failed" if failed else "passed"
    lines = [
        f"## leakvault: {len(findings)} secret{'s' * (len(findings) != 1)} found ({verdict})",
        "",
        f"Mode `{inputs.mode}`, fail on `{inputs.fail_on}`; scanned {result.stats.files_scanned} files "
        f"({counts['high']} high, {counts['medium']} medium, {counts['low']} low).",
        "",
    ]
    if findings:
        lines += ["| Severity | Rule | Location | Commit |", "| --- | --- | --- | --- |"]
        for finding in findings[:MAX_SUMMARY_ROWS]:
            where = f"{finding.path}:{finding.line}" + (f" ({finding.location})" if finding.location else "")
            commit = finding.commit.sha[:12] if finding.commit else ""
            rule = f"{_cell(finding.rule_name)} (`{finding.rule_id}`)"
            lines.append(f"| {finding.severity} | {rule} | `{_cell(where)}` | {commit} |")
        if len(findings) > MAX_SUMMARY_ROWS:
            lines.append(f"\n...and {len(findings) - MAX_SUMMARY_ROWS} more; see the SARIF file or code scanning.")
        lines.append("")
    if omitted:
        lines.append(f"> **Note:** {omitted} results were left out of the SARIF upload (GitHub limits); the most")
        lines.append("> severe were kept.")
        lines.append("")
    for warning in result.warnings[:10]:
        lines.append(f"- warning: {_cell(warning)}")
    return "\n".join(lines) + "\n"


def _append(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)


def _escape_annotation(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").replace(",", "%2C").replace(":", "%3A")


def run_action(environ: Mapping[str, str]) -> int:
    """The scan step; see the module docstring for its contract."""
    inputs = ActionInputs.from_environment(environ)
    config = load_config(inputs.config, Path.cwd())
    scanner = build_scanner(config)
    if inputs.mode == "staged":
        target = ScanTarget(staged=True)
    elif inputs.mode == "history":
        target = ScanTarget(git_range=f"{inputs.base_ref}..HEAD" if inputs.base_ref else "")
    else:
        target = ScanTarget(paths=inputs.paths)
    result = run_target(target, config, scanner)
    baseline = resolve_baseline_path(inputs.baseline, config.raw, config.source)
    if baseline is not None:
        print(f"leakvault: {use_baseline(result, baseline)}")
    rules = [compiled.rule for compiled in scanner.rules]
    sarif = build_sarif(result, rules)
    omitted = cap_sarif(sarif, inputs.max_results)
    Path(inputs.sarif_file).parent.mkdir(parents=True, exist_ok=True)
    Path(inputs.sarif_file).write_text(json.dumps(sarif, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    failed = is_failing(result.findings, inputs.fail_on)
    sys.stdout.write(render("text", result, rules))
    if omitted:
        print(f"::warning::leakvault: {omitted} results left out of {inputs.sarif_file} (GitHub code scanning limits)")
    for finding in result.findings[:MAX_ANNOTATIONS]:
        level = (
            "error"
            if failed and SEVERITY_RANK.get(finding.severity, 3) >= SEVERITY_RANK.get(inputs.fail_on, 4)
            else "warning"
        )
        title = _escape_annotation(f"{finding.rule_name} ({finding.rule_id})")
        where = f"file={_escape_annotation(finding.path)},line={finding.line}"
        print(f"::{level} {where},title={title}::secret found by leakvault")
    _append(environ.get("GITHUB_STEP_SUMMARY"), summary_markdown(result, inputs, omitted, failed))
    outputs = (
        f"findings={len(result.findings)}\nsarif-file={inputs.sarif_file}\nfailed={'true' if failed else 'false'}\n"
    )
    _append(environ.get("GITHUB_OUTPUT"), outputs)
    return 0


def main() -> None:
    try:
        code = run_action(os.environ)
    except LeakvaultError as exc:
        print(f"::error::leakvault: {exc}")
        code = exc.exit_code
    sys.exit(code)


if __name__ == "__main__":
    main()
