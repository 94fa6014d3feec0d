"""Score leakvault and gitleaks on the red-team corpus: recall and precision per style and kind,
and every background finding listed for review."""

# ruff: noqa: E501  # format strings of fixed tables and token layouts read best on one line

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.accuracy import tools


@dataclass
class Tally:
    leaks: int = 0
    found: int = 0
    false_positives: int = 0
    missed: list[str] = field(default_factory=list)

    def recall(self) -> float:
        return self.found / self.leaks if self.leaks else 1.0

    def precision(self) -> float:
        hits = self.found + self.false_positives
        return self.found / hits if hits else 1.0


@dataclass
class Result:
    tool: str
    by_style: dict[str, Tally]
    by_kind: dict[str, Tally]
    total: Tally
    clean_fps: list[str]
    background_fps: list[str]


def _overlaps(line: int, end: int, span: tuple[int, int]) -> bool:
    return line <= span[1] and end >= span[0]


def score(run: tools.ToolRun, truth: dict[str, Any]) -> Result:
    files = {item["path"]: item for item in truth["files"]}
    by_path: dict[str, list[tools.ToolFinding]] = defaultdict(list)
    for finding in run.findings:
        by_path[finding.path].append(finding)
    by_style: dict[str, Tally] = defaultdict(Tally)
    by_kind: dict[str, Tally] = defaultdict(Tally)
    total = Tally()
    clean_fps: list[str] = []
    for path, item in files.items():
        tallies = (by_style[item["style"]], by_kind[item["kind"]], total)
        findings = by_path.get(path, [])
        span = item["lines"]
        allowed = [tuple(s) for s in item["also"]]
        fp_lines = {
            f.line
            for f in findings
            if not (span and _overlaps(f.line, f.end_line, span))
            and not any(_overlaps(f.line, f.end_line, a) for a in allowed)
        }
        for finding in findings:
            if finding.line in fp_lines:
                clean_fps.append(f"{path}:{finding.line} {finding.rule} {finding.preview}")
        hit = bool(span) and any(_overlaps(f.line, f.end_line, span) for f in findings)
        for tally in tallies:
            tally.false_positives += len(fp_lines)
            if span:
                tally.leaks += 1
                tally.found += hit
                if not hit:
                    tally.missed.append(path)
    background = sorted(
        {f"{f.path}:{f.line} {f.rule} {f.preview}" for f in run.findings if f.path.startswith("background/")}
    )
    return Result(run.tool, dict(by_style), dict(by_kind), total, clean_fps, background)


def table(results: list[Result], attr: str) -> list[str]:
    keys = sorted({k for r in results for k in getattr(r, attr)})
    head = "| " + attr[3:] + " | leaks | " + " | ".join(f"{r.tool} recall | {r.tool} FP" for r in results) + " |"
    lines = [head, "|" + "---|" * (2 + 2 * len(results))]
    for key in keys:
        first = getattr(results[0], attr)[key]
        cells = []
        for r in results:
            t = getattr(r, attr).get(key, Tally())
            cells += [f"{t.recall():.2f}" if t.leaks else "-", str(t.false_positives)]
        lines.append(f"| {key} | {first.leaks} | " + " | ".join(cells) + " |")
    return lines


def summary(results: list[Result], background_mb: float) -> list[str]:
    lines = [
        "| tool | recall | precision (snippets) | FP in clean snippets | FP locations in background | precision incl. background |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        t = r.total
        bg = len(r.background_fps)
        overall = t.found / (t.found + t.false_positives + bg) if t.found else 0.0
        lines.append(
            f"| {r.tool} | {t.recall():.3f} ({t.found}/{t.leaks}) | {t.precision():.3f} | {t.false_positives} | {bg} ({background_mb:.0f} MB) | {overall:.3f} |"
        )
    return lines


def write_report(results: list[Result], truth: dict[str, Any], out: Path) -> str:
    mb = truth["background_bytes"] / 1024 / 1024
    text = [
        "# Red-team accuracy",
        "",
        *summary(results, mb),
        "",
        "## By style",
        "",
        *table(results, "by_style"),
        "",
        "## By kind",
        "",
        *table(results, "by_kind"),
        "",
    ]
    for r in results:
        text += [
            f"## {r.tool}: missed",
            "",
            *(f"- {m}" for m in r.total.missed),
            "",
            f"## {r.tool}: false positives in snippets",
            "",
            *(f"- {m}" for m in r.clean_fps),
            "",
            f"## {r.tool}: background findings",
            "",
            *(f"- {m}" for m in r.background_fps),
            "",
        ]
    report = "\n".join(text)
    out.write_text(report, encoding="utf-8")
    return report


def load_truth(root: Path) -> dict[str, Any]:
    return json.loads((root / "truth.json").read_text(encoding="utf-8"))
