"""One command: ``nice -n 10 python -m benchmarks.redteam [--tools leakvault,gitleaks] [--no-background]``.

Generates the corpus into a scratch directory, runs each tool, and writes the per-style report to
``<workdir>/report.md`` (summary printed)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.accuracy import tools

from . import generate, score

RUNNERS = {"leakvault": tools.run_leakvault, "gitleaks": tools.run_gitleaks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.redteam")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/leakvault-redteam"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tools", default="leakvault,gitleaks")
    parser.add_argument("--no-background", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="scan an existing corpus instead of regenerating")
    args = parser.parse_args(argv)
    names = [n for n in args.tools.split(",") if n]
    unknown = set(names) - set(RUNNERS)
    if unknown:
        print(f"unknown tool(s): {', '.join(sorted(unknown))}; choose from {', '.join(RUNNERS)}", file=sys.stderr)
        return 2
    corpus = args.workdir / "corpus"
    if args.reuse and (corpus / "truth.json").exists():
        truth = score.load_truth(corpus)
    else:
        truth = generate.write(corpus, args.seed, with_background=not args.no_background)
    binaries = tools.ensure_peers() if any(n != "leakvault" for n in names) else {}
    results = []
    for name in names:
        work = args.workdir / name
        work.mkdir(parents=True, exist_ok=True)
        results.append(score.score(RUNNERS[name](corpus, work, binaries), truth))
    score.write_report(results, truth, args.workdir / "report.md")
    print("\n".join(score.summary(results, truth["background_bytes"] / 1024 / 1024)))
    print(f"details: {args.workdir / 'report.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
