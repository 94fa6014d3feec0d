"""Score leakvault, gitleaks, Betterleaks, Kingfisher and detect-secrets on the accuracy corpora.

    python -m benchmarks.accuracy.score --corpus both   # build both corpora, run all five tools
    python -m benchmarks.accuracy.score --corpus both --tools leakvault --reuse   # rescan leakvault only
    python -m benchmarks.accuracy.score --rescore --markdown out.md   # re-read the last reports

A finding is a true positive when its lines overlap a planted secret's lines; every other finding
is a false positive (counted once per file and line), attributed to the hard negative on that
line, or to the real background code, or to the filler of a planted file. Recall is planted
secrets found over planted secrets; precision is secrets found over secrets found plus false
positive locations.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.accuracy import generate, tools
from benchmarks.realworld import generate as realworld

DEFAULT_WORKDIR = Path("/tmp/leakvault-accuracy")


@dataclass
class Score:
    tool: str
    version: str
    seconds: float
    found: set[int] = field(default_factory=set)  # indexes into truth positives
    false_positives: dict[tuple[str, int], tuple[str, str, str]] = field(
        default_factory=dict
    )  # loc -> cause, rule, preview

    def counts(self, total: int) -> tuple[int, int, int]:
        return len(self.found), total - len(self.found), len(self.false_positives)

    def metrics(self, total: int) -> tuple[float, float, float]:
        tp, _, fp = self.counts(total)
        recall = tp / total if total else 0.0
        precision = tp / (tp + fp) if tp + fp else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return recall, precision, f1


class Truth:
    """The truth file, indexed by path for overlap look-ups."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.positives: list[dict[str, Any]] = document["positives"]
        self.negatives: list[dict[str, Any]] = document["negatives"]
        self.roles: dict[str, str] = document["file_roles"]
        self._positive_by_file: dict[str, list[int]] = defaultdict(list)
        for index, record in enumerate(self.positives):
            self._positive_by_file[record["file"]].append(index)
        self._negative_by_file: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for record in self.negatives:
            self._negative_by_file[record["file"]].append(record)

    def positives_at(self, path: str, line: int, end_line: int) -> list[int]:
        return [
            index
            for index in self._positive_by_file.get(path, ())
            if line <= self.positives[index]["end_line"] and self.positives[index]["line"] <= end_line
        ]

    def cause_at(self, path: str, line: int, end_line: int) -> str:
        for record in self._negative_by_file.get(path, ()):
            if line <= record["end_line"] and record["line"] <= end_line:
                return str(record["kind"])
        role = self.roles.get(path, "unknown")
        return {
            "background": "background code",
            "background+planted": "background code",
            "planted": "planted-file filler",
            "negative": "negative-file filler",
        }.get(role, role)


def score(run: tools.ToolRun, truth: Truth) -> Score:
    result = Score(run.tool, run.version, run.seconds)
    for finding in run.findings:
        hits = truth.positives_at(finding.path, finding.line, finding.end_line)
        if hits:
            result.found.update(hits)
            continue
        location = (finding.path, finding.line)
        if location not in result.false_positives:
            cause = truth.cause_at(finding.path, finding.line, finding.end_line)
            result.false_positives[location] = (cause, finding.rule, finding.preview)
    return result


