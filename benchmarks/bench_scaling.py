"""How scan time grows with the number of rules and with the size of the tree.

    python benchmarks/bench_scaling.py                 # both curves, SVG charts into docs/images/
    python benchmarks/bench_scaling.py --sizes 50,500  # a quicker tree-size curve (MB)

Rule count: the built-in rules cut to 100, 200 and 400, and doubled to 800 by copies with new ids
(each copy is a real rule of its own to the engines: its own keywords' hits, its own regex), all
scanning the same copy of the standard library in this process with the same jobs, after a
warm-up run per rule set (Hyperscan compiles once per set and caches). Tree size: whole
``leakvault scan`` processes over trees of 50 MB, 500 MB and 2 GB made of copies of the standard
library. Medians of ``--runs`` runs; the charts are plain SVG written by this script.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from leakvault.patterns.model import Rule
from leakvault.scanner.chunk_scanner import Scanner, owned_prefixes
from leakvault.scanner.config import ScanConfig
from leakvault.scanner.engine.builtin_rules import builtin_rules
from leakvault.scanner.pipeline import default_jobs, scan

DOCS_IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"


def rule_set(count: int) -> list[Rule]:
    """``count`` rules: a prefix of the enabled built-ins, or all of them and copies with new ids."""
    base = [rule for rule in builtin_rules() if rule.enabled]
    rules = list(base[:count])
    copy = 1
    while len(rules) < count:
        for rule in base[: count - len(rules)]:
            rules.append(
                dataclasses.replace(rule, id=f"{rule.id}-copy{copy}", fingerprint=f"{rule.fingerprint}-{copy}")
            )
        copy += 1
    return rules


def time_rules(counts: list[int], tree: Path, runs: int, engine: str) -> list[tuple[int, float]]:
    config = ScanConfig()
    points = []
    for count in counts:
        rules = rule_set(count)
        scanner = Scanner(rules, config, engine=engine, prefixes=owned_prefixes(rules))
        scan([str(tree)], config, scanner=scanner, jobs=default_jobs())  # warm-up: compile, caches
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            scan([str(tree)], config, scanner=Scanner(rules, config, engine=engine, prefixes=owned_prefixes(rules)))
            times.append(time.perf_counter() - started)
        points.append((count, statistics.median(times)))
        print(f"rules {count:>4}: {points[-1][1]:.3f} s", flush=True)
    return points


def build_tree(target: Path, megabytes: int, stdlib: Path) -> int:
    """Copies of the standard library (``.py`` files) until ``megabytes``; returns the bytes."""
    budget, written, copy = megabytes << 20, 0, 0
    files = sorted(path for path in stdlib.rglob("*.py") if "site-packages" not in path.parts)
    while written < budget:
        for source in files:
            if written >= budget:
                break
            destination = target / f"copy{copy}" / source.relative_to(stdlib)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
            written += destination.stat().st_size
        copy += 1
    return written


def time_sizes(sizes: list[int], scratch: Path, runs: int) -> list[tuple[int, float, float]]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    points = []
    for megabytes in sizes:
        tree = scratch / f"tree-{megabytes}"
        written = build_tree(tree, megabytes, stdlib)
        command = [sys.executable, "-m", "leakvault.cli", "scan", "--format", "json", "-o", "/dev/null", str(tree)]
        subprocess.run(command, capture_output=True, check=False)  # warm the page cache
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, check=False)
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        points.append((megabytes, median, written / median / 1e6))
        print(f"tree {megabytes:>5} MB: {median:.2f} s, {points[-1][2]:.0f} MB/s", flush=True)
        shutil.rmtree(tree)
    return points


def line_chart(title: str, x_label: str, y_label: str, points: list[tuple[float, float]]) -> str:
    """A small SVG line chart with labelled points, axes from zero."""
    width, height, left, bottom, top, right = 560, 320, 70, 50, 40, 30
    max_x = max(x for x, _ in points) or 1
    max_y = max(y for _, y in points) * 1.15 or 1

    def sx(x: float) -> float:
        return left + (width - left - right) * x / max_x

    def sy(y: float) -> float:
        return height - bottom - (height - top - bottom) * y / max_y

    path = " ".join(f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for i, (x, y) in enumerate(points))
    marks = "".join(
        f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="4" fill="#1565c0"/>'
        f'<text x="{sx(x):.1f}" y="{sy(y) - 10:.1f}" text-anchor="middle">{y:.2f}</text>'
        f'<text x="{sx(x):.1f}" y="{height - bottom + 18}" text-anchor="middle">{x:g}</text>'
        for x, y in points
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">'
        f'<rect width="{width}" height="{height}" fill="white"/>'
        f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">{title}</text>'
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#333"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#333"/>'
        f'<text x="{width / 2}" y="{height - 12}" text-anchor="middle">{x_label}</text>'
        f'<text x="18" y="{height / 2}" text-anchor="middle" transform="rotate(-90 18 {height / 2})">{y_label}</text>'
        f'<path d="{path}" fill="none" stroke="#1565c0" stroke-width="2"/>{marks}</svg>\n'
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", default="100,200,400,800")
    parser.add_argument("--sizes", default="50,500,2000", help="tree sizes in MB")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engine", default="auto", choices=["auto", "hyperscan", "regex"])
    parser.add_argument("--charts", type=Path, default=DOCS_IMAGES)
    args = parser.parse_args()
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    with tempfile.TemporaryDirectory(prefix="leakvault-scaling-") as scratch_name:
        scratch = Path(scratch_name)
        tree = scratch / "stdlib"
        build_tree(tree, 50, stdlib)
        by_rules = time_rules([int(n) for n in args.rules.split(",")], tree, args.runs, args.engine)
        shutil.rmtree(tree)
        by_size = time_sizes([int(n) for n in args.sizes.split(",")], scratch, args.runs)
    args.charts.mkdir(parents=True, exist_ok=True)
    (args.charts / "scaling-rules.svg").write_text(
        line_chart(
            "Scan time against rule count (50 MB, in process)", "rules", "seconds", [(float(n), t) for n, t in by_rules]
        )
    )
    (args.charts / "scaling-size.svg").write_text(
        line_chart(
            "Scan time against tree size (whole process)", "MB", "seconds", [(float(mb), t) for mb, t, _ in by_size]
        )
    )
    print("| rules | seconds | per rule (ms) |")
    print("|---|---|---|")
    for count, seconds in by_rules:
        print(f"| {count} | {seconds:.3f} | {seconds / count * 1000:.2f} |")
    print("| tree | seconds | MB/s |")
    print("|---|---|---|")
    for megabytes, seconds, rate in by_size:
        print(f"| {megabytes} MB | {seconds:.2f} | {rate:.0f} |")


if __name__ == "__main__":
    main()