def _table(rows: Iterable[list[str]], header: list[str]) -> list[str]:
    rows = [header, *rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return lines


def summary_table(scores: list[Score], total: int) -> list[str]:
    rows = []
    for item in scores:
        recall, precision, f1 = item.metrics(total)
        tp, fn, fp = item.counts(total)
        rows.append(
            [
                item.tool,
                f"{recall:.3f}",
                f"{precision:.3f}",
                f"{f1:.3f}",
                str(tp),
                str(fn),
                str(fp),
                f"{item.seconds:.1f}",
            ]
        )
    return _table(rows, ["tool", "recall", "precision", "F1", "TP", "FN", "FP", "seconds"])


def misses_by_kind(scores: list[Score], truth: Truth) -> list[str]:
    totals = Counter(record["kind"] for record in truth.positives)
    rows = []
    for kind in sorted(totals):
        cells = []
        for item in scores:
            found = sum(1 for i in item.found if truth.positives[i]["kind"] == kind)
            cells.append("-" if found == totals[kind] else f"{totals[kind] - found}/{totals[kind]}")
        if any(cell != "-" for cell in cells):
            rows.append([kind, *cells])
    return _table(rows, ["missed kind (missed/planted)", *(item.tool for item in scores)])


def misses_by_context(scores: list[Score], truth: Truth) -> list[str]:
    """Like `misses_by_kind`, by the context (file type or idiom) the secret was written in."""
    totals = Counter(record["context"] for record in truth.positives)
    rows = []
    for context in sorted(totals):
        cells = []
        for item in scores:
            found = sum(1 for i in item.found if truth.positives[i]["context"] == context)
            cells.append("-" if found == totals[context] else f"{totals[context] - found}/{totals[context]}")
        if any(cell != "-" for cell in cells):
            rows.append([context, *cells])
    return _table(rows, ["missed context (missed/planted)", *(item.tool for item in scores)])


def fp_by_cause(scores: list[Score]) -> list[str]:
    causes: dict[str, dict[str, int]] = defaultdict(dict)
    for item in scores:
        for cause, _, _ in item.false_positives.values():
            causes[cause][item.tool] = causes[cause].get(item.tool, 0) + 1
    rows = [
        [cause, *(str(causes[cause].get(item.tool, 0)) for item in scores)]
        for cause in sorted(causes, key=lambda c: -sum(causes[c].values()))
    ]
    return _table(rows, ["false positives by cause", *(item.tool for item in scores)])


def leakvault_details(item: Score, truth: Truth) -> list[str]:
    lines = ["", "leakvault misses (file:line kind context):"]
    for index, record in enumerate(truth.positives):
        if index not in item.found:
            lines.append(f"  {record['file']}:{record['line']}  {record['kind']}  [{record['context']}]")
    lines += ["", "leakvault false positives (file:line cause rule preview, redacted):"]
    for (path, line), (cause, rule, preview) in sorted(item.false_positives.items()):
        lines.append(f"  {path}:{line}  {cause}  {rule}  {preview[:100]}")
    return lines


def report(scores: list[Score], truth: Truth, details: bool = True) -> str:
    total = len(truth.positives)
    out = [f"corpus: {len(truth.roles)} files, {total} planted secrets, {len(truth.negatives)} hard negatives", ""]
    out += [*summary_table(scores, total), "", *misses_by_kind(scores, truth), ""]
    out += [*misses_by_context(scores, truth), "", *fp_by_cause(scores)]
    lv = next((item for item in scores if item.tool == "leakvault"), None)
    if details and lv is not None:
        out += leakvault_details(lv, truth)
    return "\n".join(out) + "\n"


CORPORA = ("generated", "realworld")


def _build(name: str, corpus: Path, args: argparse.Namespace) -> dict[str, Any]:
    if name == "generated":
        return generate.generate(corpus, args.seed, args.background)
    return realworld.generate(corpus, args.realworld_seed, args.scale)


def _has_report(tool: str, work: Path) -> bool:
    return (work / f"{tool}.run.json").exists() and (work / f"{tool}.json").exists()


def run_corpus(name: str, work: Path, selected: list[str], args: argparse.Namespace) -> tuple[list[Score], Truth]:
    """Build (or reuse) one corpus in ``work``, run the selected tools, rescore the others' last reports."""
    corpus, truth_path = work / "corpus", work / "truth.json"
    work.mkdir(parents=True, exist_ok=True)
    if not ((args.reuse or args.rescore) and truth_path.exists()):
        print(f"building the {name} corpus in {corpus} ...", file=sys.stderr)
        truth_path.write_text(json.dumps(_build(name, corpus, args), indent=1) + "\n", encoding="utf-8")
    truth = Truth(json.loads(truth_path.read_text(encoding="utf-8")))
    binaries = tools.ensure_peers() if set(selected) - {"leakvault"} and not args.rescore else {}
    # With --reuse, tools not rerun still appear, from their last report on this same corpus.
    shown = [t for t in tools.TOOLS if t in selected or ((args.reuse or args.rescore) and _has_report(t, work))]
    scores = []
    for tool in shown:
        if args.rescore or tool not in selected:
            run = tools.load_run(tool, corpus, work)
        else:
            print(f"running {tool} on the {name} corpus ...", file=sys.stderr)
            run = tools.RUNNERS[tool](corpus, work, binaries)
            tools.save_run_info(run, work)
        scores.append(score(run, truth))
    return scores, truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="corpora, truth and reports go here")
    parser.add_argument(
        "--tools", default=",".join(tools.TOOLS), help="comma-separated subset of " + ", ".join(tools.TOOLS)
    )
    parser.add_argument(
        "--corpus",
        default="both",
        choices=[*CORPORA, "both"],
        help="generated (this directory's corpus), realworld (benchmarks/realworld) or both",
    )
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED, help="seed of the generated corpus")
    parser.add_argument("--background", type=int, default=generate.DEFAULT_BACKGROUND)
    parser.add_argument(
        "--realworld-seed", type=int, default=realworld.DEFAULT_SEED, help="seed of the realworld corpus"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="realworld: fraction of the per-type file quotas")
    parser.add_argument("--reuse", action="store_true", help="score the corpus already in --workdir")
    parser.add_argument(
        "--rescore", action="store_true", help="do not run the tools: rescore their last reports (implies --reuse)"
    )
    parser.add_argument("--markdown", type=Path, help="also write the tables (no per-finding details) here")
    parser.add_argument("--quiet", action="store_true", help="tables only, no per-finding leakvault details")
    args = parser.parse_args(argv)
    selected = [name.strip() for name in args.tools.split(",") if name.strip()]
    unknown = sorted(set(selected) - set(tools.TOOLS))
    if unknown:
        parser.error(f"unknown tool {unknown[0]!r}; choose from {', '.join(tools.TOOLS)}")

    names = CORPORA if args.corpus == "both" else (args.corpus,)
    texts, tables = [], []
    for name in names:
        # The generated corpus keeps its old place (workdir itself), so earlier --reuse runs still work.
        work = args.workdir if name == "generated" else args.workdir / name
        scores, truth = run_corpus(name, work, selected, args)
        text = report(scores, truth, details=not args.quiet)
        (work / "results.txt").write_text(text, encoding="utf-8")
        texts.append(f"## {name} corpus\n\n{text}")
        versions = ", ".join(f"{item.tool} {item.version}" for item in scores)
        tables.append(f"## {name} corpus\n\nVersions: {versions}\n\n" + report(scores, truth, details=False))
    print("\n".join(texts))
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text("\n".join(tables), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
